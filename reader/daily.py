"""The daily run: configured feeds in, new episodes, digests and ``feed.xml`` out.

One run, in order (all under a lock on ``OUT/.vnreader.lock``):

1. **sweep**: remove temp files left by a killed run (its episode files without a record are
   removed at the end, after the new feed is in place);
2. **ingest**: read every feed with conditional GET; store its new entries as ``pending``
   (the newest ``limit`` per source; older new ones are marked ``over-limit``);
3. **render**: fetch, extract and render every pending entry, one episode per article
   (skipping an article already rendered under another link: same canonical URL or text);
   ``--rerender`` also re-fetches rendered articles and renders those whose text changed.
   Each source has a time budget (``[run] source_budget``, its feed included): once spent,
   its remaining articles stay ``pending`` for the next run and the next source goes on;
4. **digests**: one episode per group and day (intro, one chapter per article, outro),
   re-rendered when the day gets new articles (same guid, new file);
5. **retention**: drop episodes made more than ``retention.days`` ago (counted from when each
   was rendered, not from the article's date) or past ``max_episodes`` (the most recently made
   are kept); never one this run rendered;
6. **publish**: rebuild ``feed.xml`` from the episode records; then delete the files of
   removed and replaced episodes. When every source failed and nothing was rendered, the
   last feed is kept as it is (no retention, nothing deleted).

Episodes other commands made in the same folder (``Episode.made_by`` "demo", "read") stay in
the feed and are never removed by retention; one log line (``foreign-episodes``) says so.

Every article's outcome is ``(item, Episode | ReaderError)``: one bad article never stops
the run. Nothing new → nothing synthesised and ``feed.xml`` unchanged, byte for byte.

**Shared state.** A run claims each entry before rendering it (``StateStore.claim``, a lease
of ``[state] lease`` seconds), so runs on several machines sharing one PostgreSQL state
(``--state postgresql://…``) and one output folder render every article once. Such runs hold
the folder's lock shared, not exclusively; the sweep of a killed run's leftovers happens only
in a run that finds no other, and digests and the feed are built by one run at a time
(``_state_turn``).
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import socket
import traceback
import uuid
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING, Callable, Iterator
from zoneinfo import ZoneInfo

from reader import episodes as records
from reader.config import Config, load_sources
from reader.errors import ClaimLostError, ConfigError, LockedError, PublishError, QueueError, ReaderError, UsageError
from reader.logs import RunLog
from reader.models import Article, Document, Episode, FeedSource
from reader.store import RUN_WORKER_PREFIX, STATE_NAME, Entry, RunTurn, StateStore, is_url, open_store, text_hash

if TYPE_CHECKING:
    from reader.publish import PublishReport

LOCK_NAME = ".vnreader.lock"
DEFAULT_BASE_URL = "http://127.0.0.1:8000/"
DEFAULT_OUT = "audio_out"
FEED_NAME = "feed.xml"
#: ``Episode.made_by`` of the episodes a run makes; retention touches only these (and records without a maker)
MADE_BY = "run"
#: an article's outcome when its render went to the queue (``_Run.collect`` yields it later)
_SENT = object()


# ---------------------------------------------------------------- results
@dataclass
class RunReport:
    """What a run did. ``new``/``failed`` hold the per-item outcomes in order."""

    new: list[Episode] = field(default_factory=list)  #: episodes rendered by this run (articles and digests)
    skipped: list[tuple[str, str]] = field(default_factory=list)  #: (item, reason) newly set aside this run
    failed: list[tuple[str, ReaderError]] = field(default_factory=list)  #: (item or source, error)
    removed: list[Episode] = field(default_factory=list)  #: episodes dropped by retention or replaced
    feed: Path | None = None
    feed_changed: bool = False
    feed_kept: bool = False  #: every source failed: the last feed was left as it was (no retention either)
    profile_drift: dict[str, int] = field(default_factory=dict)  #: "profile X: why" → pages read without X's body selector
    warnings: list[str] = field(default_factory=list)  #: what was lost without failing an item (RunLog.lost), once each
    published: PublishReport | None = None  #: run_from_args; the publish to --publish / [storage] url (None: none)

    @property
    def changed(self) -> bool:
        return bool(self.new or self.removed or self.feed_changed)


@dataclass(frozen=True)
class Stages:
    """The stage calls a run makes; tests swap in fakes (defaults: the real modules)."""

    fetch_page: Callable[..., Article] | None = None  #: (url, client=) -> Article
    extract: Callable[..., Document] | None = None  #: (article, site=) -> Document
    render: Callable[..., Episode] | None = None  #: pipeline.render_document signature
    render_digest: Callable[..., Episode] | None = None  #: pipeline.render_digest signature

    def resolved(self, fetch_timeout: float | None = None) -> StageCalls:
        """The real modules for the stages not given (``fetch_timeout``: the real fetch's total deadline)."""
        fetch_page, extract, render, digest = self.fetch_page, self.extract, self.render, self.render_digest
        if fetch_page is None:
            from reader.fetch import fetch_url

            fetch_page = fetch_url if fetch_timeout is None else functools.partial(fetch_url, deadline=fetch_timeout)
        if extract is None:
            from reader.extract import extract as extract_page  # site= picks the source's profile for pages no
            extract = extract_page                               # profile claims
        if render is None or digest is None:
            from reader import pipeline
            render = render or pipeline.render_document
            digest = digest or pipeline.render_digest
        return StageCalls(fetch_page, extract, render, digest)


@dataclass(frozen=True)
class StageCalls:
    """``Stages`` with every stage filled in (``Stages.resolved``): what a run calls."""

    fetch_page: Callable[..., Article]  #: (url, client=) -> Article
    extract: Callable[..., Document]  #: (article, site=) -> Document
    render: Callable[..., Episode]  #: pipeline.render_document signature
    render_digest: Callable[..., Episode]  #: pipeline.render_digest signature


# ---------------------------------------------------------------- lock
@contextlib.contextmanager
def run_lock(out_dir: Path, *, shared: bool = False) -> Iterator[Path]:
    """Hold an exclusive ``fcntl`` lock on ``OUT/.vnreader.lock``; raise ``LockedError`` if taken.

    The kernel drops the lock when the process dies, so a killed run never leaves a stale lock.
    ``shared``: a shared lock (runs sharing a PostgreSQL state hold it together; a run with its
    own SQLite state then finds the folder taken), and the pid is not written.
    """
    path = out_dir / LOCK_NAME
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise UsageError(out_dir, f"cannot use as the output folder: {e.strerror or e}",
                         fix="give --out (or [run] out) a folder you can write to") from e
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError as e:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
            raise LockedError(path, "another vnreader run is using this output folder"
                              + (f" (pid {holder})" if holder else ""),
                              fix="wait for it to finish; runs must not overlap (check the schedule)") from e
        if not shared:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # closing releases the lock


# ---------------------------------------------------------------- files
def _episode_files(mp3: Path) -> list[Path]:
    """The MP3, its sidecars (``STEM.*``) and its record."""
    stem = mp3.name[: -len(".mp3")] if mp3.name.endswith(".mp3") else mp3.stem
    return sorted(p for p in mp3.parent.glob(_glob_escape(stem) + ".*") if p.is_file())


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def sweep(out_dir: Path) -> list[Path]:
    """Delete the temp files a killed run left (``.NAME.*.part``: never referenced by a feed)."""
    removed = []
    for p in out_dir.glob(".*.part"):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
            removed.append(p)
    return removed


def orphans(out_dir: Path) -> list[str]:
    """Stems of episodes with an MP3 but no record, or a record but no MP3 (a killed run's leftovers)."""
    stems = {p.name[: -len(".mp3")] for p in out_dir.glob("*.mp3")}
    stems |= {p.name[: -len(records.SUFFIX)] for p in out_dir.glob("*" + records.SUFFIX)}
    return sorted(st for st in stems
                  if not ((out_dir / f"{st}.mp3").is_file() and (out_dir / f"{st}{records.SUFFIX}").is_file()))


def remove_orphans(out_dir: Path, stems: list[str]) -> list[Path]:
    """Delete the files of ``stems`` that are still orphans. Called after the feed is written, so
    an old feed never points at a file deleted before its replacement is in place; a stem the
    run rendered again in the meantime has its record now and is kept."""
    removed = []
    for st in orphans(out_dir):
        if st not in stems:
            continue
        for p in _episode_files(out_dir / f"{st}.mp3"):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                removed.append(p)
    return removed


def _remove_episode(ep: Episode) -> None:
    for p in _episode_files(Path(ep.path)):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


# ---------------------------------------------------------------- the run
def _cannot_write(out_dir: Path, e: OSError) -> PublishError:
    """A full disk or a read-only folder met while writing an episode: the user's to fix, not a bug."""
    return PublishError(out_dir, f"cannot write the episode: {e.strerror or e}",
                        fix="free disk space, or check that the output folder is writable")


def _unexpected(label: str, e: Exception) -> ReaderError:
    """A bug met while handling one article, as a ReaderError (``expected`` False)."""
    err = ReaderError(label, f"unexpected {type(e).__name__}: {e}", fix="please report this with the article URL")
    err.expected = False
    return err


class _Run:
    def __init__(self, config: Config, *, out_dir: Path, store: StateStore, base_url: str, client, stages: StageCalls,
                 log: RunLog, rerender: bool, now: datetime, options, clock: Callable[[], float] = monotonic,
                 turn: RunTurn | None = None, queue=None):
        self.config = config
        self.out_dir = out_dir
        self.store = store
        self.base_url = base_url
        self.client = client
        self.stages = stages
        self.log = log
        self.rerender = rerender
        self.options = options  #: pipeline.RenderOptions for the digests; per source: options.for_source
        self.now = now
        self.report = RunReport()
        self.feeds_failed = 0  #: sources whose feed could not be read this run
        self.replaced: list[Episode] = []  #: old files of re-rendered episodes, deleted after the feed is written
        self.clock = clock
        self.spent: dict[str, float] = {}  #: source name → seconds used this run (feed and articles)
        days = config.retention.days
        self.cutoff = now - timedelta(days=days) if days else None
        self.turn = turn or RunTurn()  #: how this run shares the state with other runs
        self.claims = RunClaims(store, config.state_lease)  #: the entries this run renders, leased to it
        self.queue = queue  #: reader.queue.Dispatcher: articles render on workers; None = here
        #: queue only: entry id → (its URLs, text hash) of each entry whose render is out on the queue
        self.out_on_queue: dict[int, tuple[set[str], str]] = {}
        #: queue only: entry id out on the queue → later entries of the same article, held until its answer
        self.held: dict[int, list[tuple[FeedSource, Entry, str, Document]]] = {}

    # ------------------------------------------------------------ time budget
    def _charge(self, source: FeedSource, since: float) -> None:
        self.spent[source.name] = self.spent.get(source.name, 0.0) + (self.clock() - since)

    def _out_of_time(self, source: FeedSource, left: list[Entry]) -> bool:
        """True when ``source`` has used its budget; ``left`` then stays pending (set aside, not failed)."""
        budget = self.config.source_budget
        spent = self.spent.get(source.name, 0.0)
        if not budget or spent < budget:
            return False
        reason = f"the source's time budget ({budget:g} s) was spent; left for the next run"
        for entry in left:
            self.report.skipped.append((f"{source.name}: {entry.title or entry.url}", reason))
        self.log.warning("source-budget-spent", source=source.name, budget=f"{budget:g}", spent=round(spent, 1),
                         left=len(left))
        return True

    # ------------------------------------------------------------ ingest
    def ingest(self, source: FeedSource) -> None:
        """Store the feed's new entries, then bring back expired ones a longer window now covers."""
        start = self.clock()
        try:
            taken = self._read_feed(source)
        finally:
            self._charge(source, start)
        back = self.store.revive_expired(source.name, self.cutoff, source.limit - taken)
        if back:
            self.log.info("expired-back", source=source.name, entries=len(back),
                          note="inside the retention window again (retention.days was raised)")

    def _read_feed(self, source: FeedSource) -> int:
        """Read one feed; store its new entries; return how many became ``pending``."""
        from reader.feeds import FeedEntry, read_feed

        etag, modified = self.store.feed_validators(source.url)
        try:
            result = read_feed(source, self.client, etag=etag, modified=modified,
                               deadline=self.config.fetch_timeout)
        except ReaderError as e:
            self.report.failed.append((source.name, e))
            self.feeds_failed += 1
            self.log.error("feed-failed", source=source.name, url=source.url, error=str(e))
            return 0
        if result.not_modified:
            self.log.debug("feed-not-modified", source=source.name)
            return 0
        fresh, batch = [], set()
        for entry in result.entries:
            if entry.link in batch or entry.entry_id in batch:
                continue
            batch |= {entry.link, entry.entry_id}
            if self.store.known(entry.entry_id, entry.link) is None:
                fresh.append(entry)
        rows: list[tuple[FeedEntry, str, str | None]] = []
        taken = 0
        for entry in fresh:
            label = entry.title or entry.link
            if self.cutoff is not None and entry.published is not None and entry.published < self.cutoff:
                status, reason = "expired", "published before the retention window"
            elif taken < source.limit:
                rows.append((entry, "pending", None))
                taken += 1
                continue
            else:
                status, reason = "over-limit", f"more than {source.limit} new articles in the feed"
            rows.append((entry, status, reason))
            self.report.skipped.append((f"{source.name}: {label}", reason))
        self.store.ingest(source.name, source.url, rows, result.etag, result.modified, now=self.now)
        self.log.log("info" if rows else "debug", "feed", source=source.name, entries=len(result.entries), new=taken,
                     skipped=len(rows) - taken)
        return taken

    # ------------------------------------------------------------ render
    def _document(self, source: FeedSource, entry: Entry) -> Document:
        art = self.stages.fetch_page(entry.url, client=self.client)
        art = replace(art, source=source.name, title=art.title or entry.title,
                      published=art.published or entry.published, summary=art.summary or entry.summary)
        doc = self.stages.extract(art, site=source.site)
        if doc.drift:
            self._drifted(doc, entry.url)
        self.config.limits.check_document(doc, entry.url)
        if doc.published is None and entry.published is not None:
            doc = replace(doc, published=entry.published)
        if not doc.url:
            doc = replace(doc, url=entry.url)
        return doc

    def _drifted(self, doc: Document, url: str) -> None:
        """A site profile's body selector failed (the site changed its markup): counted each time,
        logged once per run and site."""
        what = f"profile {doc.site}: {doc.drift}"
        first = not any(k.startswith(f"profile {doc.site}: ") for k in self.report.profile_drift)
        self.report.profile_drift[what] = self.report.profile_drift.get(what, 0) + 1
        if first:
            self.log.warning("profile-drift", message=what, item=url)

    def _damaged(self, what: str) -> None:
        self.log.lost("damaged-record", what)

    def _render(self, source: FeedSource, doc: Document) -> Episode:
        return self._stamped(self.stages.render(doc, self.out_dir, options=self.options.for_source(source),
                                                source_name=source.name))

    def _stamped(self, ep: Episode) -> Episode:
        """The episode with this run's time and name as its maker, for a renderer that did not record them."""
        if ep.made_at is not None and ep.made_by is not None:
            return ep
        ep = replace(ep, made_at=ep.made_at or self.now, made_by=ep.made_by or MADE_BY)
        records.save(ep)
        return ep

    def articles(self, source: FeedSource) -> Iterator[tuple[str, Episode | ReaderError | None]]:
        todo = self.store.todo(source.name)
        with self.log.progress(len(todo), source.name) as bar:
            for n, entry in enumerate(todo):
                if self._out_of_time(source, todo[n:]):
                    break
                if not self.claims.take(entry):  # another run has it (or has done it)
                    bar.update()
                    continue
                label = f"{source.name}: {entry.title or entry.url}"
                start = self.clock()
                try:
                    outcome = self._article(source, entry, label)
                finally:
                    self._charge(source, start)
                    bar.update()
                if outcome is not _SENT:
                    yield label, outcome

    def _article(self, source: FeedSource, entry: Entry, label: str, doc: Document | None = None):
        """One claimed entry's outcome: an Episode (None: skipped or digest-only), its error, or ``_SENT``
        (its render is on the queue, or it waits there behind the same article; :meth:`collect` ends it).
        ``doc``: the entry's document, already read (an entry held behind one sent earlier)."""
        try:
            if doc is None:
                doc = self._document(source, entry)
            if self._same_as_rendered(entry, label, doc):
                return None
            if self.queue is not None and self._held_behind(source, entry, label, doc):
                return _SENT
            if source.episodes and self.queue is not None:
                return self._send(source, entry, label, doc)
            ep = self._render(source, doc) if source.episodes else None
            return self._finish(entry, label, doc, ep)
        except QueueError:
            raise  # the broker is gone: the run stops (the entries stay pending)
        except ClaimLostError as e:
            self.claims.lost(self, label, e)
            return None
        except Exception as e:
            return self._fail(entry, label, e)

    def _same_as_rendered(self, entry: Entry, label: str, doc: Document) -> bool:
        """Record the entry as a duplicate (and the skip) when the same article was rendered; True then."""
        canonical = doc.url or entry.url  # _document fills a missing url with the entry's
        same = self.store.same_article(canonical, entry.id, text_hash(doc))
        if same is None:
            return False
        self.store.duplicate(entry.id, canonical, same, worker=self.claims.worker)
        self.report.skipped.append((label, "same article as one already rendered"))
        self.log.info("duplicate", item=label, of=same.url)
        return True

    def _held_behind(self, source: FeedSource, entry: Entry, label: str, doc: Document) -> bool:
        """With a queue: hold an entry whose article is already out on the queue this run (another feed's
        entry for the same URL or text), until that one's answer comes (:meth:`_release`). The store only
        knows an article once its render is done, so without this both would be sent, and the later one
        would not be the duplicate a single-machine run records. True: held."""
        canonical = doc.url or entry.url
        thash = text_hash(doc)
        for first_id, (urls, first_hash) in self.out_on_queue.items():
            if canonical in urls or thash == first_hash:
                self.held.setdefault(first_id, []).append((source, entry, label, doc))
                self.log.debug("held", item=label, behind=first_id)
                return True
        return False

    def _send(self, source: FeedSource, entry: Entry, label: str, doc: Document):
        """Hand the render to the queue (``reader/queue.py``); :meth:`collect` finishes it."""
        from reader.pipeline import article_key
        from reader.queue import RenderJob

        options = self.options.for_source(source)
        staging = self.queue.staging  # workers that share no folder upload there (reader/transfer.py)
        job = RenderJob(key=article_key(doc, options), doc=doc,
                        options=replace(options, cache=None, speech_limit=None),
                        out_dir="" if staging else str(self.out_dir.resolve()), source_name=source.name,
                        staging=staging)
        self.queue.submit(job, (entry, label, doc), self.out_dir.resolve())
        self.out_on_queue[entry.id] = ({u for u in (doc.url, entry.url) if u}, text_hash(doc))
        self.log.debug("job-sent", item=label, key=job.key[:10])
        return _SENT

    def _release(self, entry: Entry) -> Iterator[tuple[str, Episode | ReaderError | None]]:
        """The entries held behind ``entry`` (answered now), taken as a single-machine run would take
        them next: a duplicate of it when it was rendered, else each sent (or held again) in turn."""
        self.out_on_queue.pop(entry.id, None)
        for source, later, label, doc in self.held.pop(entry.id, []):
            outcome = self._article(source, later, label, doc)
            if outcome is not _SENT:
                yield label, outcome

    def collect(self) -> Iterator[tuple[str, Episode | ReaderError | None]]:
        """The outcomes of the jobs sent to the queue, as the workers finish them."""
        if self.queue is None:
            return
        for (entry, label, doc), answer in self.queue.results():
            outcome: Episode | ReaderError | None
            try:
                if isinstance(answer, ReaderError):
                    raise answer
                outcome = self._finish(entry, label, doc, self._stamped(answer))
            except ClaimLostError as e:
                self.claims.lost(self, label, e)
                outcome = None
            except Exception as e:
                outcome = self._fail(entry, label, e)
            yield label, outcome
            yield from self._release(entry)

    def _finish(self, entry: Entry, label: str, doc: Document, ep: Episode | None) -> Episode | None:
        """Record a rendered (or digest-only) entry as done."""
        self.store.done(entry.id, doc=doc, guid=ep.guid if ep else "", now=self.now,
                        episode=Path(ep.path).name if ep else None, worker=self.claims.worker)
        if ep is not None:
            self.log.info("episode", item=label, file=Path(ep.path).name, seconds=round(ep.duration, 1))
        else:
            self.log.info("digest-only", item=label)
        return ep

    def _fail(self, entry: Entry, label: str, e: Exception) -> ReaderError:
        """An entry's failure under the run's policy: counted, retried next run (a bug said as one)."""
        if isinstance(e, ReaderError):
            err = e
        elif isinstance(e, OSError):
            err = _cannot_write(self.out_dir, e)
        else:  # a bug must not stop the other articles
            err = _unexpected(label, e)
            self.log.debug("traceback", item=label, trace="".join(traceback.format_exception(e)))
        return self._failed(entry, label, err)

    def _failed(self, entry: Entry, label: str, e: ReaderError) -> ReaderError:
        try:
            status = self.store.failed(entry.id, str(e), worker=self.claims.worker)
        except ClaimLostError as lost:
            self.claims.lost(self, label, lost)
            return e
        self.log.error("article-failed", item=label, error=str(e),
                       retry="no (given up)" if status == "gave-up" else "next run")
        return e

    def rerender_changed(self, source: FeedSource) -> Iterator[tuple[str, Episode | ReaderError | None]]:
        """Re-fetch rendered articles still in the feed; render those whose text changed."""
        live = {Path(ep.path).name: ep for ep in records.load_all(self.out_dir, warn=self._damaged)}
        for entry in self.store.rendered(source.name):
            old = live.get(entry.episode or "")
            if old is None:
                continue
            if self.spent.get(source.name, 0.0) >= (self.config.source_budget or float("inf")):
                self.log.warning("source-budget-spent", source=source.name, step="rerender")
                return
            label = f"{source.name}: {entry.title or entry.url}"
            start = self.clock()
            try:
                doc = self._document(source, entry)
                if text_hash(doc) == entry.text_hash:
                    continue
                ep = self._render(source, doc)
                self.store.done(entry.id, doc=doc, guid=ep.guid, episode=Path(ep.path).name, now=self.now,
                                keep_done_at=True)
                if Path(ep.path).name != Path(old.path).name:
                    self.replaced.append(old)
                self.log.info("rerendered", item=label, file=Path(ep.path).name)
                yield label, ep
            except ReaderError as e:
                self.log.error("rerender-failed", item=label, error=str(e))
                yield label, e
            except Exception as e:  # a bug must not stop the other articles
                err = _unexpected(label, e)
                self.log.error("rerender-failed", item=label, error=str(err))
                self.log.debug("traceback", item=label, trace="".join(traceback.format_exception(e)))
                yield label, err
            finally:
                self._charge(source, start)

    # ------------------------------------------------------------ digests
    def digests(self) -> Iterator[tuple[str, Episode | ReaderError | None]]:
        tz = ZoneInfo(self.config.timezone)
        day = self.now.astimezone(tz).date()
        start = datetime.combine(day, time(0), tzinfo=tz)
        end = start + timedelta(days=1)
        live = records.load_all(self.out_dir, warn=self._damaged)
        for group in self.config.groups:
            names = [s.name for s in self.config.sources if s.group == group.name]
            entries = self.store.done_between(names, start, end)
            if not entries:
                continue
            title = f"{group.title} ngày {day.day}/{day.month}/{day.year}"
            guid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"vnreader:digest:{group.name}:{day.isoformat()}"))
            published = max(e.done_at for e in entries if e.done_at is not None)  # done_between: all have one
            label = f"digest {group.name} {day.isoformat()}"
            try:
                ep = self.stages.render_digest([e.doc for e in entries], self.out_dir, options=self.options,
                                               title=title, guid=guid, published=published, intro=group.intro,
                                               outro=group.outro)
                ep = self._stamped(ep)
            except (ReaderError, OSError) as e:
                e = _cannot_write(self.out_dir, e) if isinstance(e, OSError) else e
                self.log.error("digest-failed", item=label, error=str(e))
                yield label, e
                continue
            old = [o for o in live if o.guid == guid and Path(o.path).name != Path(ep.path).name]
            self.replaced += old
            if old or not any(Path(o.path).name == Path(ep.path).name for o in live):
                self.log.info("digest", item=label, articles=len(entries), file=Path(ep.path).name)
                yield label, ep

    # ------------------------------------------------------------ retention and feed
    def expired(self, eps: list[Episode]) -> list[Episode]:
        """Episodes made before the retention window, or past the cap of the most recently made.

        Retention counts from when an episode was made (``Episode.made_at``; records older than
        that field: its date), never from an old date on the article's page, and it never
        removes an episode this run rendered: those count first against ``max_episodes``.
        """
        keep_max = self.config.retention.max_episodes
        ours = {Path(ep.path).name for ep in self.report.new}
        ranked = sorted(eps, key=lambda ep: (Path(ep.path).name in ours, _stamp(_made(ep)), _stamp(ep.published),
                                             ep.guid), reverse=True)
        out, kept = [], 0
        for ep in ranked:
            made = _made(ep)
            too_old = self.cutoff is not None and made is not None and made < self.cutoff
            if Path(ep.path).name not in ours and (too_old or (keep_max and kept >= keep_max)):
                out.append(ep)
            else:
                kept += 1
        if keep_max and len(ours) > keep_max:
            self.log.warning("over-cap", new=len(ours), max_episodes=keep_max,
                             note="this run's episodes are all kept; the oldest leave on the next run")
        return out

    def channel(self):
        from reader.podcast import Channel

        info = self.config.channel
        known = {f.name for f in fields(Channel)}
        values = {k: getattr(info, k) for k in ("title", "description", "link", "language", "author", "owner_name",
                                                 "owner_email", "image", "category", "guid") if k in known}
        values["link"] = info.link or self.base_url
        if info.image:
            cover = self.out_dir / info.image
            if not cover.is_file():
                try:
                    from reader.artwork import make_cover

                    make_cover(cover, info.title, None)
                except (ImportError, ReaderError, OSError) as e:
                    self.log.warning("no-cover", file=str(cover), error=str(e))
                    values["image"] = None
        return Channel(**values)

    def _foreign(self, foreign: list[Episode], guids: set[str]) -> list[Episode]:
        """Episodes other commands made, for the feed: all but those whose guid a run's episode
        (``guids``) or a more recently made one already has (left on disk, out of the feed).
        One log line says what is kept and left; retention never removes them."""
        if not foreign:
            return []
        shown: list[Episode] = []
        left: list[Episode] = []
        makers: dict[str, int] = {}  # foreign episodes all name their maker (_made_by_a_run)
        for ep in sorted(foreign, key=lambda e: (_stamp(_made(e)), Path(e.path).name), reverse=True):
            (left if ep.guid in guids else shown).append(ep)
            guids.add(ep.guid)
            makers[str(ep.made_by)] = makers.get(str(ep.made_by), 0) + 1
        self.log.info("foreign-episodes", kept=len(shown), left_out_of_feed=len(left) or None,
                      **dict(sorted(makers.items())),
                      note="made by other vnreader commands: never removed by retention; delete their files, "
                           "or give the run its own --out")
        return shown

    def publish(self) -> None:
        from reader.player import write_player
        from reader.podcast import normalize_base_url, write_feed

        eps = records.load_all(self.out_dir, warn=self._damaged)
        ours = [ep for ep in eps if _made_by_a_run(ep)]
        feed = self.out_dir / FEED_NAME
        if self.feeds_failed and self.feeds_failed == len(self.config.sources) and not self.report.new \
                and feed.is_file():
            self._foreign([ep for ep in eps if not _made_by_a_run(ep)], set())
            self.log.warning("feed-kept", file=str(feed), sources_failed=self.feeds_failed,
                             note="every source failed: the last feed and its episodes stay as they are")
            self.report.feed, self.report.feed_kept = feed, True
            return
        replaced = {Path(ep.path).name for ep in self.replaced} | _superseded(ours)
        self.replaced = [ep for ep in ours if Path(ep.path).name in replaced]
        current = [ep for ep in ours if Path(ep.path).name not in replaced]
        gone = self.expired(current)
        for ep in gone + self.replaced:  # the record goes first: the episode leaves the feed before its files
            with contextlib.suppress(FileNotFoundError):
                records.record_path(ep.path).unlink()
        for ep in gone:
            self.log.info("expired", file=Path(ep.path).name, title=ep.title)
        self.report.removed += gone + self.replaced
        gone_names = {Path(ep.path).name for ep in gone}
        keep = [ep for ep in current if Path(ep.path).name not in gone_names]
        keep += self._foreign([ep for ep in eps if not _made_by_a_run(ep)], {ep.guid for ep in keep})
        before = feed.read_bytes() if feed.is_file() else None
        try:
            self.report.feed = write_feed(keep, self.out_dir, channel=self.channel(), base_url=self.base_url)
            write_player(keep, self.out_dir, channel_title=self.config.channel.title,
                         feed_url=normalize_base_url(self.base_url) + FEED_NAME)
        except OSError as e:
            raise PublishError(feed, f"cannot write the feed: {e}", fix="check the output folder's permissions") from e
        self.report.feed_changed = feed.read_bytes() != before
        for ep in gone + self.replaced:
            _remove_episode(ep)


