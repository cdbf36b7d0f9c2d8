"""Run state in SQLite: feeds' ETag/Last-Modified, every entry seen, what became of it.

One row per feed entry, keyed by (source, entry id), also found by its link, by the
article's canonical URL and by the hash of its text, so the same story is never rendered twice. An entry is
``pending`` from the moment its feed is read until its episode record is written
(``done``), so a run killed half-way leaves the work for the next run even when the
feed answers 304 next time. Episodes themselves live on disk as ``NAME.episode.json``
records (``reader/episodes.py``); the store keeps the file name per entry and the
extracted text (for digests and ``--rerender``).

Default location: ``OUT/.vnreader-state.sqlite`` (``--state`` moves it).
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import unicodedata
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from reader.errors import UsageError
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

SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,
    etag TEXT,
    modified TEXT,
    checked TEXT
);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    url TEXT NOT NULL,
    title TEXT,
    published TEXT,
    summary TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    canonical TEXT,
    text_hash TEXT,
    doc TEXT,
    guid TEXT,
    episode TEXT,
    first_seen TEXT NOT NULL,
    done_at TEXT,
    UNIQUE (source, entry_id)
);
CREATE INDEX IF NOT EXISTS entries_url ON entries (url);
CREATE INDEX IF NOT EXISTS entries_canonical ON entries (canonical);
CREATE INDEX IF NOT EXISTS entries_status ON entries (status);
"""


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


