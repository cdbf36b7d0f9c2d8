"""Listen now: an article's audio streamed sentence by sentence as it is synthesised.

    stream(sentences, engine, out, fmt="mp3")   # MP3 frames (or WAV) written as each sentence is ready

``vnreader read SOURCE --stdout`` and ``--play`` use this; the podcast path
(``reader/audio``) measures a whole episode before it sets the gain, which a stream cannot
do. So a stream uses a **gain plan per engine and voice**: espeak-ng's level is predictable
(``GAIN_PLAN``, measured with ``bench/first_audio.py``); for any other engine the first
sentence is measured and its gain kept for the rest. After the gain, the same true-peak
limiter as the episodes (``reader/audio/loudness.Limiter``) keeps peaks under −2.5 dBTP.

Each sentence is pushed to the limiter followed by its pause, so the sentence comes out of
the limiter's look-ahead as soon as it is spoken (the pause is longer than the look-ahead);
its MP3 frames are written and flushed at once. Nothing is held but the sentence being spoken.
"""
from __future__ import annotations

import math
import struct
import time
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

from reader.errors import AudioError, ReaderError, UsageError
from reader.models import Clip, Sentence

FORMATS = ("mp3", "wav")
#: target loudness and true-peak ceiling of a stream (the episodes' target, encoder headroom kept)
TARGET_LUFS = -16.0
CEILING_DB = -2.5
#: gain (dB) that brings an engine's voice to TARGET_LUFS; measured on the seed article by
#: ``python bench/first_audio.py --calibrate`` (espeak-ng 1.52, rate 1.0)
GAIN_PLAN = {("espeak", "vi"): 9.5, ("espeak", "vi-VN-x-central"): 17.0, ("espeak", "vi-VN-x-south"): 14.0}
#: most gain a measured first sentence may ask for (a near-silent sentence must not blow up the rest)
MAX_MEASURED_GAIN = 24.0
BITRATE = 64


class Output(Protocol):
    """Where a stream writes: a binary file, a player's stdin, a web read's buffer."""

    def write(self, data: bytes, /) -> int | None: ...

    def flush(self) -> None: ...


@dataclass(frozen=True)
class StreamReport:
    """What a stream did: for the command's last line and the first-audio bench."""

    sentences: int  #: sentences spoken
    seconds: float  #: audio written, in seconds
    bytes: int  #: bytes written
    gain_db: float  #: the gain the plan used
    first_audio: float | None  #: seconds from the call to the first audio bytes written (None: nothing written)
    planned: bool  #: True when the gain came from GAIN_PLAN, False when measured on the first sentence


def warm_up(engine) -> None:
    """Start the engine (espeak's worker process) and import the audio stage in the background, while the
    article is fetched and extracted, so the first sentence waits for neither."""
    import threading

    def start() -> None:
        try:
            engine.check()
            import reader.audio.encode  # noqa: F401 - numpy and lameenc, needed for the first sentence
            import reader.audio.loudness  # noqa: F401
            import reader.tts.render  # noqa: F401
        except Exception:  # noqa: BLE001 - the first synthesis call reports it properly
            pass

    threading.Thread(target=start, name="engine-warm-up", daemon=True).start()


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt}", "not a stream format", fix="choose mp3 or wav")
    return fmt