def _made_by_a_run(ep: Episode) -> bool:
    """Made by ``vnreader run`` (or recorded before ``made_by`` existed): retention may remove it."""
    return ep.made_by in (None, MADE_BY)


def _aware(dt: datetime | None) -> datetime | None:
    return dt.replace(tzinfo=timezone.utc) if dt is not None and dt.tzinfo is None else dt


def _made(ep: Episode) -> datetime | None:
    """When an episode was made (its date for records written before ``made_at`` existed)."""
    return _aware(ep.made_at or ep.published)


def _stamp(dt: datetime | None) -> float:
    aware = _aware(dt)
    return aware.timestamp() if aware is not None else float("-inf")


def _superseded(eps: list[Episode]) -> set[str]:
    """File names of older renderings of a guid that has a newer record (a re-render, a grown digest)."""
    by_guid: dict[str, list[Episode]] = {}
    for ep in eps:
        by_guid.setdefault(ep.guid, []).append(ep)
    out = set()
    for same in by_guid.values():
        if len(same) > 1:
            same.sort(key=lambda e: (records.record_path(e.path).stat().st_mtime_ns, Path(e.path).name))
            out |= {Path(e.path).name for e in same[:-1]}
    return out


def run(config: Config, *, out_dir: str | Path, state_path: str | Path | None = None,
        base_url: str = DEFAULT_BASE_URL, client=None, stages: Stages | None = None, log: RunLog | None = None,
        rerender: bool = False, now: datetime | None = None, cache=None, options=None,
        progress: Callable[[str, Episode | ReaderError | None], None] | None = None,
        clock: Callable[[], float] = monotonic, queue=None) -> RunReport:
    """One daily run (see the module docstring). Raises ``LockedError`` if another run holds the folder.

    ``progress(item, outcome)`` is called for every article and digest as it finishes
    (outcome ``None`` = skipped). ``cache``: a ``reader.tts.cache.ClipCache`` shared by the
    articles and the digests (a digest then re-speaks nothing already spoken; ``run_from_args``
    opens the shared one in ``options``). ``options``: the ``pipeline.RenderOptions`` every
    render gets (default ``RenderOptions.from_config(config)`` with ``cache``), stamped with
    ``made_by`` "run" and ``now``; a source's own engine and voice apply to its articles. ``clock``:
    seconds for the per-source time budget (tests pass a fake one). ``queue``: a
    ``reader.queue.Dispatcher``: articles are prepared here and rendered by ``vnreader worker``
    processes (the budget then counts fetching and extracting only); the digests and the feed
    are still built here, once every job has answered. A broker that cannot be reached stops
    the run before anything is done (``QueueError``).
    """
    from reader.pipeline import RenderOptions

    out_dir = Path(out_dir)
    log = log or RunLog(quiet=True)
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    if options is None:
        options = replace(RenderOptions.from_config(config, cache=False), cache=cache)
    options = replace(options, made_by=MADE_BY, made_at=now)
    if queue is not None:
        queue.check()
        log.info("queue", broker=queue.url, queue=queue.settings.name)
    with _state_turn(out_dir, state_path or out_dir / STATE_NAME, log) as (store, turn, leftovers):
        own_client = client is None
        if own_client:
            from reader.fetch import make_client

            client = make_client()
        r = None
        try:
            r = _Run(config, out_dir=out_dir, store=store, base_url=base_url, client=client,
                     stages=(stages or Stages()).resolved(config.fetch_timeout), log=log, rerender=rerender, now=now,
                     options=options, clock=clock, turn=turn, queue=queue)
            for source in config.sources:
                r.ingest(source)
            for item, outcome in _outcomes(r):
                if isinstance(outcome, Episode):
                    r.report.new.append(outcome)
                    if outcome.fell_back_from:
                        log.warning("fell-back", item=item, engine=outcome.fell_back_from,
                                    reason=outcome.fallback_reason, spoken_by=outcome.engine)
                elif isinstance(outcome, ReaderError):
                    r.report.failed.append((item, outcome))
                if progress is not None:
                    progress(item, outcome)
            r.publish()
            if turn.still_alone():
                remove_orphans(out_dir, leftovers)
            r.report.warnings = list(log.warnings)
            return r.report
        finally:
            if r is not None:
                with contextlib.suppress(ReaderError):  # a lost connection: the leases run out by themselves
                    r.claims.release()
            if own_client:
                client.close()


