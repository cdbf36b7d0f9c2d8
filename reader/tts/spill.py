"""Rendered clips go to disk as they arrive, so an article's audio is never held in memory.

    with SpillFile(out_dir) as spill:
        result = render(sentences, engine, spill=spill)   # every clip's PCM is in the file
        build_episode(...)                                 # the timeline reads one clip at a time

One anonymous temp file per render (``O_TMPFILE`` where the file system has it: nothing to
clean up after a crash), created in the output folder rather than ``/tmp``, which is often
RAM (tmpfs); the system temp folder only when the output folder cannot hold it. Clips are appended with ``pwrite`` and read back with ``pread``, so readers in
other threads need no shared file position. Closing the file frees the space.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path

from reader.errors import AudioError
from reader.models import Clip, PcmSpan


class SpillFile:
    """Append-only store of clip PCM; ``put`` returns the clip pointing into the file."""

    def __init__(self, directory: str | os.PathLike | None = None):
        self.directory = Path(directory) if directory is not None else None
        try:
            try:
                self._file = tempfile.TemporaryFile(dir=self.directory, prefix=".vnreader-spill-")
            except OSError:
                if self.directory is None:
                    raise
                self._file = tempfile.TemporaryFile(prefix=".vnreader-spill-")  # no output folder (yet): the temp dir
        except OSError as e:
            raise AudioError(self.directory or tempfile.gettempdir(), f"cannot create a spill file: {e.strerror or e}",
                             fix="check that the output folder is writable") from e
        self._fd = self._file.fileno()
        self.size = 0  #: bytes written so far

    def put(self, clip: Clip) -> Clip:
        """Write ``clip``'s PCM to the file; the returned clip has ``pcm=b""`` and ``spilled`` set."""
        if clip.spilled is not None or not clip.pcm:
            return clip
        data = clip.pcm
        offset = self.size
        try:
            view = memoryview(data)
            while view:
                n = os.pwrite(self._fd, view, offset + (len(data) - len(view)))
                view = view[n:]
        except OSError as e:
            raise AudioError(self.directory, f"cannot spill audio to disk: {e.strerror or e}",
                             fix="check free disk space in the output folder") from e
        self.size += len(data)
        return replace(clip, pcm=b"", spilled=PcmSpan(self, offset, len(data)))

    def read(self, offset: int, length: int) -> bytes:
        out = os.pread(self._fd, length, offset)
        while len(out) < length:  # pread may return short reads on some file systems
            more = os.pread(self._fd, length - len(out), offset + len(out))
            if not more:
                raise AudioError(self.directory, "the spill file is shorter than expected")
            out += more
        return out

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> SpillFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
