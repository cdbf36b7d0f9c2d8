"""Render an article's sentences with one engine: cache, chunking, concurrency, rate limit, retries.

    render(sentences, engine, voice=..., rate=..., cache=ClipCache(), fallback=get_engine("espeak"))

* **Cache** — each sentence's clip is looked up by (engine, version, voice, rate, pitch,
  spoken text) first; only misses reach the engine, and new clips are stored.
* **Chunking** — a sentence longer than ``engine.max_chars`` is cut by ``chunk.chunk_text``
  (sentence, then clause, then word boundaries) and its pieces joined with a short pause.
* **Concurrency** — up to ``concurrency`` requests in flight (default
  ``engine.concurrency``, 1 for local engines, whose calls then run in the caller's thread).
* **Rate limit** — request starts are spaced to at most ``engine.max_rate`` per second.
* **Retries** — ``EngineBusy`` (429, 5xx, dropped connection) and ``EngineTimeout`` are
  retried up to ``retries`` times with exponential backoff and full jitter; a busy answer
  that says how long to wait (``EngineBusy.retry_after``, from Retry-After) waits that long
  instead, at most ``MAX_RETRY_AFTER`` seconds.
* **Spilling** — with ``spill`` (a :class:`reader.tts.spill.SpillFile`) each clip's PCM is
  written to disk as soon as it is ready and the result's clips point into the file, so
  memory does not grow with the article's length.
* **Failure policy** — without ``fallback`` the first sentence that still fails raises and
  the article fails. With ``fallback`` the *whole* article is rendered again by the fallback
  engine (never a mix of voices) and the result names the engine that failed and why.
"""
from __future__ import annotations

import itertools
import logging
import random
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Callable, Sequence

from reader.errors import EngineBusy, EngineError, EngineTimeout
from reader.models import Clip, Sentence
from reader.tts.base import Engine
from reader.tts.cache import ClipCache
from reader.tts.chunk import chunk_text
from reader.tts.spill import SpillFile

#: pause between the pieces of a sentence cut to the engine's request limit (seconds at rate 1.0)
CHUNK_PAUSE = 0.12
log = logging.getLogger(__name__)
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 0.5  # seconds before the first retry (before jitter)
#: longest wait a server's Retry-After may impose before a retry (seconds); longer asks wait this long
MAX_RETRY_AFTER = 60.0
#: requests queued per worker in parallel rendering (more would only hold finished clips longer)
WINDOW_PER_WORKER = 2


@dataclass(frozen=True)
class RenderResult:
    """What ``render`` hands the audio stage."""

    clips: tuple[Clip, ...]  #: one per sentence, in sentence order, each with ``.sentence`` set
    engine: Engine  #: the engine that spoke every clip
    voice: str  #: the voice that spoke every clip
    synthesized: int  #: sentences the engine spoke in this call
    cached: int  #: sentences taken from the clip cache
    requests: int = 0  #: engine calls made, retries included
    fell_back_from: str | None = None  #: name of the engine that failed, when the fallback spoke
    error: EngineError | None = None  #: why that engine failed


#: slack added to the spacing so network jitter never shows the server one request too many
RATE_MARGIN = 1.01


class RateLimiter:
    """Spaces call starts ``RATE_MARGIN / per_second`` apart, across threads (no bursts).

    Evenly spaced starts put at most ``per_second`` of them in any one-second window.
    """

    def __init__(self, per_second: float | None, clock=time.monotonic, sleep=time.sleep):
        self.interval = RATE_MARGIN / per_second if per_second else 0.0
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def acquire(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)


@dataclass
class _Job:
    engine: Engine
    voice: str | None
    rate: float
    pitch: float | None
    limiter: RateLimiter
    retries: int
    backoff: float
    cancelled: threading.Event
    requests: int = 0
    lock: threading.Lock = None  # type: ignore[assignment]

    def __post_init__(self):
        self.lock = threading.Lock()

    def call(self, text: str) -> Clip:
        """One engine request with rate limiting and retries."""
        for attempt in range(self.retries + 1):
            if self.cancelled.is_set():
                raise _Cancelled()
            self.limiter.acquire()
            with self.lock:
                self.requests += 1
            try:
                return self.engine.synthesize(text, voice=self.voice, rate=self.rate, pitch=self.pitch)
            except (EngineBusy, EngineTimeout) as e:
                if attempt == self.retries:
                    raise
                delay = self.backoff * (2 ** attempt) * random.uniform(0.5, 1.5)
                asked = getattr(e, "retry_after", None)
                if asked is not None:
                    delay = min(float(asked), MAX_RETRY_AFTER)
                if self.cancelled.wait(delay):
                    raise _Cancelled() from None
        raise AssertionError("unreachable")


class _Cancelled(Exception):
    """Another request failed; this one was not started."""


def render(sentences: Sequence[Sentence], engine: Engine, *, voice: str | None = None, rate: float = 1.0,
           pitch: float | None = None, cache: ClipCache | None = None, concurrency: int | None = None,
           fallback: Engine | None = None, on_clip: Callable[[int, Clip], None] | None = None,
           retries: int = DEFAULT_RETRIES, backoff: float = DEFAULT_BACKOFF,
           max_rate: float | None = None, spill: SpillFile | None = None) -> RenderResult:
    """Speak every sentence with ``engine``; see the module docstring for the policies.

    ``on_clip(index, clip)`` is called as each sentence's clip is ready (cached ones first);
    after a fallback it is called again for the fallback's clips.
    ``max_rate`` overrides ``engine.max_rate`` (requests per second, None = engine's own).
    """
    try:
        return _render(sentences, engine, voice=voice, rate=rate, pitch=pitch, cache=cache,
                       concurrency=concurrency, on_clip=on_clip, retries=retries, backoff=backoff,
                       max_rate=max_rate, spill=spill)
    except EngineError as e:
        if fallback is None:
            raise
        result = _render(sentences, fallback, voice=None, rate=rate, pitch=None, cache=cache, concurrency=None,
                         on_clip=on_clip, retries=retries, backoff=backoff, max_rate=None, spill=spill)
        return replace(result, fell_back_from=engine.name, error=e)


