"""espeak-ng through the ``espeakng-loader`` wheel (bundled library and voice data), via ctypes.

The library runs in a **worker process** (``reader/tts/espeak_worker.py``), never in ours:
espeak-ng is C code that crashes the whole process on some inputs (a backtick after a
sentence end, a quote followed by a dash and a letter, control characters), and a crash
there must cost one sentence, not the run. :class:`_Worker` starts the worker on first use,
sends it one sentence at a time over a pipe, and when the worker dies it raises an
``EngineError`` naming the sentence and starts a fresh worker for the next call. Ctrl-C
reaches only us (the worker ignores SIGINT), stops the call at once and kills the worker,
so no half-spoken clip is ever returned.

Inputs known to crash the library are cleaned first (:func:`clean_text`; the patterns come
from ``bench/fuzz_espeak.py``), so isolation is the second line of defence, not the first.

Inside the worker, :class:`_Runtime` is the loaded library: initialised once
(``espeak_Initialize`` with a bad data path calls ``exit()``, so we use the ``espeak_ng_*``
calls, which return status codes, and check the data folder first), with its synth callback
referenced for the life of the process. The callback appends each buffer of samples to a
``bytearray`` in one C-level copy; there is no per-sample Python.
"""
from __future__ import annotations

import ctypes
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import unicodedata
from pathlib import Path
from typing import IO

from reader.errors import EngineError, EngineUnavailable, UnknownVoice, UsageError
from reader.models import Clip
from reader.tts.base import check_rate, check_text

# espeak_ng_OUTPUT_MODE, espeak_PARAMETER, espeak_POSITION_TYPE and flags (speak_lib.h, espeak_ng.h)
_OUTPUT_SYNCHRONOUS = 0x0001
_PARAM_RATE = 1
_PARAM_PITCH = 3
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_STATUS_OK = 0
_BUFFER_MS = 1000  # one callback per second of speech

#: words per minute at rate 1.0, and espeak-ng's accepted range
BASE_WPM = 175
MIN_WPM, MAX_WPM = 80, 450

log = logging.getLogger(__name__)
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)


class _Voice(ctypes.Structure):
    """``espeak_VOICE`` (speak_lib.h)."""

    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_char_p), ("identifier", ctypes.c_char_p),
                ("gender", ctypes.c_ubyte), ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte),
                ("xx1", ctypes.c_ubyte), ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


