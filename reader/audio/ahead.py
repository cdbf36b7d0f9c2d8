"""Encode an episode while its later sentences are still being spoken: both cores at work.

Serially, an episode is spoken (the espeak worker process), measured, then encoded (LAME),
so each stage waits for the one before and one core idles. :class:`EncodeAhead` overlaps them:

    render(on_clip=ahead.add) ─clips in order─▶ thread: place on the Grid ─▶ meter the first
    WARMUP_SECONDS ─▶ gain plan ─▶ gain → limiter → meter ─PCM pipe─▶ lame_worker process ─▶ frames file

* The engine speaks in the caller's thread (espeak waits on its worker's pipe, which frees
  the GIL); ``add`` only queues a reference to the spilled clip, so memory stays bounded.
* A thread takes the clips in timeline order, places them with the same
  :class:`~reader.audio.timeline.Grid` as :func:`~reader.audio.timeline.layout`, and plans
  the gain (:func:`~reader.audio.gain.choose_gain`) on the first ``WARMUP_SECONDS`` of the
  episode: an engine's voice has the same loudness all through an article.
* LAME runs in its own process (``reader/lame_worker.py``: lameenc holds the GIL), fed
  through a pipe; its frames go to an anonymous temp file beside the output.

The result is speculative and checked: :func:`reader.audio.build_episode` uses it only when
its pieces are exactly the final timeline's and the encoded loudness is within
``LOUDNESS_TOLERANCE`` of the target (else it encodes again, after synthesis, as before).
Anything unexpected (a fallback engine speaking every sentence again, clip rates that
differ, a failing encoder process) abandons the early encoding; the serial path then does
the work and reports real errors itself.
"""
from __future__ import annotations

import logging
import math
import os
import queue
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator, Sequence

import numpy as np

from reader.audio.encode import BLOCK, ENCODER_SCALE, PassResult, to_pcm16
from reader.audio.gain import GainPlan, choose_gain
from reader.audio.loudness import Limiter, LoudnessMeter, db_to_gain
from reader.audio.timeline import DEFAULT_PAUSES, Grid, Pauses, Piece, Timeline, blocks, check_clip, output_rate, \
    piece_samples, rechunk
from reader.errors import AudioError
from reader.models import Clip

log = logging.getLogger(__name__)

#: Seconds of the episode the gain is planned on before encoding starts (the whole episode
#: when it is shorter). Espeak speaks it in a fraction of a second.
WARMUP_SECONDS = 120.0

#: the encoder process's module (``python -m``)
WORKER = "reader.lame_worker"

_END = object()  # render finished: every clip was handed over
_CANCEL = object()  # render failed or was interrupted: stop


class _Abandon(Exception):
    """Early encoding cannot give the final episode's audio; the serial path will."""


@dataclass(frozen=True)
class Encoded:
    """What the early encoding made, for ``build_episode`` to check and use."""

    pieces: tuple[Piece, ...]  #: the timeline it encoded, piece by piece
    rate: int  #: its output sample rate
    loudness: float  #: integrated loudness (LUFS) before gain of the warm-up (the first WARMUP_SECONDS)
    peak: float  #: highest absolute sample of the warm-up before gain (linear)
    plan: GainPlan  #: the gain and limiter timing it applied
    result: PassResult  #: what went into the encoder
    frames: IO[bytes]  #: the MP3 frames (no tag), from offset 0; closed with the EncodeAhead

    def matches(self, timeline: Timeline) -> bool:
        """True when it encoded exactly ``timeline``: same rate, same pieces, the same clips."""
        if self.rate != timeline.rate or len(self.pieces) != len(timeline.pieces):
            return False
        return all(a.start == b.start and a.length == b.length and a.segment == b.segment and a.clip is b.clip
                   for a, b in zip(self.pieces, timeline.pieces))


