"""Episodes from workers to the run through object storage, for workers that share no folder with it.

``[queue] transfer = "storage"`` (or ``vnreader run --queue-transfer storage``) makes every
render job carry a staging location instead of the run's output folder: the ``.staging``
prefix of the run's storage (``--publish`` / ``[storage] url``, ``s3://bucket/prefix`` →
``s3://bucket/prefix/.staging``). Then:

    worker: render_document ─▶ scratch folder ─put─▶ STAGING/<key>/<name> (record last) ─▶ answer names them
    run:    answer ─▶ get each file, check size and SHA-256 ─▶ OUT/<name> (atomic, record last) ─▶ delete staged

``<key>`` is the job's render key (``pipeline.article_key``), so a job run twice writes the same
objects and a worker that finds a complete staged set (its record, and every file the record
names with its size) answers with it without speaking. A worker killed mid-upload leaves only
whole objects (an S3 PUT appears whole or not at all) and no record, so the set is not complete:
the job is redelivered and the next worker uploads it again over the same keys. The run takes
only the files the answer names, each checked against the size and SHA-256 the worker measured,
so a damaged or replaced object fails that article (retried next run) instead of entering the feed.

The channel's cover, which a render embeds in the MP3 (``cover.jpg`` or ``cover.png`` in the
run's folder), travels the same way: the run puts it once as ``covers/<sha256>.<ext>`` and every
job names it (``RenderJob.cover``); the worker copies it into its scratch folder before rendering,
so a staged MP3 is the one a shared-folder worker or a single-machine run makes.

Staged episode objects are removed once the episode is in the run's folder; they are a hand-off,
not a cache. Covers stay (one small object per cover image, named by its hash). What crosses the network: each file goes worker → storage → run, and the run's
``publish`` uploads it again under its published name (the staging prefix is not the published
name), so an episode is uploaded twice and downloaded once. The dot in ``.staging`` keeps a
publish from ever deleting a staged object, and a folder storage (``LocalStorage``) from
listing it.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reader import episodes as records
from reader.errors import StorageError
from reader.fsutil import atomic_write_bytes
from reader.storage import local_files, sha256_of

#: how the run and its workers exchange episodes: a shared output folder (default) or object storage
TRANSFERS = ("folder", "storage")
STAGING_PREFIX = ".staging"
#: the run's cover images, as ``pipeline._cover_bytes`` looks for them (first found wins); never staged back
COVER_NAMES = ("cover.jpg", "cover.png")
#: the worker's scratch folders go here ($VNREADER_WORKER_DIR; default the system's temp folder)
WORKER_DIR_ENV = "VNREADER_WORKER_DIR"


def staging_url(storage_url: str) -> str:
    """The staging location under a storage URL: ``s3://b/p`` → ``s3://b/p/.staging``, a folder → its ``.staging``."""
    return storage_url.rstrip("/") + "/" + STAGING_PREFIX


@dataclass(frozen=True)
class StagedFile:
    """One file of a staged episode, as the worker measured it before uploading."""

    name: str  #: worker; the file name in the run's folder (and under STAGING/<key>/)
    size: int  #: worker; bytes
    sha256: str  #: worker; hex SHA-256 the run checks after downloading

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


def _files_in(folder: Path) -> list[StagedFile]:
    """The episode's files in a worker's scratch folder, the record last."""
    paths = sorted((p for p in local_files(folder) if p.name not in COVER_NAMES),
                   key=lambda p: (p.name.endswith(records.SUFFIX), p.name))
    return [StagedFile(p.name, p.stat().st_size, sha256_of(p)) for p in paths]


# ---------------------------------------------------------------- the worker's side
def scratch_dir() -> Path:
    """A new, empty folder for one job (under ``$VNREADER_WORKER_DIR`` when set)."""
    base = os.environ.get(WORKER_DIR_ENV) or None
    if base:
        Path(base).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="vnreader-job-", dir=base))


