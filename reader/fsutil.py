"""Atomic file writes: a temp file beside the target, fsync, then rename.

A crash at any point leaves either the old file or the new one, never half of one.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path beside ``target``; on success fsync it and rename it over ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, target)
        _fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    return atomic_write_bytes(target, text.encode(encoding))


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def output_target(output: str, inputs: tuple[str | None, ...] = ()) -> Path | None:
    """Check ``-o OUTPUT`` before any work; return the regular file to write (None = standard output).

    Writes go through a temp file and a rename, which would replace whatever ``OUTPUT`` is, so
    refuse a directory, a device, FIFO or socket, and the input file itself (same inode). A
    symlink is followed: the file it points to is written (atomically, beside the target).
    """
    from reader.errors import UsageError

    if output == "-":
        return None
    target = Path(output).expanduser().resolve()
    if target.is_dir():
        raise UsageError(output, "is a directory", fix="give a file name such as OUT.mp3")
    if target.exists() and not target.is_file():
        raise UsageError(output, "is not a regular file (a device, FIFO or socket)",
                         fix="give a file name such as OUT.mp3, or -o - for standard output")
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(output, f"{parent} is not a folder", fix="give a path in a folder, such as OUT.mp3")
    for source in inputs:
        if source in (None, "-"):
            continue
        src = Path(source).expanduser()
        if src.exists() and (target == src.resolve() or (target.exists() and os.path.samefile(src, target))):
            raise UsageError(output, "is the input file", fix="give another output name such as OUT.mp3")
    return target
