"""Run state: feeds' ETag/Last-Modified, every entry seen, what became of it.

One row per feed entry, keyed by (source, entry id), also found by its link, by the
article's canonical URL and by the hash of its text, so the same story is never rendered twice. An entry is
``pending`` from the moment its feed is read until its episode record is written
(``done``), so a run killed half-way leaves the work for the next run even when the
feed answers 304 next time. Episodes themselves live on disk as ``NAME.episode.json``
records (``reader/episodes.py``); the store keeps the file name per entry and the
extracted text (for digests and ``--rerender``).

Two backends share every query (:class:`StateStore`) and differ only in connection,
placeholders, transactions and locking: :class:`Store`, SQLite, the default
(``OUT/.vnreader-state.sqlite``; ``--state PATH`` moves it), and ``PgStore`` in
``reader/store_pg.py``, PostgreSQL (``--state postgresql://…`` or ``[state] url``), for runs and
workers on several machines sharing one state. :func:`open_store` picks one. Both are built and
upgraded by the same numbered steps (``reader/migrations.py``).

**Claims.** :meth:`StateStore.claim` leases entries to one worker for a while, so concurrent
runs or workers never render the same entry twice: a lease another worker holds is skipped, an
expired one (its worker died) is claimable again, and finishing an entry whose lease someone
else took meanwhile raises :class:`~reader.errors.ClaimLostError` and changes nothing.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
import unicodedata
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator
from urllib.parse import urlsplit, urlunsplit

from reader.errors import ClaimLostError, UsageError
from reader.models import Caption, Document

STATE_NAME = ".vnreader-state.sqlite"
MAX_ATTEMPTS = 3  #: a failing entry is retried on this many runs, then given up

#: entry status → meaning
STATUSES = {
    "pending": "read from the feed, not rendered yet",
    "done": "rendered (or taken into a digest)",
    "failed": "failed; retried on the next run",
    "gave-up": f"failed {MAX_ATTEMPTS} times; not retried",
    "over-limit": "older than the newest N new entries of its feed; not rendered",
    "duplicate": "the same article as an entry already rendered",
    "expired": "published before the retention window; not rendered",
}



@dataclass(frozen=True)
class Entry:
    """One stored feed entry."""

    id: int
    source: str
    entry_id: str
    url: str
    status: str
    title: str | None = None
    published: datetime | None = None
    summary: str | None = None
    reason: str | None = None
    attempts: int = 0
    canonical: str | None = None
    text_hash: str | None = None
    doc: Document | None = None
    guid: str | None = None
    episode: str | None = None  #: MP3 file name in the output folder
    first_seen: datetime | None = None
    done_at: datetime | None = None
    claimed_by: str | None = None  #: claim(); the worker holding the lease, None = free
    claim_until: datetime | None = None  #: claim(); the lease ends then (UTC), claimable again after


def text_hash(doc: Document) -> str:
    """Hash of what a listener hears (title, lead, paragraphs), NFC: a changed text changes it."""
    parts = [doc.title, doc.lead or "", *doc.paragraphs]
    return hashlib.sha256("\n".join(unicodedata.normalize("NFC", p) for p in parts).encode()).hexdigest()


def doc_to_json(doc: Document) -> str:
    d = asdict(doc)
    d["published"] = doc.published.isoformat() if doc.published else None
    return json.dumps(d, ensure_ascii=False, sort_keys=True)


def doc_from_json(text: str) -> Document:
    d = json.loads(text)
    d["published"] = datetime.fromisoformat(d["published"]) if d.get("published") else None
    d["paragraphs"] = tuple(d.get("paragraphs") or ())
    d["captions"] = tuple(Caption(**c) for c in d.get("captions") or ())
    return Document(**d)


def _iso(dt: datetime | None) -> str | None:
    """UTC, whole seconds: stored times compare correctly as text."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def is_url(state: str | Path) -> bool:
    """True for a PostgreSQL URL (``postgresql://`` or ``postgres://``), False for a file path."""
    return isinstance(state, str) and state.split("://", 1)[0].lower() in ("postgresql", "postgres")


def redact(state: str | Path) -> str:
    """Where the state lives, fit for messages and logs: a URL's password becomes ``***``."""
    if not is_url(state):
        return str(state)
    parts = urlsplit(str(state))
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{host}"
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def open_store(state: str | Path) -> StateStore:
    """The state at ``state``: a PostgreSQL URL opens a ``PgStore``, anything else a SQLite file."""
    if is_url(state):
        from reader.store_pg import PgStore

        return PgStore(str(state))
    return Store(state)


