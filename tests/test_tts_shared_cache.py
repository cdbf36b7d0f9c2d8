"""reader.tts.shared_cache: the clip cache over storage (here a folder; S3 in test_storage_s3.py)."""
from __future__ import annotations

import logging

import pytest
from fakes.engines import ToneEngine

from reader import pipeline
from reader.errors import StorageError
from reader.models import Clip, Sentence
from reader.storage import LocalStorage
from reader.tts.cache import ClipCache, clip_key
from reader.tts.render import render
from reader.tts.shared_cache import SharedClipCache

SENTENCES = [Sentence(text=t, spoken=t) for t in ("Xin chào.", "Hà Nội mưa.", "Tạm biệt.")]
CLIP = Clip(pcm=b"\x01\x02" * 50, sample_rate=8000, engine="tone", voice="a")


def test_round_trip_and_miss(tmp_path):
    cache = SharedClipCache(LocalStorage(tmp_path / "shared"))
    assert cache.get("tone", "1", "a", 1.0, None, "xin chào") is None
    cache.put("tone", "1", "a", 1.0, None, "xin chào", CLIP)
    assert cache.get("tone", "1", "a", 1.0, None, "xin chào") == CLIP
    assert cache.get("tone", "1", "a", 1.25, None, "xin chào") is None  # another rate, another key
    key = clip_key("tone", "1", "a", 1.0, None, "xin chào")
    assert (tmp_path / "shared" / key[:2] / f"{key}.clip").is_file()
    assert (cache.hits, cache.misses) == (1, 2) and cache.size() > 100


def test_a_damaged_object_is_a_miss(tmp_path):
    cache = SharedClipCache(LocalStorage(tmp_path))
    cache.put("tone", "1", "a", 1.0, None, "x", CLIP)
    key = clip_key("tone", "1", "a", 1.0, None, "x")
    (tmp_path / key[:2] / f"{key}.clip").write_bytes(b"garbage")
    assert cache.get("tone", "1", "a", 1.0, None, "x") is None


def test_remote_hits_are_copied_to_the_local_cache(tmp_path):
    shared = LocalStorage(tmp_path / "shared")
    SharedClipCache(shared).put("tone", "1", "a", 1.0, None, "x", CLIP)
    local = ClipCache(tmp_path / "local")
    cache = SharedClipCache(shared, local=local)
    assert cache.get("tone", "1", "a", 1.0, None, "x") == CLIP
    assert local.get("tone", "1", "a", 1.0, None, "x") == CLIP
    assert cache.get("tone", "1", "a", 1.0, None, "x") == CLIP and cache.hits == 1  # the second from local


class BrokenStorage(LocalStorage):
    def get(self, key):
        raise StorageError("s3://b/" + key, "get: unreachable")

    def put(self, key, data, *, content_type=None):
        raise StorageError("s3://b/" + key, "put: unreachable")


def test_storage_failures_never_fail_a_render_and_are_logged_once(tmp_path, caplog):
    cache = SharedClipCache(BrokenStorage(tmp_path))
    engine = ToneEngine()
    with caplog.at_level(logging.WARNING, logger="reader.tts.shared_cache"):
        result = render(SENTENCES, engine, cache=cache)
    assert result.synthesized == 3 and len(engine.calls) == 3
    warnings = [r.getMessage() for r in caplog.records if r.name == "reader.tts.shared_cache"]
    assert len(warnings) == 1 and "could not read a clip" in warnings[0] and "unreachable" in warnings[0]


def test_render_uses_it(tmp_path):
    cache = SharedClipCache(LocalStorage(tmp_path))
    first = render(SENTENCES, ToneEngine(), cache=cache)
    engine = ToneEngine()
    again = render(SENTENCES, engine, cache=SharedClipCache(LocalStorage(tmp_path)))
    assert (first.synthesized, again.synthesized, again.cached, engine.calls) == (3, 0, 3, [])
    assert [c.pcm for c in again.clips] == [c.pcm for c in first.clips]


def test_default_cache_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("VNREADER_CACHE", str(tmp_path / "local"))
    monkeypatch.delenv("VNREADER_CACHE_URL", raising=False)
    assert type(pipeline.default_cache()) is ClipCache
    monkeypatch.setenv("VNREADER_CACHE_URL", str(tmp_path / "shared"))
    cache = pipeline.default_cache()
    assert isinstance(cache, SharedClipCache) and cache.directory == str(tmp_path / "shared")
    assert cache.local is not None and cache.local.directory == tmp_path / "local"


def test_default_cache_with_a_bad_url_warns_and_has_none(monkeypatch):
    monkeypatch.setenv("VNREADER_CACHE_URL", "gs://bucket/clips")
    seen: list[Exception] = []
    assert pipeline.default_cache(warn=seen.append) is None
    assert "unknown storage URL scheme" in str(seen[0])


@pytest.mark.parametrize("url", ["s3://", "ftp://x/y"], ids=["no-bucket", "ftp"])
def test_bad_urls_are_usage_errors(url):
    from reader.errors import UsageError
    from reader.tts.shared_cache import open_shared_cache

    with pytest.raises(UsageError):
        open_shared_cache(url)