def _outcomes(r: _Run) -> Iterator[tuple[str, Episode | ReaderError | None]]:
    for source in r.config.sources:
        yield from r.articles(source)
        if r.rerender:
            yield from r.rerender_changed(source)
    yield from r.collect()
    r.claims.release()  # entries left for the next run (time budget, failures) are free again
    r.turn.publishing()  # runs sharing the state build digests and the feed one at a time
    yield from r.digests()


# ---------------------------------------------------------------- runs sharing one state
class RunClaims:
    """The leases one run holds (``StateStore.claim``): it renders only entries it has claimed."""

    def __init__(self, store: StateStore, lease_seconds: float):
        self.store = store
        self.lease_seconds = lease_seconds
        #: unique per run, on every machine; RUN_WORKER_PREFIX marks it as a run's (release_runs)
        self.worker = f"{RUN_WORKER_PREFIX}{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def take(self, entry: Entry) -> bool:
        """Lease ``entry`` to this run; False when another run holds it or has finished it."""
        return bool(self.store.claim(entry.source, self.worker, self.lease_seconds, ids=[entry.id]))

    def lost(self, run: _Run, label: str, e: ClaimLostError) -> None:
        """Another run took the entry over (this run's lease ran out): its outcome stands; skipped here."""
        run.report.skipped.append((label, "another run took it over (its lease ran out)"))
        run.log.warning("claim-lost", item=label, error=str(e))

    def release(self) -> None:
        self.store.release(self.worker)


