"""The reading form of ``vnreader serve``: one article, heard while it is being spoken.

    service = ReadService(ReadSettings(out_dir=...))
    doc, sents = service.prepare(url, text)   # fetch (guarded) + extract + limits + split; blocking
    job = service.start(doc, sents, loop)      # a worker thread speaks it into job's buffer
    job.audio()                                # async iterator of MP3 bytes for GET /read/ID.mp3

A job's worker thread runs ``reader.stream.stream`` (the same sentence split, gain plan and
limiter as ``vnreader read --stdout``) and writes each sentence's MP3 frames into the job's
buffer as soon as it is spoken; every listener of ``/read/ID.mp3`` reads that buffer from the
start and waits for more, so playback starts after the first sentence. When the stream ends
the worker saves the finished episode into the served folder with
``pipeline.render_document`` (cheap: the clips are in the clip cache; ``made_by="serve"``),
and the job becomes ``done`` with the episode's file. At most ``max_renders`` jobs prepare or
speak at once; more are refused (``ReadService.acquire`` is False).
"""
from __future__ import annotations

import asyncio
import collections
import logging
import secrets
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import httpx

from reader.config import SpeechSettings
from reader.errors import ReaderError, UsageError
from reader.fetch import DEFAULT_DEADLINE, MAX_BYTES
from reader.limits import DEFAULT_LIMITS, Limits
from reader.models import Article, Document, Sentence

if TYPE_CHECKING:
    from reader.tts.cache import ClipCache

log = logging.getLogger("vnreader.web")

MAX_RENDERS = 2  #: articles prepared or spoken at once; more get 503
KEEP_JOBS = 16  #: finished jobs remembered for their status; older ones are forgotten
PASTED = "văn bản dán"  #: the subject of pasted text in errors
STATES = ("rendering", "done", "failed")


@dataclass(frozen=True)
class ReadSettings:
    """How the form reads: filled by ``web.make_server`` from the command line; read by ReadService."""

    out_dir: Path  #: web; the served folder, where finished episodes are saved
    engine: str = "espeak"  #: web; offline by default: a visitor's text goes to no third party
    voice: str | None = None  #: web; None = the engine's default voice
    rate: float = 1.0  #: web; speaking rate
    cache: ClipCache | None = None  #: web; shared by the stream and the saved episode (None: none)
    limits: Limits = DEFAULT_LIMITS  #: web; characters, sentences, minutes of one article
    max_bytes: int = MAX_BYTES  #: web; size cap of a fetched page
    deadline: float = DEFAULT_DEADLINE  #: web; seconds a page fetch may take in total
    allow_private_fetch: bool = False  #: web; --allow-private-fetch: fetch loopback/private addresses too
    resolver: Callable = socket.getaddrinfo  #: tests; DNS for the address guard
    transport: httpx.BaseTransport | None = None  #: tests; the transport under the guard
    max_renders: int = MAX_RENDERS  #: web; concurrent renders
    speech: SpeechSettings = SpeechSettings()  #: web; --speech-url…: the remote engine's server


@dataclass
class Job:
    """One article being read: its audio so far, its state, its saved episode."""

    id: str
    doc: Document
    sentences: Sequence[Sentence]
    loop: asyncio.AbstractEventLoop
    state: str = "rendering"  #: rendering | done | failed
    error: ReaderError | None = None
    episode: Path | None = None  #: the saved MP3, once done
    ended: bool = False  #: the stream has its last byte
    buffer: bytearray | None = field(default_factory=bytearray)  #: None once over (the episode replaces it)
    limits: Limits = DEFAULT_LIMITS  #: max_minutes caps the stream too (by its bytes at the stream's bitrate)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _waiters: set = field(default_factory=set)

    # ------------------------------------------------ written by the worker thread
    def write(self, data: bytes) -> int:
        from reader.stream import BITRATE

        with self._lock:
            assert self.buffer is not None, "written after the episode replaced the stream"
            self.buffer += data
            seconds = len(self.buffer) * 8 / (BITRATE * 1000)
        self._wake()
        self.limits.check_seconds(seconds, self.doc.url or PASTED)  # LimitError ends the stream
        return len(data)

    def flush(self) -> None:
        pass

    def end_stream(self) -> None:
        self.ended = True
        self._wake()

    def _wake(self) -> None:
        try:
            self.loop.call_soon_threadsafe(self._notify)
        except RuntimeError:  # the loop is closed: the server stopped
            pass

    def _notify(self) -> None:
        for f in self._waiters:
            if not f.done():
                f.set_result(None)
        self._waiters.clear()

    # ------------------------------------------------ read by listeners (event loop)
    async def audio(self, chunk: int = 64 * 1024):
        """The MP3 bytes from the first, as they come, until the stream ends."""
        buf, pos = self.buffer, 0
        if buf is None:
            return
        while True:
            with self._lock:
                data = bytes(buf[pos:pos + chunk])
            if data:
                pos += len(data)
                yield data
                continue
            if self.ended:
                return
            waiter = self.loop.create_future()
            self._waiters.add(waiter)
            with self._lock:
                more = len(buf) > pos
            if more or self.ended:
                self._waiters.discard(waiter)
                continue
            await waiter


