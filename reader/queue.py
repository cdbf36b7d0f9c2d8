"""Render workers over a job queue: Celery with a Redis broker (RabbitMQ works through Celery's own URL).

``vnreader run --queue redis://HOST:6379/0`` ingests the feeds and prepares each article (fetch,
extract, dedupe) as usual, then hands each render to the queue as one job; ``vnreader worker
--queue …`` processes (on any machine that sees the output folder, or the storage) take the jobs, render them
with ``pipeline.render_document`` and answer with the episode. The run records every outcome in
its store with the single-machine policy, then builds the digests and the feed once.

    run:    prepare ─▶ RenderJob ─send─▶ broker ─▶ worker: render_document ─▶ OUT/<slug>-<key>.mp3
            finish  ◀─ Episode | ReaderError ◀─ result backend (the same Redis) ◀─┘

A job is one article render, identified by its render key (``pipeline.article_key``: the hash
of every input that changes the audio, also the episode's file name). Delivery is at least
once: jobs are acknowledged late and rejected when their worker is lost, so a job whose worker
dies is run again elsewhere; running a job twice finds the finished episode (same file name,
same key in its record) and never makes a second one. A worker writes every file atomically
(``reader/fsutil.py``) and the record last, so a killed worker leaves no half episode.

Where a worker writes the episode is ``RenderJob.out_dir``, the run's folder shared with the
workers, or, with ``[queue] transfer = "storage"``, ``RenderJob.staging``: a storage URL the
worker uploads the episode under from a scratch folder of its own, and which the run downloads
it from on the answer (``reader/transfer.py``). ``Dispatcher.results`` is how the run learns the
outcome; it never reads the worker's state.

Settings (``QueueSettings``): the broker URL (``[queue] url`` or ``--queue``), the queue's name
and Redis key prefix (``$VNREADER_QUEUE_NAME``, default ``vnreader``: several deployments or
test runs can share one Redis) and the visibility timeout (``$VNREADER_QUEUE_VISIBILITY``
seconds, default 4 hours: a job not acknowledged within it is given to another worker, so it
must be longer than the longest render). Celery is the optional extra ``vnreader[queue]``,
imported only here and only when a queue is used.
"""
from __future__ import annotations

import logging
import os
import socket
import traceback
import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from time import monotonic, sleep
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

from reader import errors
from reader.errors import PublishError, QueueError, ReaderError, UsageError
from reader.limits import Limits
from reader.models import Caption, Document, Episode