@contextlib.contextmanager
def _state_turn(out_dir: Path, state: str | Path, log: RunLog) -> Iterator[tuple[StateStore, RunTurn, list[str]]]:
    """Lock the folder, sweep a killed run's leftovers, open the state; yield (store, turn, leftovers).

    SQLite state (the default): the folder's exclusive lock makes the run the only one, as it
    always was. PostgreSQL state: the folder's lock is shared and the state's ``run_turn``
    tells whether another run is active; only a run alone sweeps temp files, lists unfinished
    episodes and drops dead runs' leases. ``leftovers`` are removed after the feed is written.
    """
    shared = is_url(state)
    with run_lock(out_dir, shared=shared), log.capture():
        if not shared:
            leftovers = _sweep(out_dir, log)
            with open_store(state) as store:
                store.release_runs()
                log.debug("state", where=store.where)
                yield store, RunTurn(), leftovers
            return
        with open_store(state) as store, store.run_turn() as turn:
            leftovers = []
            if turn.alone:
                leftovers = _sweep(out_dir, log)
                store.release_runs()
            turn.share()
            log.info("state", where=store.where, other_runs="none" if turn.alone else "active")
            yield store, turn, leftovers


def _sweep(out_dir: Path, log: RunLog) -> list[str]:
    swept = sweep(out_dir)
    leftovers = orphans(out_dir)
    if swept or leftovers:
        log.info("interrupted-run", temp_files=len(swept), unfinished_episodes=len(leftovers))
    return leftovers