def pasted_document(text: str) -> Document:
    """Pasted text → Document, as ``vnreader read`` reads a text file (first short line = title).

    One pasted paragraph alone has no body for the text extractor; then its first sentence is
    the title and the rest the body, so a single paragraph is read as it is.
    """
    from reader.errors import ExtractError
    from reader.extract import extract
    from reader.text import split_sentences

    try:
        return extract(Article(url=None, text=text, origin=PASTED))
    except ExtractError:
        lines = [x.strip() for x in text.splitlines() if x.strip()]
        if len(lines) != 1:
            raise
        first, *rest = split_sentences(lines[0]) or [lines[0]]
        return Document(title=first, paragraphs=(" ".join(rest),) if rest else (), site="text")


class ReadService:
    """Jobs of one server; no module-level state (two servers in a process do not share)."""

    def __init__(self, settings: ReadSettings):
        self.settings = settings
        self.jobs: collections.OrderedDict[str, Job] = collections.OrderedDict()
        self._slots = threading.BoundedSemaphore(settings.max_renders)
        from reader.tts.remote import make_limiter

        #: the remote engine's rate limit, one for every reading the server does
        self.speech_limit = make_limiter(settings.speech)

    def acquire(self) -> bool:
        """Take a render slot (False: all busy); ``start`` hands it to the worker, else call ``release``."""
        return self._slots.acquire(blocking=False)

    def release(self) -> None:
        self._slots.release()

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    # ------------------------------------------------ preparing (blocking: run in a thread)
    def prepare(self, url: str, text: str) -> tuple[Document, list[Sentence]]:
        """The document and its sentences, every cap checked; raises ReaderError."""
        from reader.extract import extract
        from reader.text import sentences as split_document

        s = self.settings
        if url:
            subject = url
            doc = extract(self._fetch(url))
        elif text:
            subject = PASTED
            s.limits.check_chars(len(text), subject)
            doc = pasted_document(text)
        else:
            raise UsageError("form", "no URL and no text")
        s.limits.check_document(doc, subject)
        sents = [x for x in split_document(doc) if x.spoken.strip()]
        if not sents:
            raise UsageError(subject, "nothing speakable in the text")
        s.limits.check_sentences(len(sents), subject)
        return doc, sents

    def _fetch(self, url: str) -> Article:
        from reader.fetch import fetch_url, make_client
        from reader.netguard import GuardedTransport, check_url

        s = self.settings
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as e:
            raise UsageError(url, "not a valid URL") from e
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise UsageError(url, "not an http(s) URL")
        transport = s.transport
        if not s.allow_private_fetch:
            check_url(url, s.resolver)  # refuse before anything is sent (the transport checks every hop again)
            transport = GuardedTransport(resolver=s.resolver, inner=s.transport)
        with make_client(transport=transport) as client:
            return fetch_url(url, client=client, max_bytes=s.max_bytes, deadline=s.deadline, retries=1)

    # ------------------------------------------------ speaking
    def start(self, doc: Document, sents: Sequence[Sentence], loop: asyncio.AbstractEventLoop) -> Job:
        """A new job, spoken by a worker thread that also releases the slot taken by ``acquire``."""
        job = Job(id=secrets.token_urlsafe(12), doc=doc, sentences=tuple(sents), loop=loop,
                  limits=self.settings.limits)
        self.jobs[job.id] = job
        while len(self.jobs) > KEEP_JOBS:
            oldest = next(iter(self.jobs))
            if self.jobs[oldest].state == "rendering":
                break
            self.jobs.pop(oldest)
        threading.Thread(target=self._run, args=(job,), name=f"vnreader-read-{job.id}", daemon=True).start()
        return job

    def _run(self, job: Job) -> None:
        from reader import stream as streaming
        from reader.pipeline import RenderOptions, render_document

        s = self.settings
        subject = job.doc.url or PASTED
        options = RenderOptions(engine=s.engine, voice=s.voice, rate=s.rate, cache=s.cache, limits=s.limits,
                                made_by="serve", speech=s.speech, speech_limit=self.speech_limit)
        try:
            try:
                eng = options.make_engine()
                streaming.stream(job.sentences, eng, job, voice=s.voice, rate=s.rate, cache=s.cache,
                                 subject=subject)
            finally:
                job.end_stream()
            ep = render_document(job.doc, s.out_dir, options, subject=subject)
            job.episode = Path(ep.path)
            job.state, job.buffer = "done", None
        except ReaderError as e:
            job.error, job.state, job.buffer = e, "failed", None
        except Exception as e:  # a bug: say so in the log, fail the job, keep the server
            log.exception("reading %s failed", subject)
            job.error, job.state = ReaderError(subject, f"internal error: {type(e).__name__}"), "failed"
            job.error.expected, job.buffer = False, None
        finally:
            self.release()