def get_cover(storage, cover_key: str, folder: Path) -> None:
    """Put the run's staged cover into ``folder`` under its usual name (``covers/HASH.jpg`` → ``cover.jpg``)."""
    data = storage.get(cover_key)
    if data is None or sha256_of(data) != Path(cover_key).stem:
        raise StorageError(f"{storage.url}/{cover_key}", "the run's staged cover is missing or damaged",
                           fix="the article is tried again next run, when the run stages its cover again")
    atomic_write_bytes(folder / ("cover" + Path(cover_key).suffix), data)


def upload(storage, key: str, folder: Path) -> list[StagedFile]:
    """Put every file of ``folder`` under ``key/``, the record last; what was put, record last."""
    files = _files_in(folder)
    for f in files:
        storage.put(f"{key}/{f.name}", folder / f.name)
    return files


def already_staged(storage, key: str) -> list[StagedFile] | None:
    """The staged set of ``key`` when it is complete (a record whose files are all there, sizes
    matching), else None. Sizes and hashes come from the stored objects, so the run checks them."""
    objects = {o.key.split("/", 1)[1]: o for o in storage.list(key) if "/" in o.key}
    names = [n for n in objects if n.endswith(records.SUFFIX)]
    if len(names) != 1:
        return None
    files = []
    for name in sorted(objects, key=lambda n: (n.endswith(records.SUFFIX), n)):
        head = storage.head(f"{key}/{name}")
        if head is None or head.sha256 is None or head.size != objects[name].size:
            return None
        files.append(StagedFile(name, head.size, head.sha256))
    return files


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------- the run's side
def put_cover(storage, out_dir: Path) -> str:
    """Stage the run's cover (if ``out_dir`` has one) as ``covers/<sha256>.<ext>``; its key, or "" without one."""
    for name in COVER_NAMES:
        path = out_dir / name
        if path.is_file():
            key = f"covers/{sha256_of(path)}{path.suffix}"
            if storage.head(key) is None:
                storage.put(key, path)
            return key
    return ""


def fetch(storage, key: str, files: list[StagedFile], out_dir: Path) -> Path:
    """Download a staged episode into ``out_dir`` (each file atomically and checked, the record
    last), then delete the staged objects; the record's path. ``StorageError`` when a file is
    missing or is not what the worker uploaded (nothing of the episode is then recorded)."""
    ordered = sorted(files, key=lambda f: (f.name.endswith(records.SUFFIX), f.name))
    if not ordered or not ordered[-1].name.endswith(records.SUFFIX):
        raise StorageError(f"{storage.url}/{key}", "the worker's answer names no episode record",
                           fix="see the worker's log; the article is tried again next run")
    for f in ordered:
        target = out_dir / f.name
        if f.name != Path(f.name).name or f.name.startswith("."):
            raise StorageError(f"{storage.url}/{key}/{f.name}", "not a plain file name",
                               fix="see the worker's log; the article is tried again next run")
        if target.is_file() and target.stat().st_size == f.size and sha256_of(target) == f.sha256:
            continue
        data = storage.get(f"{key}/{f.name}")
        if data is None or len(data) != f.size or sha256_of(data) != f.sha256:
            what = "missing" if data is None else f"{len(data)} bytes, not the {f.size} the worker uploaded" \
                if len(data) != f.size else "not what the worker uploaded (SHA-256 differs)"
            raise StorageError(f"{storage.url}/{key}/{f.name}", f"staged file {what}",
                               fix="the article is rendered again next run; check that nothing else writes "
                                   "under the staging prefix")
        try:
            atomic_write_bytes(target, data)
        except OSError as e:
            raise StorageError(target, f"cannot write: {e.strerror or e}",
                               fix="free disk space, or check that the output folder is writable") from e
    for f in ordered:
        storage.delete(f"{key}/{f.name}")
    return out_dir / ordered[-1].name