RUN_WORKER_PREFIX = "run:"  #: workers named so are ``vnreader run`` processes (see release_runs)


class StateStore:
    """The queries both backends share. Use as a context manager; every write is its own transaction.

    A backend sets :attr:`dialect` and :attr:`where`, opens :attr:`db`, and provides
    :meth:`_execute` (``?`` placeholders in, its own out), :meth:`_tx` (one write transaction)
    and :attr:`_lock_rows` / :attr:`_lock_row` (the clauses that lock selected rows until the
    transaction ends, skipping or waiting for rows another transaction holds).
    """

    dialect = ""  #: "sqlite" or "postgres" (migrations pick their DDL by it)
    where = ""  #: the location for messages (a URL without its password)
    _lock_rows = ""  #: appended to a SELECT whose rows a write transaction then claims (skipping locked ones)
    _lock_row = ""  #: appended to a SELECT of one row the transaction then updates (waiting for it)

    def _execute(self, sql: str, params: tuple | list = ()) -> Any:
        raise NotImplementedError

    def _tx(self) -> contextlib.AbstractContextManager:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _one(self, sql: str, params: tuple | list = ()) -> Any:
        return self._execute(sql, params).fetchone()

    def _all(self, sql: str, params: tuple | list = ()) -> list:
        return list(self._execute(sql, params).fetchall())

    # ------------------------------------------------------------ feeds
    def feed_validators(self, url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) from the last successful read of ``url``."""
        row = self._one("SELECT etag, modified FROM feeds WHERE url = ?", (url,))
        return (row["etag"], row["modified"]) if row else (None, None)

    # ------------------------------------------------------------ entries
    def _entry(self, row: Any) -> Entry:
        return Entry(id=row["id"], source=row["source"], entry_id=row["entry_id"], url=row["url"],
                     status=row["status"], title=row["title"], published=_dt(row["published"]),
                     summary=row["summary"], reason=row["reason"], attempts=row["attempts"],
                     canonical=row["canonical"], text_hash=row["text_hash"],
                     doc=doc_from_json(row["doc"]) if row["doc"] else None, guid=row["guid"],
                     episode=row["episode"], first_seen=_dt(row["first_seen"]), done_at=_dt(row["done_at"]),
                     claimed_by=row["claimed_by"], claim_until=_dt(row["claim_until"]))

    def known(self, entry_id: str, url: str) -> Entry | None:
        """An entry already stored with this id, or whose link or canonical URL is ``url``."""
        row = self._one("SELECT * FROM entries WHERE entry_id = ? OR url = ? OR canonical = ? ORDER BY id LIMIT 1",
                        (entry_id, url, url))
        return self._entry(row) if row else None

    def ingest(self, source: str, feed_url: str, new: Iterable[tuple], etag: str | None, modified: str | None,
               now: datetime | None = None) -> None:
        """Store a feed's new entries and its validators in one transaction.

        ``new`` holds ``(FeedEntry, status, reason)``; validators are saved only together with
        the entries, so a crash in between makes the next run read the feed again. An entry
        already stored (another run read the same feed) is left as it is.
        """
        now_s = _iso(now or _now())
        with self._tx():
            for e, status, reason in new:
                self._execute(
                    "INSERT INTO entries (source, entry_id, url, title, published, summary, status, reason,"
                    " first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, entry_id) DO NOTHING",
                    (source, e.entry_id, e.link, e.title, _iso(e.published), e.summary, status, reason, now_s))
            self._execute(
                "INSERT INTO feeds (url, etag, modified, checked) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, modified = excluded.modified,"
                " checked = excluded.checked", (feed_url, etag, modified, now_s))

    def revive_expired(self, source: str, cutoff: datetime | None, limit: int) -> list[Entry]:
        """Entries of ``source`` set aside as ``expired`` that the retention window now covers
        (``cutoff`` None: no window), back to ``pending``: the newest ``limit``."""
        if limit <= 0:
            return []
        with self._tx():
            rows = self._all(
                "SELECT * FROM entries WHERE source = ? AND status = 'expired'"
                " AND (CAST(? AS TEXT) IS NULL OR published >= ?)"
                " ORDER BY published IS NULL, published DESC, id LIMIT ?" + self._lock_rows,
                (source, _iso(cutoff), _iso(cutoff), limit))
            for r in rows:
                self._execute("UPDATE entries SET status = 'pending', reason = NULL WHERE id = ?", (r["id"],))
        return [self._entry(r) for r in rows]

    def todo(self, source: str) -> list[Entry]:
        """Entries of ``source`` still to render (pending, or failed fewer than MAX_ATTEMPTS times), newest first."""
        rows = self._all("SELECT * FROM entries WHERE source = ? AND status IN ('pending', 'failed')"
                         " ORDER BY published IS NULL, published DESC, id", (source,))
        return [self._entry(r) for r in rows]

    def rendered(self, source: str) -> list[Entry]:
        rows = self._all("SELECT * FROM entries WHERE source = ? AND status = 'done' ORDER BY id", (source,))
        return [self._entry(r) for r in rows]

    def same_article(self, canonical: str, not_id: int, text: str | None = None) -> Entry | None:
        """A rendered entry (other than ``not_id``) with this canonical URL or link, or the same
        ``text`` hash (a wire story republished under another address)."""
        row = self._one(
            "SELECT * FROM entries WHERE status = 'done' AND id != ?"
            " AND (canonical = ? OR url = ? OR (CAST(? AS TEXT) IS NOT NULL AND text_hash = ?)) ORDER BY id LIMIT 1",
            (not_id, canonical, canonical, text, text))
        return self._entry(row) if row else None

    # ------------------------------------------------------------ claims
    def claim(self, source: str, worker: str, lease_seconds: float, *, now: datetime | None = None,
              limit: int | None = None, ids: Iterable[int] | None = None) -> list[Entry]:
        """Lease entries of ``source`` still to render to ``worker`` for ``lease_seconds``; return them.

        Only entries nobody holds are taken (never leased, released, or whose lease ended by
        ``now``: a dead worker's), in :meth:`todo`'s order, at most ``limit``, only those of
        ``ids`` if given. Two workers claiming at once never get the same entry: PostgreSQL
        skips rows another transaction is claiming (``FOR UPDATE SKIP LOCKED``), SQLite takes
        the write lock first (``BEGIN IMMEDIATE``). A worker's own live lease is not taken
        again: an entry that failed stays with it until :meth:`release`.
        """
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        now = (now or _now()).astimezone(timezone.utc)
        wanted = None if ids is None else list(ids)
        if wanted == []:
            return []
        where = "source = ? AND status IN ('pending', 'failed') AND (claim_until IS NULL OR claim_until <= ?)"
        params: list = [source, _iso(now)]
        if wanted is not None:
            where += f" AND id IN ({','.join('?' * len(wanted))})"
            params += wanted
        sql = f"SELECT * FROM entries WHERE {where} ORDER BY published IS NULL, published DESC, id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        until = _iso(now + timedelta(seconds=lease_seconds))
        with self._tx():
            rows = self._all(sql + self._lock_rows, params)
            for r in rows:
                self._execute("UPDATE entries SET claimed_by = ?, claim_until = ? WHERE id = ?", (worker, until, r["id"]))
        return [replace(self._entry(r), claimed_by=worker, claim_until=_dt(until)) for r in rows]

    def release(self, worker: str, ids: Iterable[int] | None = None) -> int:
        """Give up ``worker``'s leases (all, or those of ``ids``): those entries are claimable at once."""
        sql = "UPDATE entries SET claimed_by = NULL, claim_until = NULL WHERE claimed_by = ?"
        params: list = [worker]
        if ids is not None:
            wanted = list(ids)
            if not wanted:
                return 0
            sql += f" AND id IN ({','.join('?' * len(wanted))})"
            params += wanted
        with self._tx():
            return self._execute(sql, params).rowcount

    def release_runs(self) -> int:
        """Drop every lease a ``vnreader run`` holds (workers named ``run:…``). Called by a run that
        knows it is the only one (it holds the run lock): any such lease is a killed run's."""
        with self._tx():
            return self._execute("UPDATE entries SET claimed_by = NULL, claim_until = NULL WHERE claimed_by LIKE ?",
                                 (RUN_WORKER_PREFIX + "%",)).rowcount

    def _check_claim(self, entry_id: int, worker: str | None) -> None:
        """Inside a write transaction: raise ClaimLostError unless ``worker`` (None: no check) holds the entry."""
        if worker is None:
            return
        row = self._one("SELECT claimed_by FROM entries WHERE id = ?" + self._lock_row,
                        (entry_id,))
        holder = row["claimed_by"] if row else None
        if holder != worker:
            raise ClaimLostError(f"entry {entry_id}",
                                 f"its lease was taken over by {holder or 'nobody (released)'} while {worker} had it")

    # ------------------------------------------------------------ outcomes
    def done(self, entry_id: int, *, doc: Document, guid: str, episode: str | None, now: datetime | None = None,
             keep_done_at: bool = False, worker: str | None = None) -> None:
        """Mark an entry rendered and free its lease; ``worker``: raise ClaimLostError (and change
        nothing) unless that worker still holds it."""
        with self._tx():
            self._check_claim(entry_id, worker)
            self._execute(
                "UPDATE entries SET status = 'done', reason = NULL, canonical = ?, text_hash = ?, doc = ?, guid = ?,"
                " episode = ?, done_at = CASE WHEN ? AND done_at IS NOT NULL THEN done_at ELSE ? END,"
                " claimed_by = NULL, claim_until = NULL WHERE id = ?",
                (doc.url, text_hash(doc), doc_to_json(doc), guid, episode, keep_done_at, _iso(now or _now()),
                 entry_id))

    def duplicate(self, entry_id: int, canonical: str, of: Entry, *, worker: str | None = None) -> None:
        with self._tx():
            self._check_claim(entry_id, worker)
            self._execute("UPDATE entries SET status = 'duplicate', canonical = ?, reason = ?,"
                          " claimed_by = NULL, claim_until = NULL WHERE id = ?",
                          (canonical, f"same article as {of.url}", entry_id))

    def failed(self, entry_id: int, reason: str, *, worker: str | None = None) -> str:
        """Count a failure; return the new status (``failed`` or ``gave-up``). The lease stays
        with ``worker`` until :meth:`release`, so the same run does not try it again."""
        with self._tx():
            self._check_claim(entry_id, worker)
            row = self._one("SELECT attempts FROM entries WHERE id = ?" + self._lock_row,
                            (entry_id,))
            attempts = (row["attempts"] if row else 0) + 1
            status = "gave-up" if attempts >= MAX_ATTEMPTS else "failed"
            self._execute("UPDATE entries SET status = ?, reason = ?, attempts = ? WHERE id = ?",
                          (status, reason, attempts, entry_id))
        return status

    def done_between(self, sources: Iterable[str], start: datetime, end: datetime) -> list[Entry]:
        """Rendered entries of ``sources`` whose render time is in [start, end), oldest first (a day's digest)."""
        names = list(sources)
        if not names:
            return []
        marks = ",".join("?" * len(names))
        rows = self._all(
            f"SELECT * FROM entries WHERE status = 'done' AND source IN ({marks}) AND doc IS NOT NULL"
            " AND done_at >= ? AND done_at < ? ORDER BY done_at, id",
            (*names, _iso(start), _iso(end)))
        return [self._entry(r) for r in rows]

    def counts(self) -> dict[str, int]:
        return {r["status"]: int(r["n"]) for r in self._all("SELECT status, COUNT(*) AS n FROM entries GROUP BY status")}

    # ------------------------------------------------------------ runs sharing the state
    @contextlib.contextmanager
    def run_turn(self) -> Iterator[RunTurn]:
        """How this run shares the state (and the output folder) with other runs, for the run's
        length. SQLite state is one run's at a time (the output folder's lock sees to it), so
        the run is always alone; ``PgStore`` coordinates runs on several machines."""
        yield RunTurn()


class RunTurn:
    """A run's turn at a state other runs may share (``StateStore.run_turn``); this one: alone."""

    alone = True  #: no other run was active at the start: it may sweep temp files and drop dead runs' leases

    def share(self) -> None:
        """The alone-only work (sweep, dead leases) is done: other runs may start now."""

    def publishing(self) -> None:
        """Wait for this run's turn to build digests and the feed; held until the turn ends."""

    def still_alone(self) -> bool:
        """True when no other run is active now (a dead run's leftover files may be deleted)."""
        return True


class Store(StateStore):
    """The SQLite state file (the default): one connection, ``BEGIN IMMEDIATE`` write transactions."""

    dialect = "sqlite"

    def __init__(self, path: str | Path):
        from reader.migrations import migrate

        self.path = Path(path)
        self.where = str(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
        except (sqlite3.Error, OSError) as e:
            raise UsageError(self.path, f"cannot open the state database: {e}",
                             fix="give a writable --state path, or move the damaged file away") from e
        try:
            migrate(self)
        except sqlite3.Error as e:
            self.db.close()
            raise UsageError(self.path, f"cannot open the state database: {e}",
                             fix="give a writable --state path, or move the damaged file away") from e
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    def _execute(self, sql: str, params: tuple | list = ()) -> sqlite3.Cursor:
        return self.db.execute(sql, tuple(params))

    def _tx(self) -> _Tx:
        return _Tx(self.db)


class _Tx:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK`` on error)."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, *_):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
