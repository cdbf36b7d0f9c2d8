"""The on-disk clip cache: keys, round trip, LRU eviction, damaged files, two processes."""
from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from reader.models import Clip, Sentence
from reader.tts.cache import ClipCache, clip_key, default_cache_dir

BASE = dict(engine="espeak", version="1.52.0", voice="vi", rate=1.0, pitch=None, text="Xin chào.")


def clip(n: int = 100, value: int = 1) -> Clip:
    return Clip(pcm=value.to_bytes(2, "little") * n, sample_rate=22050, engine="espeak", voice="vi")


@pytest.mark.parametrize("field, other", [
    ("engine", "gtts"), ("version", "1.51"), ("voice", "en"), ("rate", 1.25), ("pitch", 60.0),
    ("text", "Xin chào!"),
], ids=["engine", "version", "voice", "rate", "pitch", "text"])
def test_every_field_changes_the_key(field, other):
    assert clip_key(**BASE) != clip_key(**{**BASE, field: other})


def test_round_trip_drops_the_sentence(tmp_path):
    cache = ClipCache(tmp_path)
    assert cache.get(**BASE) is None
    stored = Clip(pcm=b"\x01\x00\x02\x00", sample_rate=22050, engine="espeak", voice="vi",
                  sentence=Sentence("Xin chào.", "Xin chào."))
    cache.put(**BASE, clip=stored)
    got = cache.get(**BASE)
    assert got == Clip(pcm=b"\x01\x00\x02\x00", sample_rate=22050, engine="espeak", voice="vi")
    assert cache.get(**{**BASE, "rate": 1.5}) is None


def test_damaged_file_is_a_miss_and_is_removed(tmp_path):
    cache = ClipCache(tmp_path)
    cache.put(**BASE, clip=clip())
    [path] = list(tmp_path.rglob("*.clip"))
    path.write_bytes(b"garbage")
    assert cache.get(**BASE) is None
    assert not path.exists()


def test_lru_eviction_keeps_recently_used(tmp_path):
    one = len(clip(1000).pcm) + 200  # clip plus header, roughly
    cache = ClipCache(tmp_path, max_bytes=int(one * 3.5))
    for i in range(3):
        cache.put(**{**BASE, "text": f"câu {i}"}, clip=clip(1000, i))
        past = time.time() - 100 + i
        os.utime(next(tmp_path.rglob(f"{clip_key(**{**BASE, 'text': f'câu {i}'})}.clip")), (past, past))
    assert cache.get(**{**BASE, "text": "câu 0"}) is not None  # 0 is now the most recent
    cache.put(**{**BASE, "text": "câu 3"}, clip=clip(1000, 3))  # over the limit: evict
    present = [i for i in range(4) if cache.get(**{**BASE, "text": f"câu {i}"}) is not None]
    assert present == [0, 2, 3]  # the least recently used went first, and only it
    assert cache.size() <= cache.max_bytes


@pytest.mark.parametrize("env, expected", [
    ({"VNREADER_CACHE": "/x/clips", "XDG_CACHE_HOME": "/y"}, "/x/clips"),
    ({"XDG_CACHE_HOME": "/y"}, "/y/vnreader/clips"),
    ({"HOME": "/home/z"}, "/home/z/.cache/vnreader/clips"),
], ids=["env-override", "xdg", "home"])
def test_default_location(monkeypatch, env, expected):
    for name in ("VNREADER_CACHE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert default_cache_dir() == Path(expected)


def _writer(directory: str, worker: int, count: int, max_bytes: int) -> None:
    cache = ClipCache(directory, max_bytes=max_bytes)
    for i in range(count):
        text = f"câu {i % 40}"  # both processes write the same keys too
        cache.put(**{**BASE, "text": text}, clip=clip(500, i % 40))
        got = cache.get(**{**BASE, "text": f"câu {(i * 7) % 40}"})
        if got is not None:
            assert got.pcm == clip(500, (i * 7) % 40).pcm


@pytest.mark.slow
def test_two_processes_share_one_cache(tmp_path):
    max_bytes = 20 * 1200
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, 120, max_bytes)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert [p.exitcode for p in procs] == [0, 0]
    cache = ClipCache(tmp_path, max_bytes=max_bytes)
    assert cache.size() <= max_bytes
    assert not list(tmp_path.rglob("*.part"))  # no half-written files left
    for path in tmp_path.rglob("*.clip"):
        assert path.read_bytes().startswith(b"VNRCLIP1\n")