NAME_ENV = "VNREADER_QUEUE_NAME"
VISIBILITY_ENV = "VNREADER_QUEUE_VISIBILITY"
DEFAULT_NAME = "vnreader"
#: seconds a taken job may stay unacknowledged before another worker gets it: longer than any render
DEFAULT_VISIBILITY = 4 * 3600.0
#: seconds ``vnreader run --queue`` waits for all of its jobs (``--queue-timeout``)
DEFAULT_TIMEOUT = 3600.0
TASK = "vnreader.render"
EXTRA_FIX = "install the extra: pip install 'vnreader[queue]'"

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- settings
def shown_url(url: str) -> str:
    """The broker URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True)
class QueueSettings:
    """Where the jobs go: read by ``make_app`` on both sides (run and worker)."""

    url: str  #: config [queue] url / --queue; the Celery broker (redis://…, amqp://…)
    name: str = DEFAULT_NAME  #: $VNREADER_QUEUE_NAME; the Celery queue, also the Redis key prefix
    visibility_timeout: float = DEFAULT_VISIBILITY  #: $VNREADER_QUEUE_VISIBILITY; seconds before redelivery

    @classmethod
    def from_env(cls, url: str, environ: dict[str, str] | None = None) -> QueueSettings:
        """Settings for ``url``, with the queue name and visibility timeout from the environment."""
        env = os.environ if environ is None else environ
        name = env.get(NAME_ENV) or DEFAULT_NAME
        raw = env.get(VISIBILITY_ENV)
        try:
            visibility = float(raw) if raw else DEFAULT_VISIBILITY
        except ValueError:
            raise UsageError(VISIBILITY_ENV, f"{raw!r} is not a number of seconds",
                             fix=f"set {VISIBILITY_ENV} to seconds, longer than the longest render") from None
        if urlsplit(url).scheme not in ("redis", "rediss", "amqp", "amqps", "pyamqp"):
            raise UsageError(url, "not a Redis or RabbitMQ broker URL",
                             fix="give --queue redis://HOST:6379/0 (or amqp://USER:PASSWORD@HOST:5672//)")
        return cls(url=url, name=name, visibility_timeout=visibility)

    @property
    def is_redis(self) -> bool:
        return urlsplit(self.url).scheme in ("redis", "rediss")

    @property
    def result_backend(self) -> str:
        """The results go to the same Redis; with RabbitMQ, back over the broker (``rpc://``)."""
        return self.url if self.is_redis else "rpc://"


def _celery(where: str = "--queue"):
    """Celery, imported only when a queue is used (an optional extra); the error names ``where``, the
    broker URL as the user gave it (``--queue`` or ``[queue] url``, password hidden)."""
    try:
        import celery
    except ImportError as e:
        raise UsageError(where, "the job queue needs Celery, which is not installed", fix=EXTRA_FIX) from e
    return celery


def broker_errors() -> tuple[type[BaseException], ...]:
    """What Celery, kombu and redis-py raise when the broker or result backend cannot be reached."""
    from kombu.exceptions import OperationalError

    found: list[type[BaseException]] = [OSError, OperationalError]
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        found += [RedisConnectionError, RedisTimeoutError]
    except ImportError:  # a RabbitMQ-only install
        pass
    return tuple(found)


def make_app(settings: QueueSettings):
    """The Celery app both sides build from the same settings, with the render task registered."""
    celery = _celery(shown_url(settings.url))
    app = celery.Celery("vnreader", broker=settings.url, backend=settings.result_backend, set_as_current=False)
    transport: dict[str, Any] = {"visibility_timeout": settings.visibility_timeout}
    if settings.is_redis:
        # every key under the queue's name; a lost worker's jobs are looked for every few seconds
        transport |= {"global_keyprefix": f"{settings.name}:", "unacked_restore_interval": 2,
                      "unacked_restore_throttle": 1}
    app.conf.update(
        task_serializer="json", result_serializer="json", accept_content=["json"],
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_default_queue=settings.name, task_track_started=True, worker_send_task_events=True,
        task_send_sent_event=True,
        broker_transport_options=transport,
        result_backend_transport_options={"global_keyprefix": f"{settings.name}:"} if settings.is_redis else {},
        result_expires=7 * 24 * 3600, broker_connection_retry_on_startup=True,
        broker_connection_timeout=5, redis_socket_connect_timeout=5, redis_socket_timeout=30,
        worker_hijack_root_logger=False, worker_redirect_stdouts=False,
        task_publish_retry=False,
    )
    app.task(name=TASK, acks_late=True, reject_on_worker_lost=True)(run_job)
    return app


URL_ENV = "VNREADER_QUEUE_URL"


def __getattr__(name: str):
    """``reader.queue.app``: the app for Celery's own tools, from ``$VNREADER_QUEUE_URL``
    (``VNREADER_QUEUE_URL=redis://HOST:6379/0 celery -A reader.queue inspect active``)."""
    if name != "app":
        raise AttributeError(name)
    url = os.environ.get(URL_ENV)
    if not url:
        raise UsageError(URL_ENV, "not set", fix=f"set {URL_ENV} to the broker URL the workers use")
    return make_app(QueueSettings.from_env(url))


def check_broker(app, settings: QueueSettings) -> None:
    """Raise ``QueueError`` (naming the URL and the fix) unless the broker answers now."""
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, timeout=5)
        if settings.is_redis:
            app.backend.client.ping()
    except broker_errors() as e:
        raise QueueError(shown_url(settings.url), f"the broker is unreachable: {e}") from e


# ---------------------------------------------------------------- the job
def _document_dict(doc: Document) -> dict:
    d = asdict(doc)
    d["published"] = doc.published.isoformat() if doc.published else None
    return d