class Store:
    """The state database. Use as a context manager; every write is its own transaction."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as e:
            raise UsageError(self.path, f"cannot open the state database: {e}",
                             fix="give a writable --state path, or move the damaged file away") from e

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _tx(self):
        return _Tx(self.db)

    # ------------------------------------------------------------ feeds
    def feed_validators(self, url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) from the last successful read of ``url``."""
        row = self.db.execute("SELECT etag, modified FROM feeds WHERE url = ?", (url,)).fetchone()
        return (row["etag"], row["modified"]) if row else (None, None)

    # ------------------------------------------------------------ entries
    def _entry(self, row: sqlite3.Row) -> Entry:
        return Entry(id=row["id"], source=row["source"], entry_id=row["entry_id"], url=row["url"],
                     status=row["status"], title=row["title"], published=_dt(row["published"]),
                     summary=row["summary"], reason=row["reason"], attempts=row["attempts"],
                     canonical=row["canonical"], text_hash=row["text_hash"],
                     doc=doc_from_json(row["doc"]) if row["doc"] else None, guid=row["guid"],
                     episode=row["episode"], first_seen=_dt(row["first_seen"]), done_at=_dt(row["done_at"]))

    def known(self, entry_id: str, url: str) -> Entry | None:
        """An entry already stored with this id, or whose link or canonical URL is ``url``."""
        row = self.db.execute(
            "SELECT * FROM entries WHERE entry_id = ? OR url = ? OR canonical = ? ORDER BY id LIMIT 1",
            (entry_id, url, url)).fetchone()
        return self._entry(row) if row else None

    def ingest(self, source: str, feed_url: str, new: Iterable[tuple], etag: str | None, modified: str | None,
               now: datetime | None = None) -> None:
        """Store a feed's new entries and its validators in one transaction.

        ``new`` holds ``(FeedEntry, status, reason)``; validators are saved only together with
        the entries, so a crash in between makes the next run read the feed again.
        """
        now_s = _iso(now or _now())
        with self._tx():
            for e, status, reason in new:
                self.db.execute(
                    "INSERT OR IGNORE INTO entries (source, entry_id, url, title, published, summary, status, reason,"
                    " first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (source, e.entry_id, e.link, e.title, _iso(e.published), e.summary, status, reason, now_s))
            self.db.execute(
                "INSERT INTO feeds (url, etag, modified, checked) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, modified = excluded.modified,"
                " checked = excluded.checked", (feed_url, etag, modified, now_s))

    def revive_expired(self, source: str, cutoff: datetime | None, limit: int) -> list[Entry]:
        """Entries of ``source`` set aside as ``expired`` that the retention window now covers
        (``cutoff`` None: no window), back to ``pending``: the newest ``limit``."""
        if limit <= 0:
            return []
        with self._tx():
            rows = self.db.execute(
                "SELECT * FROM entries WHERE source = ? AND status = 'expired' AND (? IS NULL OR published >= ?)"
                " ORDER BY published DESC, id LIMIT ?", (source, _iso(cutoff), _iso(cutoff), limit)).fetchall()
            self.db.executemany("UPDATE entries SET status = 'pending', reason = NULL WHERE id = ?",
                                [(r["id"],) for r in rows])
        return [self._entry(r) for r in rows]

    def todo(self, source: str) -> list[Entry]:
        """Entries of ``source`` still to render (pending, or failed fewer than MAX_ATTEMPTS times), newest first."""
        rows = self.db.execute(
            "SELECT * FROM entries WHERE source = ? AND status IN ('pending', 'failed')"
            " ORDER BY published DESC, id", (source,)).fetchall()
        return [self._entry(r) for r in rows]

    def rendered(self, source: str) -> list[Entry]:
        rows = self.db.execute("SELECT * FROM entries WHERE source = ? AND status = 'done' ORDER BY id",
                               (source,)).fetchall()
        return [self._entry(r) for r in rows]

    def same_article(self, canonical: str, not_id: int, text: str | None = None) -> Entry | None:
        """A rendered entry (other than ``not_id``) with this canonical URL or link, or the same
        ``text`` hash (a wire story republished under another address)."""
        row = self.db.execute(
            "SELECT * FROM entries WHERE status = 'done' AND id != ?"
            " AND (canonical = ? OR url = ? OR (? IS NOT NULL AND text_hash = ?)) ORDER BY id LIMIT 1",
            (not_id, canonical, canonical, text, text)).fetchone()
        return self._entry(row) if row else None

    def done(self, entry_id: int, *, doc: Document, guid: str, episode: str | None, now: datetime | None = None,
             keep_done_at: bool = False) -> None:
        with self._tx():
            self.db.execute(
                "UPDATE entries SET status = 'done', reason = NULL, canonical = ?, text_hash = ?, doc = ?, guid = ?,"
                " episode = ?, done_at = CASE WHEN ? AND done_at IS NOT NULL THEN done_at ELSE ? END WHERE id = ?",
                (doc.url, text_hash(doc), doc_to_json(doc), guid, episode, keep_done_at, _iso(now or _now()),
                 entry_id))

    def duplicate(self, entry_id: int, canonical: str, of: Entry) -> None:
        with self._tx():
            self.db.execute("UPDATE entries SET status = 'duplicate', canonical = ?, reason = ? WHERE id = ?",
                            (canonical, f"same article as {of.url}", entry_id))

    def failed(self, entry_id: int, reason: str) -> str:
        """Count a failure; return the new status (``failed`` or ``gave-up``)."""
        with self._tx():
            row = self.db.execute("SELECT attempts FROM entries WHERE id = ?", (entry_id,)).fetchone()
            attempts = (row["attempts"] if row else 0) + 1
            status = "gave-up" if attempts >= MAX_ATTEMPTS else "failed"
            self.db.execute("UPDATE entries SET status = ?, reason = ?, attempts = ? WHERE id = ?",
                            (status, reason, attempts, entry_id))
        return status

    def done_between(self, sources: Iterable[str], start: datetime, end: datetime) -> list[Entry]:
        """Rendered entries of ``sources`` whose render time is in [start, end), oldest first (a day's digest)."""
        names = list(sources)
        if not names:
            return []
        marks = ",".join("?" * len(names))
        rows = self.db.execute(
            f"SELECT * FROM entries WHERE status = 'done' AND source IN ({marks}) AND doc IS NOT NULL"
            " AND done_at >= ? AND done_at < ? ORDER BY done_at, id",
            (*names, _iso(start), _iso(end))).fetchall()
        return [self._entry(r) for r in rows]

    def counts(self) -> dict[str, int]:
        return {r["status"]: r["n"] for r in self.db.execute("SELECT status, COUNT(*) AS n FROM entries GROUP BY status")}


class _Tx:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK`` on error)."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, *_):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