def _render(sentences, engine, *, voice, rate, pitch, cache, concurrency, on_clip, retries, backoff,
            max_rate, spill=None) -> RenderResult:
    voice_id = voice or engine.default_voice
    version = engine.version if cache is not None else ""
    clips: list[Clip | None] = [None] * len(sentences)
    cached = 0

    def done(i: int, clip: Clip) -> None:
        if spill is not None:
            clip = spill.put(clip)
        clips[i] = clip
        if on_clip is not None:
            on_clip(i, clip)

    # 1. cache hits; the rest become requests (one per chunk)
    pieces: dict[int, list[str]] = {}
    silent: list[int] = []  # nothing to say: an empty clip, filled in at the end
    for i, s in enumerate(sentences):
        text = s.spoken.strip()
        if not text:
            silent.append(i)
            continue
        hit = cache.get(engine.name, version, voice_id, rate, pitch, text) if cache is not None else None
        if hit is not None:
            cached += 1
            done(i, replace(hit, sentence=s))
            continue
        pieces[i] = chunk_text(text, engine.max_chars, s.breaks if text == s.spoken else ())

    # 2. synthesise the misses
    workers = max(1, concurrency or getattr(engine, "concurrency", 1) or 1)
    job = _Job(engine, voice, rate, pitch, RateLimiter(max_rate or getattr(engine, "max_rate", None)),
               retries, backoff, threading.Event())
    parts: dict[int, list[Clip | None]] = {i: [None] * len(p) for i, p in pieces.items()}

    def finish(i: int) -> None:
        clip = _join(_filled(parts.pop(i)), rate)  # drop the chunks: only the (spilled) joined clip is kept
        text = sentences[i].spoken.strip()
        if cache is not None:
            try:
                cache.put(engine.name, version, voice_id, rate, pitch, text, clip)
            except OSError as e:  # a full or read-only cache slows later runs, it never fails this one
                log.warning("clip cache %s: could not store a clip: %s", cache.directory, e)
        done(i, replace(clip, sentence=sentences[i]))

    units = [(i, j, text) for i, p in pieces.items() for j, text in enumerate(p)]
    if workers == 1 or len(units) <= 1:
        for i, j, text in units:
            parts[i][j] = job.call(text)
            if j == len(pieces[i]) - 1:
                finish(i)
    else:
        _run_parallel(units, parts, job, workers, finish)

    spoken = [c for c in clips if c is not None and c.nbytes]
    sample_rate = spoken[0].sample_rate if spoken else engine.sample_rate
    for i in silent:
        done(i, Clip(pcm=b"", sample_rate=sample_rate, engine=engine.name,
                     voice=spoken[0].voice if spoken else voice_id, sentence=sentences[i]))
    return RenderResult(clips=tuple(_filled(clips)), engine=engine, voice=spoken[0].voice if spoken else voice_id,
                        synthesized=len(pieces), cached=cached, requests=job.requests)


def _run_parallel(units, parts, job: _Job, workers: int, finish) -> None:
    """Keep at most ``WINDOW_PER_WORKER × workers`` requests queued: a failure (or a limit
    raised by ``finish``) stops the rest, and finished clips never pile up unread."""
    remaining = {i: len(p) for i, p in parts.items()}
    todo = iter(units)
    window = workers * WINDOW_PER_WORKER
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"tts-{job.engine.name}") as pool:
        futures: dict = {}

        def submit(n: int) -> None:
            for i, j, text in itertools.islice(todo, n):
                futures[pool.submit(job.call, text)] = (i, j)

        submit(window)
        pending = set(futures)
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for f in finished:
                    i, j = futures.pop(f)
                    err = f.exception()
                    if err is not None and not isinstance(err, _Cancelled):
                        raise err
                    if err is None:
                        parts[i][j] = f.result()
                        remaining[i] -= 1
                        if remaining[i] == 0:
                            finish(i)
                before = set(futures)
                submit(window - len(futures))
                pending |= set(futures) - before
        finally:
            if pending:
                job.cancelled.set()
                for f in pending:
                    f.cancel()


def _filled(clips: list[Clip | None]) -> list[Clip]:
    """The same clips, once every slot holds one (a slot still empty is a bug here)."""
    out = [c for c in clips if c is not None]
    if len(out) != len(clips):
        raise RuntimeError(f"{len(clips) - len(out)} of {len(clips)} clips were never made")
    return out


def _join(parts: list[Clip], rate: float) -> Clip:
    """One sentence's clip from its chunks, with a short pause between them."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    if any(p.sample_rate != first.sample_rate for p in parts):
        raise EngineError(first.engine, "chunks came back at different sample rates")
    gap = b"\0\0" * int(first.sample_rate * CHUNK_PAUSE / rate)
    return replace(first, pcm=gap.join(p.pcm for p in parts))