def _document(d: dict) -> Document:
    d = dict(d)
    d["paragraphs"] = tuple(d["paragraphs"])
    d["captions"] = tuple(Caption(**c) for c in d.get("captions") or ())
    d["published"] = datetime.fromisoformat(d["published"]) if d.get("published") else None
    return Document(**d)


#: RenderOptions fields that are live objects, not settings: each worker makes its own
_LOCAL_OPTIONS = ("cache", "speech_limit")


def _options_dict(options) -> dict:
    d = {f.name: getattr(options, f.name) for f in fields(options) if f.name not in _LOCAL_OPTIONS}
    d["limits"] = asdict(options.limits)
    if "speech" in d:
        d["speech"] = asdict(options.speech)
    d["made_at"] = options.made_at.isoformat() if options.made_at else None
    return d


def _options(d: dict):
    from reader.config import SpeechSettings
    from reader.pipeline import RenderOptions

    d = dict(d)
    d["limits"] = Limits(**d["limits"])
    if "speech" in d:
        d["speech"] = SpeechSettings(**d["speech"])
    d["made_at"] = datetime.fromisoformat(d["made_at"]) if d.get("made_at") else None
    return RenderOptions(**d)


def _worker_options(options):
    """The job's options with this worker's clip cache and speech rate limit (a ``[speech] rate_url``
    bucket in Redis is one limit for every worker, as for several single-machine processes)."""
    from reader.pipeline import default_cache
    from reader.tts.remote import make_limiter

    return replace(options, cache=default_cache(), speech_limit=make_limiter(options.speech))


@dataclass(frozen=True)
class RenderJob:
    """One article render, as it travels through the queue (JSON, never pickles)."""

    key: str  #: run (pipeline.article_key); the job's identity and the episode file's hash
    doc: Document  #: run (daily prepare step); what to speak
    options: Any = field(compare=False)  #: run; pipeline.RenderOptions of the article's source (no cache nor
    #: rate limiter: the worker makes its own, ``_worker_options``)
    out_dir: str = ""  #: run; the folder the worker writes the episode into (shared by run and workers);
    #: empty when ``staging`` is set
    source_name: str | None = None  #: run; the source, the episode's author fallback
    staging: str = ""  #: run ([queue] transfer = "storage"); the storage URL the worker uploads the episode
    #: under (``KEY/NAME``, reader/transfer.py) instead of writing ``out_dir``; empty: the shared folder
    cover: str = ""  #: run (Dispatcher.submit); with ``staging``, the key of the run's staged cover image
    #: (``covers/HASH.jpg``) the render embeds; empty: none

    def to_dict(self) -> dict:
        d = {"key": self.key, "doc": _document_dict(self.doc), "options": _options_dict(self.options),
             "out_dir": self.out_dir, "source_name": self.source_name}
        return d | {"staging": self.staging, "cover": self.cover} if self.staging else d

    @classmethod
    def from_dict(cls, d: dict) -> RenderJob:
        return cls(key=d["key"], doc=_document(d["doc"]), options=_options(d["options"]), out_dir=d["out_dir"],
                   source_name=d.get("source_name"), staging=d.get("staging") or "",
                   cover=d.get("cover") or "")


#: error classes a worker's answer may name, rebuilt on the run's side (anything else: ReaderError)
ERRORS: dict[str, type[ReaderError]] = {
    cls.__name__: cls for cls in (
        errors.ReaderError, errors.UsageError, errors.ConfigError, errors.FetchError, errors.ExtractError,
        errors.TextError, errors.LimitError, errors.EngineError, errors.EngineUnavailable, errors.UnknownVoice,
        errors.EngineTimeout, errors.EngineBusy, errors.AudioError, errors.PublishError, errors.QueueError,
        errors.StorageError)
}


def error_to_dict(e: ReaderError) -> dict:
    return {"type": type(e).__name__, "subject": None if e.subject is None else str(e.subject),
            "detail": e.detail, "fix": e.fix, "expected": e.expected}