class _Runtime:
    """The loaded, initialised library: one per worker process, which calls it from one thread."""

    def __init__(self) -> None:
        import espeakng_loader

        data = Path(espeakng_loader.get_data_path())
        if not (data / "phontab").is_file():
            raise EngineUnavailable("espeak", f"espeak-ng data missing at {data}",
                                    fix="reinstall it: pip install --force-reinstall espeakng-loader")
        try:
            lib = ctypes.CDLL(espeakng_loader.get_library_path())
        except OSError as e:
            raise EngineUnavailable("espeak", f"cannot load the espeak-ng library: {e}",
                                    fix="reinstall it: pip install --force-reinstall espeakng-loader") from e
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_ng_InitializePath.argtypes = [ctypes.c_char_p]
        lib.espeak_ng_InitializePath.restype = None
        lib.espeak_ng_Initialize.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
        lib.espeak_ng_InitializeOutput.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p]
        lib.espeak_ng_GetSampleRate.restype = ctypes.c_int
        lib.espeak_ng_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_ng_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_ng_Synthesize.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                             ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_ng_GetStatusCodeMessage.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
        lib.espeak_ng_GetStatusCodeMessage.restype = None
        lib.espeak_ng_ClearErrorContext.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
        lib.espeak_ng_ClearErrorContext.restype = None
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        self.lib = lib
        self._out: bytearray | None = None
        self._callback = _SYNTH_CALLBACK(self._collect)  # referenced for the life of the process
        self._voice: str | None = None

        lib.espeak_ng_InitializePath(str(data).encode())
        context = ctypes.c_void_p()
        status = lib.espeak_ng_Initialize(ctypes.byref(context))
        lib.espeak_ng_ClearErrorContext(ctypes.byref(context))
        self._ok(status, "initialise")
        self._ok(lib.espeak_ng_InitializeOutput(_OUTPUT_SYNCHRONOUS, _BUFFER_MS, None), "set up output")
        lib.espeak_SetSynthCallback(self._callback)
        self.sample_rate = int(lib.espeak_ng_GetSampleRate())
        self.version = (lib.espeak_Info(None) or b"unknown").decode()

    def voices(self) -> list[tuple[str, str, str]]:
        """(name, language, identifier) of every voice the library has, e.g. ("Vietnamese_Northern", "vi", "aav/vi")."""
        out = []
        table = self.lib.espeak_ListVoices(None)
        i = 0
        while table[i]:
            v = table[i].contents
            # languages: a priority byte, then a NUL-terminated language name (the first one is enough)
            lang = (v.languages or b"\0")[1:].decode(errors="replace")
            out.append(((v.name or b"").decode(errors="replace"), lang,
                        (v.identifier or b"").decode(errors="replace")))
            i += 1
        return out

    def _collect(self, wav, numsamples, events) -> int:
        if wav and numsamples > 0 and self._out is not None:
            self._out += ctypes.string_at(wav, numsamples * 2)
        return 0

    def message(self, status: int) -> str:
        buf = ctypes.create_string_buffer(512)
        self.lib.espeak_ng_GetStatusCodeMessage(status, buf, len(buf))
        return buf.value.decode(errors="replace") or f"status {status:#x}"

    def _ok(self, status: int, what: str) -> None:
        if status != _STATUS_OK:
            raise EngineError("espeak", f"could not {what}: {self.message(status)}")

    def speak(self, text: str, voice: str, wpm: int, pitch: int) -> bytes:
        """Synthesize ``text`` (in the worker process)."""
        lib = self.lib
        if voice != self._voice:
            status = lib.espeak_ng_SetVoiceByName(voice.encode())
            if status != _STATUS_OK:
                raise EngineUnavailable("espeak", f"voice {voice!r}: {self.message(status)}",
                                        fix="use vi (Vietnamese) or another espeak-ng voice name")
            self._voice = voice
        self._ok(lib.espeak_ng_SetParameter(_PARAM_RATE, wpm, 0), "set the rate")
        self._ok(lib.espeak_ng_SetParameter(_PARAM_PITCH, pitch, 0), "set the pitch")
        data = text.encode("utf-8") + b"\0"
        self._out = out = bytearray()
        try:
            self._ok(lib.espeak_ng_Synthesize(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None),
                     "synthesize")
            self._ok(lib.espeak_ng_Synchronize(), "finish synthesis")
        finally:
            self._out = None
        return bytes(out)


def rate_to_wpm(rate: float) -> int:
    """Speaking rate (1.0 = normal) to espeak-ng words per minute, clamped to its range."""
    return max(MIN_WPM, min(MAX_WPM, round(BASE_WPM * rate)))


def pitch_value(pitch: float | None) -> int:
    """espeak-ng pitch 0–99 (None = its default 50)."""
    if pitch is None:
        return 50
    if not 0 <= pitch <= 99:
        raise UsageError("espeak", f"pitch {pitch} is out of range", fix="give a pitch from 0 to 99 (50 = normal)")
    return int(round(pitch))




def known_voice(voice: str, voices) -> bool:
    """True when espeak-ng has ``voice``: a voice file ("vi", "aav/vi"), a language or a voice name, with an optional "+variant"."""
    base = voice.split("+", 1)[0].strip().lower()
    if not base:
        return False
    for name, lang, ident in voices:
        if base in (name.lower(), lang.lower(), ident.lower(), ident.rsplit("/", 1)[-1].lower()):
            return True
    return False