# ---------------------------------------------------------------- CLI
def check_engines(config: Config) -> None:
    """Raise ``ConfigError`` before anything runs when a configured engine cannot run here."""
    from reader.tts import get_engine

    names = {config.engine} | {s.engine or config.engine for s in config.sources if s.episodes or s.group}
    for name in sorted(names, key=lambda n: n or ""):
        try:
            why = get_engine(name, speech=config.speech).check()
        except ReaderError as e:
            why = str(e)
        if why is not None:
            raise ConfigError(config.path, f"speech engine {name or 'espeak'!r} cannot run here: {why}",
                              fix="install what it needs, or choose another engine (see `vnreader engines`)")


def run_from_args(args) -> RunReport:
    """``vnreader run``'s work: the sources file and options in, the report out (``cli.py`` prints
    the summary and picks the exit code)."""
    config = load_sources(args.config)
    if getattr(args, "timeout", None):
        config = replace(config, fetch_timeout=args.timeout)
    check_engines(config)
    out_dir = Path(args.out) if args.out else (config.out or Path(DEFAULT_OUT))
    state = args.state or config.state_url or config.state
    state = state if state is not None and is_url(state) else Path(state) if state else None
    base_url = args.base_url or config.base_url or DEFAULT_BASE_URL
    log = RunLog(quiet=args.quiet, verbose=args.verbose, as_json=args.log_json)
    from reader.pipeline import RenderOptions

    target = getattr(args, "publish", None) or config.storage_url
    if target:
        from reader.storage import parse_url, require_boto3

        if not isinstance(parse_url(target), Path):  # a bad URL, or S3 without boto3, stops before anything runs
            require_boto3(target)
            if base_url == DEFAULT_BASE_URL:  # listeners of the bucket could not fetch a single episode
                log.lost("default-base-url", f"the feed is published to {target}, but its links point at "
                         f"{DEFAULT_BASE_URL} (set base_url in [run], or --base-url, to the public URL of that prefix)")
    options = RenderOptions.from_config(config, warn=lambda e: log.lost("no-clip-cache", f"clip cache unusable, every clip is spoken again: {e}"))
    report = run(config, out_dir=out_dir, state_path=state, base_url=base_url, log=log,
                 rerender=args.rerender, options=options, queue=_dispatcher(args, config, target))
    if target:
        publish_after_run(report, out_dir, target, log)
    return report