def error_from_dict(d: dict) -> ReaderError:
    """The worker's error, as the same class (its message, subject and fix kept)."""
    cls = ERRORS.get(d.get("type", ""), ReaderError)
    err = cls.__new__(cls)
    ReaderError.__init__(err, d.get("subject"), d.get("detail"), fix=d.get("fix"))
    err.expected = bool(d.get("expected", True))
    return err


def run_job(payload: dict) -> dict:
    """The worker's task: render one job; answer ``{"episode": record}`` (shared folder), ``{"staged":
    {"key", "files"}}`` (staging storage, reader/transfer.py) or ``{"error": …}``.

    A ReaderError (the engine failed, a limit passed, the storage failed) is an answer, not a
    Celery failure: the job is acknowledged and the run applies its failure policy. Only a lost
    worker makes it run again.
    """
    job = RenderJob.from_dict(payload)
    started = monotonic()
    log.info("event=job-start key=%s title=%r", job.key[:10], job.doc.title)
    try:
        answer, name = _staged(job) if job.staging else _in_folder(job)
    except ReaderError as e:
        log.warning("event=job-failed key=%s error=%r", job.key[:10], str(e))
        return {"error": error_to_dict(e)}
    except OSError as e:
        err = PublishError(job.out_dir or "the worker's scratch folder", f"cannot write the episode: "
                           f"{e.strerror or e}", fix="free disk space, or check that the output folder is writable")
        log.warning("event=job-failed key=%s error=%r", job.key[:10], str(err))
        return {"error": error_to_dict(err)}
    except Exception as e:  # a bug: said to the run as one (expected False), the traceback here
        log.error("event=job-bug key=%s trace=%r", job.key[:10], "".join(traceback.format_exception(e)))
        return {"error": {"type": "ReaderError", "subject": job.doc.url or job.doc.title,
                          "detail": f"unexpected {type(e).__name__} on a worker: {e}",
                          "fix": "please report this with the article URL", "expected": False}}
    log.info("event=job-done key=%s file=%s reused=%s seconds=%.2f%s", job.key[:10], name, answer["reused"],
             monotonic() - started, " staged=" + job.staging if job.staging else "")
    return answer


def _in_folder(job: RenderJob) -> tuple[dict, str]:
    """Render into the shared output folder; the answer carries the episode's record."""
    from reader import episodes as records
    from reader.pipeline import render_document

    out_dir = Path(job.out_dir)
    ep = render_document(job.doc, out_dir, _worker_options(job.options), source_name=job.source_name)
    return {"episode": records.to_dict(ep, base=out_dir), "reused": ep.reused}, Path(ep.path).name


def _staged(job: RenderJob) -> tuple[dict, str]:
    """Render into a scratch folder of this worker and upload the files under ``staging/KEY/``
    (record last); a complete staged set already there is answered as it is (reused)."""
    from reader import transfer
    from reader.pipeline import render_document
    from reader.storage import open_storage

    storage = open_storage(job.staging)
    files = transfer.already_staged(storage, job.key)
    reused = files is not None
    if files is None:
        scratch = transfer.scratch_dir()
        try:
            if job.cover:
                transfer.get_cover(storage, job.cover, scratch)
            render_document(job.doc, scratch, _worker_options(job.options), source_name=job.source_name)
            files = transfer.upload(storage, job.key, scratch)
        finally:
            transfer.discard(scratch)
    staged = {"key": job.key, "files": [f.to_dict() for f in files]}
    return {"staged": staged, "reused": reused}, files[-1].name.removesuffix(".episode.json") + ".mp3"


