"""A clip cache over object storage, so render workers on several machines share spoken sentences.

:class:`SharedClipCache` has the interface of :class:`reader.tts.cache.ClipCache` (``get``,
``put``, ``directory``), so ``tts.render`` takes either. A clip is one object
``<key[:2]>/<key>.clip`` under the storage's root, with the same key (engine, version, voice,
rate, pitch, text) and the same bytes as the folder cache writes; an S3 PUT is atomic, so a
worker on another machine reads a whole clip or none.

Turned on by ``VNREADER_CACHE_URL=s3://bucket/prefix`` (``pipeline.default_cache``); the
folder cache (``$VNREADER_CACHE``) then sits in front as a local copy: a hit there costs no
request, a remote hit is copied there. Nothing is evicted from the bucket: give the prefix a
lifecycle rule (e.g. expire objects after 30 days). Keep it apart from the prefix a feed is
published to (publishing never deletes ``.clip`` objects, but a separate prefix is clearer).

A storage failure never fails a render: a ``get`` that fails is a miss, a ``put`` that fails
is skipped; the first failure is logged once (warning, logger ``reader.tts.shared_cache``).
"""
from __future__ import annotations

import logging
import threading

from reader.errors import StorageError
from reader.models import Clip
from reader.storage import Storage
from reader.tts.cache import ClipCache, clip_key, decode_clip, encode_clip

log = logging.getLogger(__name__)
CACHE_URL_ENV = "VNREADER_CACHE_URL"


class SharedClipCache:
    """Clips in ``storage`` (see the module docstring), with an optional folder cache in front."""

    def __init__(self, storage: Storage, local: ClipCache | None = None):
        self.storage = storage
        self.local = local
        self.directory = storage.url  #: where the clips are (tts.render names it in its warnings)
        self.hits = 0  #: remote hits (a local hit does not count)
        self.misses = 0
        self._warned = False
        self._mutex = threading.Lock()

    @staticmethod
    def object_key(key: str) -> str:
        return f"{key[:2]}/{key}.clip"

    def get(self, engine: str, version: str, voice: str, rate: float, pitch: float | None, text: str) -> Clip | None:
        """The clip from the local copy, else from the storage (then copied locally), else None."""
        if self.local is not None:
            clip = self.local.get(engine, version, voice, rate, pitch, text)
            if clip is not None:
                return clip
        key = self.object_key(clip_key(engine, version, voice, rate, pitch, text))
        try:
            data = self.storage.get(key)
        except StorageError as e:
            self._warn("read", e)
            return None
        clip = decode_clip(data, text) if data is not None else None
        with self._mutex:
            if clip is None:
                self.misses += 1
            else:
                self.hits += 1
        if clip is not None and self.local is not None:
            self._put_local(engine, version, voice, rate, pitch, text, clip)
        return clip

    def put(self, engine: str, version: str, voice: str, rate: float, pitch: float | None, text: str,
            clip: Clip) -> None:
        """Store ``clip`` in the storage (and the local copy); a storage failure is logged, not raised."""
        key = self.object_key(clip_key(engine, version, voice, rate, pitch, text))
        try:
            self.storage.put(key, encode_clip(clip, text), content_type="application/octet-stream")
        except StorageError as e:
            self._warn("store", e)
        if self.local is not None:
            self._put_local(engine, version, voice, rate, pitch, text, clip)

    def size(self) -> int:
        """Bytes of clips in the storage now (one listing)."""
        return sum(o.size for o in self.storage.list() if o.key.endswith(".clip"))

    def evict(self) -> int:
        """Nothing: a bucket's lifecycle rule expires old clips (the local copy evicts itself)."""
        return 0

    def _put_local(self, engine: str, version: str, voice: str, rate: float, pitch: float | None, text: str,
                   clip: Clip) -> None:
        assert self.local is not None
        try:
            self.local.put(engine, version, voice, rate, pitch, text, clip)
        except OSError as e:
            self._warn("copy locally", e)

    def _warn(self, what: str, error: Exception) -> None:
        with self._mutex:
            first, self._warned = not self._warned, True
        if first:
            log.warning("shared clip cache %s: could not %s a clip (clips are spoken again): %s",
                        self.directory, what, error)


def open_shared_cache(url: str, local: ClipCache | None = None) -> SharedClipCache:
    """The shared cache at ``url`` (``s3://bucket/prefix`` or a folder); ``UsageError`` for a bad URL."""
    from reader.storage import open_storage

    return SharedClipCache(open_storage(url), local=local)