def publish_after_run(report: RunReport, out_dir: Path, target: str, log: RunLog) -> None:
    """Publish the folder to ``target`` (``--publish`` / ``[storage] url``); a failure joins ``report.failed``."""
    from reader.publish import publish

    try:
        report.published = publish(out_dir, target)
    except ReaderError as e:
        log.error("publish-failed", target=target, message=str(e))
        report.failed.append((f"publish to {target}", e))
        return
    log.info("published", target=target, uploaded=len(report.published.uploaded),
             unchanged=len(report.published.unchanged), deleted=len(report.published.deleted))


def _dispatcher(args, config: Config, storage_url: str | None = None):
    """The queue the articles go to (``--queue`` or ``[queue] url``), or None: render here.

    With ``[queue] transfer = "storage"`` (or ``--queue-transfer storage``) the jobs stage their
    episodes under ``storage_url`` (``--publish`` / ``[storage] url``), which must then be set."""
    url = getattr(args, "queue", None) or config.queue_url
    if not url:
        return None
    from reader.queue import DEFAULT_TIMEOUT, Dispatcher, QueueSettings
    from reader.transfer import staging_url

    timeout = getattr(args, "queue_timeout", None) or DEFAULT_TIMEOUT
    transfer = getattr(args, "queue_transfer", None) or config.queue_transfer
    staging = ""
    if transfer == "storage":
        if not storage_url:
            raise UsageError("--queue-transfer storage", "the workers' episodes need a storage to go through",
                             fix="set [storage] url (or --publish) to s3://bucket/prefix, or use transfer = \"folder\" "
                                 "with an output folder the workers share")
        staging = staging_url(storage_url)
    return Dispatcher(QueueSettings.from_env(url), timeout=timeout, staging=staging)
