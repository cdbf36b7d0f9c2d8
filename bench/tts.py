#!/usr/bin/env python3
"""Speech-stage figures: clip-cache reuse and gTTS concurrency against the local fake.

    .venv/bin/python bench/tts.py [--delay 0.15] [--repeat 2]

(a) Warm cache: render the seed article with espeak into an empty clip cache, change one
    paragraph, render again, and count engine calls both times. Only the changed
    paragraph's sentences should reach the engine.
(b) gTTS against the local fake of Google's endpoint answering each request after
    ``--delay`` seconds: wall time one request at a time vs the engine's default
    concurrency, and the most requests the fake saw in any one-second window compared with
    the configured request rate. Target: ≥ 3× faster, never above the rate.

Everything runs offline on 127.0.0.1. Prints figures only; ratios are measured in the run.
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED_PATHS = (ROOT / "reader" / "samples" / "quang-ninh-2021-01-09.txt",
              ROOT.parent / "shared" / "corpus" / "seed" / "quang-ninh-2021-01-09.txt")


class Counting:
    """Wraps an engine and counts its synthesize calls."""

    def __init__(self, engine):
        self._engine, self.calls = engine, 0

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def synthesize(self, text, **kw):
        self.calls += 1
        return self._engine.synthesize(text, **kw)


def seed_document():
    """The seed as a Document, through the real fetch/extract stages when they load."""
    from reader.models import Document

    path = next(p for p in SEED_PATHS if p.is_file())
    try:
        from reader.extract import extract
        from reader.fetch import load

        return extract(load(str(path)))
    except Exception:  # noqa: BLE001 - fall back to lines when the earlier stages are not ready
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return Document(title=lines[0], paragraphs=tuple(lines[1:]))


def split(doc):
    """Sentences via reader.text when it loads, else a naive split on sentence ends."""
    try:
        from reader.text import sentences

        return sentences(doc)
    except Exception:  # noqa: BLE001
        from reader.models import Sentence

        out = [Sentence(doc.title, doc.title, -1)]
        for i, para in enumerate(doc.paragraphs, 1):
            out += [Sentence(s, s, i) for s in re.split(r"(?<=[.!?])\s+", para) if s]
        return out


def warm_cache() -> None:
    from reader.tts import get_engine
    from reader.tts.cache import ClipCache
    from reader.tts.render import render

    doc = seed_document()
    before = split(doc)
    # change the middle paragraph: one new sentence appended to it
    k = len(doc.paragraphs) // 2
    paras = list(doc.paragraphs)
    paras[k] = paras[k] + " Hội nghị diễn ra trong không khí phấn khởi."
    after = split(replace(doc, paragraphs=tuple(paras)))
    changed = len({s.spoken for s in after} - {s.spoken for s in before})

    with tempfile.TemporaryDirectory() as tmp:
        cache = ClipCache(tmp)
        engine = Counting(get_engine("espeak"))
        t0 = time.perf_counter()
        cold = render(before, engine, cache=cache)
        t_cold = time.perf_counter() - t0
        cold_calls, engine.calls = engine.calls, 0
        t0 = time.perf_counter()
        warm = render(after, engine, cache=cache)
        t_warm = time.perf_counter() - t0
    print("(a) warm clip cache, espeak, seed article")
    print(f"    sentences: {len(before)} before, {len(after)} after the edit; new or changed: {changed}")
    print(f"    cold render: {cold_calls} engine calls, {cold.synthesized} synthesized, {t_cold:.3f} s")
    print(f"    re-render:   {engine.calls} engine calls, {warm.synthesized} synthesized, "
          f"{warm.cached} from cache, {t_warm:.3f} s")
    print(f"    => only the changed paragraph's sentences were spoken: {engine.calls == changed}")


def gtts_concurrency(delay: float, repeat: int) -> None:
    from reader.tts.gtts import GttsEngine
    from reader.tts.render import render
    from tests.fakes import without_proxies
    from tests.fakes.google_tts import FakeGoogleTTS

    sentences = split(seed_document()) * repeat
    engine = GttsEngine(timeout=10)
    rows = []
    with FakeGoogleTTS(delay=delay) as fake, mock.patch("gtts.tts._translate_url", fake.translate_url), \
            mock.patch.dict("os.environ", without_proxies(), clear=True):
        for label, concurrency in (("one at a time", 1), (f"default ({engine.concurrency})", None)):
            fake.requests.clear()
            t0 = time.perf_counter()
            result = render(sentences, engine, concurrency=concurrency)
            wall = time.perf_counter() - t0
            rows.append((label, wall, result.requests, fake.max_rate(1.0)))
    print(f"(b) gTTS against the local fake, {delay * 1000:.0f} ms per request, "
          f"{len(sentences)} sentences, configured rate {engine.max_rate:g} requests/s")
    for label, wall, requests, peak in rows:
        print(f"    {label:14s} {wall:6.2f} s  {requests} requests  max {peak} requests in any 1 s window")
    speedup = rows[0][1] / rows[1][1]
    print(f"    => {speedup:.1f}x faster at the default concurrency (target >= 3x); "
          f"peak rate {rows[1][3]}/s vs limit {engine.max_rate:g}/s: "
          f"{'within' if rows[1][3] <= engine.max_rate else 'OVER'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--delay", type=float, default=0.15, help="fake gTTS answer delay, seconds (default 0.15)")
    ap.add_argument("--repeat", type=int, default=2, help="render the seed this many times over in (b)")
    a = ap.parse_args()
    warm_cache()
    gtts_concurrency(a.delay, a.repeat)


if __name__ == "__main__":
    main()