class EncodeAhead:
    """Encode while the engine speaks; see the module docstring.

    ``order`` lists, in timeline order, (segment, sentence index, opens its segment) for every
    clip the timeline will hold (``segment`` counts the segments with clips). ``rate`` is the
    speaking rate (pauses shrink with it). Use as a context manager around rendering and
    ``build_episode``: leaving it stops the thread and the encoder process and frees the file.
    """

    def __init__(self, order: Sequence[tuple[int, int, bool]], directory: str | os.PathLike | None, *,
                 bitrate: int, target_lufs: float, ceiling_db: float, rate: float = 1.0,
                 pauses: Pauses = DEFAULT_PAUSES, warmup: float = WARMUP_SECONDS) -> None:
        self.order = tuple(order)
        self.directory = Path(directory) if directory is not None else None
        self.bitrate, self.target, self.ceiling = bitrate, target_lufs, ceiling_db
        self.rate, self.pauses, self.warmup = rate, pauses, warmup
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._cancelled = threading.Event()
        self._proc: subprocess.Popen | None = None
        self._frames: IO[bytes] | None = None
        self._errors: IO[bytes] | None = None
        self._encoded: Encoded | None = None
        self.abandoned: str | None = None  #: why the early encoding stopped (None: it did not)
        self._thread = threading.Thread(target=self._run, name="encode-ahead", daemon=True)
        self._thread.start()

    # -------------------------------------------------------------- the caller's side
    def add(self, index: int, clip: Clip) -> None:
        """``render``'s ``on_clip``: sentence ``index`` has its (spilled) clip."""
        self._queue.put((index, clip))

    def result(self) -> Encoded | None:
        """Wait for the encoding to end (call once rendering is over); None when it was abandoned."""
        self._queue.put(_END)
        self._thread.join()
        return self._encoded

    def close(self) -> None:
        self._cancelled.set()
        self._queue.put(_CANCEL)
        self._kill()
        self._thread.join()
        for f in (self._frames, self._errors):
            if f is not None:
                f.close()
        self._frames = self._errors = None

    def __enter__(self) -> EncodeAhead:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -------------------------------------------------------------- the thread
    def _run(self) -> None:
        try:
            import scipy.signal  # noqa: F401  (the meter's filter: loaded while the engine starts)

            self._encoded = self._encode()
        except _Abandon as e:
            self.abandoned = str(e)
        except Exception as e:  # a bug here must not cost the episode: the serial path encodes it
            self.abandoned = f"{type(e).__name__}: {e}"
            log.warning("early MP3 encoding failed, encoding after synthesis instead: %s", self.abandoned)
        finally:
            if self._encoded is None:
                self._kill()

    def _clips(self) -> Iterator[tuple[int, Clip, bool]]:
        """(segment, clip, opens segment) in timeline order, as the clips arrive."""
        ready: dict[int, Clip] = {}
        seen: set[int] = set()
        for segment, index, first in self.order:
            while index not in ready:
                item = self._queue.get()
                if item is _CANCEL or self._cancelled.is_set():
                    raise _Abandon("rendering stopped")
                if item is _END:
                    raise _Abandon(f"sentence {index} has no clip")
                i, clip = item
                if i in seen:
                    raise _Abandon("a sentence was spoken twice (the fallback engine spoke)")
                seen.add(i)
                ready[i] = clip
            yield segment, ready.pop(index), first

    def _pieces(self, grid: Grid, clips: Iterator[tuple[int, Clip, bool]]) -> Iterator[Piece]:
        """The grid's pieces (the lead pause first) as each clip is placed, then the tail pause."""
        done = 0
        for segment, clip, first in clips:
            try:
                check_clip(clip, "early encoding")
            except AudioError as e:  # build_episode's layout reports it, with the input's name
                raise _Abandon(str(e)) from None
            if output_rate([clip.sample_rate]) != grid.out_rate:
                raise _Abandon("the clips have different sample rates")
            grid.place(clip, segment, first)
            yield from grid.pieces[done:]
            done = len(grid.pieces)
        grid.finish(())
        yield from grid.pieces[done:]

    def _encode(self) -> Encoded | None:
        if not self.order:
            return None
        clips = self._clips()
        first = next(clips)
        grid = Grid(output_rate([first[1].sample_rate]), rate=self.rate, pauses=self.pauses)
        rate = grid.out_rate

        def chained() -> Iterator[tuple[int, Clip, bool]]:
            yield first
            yield from clips

        pieces = self._pieces(grid, chained())
        head: list[Piece] = []
        for p in pieces:  # the warm-up: pieces until WARMUP_SECONDS (or the whole episode)
            head.append(p)
            if p.start + p.length >= self.warmup * rate:
                break
        proc = self._start_encoder(rate)  # it starts up while the gain is planned
        plan, loudness, peak = self._plan(head, rate)

        def everything() -> Iterator[Piece]:
            yield from head
            yield from pieces

        placed: list[Piece] = []
        meter = LoudnessMeter(rate)
        limiter = Limiter(rate, self.ceiling, attack=plan.times[0], release=plan.times[1])
        gain = np.float32(db_to_gain(plan.gain))

        def gained() -> Iterator[np.ndarray]:
            for b in rechunk(piece_samples(_kept(everything(), placed), rate), BLOCK):
                if self._cancelled.is_set():
                    raise _Abandon("rendering stopped")
                yield b * gain

        assert proc.stdin is not None
        try:
            for b in limiter.process(gained()):
                meter.add(b)
                proc.stdin.write(to_pcm16(b, 1.0 / ENCODER_SCALE))
            proc.stdin.close()
        except (BrokenPipeError, OSError, ValueError) as e:  # ValueError: the pipe was closed by close()
            if self._cancelled.is_set():
                raise _Abandon("rendering stopped") from None
            self._wait_encoder(proc)  # says why it failed
            raise _Abandon(f"the encoder process stopped: {e}") from None
        written = self._wait_encoder(proc)
        assert self._frames is not None
        return Encoded(pieces=tuple(placed), rate=rate, loudness=loudness, peak=peak, plan=plan,
                       result=PassResult(meter.integrated(), meter.peak, limiter.limited, limiter.min_gain, written),
                       frames=self._frames)

    def _plan(self, head: list[Piece], rate: int) -> tuple[GainPlan, float, float]:
        """The gain plan from the first pieces, as ``build_episode`` makes it from all of them,
        with their loudness and sample peak."""
        sample = Timeline(rate, tuple(head), (), ())
        meter = LoudnessMeter(rate)
        for b in blocks(sample, BLOCK):
            meter.add(b)
        loudness = meter.integrated()
        if not math.isfinite(loudness):
            raise _Abandon("the first clips are silent")
        return choose_gain(sample, loudness, meter.peak, self.target, self.ceiling), loudness, meter.peak

    # -------------------------------------------------------------- the encoder process
    def _start_encoder(self, rate: int) -> subprocess.Popen:
        try:
            self._frames = tempfile.TemporaryFile(dir=self.directory, prefix=".vnreader-frames-")
        except OSError:
            self._frames = tempfile.TemporaryFile(prefix=".vnreader-frames-")
        self._errors = tempfile.TemporaryFile()
        import reader

        env = dict(os.environ)
        root = str(Path(reader.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self._proc = subprocess.Popen([sys.executable, "-m", WORKER, str(rate), str(self.bitrate)],
                                      stdin=subprocess.PIPE, stdout=self._frames, stderr=self._errors, env=env,
                                      close_fds=True)
        if self._cancelled.is_set():
            self._kill()
            raise _Abandon("rendering stopped")
        return self._proc

    def _wait_encoder(self, proc: subprocess.Popen) -> int:
        assert self._frames is not None
        code = proc.wait()
        if code != 0:
            detail = b""
            if self._errors is not None:
                self._errors.seek(0)
                detail = self._errors.read()[-300:]
            raise _Abandon(f"the encoder process failed ({code}): " + detail.decode(errors="replace").strip())
        size = self._frames.seek(0, os.SEEK_END)
        self._frames.seek(0)
        return size

    def _kill(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdin is not None:
            try:
                proc.stdin.close()
            except OSError:
                pass


def _kept(pieces: Iterator[Piece], into: list[Piece]) -> Iterator[Piece]:
    """The same pieces, each also appended to ``into``."""
    for p in pieces:
        into.append(p)
        yield p


def timeline_order(groups: Sequence[Sequence[int]]) -> list[tuple[int, int, bool]]:
    """:class:`EncodeAhead`'s ``order`` from the sentence indices of each segment, in timeline order
    (segments without sentences hold no clips and are left out, as ``layout`` leaves them out)."""
    out: list[tuple[int, int, bool]] = []
    for segment, indices in enumerate(g for g in groups if g):
        out.extend((segment, i, j == 0) for j, i in enumerate(indices))
    return out