def _wav_header(rate: int) -> bytes:
    """A WAV header for a stream of unknown length (sizes at their maximum, as players accept)."""
    return (b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + b"fmt " +
            struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", 0xFFFFFFFF))


class _Sink:
    """Gain, limiter and encoder in front of ``out``; counts what it wrote."""

    def __init__(self, out: Output, rate: int, fmt: str, gain_db: float, started: float, subject: object):
        import numpy as np

        from reader.audio.encode import ENCODER_SCALE, make_encoder
        from reader.audio.loudness import Limiter, db_to_gain

        self.np = np
        self.out, self.rate, self.fmt, self.subject = out, rate, fmt, subject
        self.gain_db = gain_db
        self.gain = np.float32(db_to_gain(gain_db))
        self.limiter = Limiter(rate, CEILING_DB)
        self.scale = 1.0 / ENCODER_SCALE if fmt == "mp3" else 1.0
        self.enc = make_encoder(rate, BITRATE, subject) if fmt == "mp3" else None
        self.samples = 0
        self.bytes = 0
        self.started = started
        self.first_audio: float | None = None
        if fmt == "wav":
            self._write(_wav_header(rate), audio=False)

    def _write(self, data: bytes, *, audio: bool = True) -> None:
        if not data:
            return
        try:
            self.out.write(data)
            self.out.flush()
        except BrokenPipeError:
            raise
        except OSError as e:
            raise AudioError(self.subject, f"could not write the stream: {e.strerror or e}") from e
        self.bytes += len(data)
        if audio and self.first_audio is None:
            self.first_audio = time.perf_counter() - self.started

    def _emit(self, block) -> None:
        from reader.audio.encode import to_pcm16

        self.samples += len(block)
        pcm = to_pcm16(block, self.scale)
        self._write(self.enc.encode(pcm) if self.enc is not None else pcm)

    def push(self, samples, pause_seconds: float) -> None:
        np = self.np
        for block in (samples * self.gain, np.zeros(max(1, round(pause_seconds * self.rate)), dtype=np.float32)):
            if (y := self.limiter.push(block)) is not None:
                self._emit(y)

    def close(self) -> None:
        if (y := self.limiter.finish()) is not None:
            self._emit(y)
        if self.enc is not None:
            self._write(self.enc.flush())


def _measured_gain(clip: Clip, rate: int) -> float:
    from reader.audio.loudness import LoudnessMeter
    from reader.audio.timeline import clip_samples

    meter = LoudnessMeter(rate)
    meter.add(clip_samples(clip, rate))
    lufs = meter.integrated()
    if not math.isfinite(lufs):
        return 0.0
    return max(-MAX_MEASURED_GAIN, min(MAX_MEASURED_GAIN, TARGET_LUFS - lufs))


def _pause(prev: Sentence | None, nxt: Sentence | None, rate: float) -> float:
    from reader.audio.timeline import DEFAULT_PAUSES as P

    if nxt is None:
        return P.tail / rate
    a = prev.paragraph if prev is not None else 0
    b = nxt.paragraph
    if a == -1 and b != -1:
        return P.title / rate
    return (P.paragraph if a != b else P.sentence) / rate


def stream(sentences: Sequence[Sentence], engine, out: Output, *, voice: str | None = None, rate: float = 1.0,
           pitch: float | None = None, cache=None, fmt: str = "mp3", started: float | None = None,
           subject: object = None, on_sentence: Callable[[int, Sentence], None] | None = None) -> StreamReport:
    """Speak ``sentences`` into ``out`` as they are synthesised; see the module docstring.

    ``started`` (a ``time.perf_counter()`` value) is when the caller began, for ``first_audio``.
    A sentence the engine cannot speak stops the stream with its ``EngineError`` (what was
    already written stays written: a listener has heard it).
    """
    from reader.audio.timeline import clip_samples
    from reader.tts.render import render

    check_format(fmt)
    started = time.perf_counter() if started is None else started
    voice_id = voice or engine.default_voice
    speakable = [s for s in sentences if s.spoken.strip()]
    if not speakable:
        raise UsageError(subject, "nothing speakable in the text", fix="give some Vietnamese words")
    out_rate = engine.sample_rate
    planned = (engine.name, voice_id) in GAIN_PLAN
    gain = GAIN_PLAN.get((engine.name, voice_id))
    sink: _Sink | None = None
    try:
        for i, s in enumerate(speakable):
            (clip,) = render([s], engine, voice=voice, rate=rate, pitch=pitch, cache=cache).clips
            if not clip.pcm:
                continue
            if sink is None:
                out_rate = clip.sample_rate
                if gain is None:
                    gain = _measured_gain(clip, out_rate)
                sink = _Sink(out, out_rate, fmt, gain, started, subject)
            sink.push(clip_samples(clip, out_rate), _pause(s, speakable[i + 1] if i + 1 < len(speakable) else None,
                                                           rate))
            if on_sentence is not None:
                on_sentence(i, s)
    finally:
        if sink is not None:
            try:
                sink.close()
            except (ReaderError, OSError):
                pass
    if sink is None:
        raise AudioError(subject, "the engine produced no sound", fix="check the speech engine (`vnreader engines`)")
    return StreamReport(sentences=len(speakable), seconds=sink.samples / out_rate, bytes=sink.bytes,
                        gain_db=float(sink.gain_db), first_audio=sink.first_audio, planned=planned)


# ------------------------------------------------------------ playing on this machine
#: players tried in order: (program, arguments for an MP3 stream, arguments for a WAV stream)
PLAYERS: tuple[tuple[str, list[str] | None, list[str]], ...] = (
    ("mpv", ["--no-video", "--really-quiet", "--cache=no", "-"], ["--no-video", "--really-quiet", "--cache=no", "-"]),
    ("ffplay", ["-nodisp", "-autoexit", "-loglevel", "quiet", "-"], ["-nodisp", "-autoexit", "-loglevel", "quiet", "-"]),
    ("paplay", None, []),
    ("aplay", None, ["-q", "-"]),
)
NO_PLAYER_FIX = ("install one: apt install mpv (or ffmpeg, pulseaudio-utils, alsa-utils), or pip install sounddevice; "
                 "or pipe the stream yourself: vnreader read SOURCE --stdout | mpv -")


@dataclass(frozen=True)
class Player:
    """A program (or the ``sounddevice`` package) that plays a stream from its standard input."""

    name: str
    argv: tuple[str, ...]  #: empty for sounddevice
    fmt: str  #: the stream format it is fed


def find_player(prefer: str = "mp3", path: str | None = None) -> Player:
    """The first player found on PATH (mpv, ffplay, paplay, aplay), else sounddevice, else UsageError."""
    import importlib.util
    import shutil

    for name, mp3_args, wav_args in PLAYERS:
        exe = shutil.which(name, path=path)
        if exe is None:
            continue
        if prefer == "mp3" and mp3_args is not None:
            return Player(name, (exe, *mp3_args), "mp3")
        return Player(name, (exe, *wav_args), "wav")
    if importlib.util.find_spec("sounddevice") is not None:
        return Player("sounddevice", (), "wav")
    raise UsageError("--play", "no audio player found (mpv, ffplay, paplay, aplay or the sounddevice package)",
                     fix=NO_PLAYER_FIX)


class _SoundDevice:
    """A file-like sink that plays 16-bit mono WAV bytes through the ``sounddevice`` package."""

    def __init__(self):
        self._header = b""
        self._stream = None

    def write(self, data: bytes) -> int:
        import sounddevice

        if self._stream is None:
            self._header += data
            if len(self._header) < 44:
                return len(data)
            rate = struct.unpack("<I", self._header[24:28])[0]
            data, self._header = self._header[44:], b""
            self._stream = sounddevice.RawOutputStream(samplerate=rate, channels=1, dtype="int16")
            self._stream.start()
        if data:
            self._stream.write(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()


def play(sentences: Sequence[Sentence], engine, player: Player, **options) -> StreamReport:
    """Stream into ``player``: synthesis of sentence n+1 overlaps playback of sentence n.

    Ctrl-C stops the player with the stream; a player that quits early ends the stream quietly.
    """
    import subprocess

    if not player.argv:
        sink = _SoundDevice()
        try:
            return stream(sentences, engine, sink, fmt=player.fmt, **options)
        finally:
            sink.close()
    proc = subprocess.Popen(list(player.argv), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert proc.stdin is not None  # stdin=PIPE
    try:
        report = stream(sentences, engine, proc.stdin, fmt=player.fmt, **options)
        proc.stdin.close()
        proc.wait()
        return report
    except BrokenPipeError:  # the listener closed the player
        return StreamReport(0, 0.0, 0, 0.0, None, False)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