# ---------------------------------------------------------------- the run's side
class Dispatcher:
    """``vnreader run --queue``'s end of the queue: send jobs, then wait for every answer.

    ``results`` yields ``(tag, Episode | ReaderError)`` in the order the jobs finish; a job no
    worker finished within ``timeout`` seconds (from the first send) ends as a ``QueueError``
    for that article. A broker or result backend lost while waiting raises ``QueueError``: the
    run stops, the articles still out stay pending in the state, and the next run sends them
    again (finished episodes are then found, not rendered twice).

    With ``staging`` (a storage URL, ``[queue] transfer = "storage"``) the jobs go out with it and
    the run's cover, and an answer naming a staged episode is downloaded into the run's folder,
    checked, before it is yielded (``reader/transfer.py``); a staged file that cannot be taken is
    that article's ``StorageError``.
    """

    def __init__(self, settings: QueueSettings, *, timeout: float = DEFAULT_TIMEOUT, poll: float = 0.2,
                 clock: Callable[[], float] = monotonic, app=None, staging: str = ""):
        self.settings = settings
        #: the storage URL jobs stage their episodes under (reader/transfer.py); empty: a shared folder
        self.staging = staging
        self._staging_storage: Any = None
        self._cover_key: str | None = None
        self.timeout = timeout
        self.poll = poll
        self.clock = clock
        self.app = app if app is not None else make_app(settings)
        self.run_id = uuid.uuid4().hex[:12]  #: task ids are KEY.RUN[.N]: an answer from an earlier run is never taken
        self.pending: dict[str, tuple[Any, Path]] = {}  #: task id → (caller's tag, out_dir)
        self._sent_keys: dict[str, int] = {}  #: render key → jobs sent with it in this run
        self.started: float | None = None

    @property
    def url(self) -> str:
        return shown_url(self.settings.url)

    def check(self) -> None:
        """Raise ``QueueError`` now when the broker cannot be reached (before the run does anything)."""
        check_broker(self.app, self.settings)

    def submit(self, job: RenderJob, tag: Any, out_dir: Path | None = None) -> str:
        """Send one job; ``tag`` comes back with its answer. ``out_dir``: the run's folder, where the
        episode's record is read (a staged one downloaded) on its answer; default ``job.out_dir``."""
        task_id = self._task_id(job.key)
        if job.staging:
            job = replace(job, cover=self._cover(out_dir if out_dir is not None else Path(job.out_dir)))
        try:
            self.app.send_task(TASK, args=[job.to_dict()], task_id=task_id, queue=self.settings.name)
        except broker_errors() as e:
            raise QueueError(self.url, f"the broker was lost while sending jobs: {e}") from e
        if self.started is None:
            self.started = self.clock()
        self.pending[task_id] = (tag, out_dir if out_dir is not None else Path(job.out_dir))
        log.debug("job sent: %s", task_id)
        return task_id

    def _task_id(self, key: str) -> str:
        """``KEY.RUN`` for a key's first job in this run, ``KEY.RUN.N`` for its N-th (an article sent again
        after the same article's job failed): an id is never reused, so no answer is taken for another's."""
        n = self._sent_keys.get(key, 0) + 1
        self._sent_keys[key] = n
        return f"{key}.{self.run_id}" if n == 1 else f"{key}.{self.run_id}.{n}"

    def results(self) -> Iterator[tuple[Any, Episode | ReaderError]]:
        """Every sent job's answer, as it arrives (see the class docstring)."""
        while self.pending:
            for task_id in list(self.pending):
                try:
                    state, value = self._stored(task_id)
                except broker_errors() as e:
                    raise QueueError(self.url, f"the broker was lost while waiting for results "
                                               f"({len(self.pending)} jobs still out): {e}",
                                     fix="restart Redis and run again: finished episodes are kept, "
                                         "the rest is rendered then") from e
                if state not in ("SUCCESS", "FAILURE"):
                    continue
                tag, out_dir = self.pending.pop(task_id)
                yield tag, self._answer(state, value, out_dir)
            if self.pending and self.started is not None and self.clock() - self.started > self.timeout:
                for task_id, (tag, _) in list(self.pending.items()):
                    del self.pending[task_id]
                    yield tag, QueueError(self.url, f"no worker finished this job within {self.timeout:g} s",
                                          fix="start workers (vnreader worker --queue URL) or raise --queue-timeout")
            if self.pending:
                sleep(self.poll)

    def _stored(self, task_id: str) -> tuple[str | None, Any]:
        """(state, answer) of one job as the result backend has it now, without waiting.

        Redis: the stored record itself (no subscription, so nothing reconnects behind our back);
        RabbitMQ (``rpc://``): the answers that came back to this process so far."""
        backend = self.app.backend
        meta = backend.get_task_meta(task_id, cache=False) if self.settings.is_redis else backend.get_task_meta(task_id)
        return meta.get("status"), meta.get("result")

    def _answer(self, state: str, value: Any, out_dir: Path) -> Episode | ReaderError:
        from reader import episodes as records

        if state == "FAILURE" or not isinstance(value, dict):
            return QueueError(self.url, f"the job failed on its worker: {value!r}",
                              fix="see the worker's log; the article is tried again next run")
        if "error" in value:
            return error_from_dict(value["error"])
        if "staged" in value:
            return self._fetch(value["staged"], out_dir, bool(value.get("reused")))
        return replace(records.from_dict(value["episode"], base=out_dir), reused=bool(value.get("reused")))

    def _staging(self):
        """The staging storage, opened at its first use."""
        from reader.storage import open_storage

        if self._staging_storage is None:
            self._staging_storage = open_storage(self.staging)
        return self._staging_storage

    def _cover(self, out_dir: Path) -> str:
        """The staged cover's key for this run's jobs (staged at the first job; a storage failure raises)."""
        from reader import transfer

        if self._cover_key is None:
            self._cover_key = transfer.put_cover(self._staging(), out_dir)
        return self._cover_key

    def _fetch(self, staged: dict, out_dir: Path, reused: bool) -> Episode | ReaderError:
        """Download a staged episode into ``out_dir`` (checked, record last) and read its record."""
        from reader import episodes as records
        from reader import transfer

        try:
            files = [transfer.StagedFile(f["name"], int(f["size"]), f["sha256"]) for f in staged["files"]]
            record = transfer.fetch(self._staging(), staged["key"], files, out_dir)
        except ReaderError as e:
            return e
        return replace(records.load(record), reused=reused)