def voice_choices(voices, language: str = "vi") -> str:
    """A short list of voice names for an error message: the Vietnamese ones first."""
    mine = sorted({ident.rsplit("/", 1)[-1] for _, lang, ident in voices if lang.split("-")[0] == language})
    return ", ".join(mine) + f" (and {len(voices) - len(mine)} voices of other languages: `vnreader engines --voices`)"


# ------------------------------------------------------------ input cleaning
#: characters espeak-ng is given nothing of: C0/C1 controls (tab and newline become spaces)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: a mark (quote, bracket, comma, colon, slash, another dash…) directly followed by dashes and a
#: letter: dialogue ("-Dạ, …", “-Bộ …”) and lists, which crash the library; the dash goes
_MARK_DASH = re.compile(r"(?<=[^\w\s])[-‐‑‒–—―−]+(?=[^\W\d_])")
#: characters with no sound that crash the library in some positions (fuzzed: bench/fuzz_espeak.py)
_DROP = str.maketrans({"`": " ", "´": " ", "\u00ad": None, "\u200b": None, "\u200c": None, "\u200d": None,
                       "\u2060": None, "\ufeff": None})


def clean_text(text: str) -> str:
    """``text`` with what espeak-ng cannot take removed; what is said stays the same.

    NFC first (espeak reads composed Vietnamese letters), controls to spaces, backticks and
    zero-width marks dropped, a dash between a mark and a letter (dialogue) dropped.
    """
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text.replace("\t", " ").replace("\n", " ").replace("\r", " "))
    text = text.translate(_DROP)
    text = _MARK_DASH.sub(" ", text)
    # unassigned and private-use code points, and lone surrogates, have no sound either
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cn", "Co", "Cs"))
    return re.sub(r"\s+", " ", text).strip()


# ------------------------------------------------------------ the worker process
class _Worker:
    """The caller's side of one espeak worker process; restarted after it dies.

    Every call holds ``lock`` (the library is not thread-safe, and one pipe carries one
    request at a time).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._stderr: IO[bytes] | None = None
        self.sample_rate = 0
        self.version = ""
        self.voices: list[tuple[str, str, str]] = []
        self.crashes = 0  #: worker deaths seen (each one cost the sentence it was speaking)

    def _start(self) -> None:
        import reader

        env = dict(os.environ)
        root = str(Path(reader.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen([sys.executable, "-m", "reader.tts.espeak_worker"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=self._stderr, env=env, close_fds=True)
        try:
            hello = self._header(None)
        except BaseException:
            self.stop()
            raise
        if not hello.get("ok"):
            self.stop()
            raise _error(hello)
        self.sample_rate = int(hello["sample_rate"])
        self.version = str(hello["version"])
        self.voices = [tuple(v) for v in hello["voices"]]

    def ensure(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            self._start()

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            for stream in (proc.stdin, proc.stdout):
                try:
                    if stream is not None:
                        stream.close()
                except OSError:
                    pass
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _died(self, text: str | None) -> EngineError:
        proc = self._proc
        code = proc.wait() if proc is not None else None
        err = b""
        if self._stderr is not None:
            self._stderr.seek(0)
            err = self._stderr.read()[-300:]
        self.stop()
        self.crashes += 1
        how = (f"was killed by signal {signal.Signals(-code).name}" if code is not None and code < 0
               else f"exited with status {code}")
        what = f"crashed on {text[:80]!r}" if text is not None else "could not start"
        tail = err.decode(errors="replace").strip().splitlines()
        detail = f"the espeak-ng library {what} (worker {how})" + (f": {tail[-1]}" if tail else "")
        return EngineError("espeak", detail, fix="report the sentence; the rest of the text is still spoken")

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        """The running worker's (stdin, stdout); ``ensure`` or ``_start`` has started it."""
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None, "worker not started"
        return proc.stdin, proc.stdout

    def _header(self, text: str | None) -> dict:
        line = self._pipes()[1].readline()
        if not line:
            raise self._died(text)
        return json.loads(line)

    def speak(self, text: str, voice: str, wpm: int, pitch: int) -> bytes:
        """One sentence; the caller holds ``lock``."""
        self.ensure()
        request = json.dumps({"text": text, "voice": voice, "wpm": wpm, "pitch": pitch}).encode() + b"\n"
        try:
            stdin, stdout = self._pipes()
            try:
                stdin.write(request)
                stdin.flush()
            except (BrokenPipeError, OSError):
                raise self._died(text) from None
            answer = self._header(text)
            if not answer.get("ok"):
                raise _error(answer)
            size = int(answer["bytes"])
            pcm = stdout.read(size)
            if len(pcm) != size:
                raise self._died(text)
            return pcm
        except (EngineError, ValueError, KeyError):
            raise
        except BaseException:  # Ctrl-C, SIGTERM: the worker may be mid-sentence; never reuse it
            self.stop()
            raise


