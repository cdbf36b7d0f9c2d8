#!/usr/bin/env python3
"""The clip cache against diskcache: the same clips stored, read, missed and evicted.

    .venv/bin/python bench/cache.py [--clips 300] [--seconds 4] [--runs 5] [--quick]

Both stores get the same clips (``--seconds`` of 22050 Hz 16-bit PCM each, with the clip
cache's header) under the same SHA-256 keys, in a fresh folder every run:

* **put**: every clip into an empty store;
* **hit**: every clip read back and decoded;
* **miss**: as many keys that are not there;
* **evict**: every clip again into a store capped at half their size (least recently used
  out: ``ClipCache(max_bytes=…)``, ``diskcache.Cache(size_limit=…,
  eviction_policy="least-recently-used")``);

and the bytes each leaves on disk. ``reader.tts.cache.ClipCache`` is the baseline; diskcache
(``pip install diskcache``: not a vnreader dependency) the candidate. The two run in turn,
``--runs`` times, in rotating order (bench/_stats.py): median and spread (min–max) of each
figure, and the ratio diskcache / ClipCache of each time. ``--quick``: 60 clips.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

from _stats import interleave, ratio, runs_arg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RATE = 22050


def clips(n: int, seconds: float) -> list[tuple[str, bytes]]:
    """(key, stored bytes) of ``n`` distinct clips of noise-like PCM."""
    from reader.tts.cache import clip_key

    size = int(seconds * RATE) * 2
    out = []
    for i in range(n):
        text = f"Câu số {i} của bài báo."
        seed = hashlib.sha256(text.encode()).digest()
        pcm = (seed * (size // len(seed) + 1))[:size]
        out.append((clip_key("espeak", "1.52", "vi", 1.0, None, text), text, pcm))
    return out


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def clipcache_run(items, cap: int) -> dict[str, float]:
    from reader.models import Clip
    from reader.tts.cache import ClipCache

    figures = {}
    with tempfile.TemporaryDirectory() as d:
        cache = ClipCache(Path(d) / "a")
        t = time.perf_counter()
        for _, text, pcm in items:
            cache.put("espeak", "1.52", "vi", 1.0, None, text, Clip(pcm, RATE, "espeak", "vi"))
        figures["ClipCache put"] = time.perf_counter() - t
        t = time.perf_counter()
        for _, text, _ in items:
            assert cache.get("espeak", "1.52", "vi", 1.0, None, text) is not None
        figures["ClipCache hit"] = time.perf_counter() - t
        t = time.perf_counter()
        for _, text, _ in items:
            assert cache.get("espeak", "1.52", "vi", 1.5, None, text) is None
        figures["ClipCache miss"] = time.perf_counter() - t
        figures["ClipCache MiB"] = folder_bytes(Path(d) / "a") / 2**20
        small = ClipCache(Path(d) / "b", max_bytes=cap)
        t = time.perf_counter()
        for _, text, pcm in items:
            small.put("espeak", "1.52", "vi", 1.0, None, text, Clip(pcm, RATE, "espeak", "vi"))
        figures["ClipCache evict"] = time.perf_counter() - t
        figures["ClipCache capped MiB"] = folder_bytes(Path(d) / "b") / 2**20
    return figures


def diskcache_run(items, cap: int) -> dict[str, float]:
    import json

    import diskcache

    from reader.tts import cache as clipcache

    def stored(text: str, pcm: bytes) -> bytes:  # the clip cache's own file layout, so both hold the same bytes
        header = json.dumps({"sample_rate": RATE, "engine": "espeak", "voice": "vi", "text": text},
                            ensure_ascii=False).encode()
        return clipcache._MAGIC + header + b"\n" + pcm

    figures = {}
    with tempfile.TemporaryDirectory() as d:
        with diskcache.Cache(os.path.join(d, "a"), size_limit=2**40, eviction_policy="least-recently-used") as c:
            t = time.perf_counter()
            for key, text, pcm in items:
                c.set(key, stored(text, pcm))
            figures["diskcache put"] = time.perf_counter() - t
            t = time.perf_counter()
            for key, text, _ in items:
                assert clipcache._decode(c.get(key), text) is not None
            figures["diskcache hit"] = time.perf_counter() - t
            t = time.perf_counter()
            for key, _, _ in items:
                assert c.get(key[::-1]) is None
            figures["diskcache miss"] = time.perf_counter() - t
        figures["diskcache MiB"] = folder_bytes(Path(d) / "a") / 2**20
        with diskcache.Cache(os.path.join(d, "b"), size_limit=cap, eviction_policy="least-recently-used") as c:
            t = time.perf_counter()
            for key, text, pcm in items:
                c.set(key, stored(text, pcm))
            figures["diskcache evict"] = time.perf_counter() - t
        figures["diskcache capped MiB"] = folder_bytes(Path(d) / "b") / 2**20
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=4.0, help="seconds of speech per clip (default 4)")
    runs_arg(ap)
    ap.add_argument("--quick", action="store_true", help="60 clips")
    a = ap.parse_args()
    try:
        import diskcache
    except ImportError:
        sys.exit("diskcache is not installed (pip install diskcache): it is the candidate this bench measures")
    if a.quick:
        a.clips = 60
    items = clips(a.clips, a.seconds)
    total = sum(len(pcm) for _, _, pcm in items)
    cap = total // 2
    f = interleave({"ClipCache": lambda: clipcache_run(items, cap), "diskcache": lambda: diskcache_run(items, cap)},
                   a.runs)
    print(f"{a.clips} clips of {a.seconds:g} s ({total / 2**20:.1f} MiB of PCM), diskcache {diskcache.__version__}, "
          f"{a.runs} interleaved runs; evict: capped at {cap / 2**20:.1f} MiB")
    for op in ("put", "hit", "miss", "evict"):
        base, cand = f[f"ClipCache {op}"], f[f"diskcache {op}"]
        per = 1000 / a.clips
        print(f"  {op:5s} ClipCache {base.median * per:7.3f} ms/clip   diskcache {cand.median * per:7.3f} ms/clip   "
              f"diskcache / ClipCache {ratio(cand, base).show()}")
    for what in ("MiB", "capped MiB"):
        print(f"  on disk ({what}): ClipCache {f[f'ClipCache {what}'].median:.1f}, "
              f"diskcache {f[f'diskcache {what}'].median:.1f}")


if __name__ == "__main__":
    main()