# ---------------------------------------------------------------- the worker's side
def _log_setup(level: str) -> None:
    """Worker log lines on stderr, as ``TIME LEVEL logger: message``, for the project's and Celery's loggers."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    if level != "DEBUG":  # its "succeeded" line repeats the whole answer; event=job-done says it shortly
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)


def preload() -> None:
    """Import and warm what every job uses (text rules and word lists, audio, encoder) in the worker's
    main process, so its pool children are forked with them: the first job of a child is not slower
    than the others. The meter's compiled filter is loaded on its own (``loudness._sos_kernel``);
    ``scipy.signal`` is left to the resampler, which only clips of another rate need."""
    import reader.audio.encode  # noqa: F401
    import reader.tts.cache  # noqa: F401
    import reader.tts.render  # noqa: F401
    from reader.audio import loudness
    from reader.audio import build_episode  # noqa: F401
    from reader.pipeline import render_document  # noqa: F401
    from reader.text import sentences

    loudness._sos_kernel()
    sentences(Document(title="Tin số 1", paragraphs=("Ngày 2.12.2020, giá tăng 10% lên 24.500 đồng.",)))


def run_worker(settings: QueueSettings, *, concurrency: int = 1, loglevel: str = "INFO") -> int:
    """Consume jobs in this process until SIGTERM (warm shutdown: running jobs finish, nothing new is
    taken) or SIGINT; the Celery worker runs in-process with ``concurrency`` child processes."""
    if concurrency < 1:
        raise UsageError("--concurrency", f"must be at least 1, not {concurrency}")
    app = make_app(settings)
    check_broker(app, settings)
    _log_setup(loglevel)
    preload()
    hostname = f"{settings.name}-{os.getpid()}@{socket.gethostname()}"
    log.info("event=worker-start broker=%s queue=%s concurrency=%d", shown_url(settings.url), settings.name,
             concurrency)
    from celery import signals

    def ready(**_: object) -> None:
        log.info("event=worker-ready hostname=%s", hostname)

    signals.worker_ready.connect(ready, weak=False)
    worker = app.Worker(hostname=hostname, concurrency=concurrency, pool="prefork", queues=[settings.name],
                        loglevel=loglevel, without_mingle=True, without_gossip=True, optimization="fair",
                        quiet=True)
    worker.start()
    log.info("event=worker-stop exitcode=%s", worker.exitcode)
    return int(worker.exitcode or 0)