def _error(answer: dict) -> EngineError:
    cls = EngineUnavailable if answer.get("kind") == "unavailable" else EngineError
    return cls("espeak", answer.get("detail") or "failed", fix=answer.get("fix"))


_WORKER = _Worker()


def _worker() -> _Worker:
    """The process-wide worker, started on first use."""
    with _WORKER.lock:
        _WORKER.ensure()
    return _WORKER


class EspeakEngine:
    """espeak-ng: offline, always there, robotic. The default engine."""

    name = "espeak"
    default_voice = "vi"
    max_chars = None

    def __init__(self, voice: str | None = None, **_options) -> None:
        self.default_voice = voice or self.default_voice
        self._checked: set[str] = set()  #: voices espeak-ng has, already looked up

    @property
    def version(self) -> str:
        return _worker().version

    @property
    def sample_rate(self) -> int:
        return _worker().sample_rate

    def voices(self) -> list[tuple[str, str, str]]:
        """(name, language, identifier) of every espeak-ng voice."""
        return list(_worker().voices)

    def check(self) -> str | None:
        try:
            _worker()
        except EngineError as e:
            return str(e)
        return None

    def check_voice(self, voice: str | None = None) -> str:
        """``voice`` (default: this engine's) if espeak-ng has it, else ``UnknownVoice`` naming the voices there are.

        Checked once per voice and engine (``synthesize`` calls this for every sentence)."""
        voice = voice or self.default_voice
        if voice in self._checked:
            return voice
        voices = _worker().voices
        if not known_voice(voice, voices):
            raise UnknownVoice("espeak", f"no voice {voice!r}", fix="choose one of " + voice_choices(voices))
        if not known_voice(voice, [v for v in voices if v[1].split("-")[0] == "vi"]):
            log.warning("espeak: voice %r is not a Vietnamese voice; Vietnamese text will sound wrong "
                        "(Vietnamese voices: vi, vi-VN-x-central, vi-VN-x-south)", voice)
        self._checked.add(voice)
        return voice

    def synthesize(self, text: str, *, voice: str | None = None, rate: float = 1.0,
                   pitch: float | None = None) -> Clip:
        check_text(self.name, text, self.max_chars)
        wpm = rate_to_wpm(check_rate(self.name, rate))
        voice = self.check_voice(voice)
        said = clean_text(text)
        if not said:
            raise EngineError(self.name, f"nothing to say in {text[:40]!r} (only marks espeak-ng cannot speak)")
        worker = _WORKER
        with worker.lock:
            pcm = worker.speak(said, voice, wpm, pitch_value(pitch))
        if not pcm:
            raise EngineError(self.name, f"no audio for {text[:40]!r}")
        return Clip(pcm=pcm, sample_rate=worker.sample_rate, engine=self.name, voice=voice)
