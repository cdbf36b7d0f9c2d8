"""Publish an output folder to a storage (``s3://bucket/prefix`` or another folder) in a safe order.

A podcast app must never see an item whose audio is missing, so the upload goes in stages
(:data:`STAGES`), each finished before the next begins:

1. **media**: MP3s, transcripts, chapters, artwork — everything a feed item points at;
2. **records**: the ``.episode.json`` records (what the feed is rebuilt from, for other machines);
3. **page**: ``index.html``, the listening page;
4. **feed**: ``feed.xml``, last.

Only then are **expired objects deleted**: those under the target that the folder no longer
has (episodes retention removed, replaced renderings). A publish killed at any moment
therefore leaves the target's feed either the old one, whose objects are all still there, or
the new one, whose objects were all uploaded before it; the next publish finishes the work.

An object whose size and SHA-256 (stored with it at upload) match the local file is not
uploaded again, so a rerun with nothing changed costs one listing and one HEAD per file.

Publishing takes the run lock of the folder (``daily.run_lock``), so it never copies a
half-written run; a run starting meanwhile waits for nothing and stops with ``LockedError``.
Dot files (state database, lock, temp files) are never published, and only objects with a
published name ending (:data:`PUBLISHED_SUFFIXES`) are ever deleted, so other data under the
same prefix (a shared clip cache's ``.clip`` objects) is left alone.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from reader.errors import UsageError
from reader.storage import LocalStorage, ObjectInfo, Storage, local_files, open_storage, sha256_of

FEED_NAME = "feed.xml"
PAGE_NAME = "index.html"
RECORD_SUFFIX = ".episode.json"
#: name endings of the objects a publish writes, and so may delete when the folder no longer has them
PUBLISHED_SUFFIXES = (".mp3", ".vtt", ".srt", ".json", ".jpg", ".jpeg", ".png", ".html", ".xml")
DEFAULT_WORKERS = 4  #: uploads at once within a stage


def _stage(key: str) -> int:
    """0 media, 1 records, 2 page, 3 feed (see :data:`STAGES`)."""
    if key == FEED_NAME:
        return 3
    if key == PAGE_NAME:
        return 2
    if key.endswith(RECORD_SUFFIX):
        return 1
    return 0


#: the upload order; a stage is finished before the next begins, deletions come after the last
STAGES = ("media", "records", "page", "feed")


@dataclass(frozen=True)
class PublishReport:
    """What one publish did (``vnreader publish`` prints it; ``RunReport.published`` holds it)."""

    target: str  #: publish; the storage URL
    uploaded: tuple[str, ...] = ()  #: publish; keys written, in upload order
    unchanged: tuple[str, ...] = ()  #: publish; keys skipped because size and sha256 matched
    deleted: tuple[str, ...] = ()  #: publish; expired keys removed after the feed was up

    def summary(self) -> str:
        return (f"published to {self.target}: {len(self.uploaded)} uploaded, {len(self.unchanged)} unchanged, "
                f"{len(self.deleted)} deleted")


def publish(out_dir: str | os.PathLike[str], target: str | os.PathLike[str] | Storage, *,
            workers: int = DEFAULT_WORKERS, lock: bool = True,
            on_upload: Callable[[str], None] | None = None) -> PublishReport:
    """Copy ``out_dir`` to ``target`` (a URL or a storage) in the safe order; see the module docstring.

    ``lock``: take the folder's run lock (``daily.run`` callers that hold it pass False).
    ``on_upload(key)`` is called after each upload. Raises ``UsageError`` for a folder without
    ``feed.xml`` or a target that is the folder itself, ``LockedError`` when a run holds the
    folder, ``StorageError`` when the storage fails (what was uploaded stays; rerun to finish).
    """
    from reader.daily import run_lock

    out = Path(out_dir)
    storage = open_storage(target) if isinstance(target, (str, os.PathLike)) else target
    _check(out, storage)
    if not lock:
        return _publish(out, storage, workers, on_upload)
    with run_lock(out):
        return _publish(out, storage, workers, on_upload)


def _check(out: Path, storage: Storage) -> None:
    if not (out / FEED_NAME).is_file():
        raise UsageError(out, f"no {FEED_NAME} here: not a vnreader output folder",
                         fix="give the folder `vnreader run` writes (its --out), after a run")
    if isinstance(storage, LocalStorage):
        root, src = storage.root.resolve(), out.resolve()
        if root == src or src in root.parents or root in src.parents:
            what = "the output folder itself" if root == src else "inside the output folder, or holds it"
            raise UsageError(storage.url, f"the target is {what}",
                             fix="publish to a folder beside it, or to s3://bucket/prefix")


def _publish(out: Path, storage: Storage, workers: int, on_upload: Callable[[str], None] | None) -> PublishReport:
    local = {p.relative_to(out).as_posix(): p for p in local_files(out)}
    remote = {o.key: o for o in storage.list()}
    uploaded: list[str] = []
    unchanged: list[str] = []

    def sync(key: str) -> bool:
        path = local[key]
        if _same(storage, remote.get(key), path, key):
            return False
        storage.put(key, path)
        if on_upload is not None:
            on_upload(key)
        return True

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for stage in range(len(STAGES)):
            keys = sorted(k for k in local if _stage(k) == stage)
            for key, did in zip(keys, pool.map(sync, keys)):
                (uploaded if did else unchanged).append(key)
        expired = sorted(k for k in remote if k not in local and _ours(k))
        list(pool.map(storage.delete, expired))
    return PublishReport(storage.url, tuple(uploaded), tuple(unchanged), tuple(expired))


def _same(storage: Storage, seen: ObjectInfo | None, path: Path, key: str) -> bool:
    """The stored object has the file's size and SHA-256 (a listing has no hash: one HEAD asks)."""
    if seen is None or seen.size != path.stat().st_size:
        return False
    stored = seen.sha256
    if stored is None:
        head = storage.head(key)
        stored = head.sha256 if head is not None else None
    return stored is not None and stored == sha256_of(path)


def _ours(key: str) -> bool:
    """An object a publish could have written: no dot part, a published name ending."""
    return not any(part.startswith(".") for part in key.split("/")) and key.lower().endswith(PUBLISHED_SUFFIXES)
