"""On-disk clip cache: a sentence already spoken with the same settings is never synthesised again.

A clip's key is a SHA-256 of (engine name, engine version, voice, rate, pitch, spoken text),
so a new engine version or voice misses cleanly. Each clip is one file
``<dir>/<key[:2]>/<key>.clip``: a magic line, a JSON header line (sample rate, engine, voice,
text) and the raw PCM. Files are written atomically (temp file + rename), so a reader in
another process sees a whole clip or none. Reading a clip bumps its modification time;
when the folder grows past ``max_bytes`` the least recently used clips are deleted down to
90 % of it, under an exclusive ``fcntl`` lock on ``<dir>/.lock`` so two processes never
evict at once.

Location: ``$VNREADER_CACHE`` if set, else ``$XDG_CACHE_HOME/vnreader/clips``, else
``~/.cache/vnreader/clips``.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
from pathlib import Path

from reader.fsutil import atomic_write_bytes
from reader.models import Clip

DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB: about 6 hours of 22 kHz speech
_MAGIC = b"VNRCLIP1\n"
_SUFFIX = ".clip"
_LOW_WATER = 0.9


def default_cache_dir() -> Path:
    """``$VNREADER_CACHE``, else ``$XDG_CACHE_HOME/vnreader/clips``, else ``~/.cache/vnreader/clips``."""
    if os.environ.get("VNREADER_CACHE"):
        return Path(os.environ["VNREADER_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "vnreader" / "clips"


def clip_key(engine: str, version: str, voice: str, rate: float, pitch: float | None, text: str) -> str:
    """The cache key: everything that changes the sound of a clip."""
    fields = [engine, version, voice, round(float(rate), 4), None if pitch is None else round(float(pitch), 4), text]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


class ClipCache:
    """Bounded, LRU, multi-process-safe store of rendered clips."""

    def __init__(self, directory: str | os.PathLike[str] | None = None, max_bytes: int = DEFAULT_MAX_BYTES):
        self.directory = Path(directory).expanduser() if directory is not None else default_cache_dir()
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, not {max_bytes}")
        self.max_bytes = int(max_bytes)
        self._size: int | None = None  # estimate of the folder's size; rescanned under the lock
        self._mutex = threading.Lock()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}{_SUFFIX}"

    def get(self, engine: str, version: str, voice: str, rate: float, pitch: float | None, text: str) -> Clip | None:
        """The cached clip, or None (missing or unreadable)."""
        path = self._path(clip_key(engine, version, voice, rate, pitch, text))
        try:
            data = path.read_bytes()
        except OSError:
            return None
        clip = _decode(data, text)
        if clip is None:
            with contextlib.suppress(OSError):
                path.unlink()  # damaged or a key collision: drop it, it will be rendered again
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # mark as recently used
        return clip

    def put(self, engine: str, version: str, voice: str, rate: float, pitch: float | None, text: str,
            clip: Clip) -> None:
        """Store ``clip`` (its ``sentence`` is not stored), then evict if the cache is over its size."""
        key = clip_key(engine, version, voice, rate, pitch, text)
        data = encode_clip(clip, text)
        atomic_write_bytes(self._path(key), data)
        with self._mutex:
            if self._size is not None:
                self._size += len(data)
            over = self._size is None or self._size > self.max_bytes
        if over:
            self.evict()

    def size(self) -> int:
        """Bytes of clips on disk now."""
        return sum(st.st_size for _, st in self._entries())

    def evict(self) -> int:
        """Delete least recently used clips until under 90 % of ``max_bytes``; returns how many."""
        self.directory.mkdir(parents=True, exist_ok=True)
        removed = 0
        with open(self.directory / ".lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                entries = self._entries()
                total = sum(st.st_size for _, st in entries)
                if total > self.max_bytes:
                    target = self.max_bytes * _LOW_WATER
                    for path, st in sorted(entries, key=lambda e: e[1].st_mtime_ns):
                        if total <= target:
                            break
                        with contextlib.suppress(FileNotFoundError):
                            path.unlink()
                            removed += 1
                        total -= st.st_size
                with self._mutex:
                    self._size = total
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return removed

    def _entries(self) -> list[tuple[Path, os.stat_result]]:
        out: list[tuple[Path, os.stat_result]] = []
        if not self.directory.is_dir():
            return out
        for sub in os.scandir(self.directory):
            if not sub.is_dir() or len(sub.name) != 2:
                continue
            for entry in os.scandir(sub.path):
                if entry.name.endswith(_SUFFIX) and not entry.name.startswith("."):
                    with contextlib.suppress(FileNotFoundError):
                        out.append((Path(entry.path), entry.stat()))
        return out


def encode_clip(clip: Clip, text: str) -> bytes:
    """A clip as stored: the magic line, a JSON header line (rate, engine, voice, text), the raw PCM.

    The shared clip cache (``reader/tts/shared_cache.py``) stores the same bytes as objects."""
    header = json.dumps({"sample_rate": clip.sample_rate, "engine": clip.engine, "voice": clip.voice,
                         "text": text}, ensure_ascii=False).encode()
    return _MAGIC + header + b"\n" + clip.pcm


def decode_clip(data: bytes, text: str) -> Clip | None:
    """The clip stored in ``data`` for ``text``; None when damaged or stored for another text."""
    return _decode(data, text)


def _decode(data: bytes, text: str) -> Clip | None:
    if not data.startswith(_MAGIC):
        return None
    end = data.find(b"\n", len(_MAGIC))
    if end < 0:
        return None
    try:
        head = json.loads(data[len(_MAGIC):end])
        if head["text"] != text:
            return None
        pcm = data[end + 1:]
        if len(pcm) % 2:
            return None
        return Clip(pcm=pcm, sample_rate=int(head["sample_rate"]), engine=str(head["engine"]),
                    voice=str(head["voice"]))
    except (ValueError, KeyError, TypeError):
        return None
