#!/usr/bin/env python3
"""Speech-stage figures: clip-cache reuse and gTTS concurrency against the local fake.

    .venv/bin/python bench/tts.py [--delay 0.15] [--repeat 2] [--runs 5] [--quick]

(a) Warm cache: render the seed article with espeak into an empty clip cache (the baseline),
    and, into a cache that holds the seed already, the seed with one paragraph changed; count
    engine calls both times. Only the changed paragraph's sentences should reach the engine.
(b) gTTS against the local fake of Google's endpoint answering each request after
    ``--delay`` seconds: wall time one request at a time (the baseline) vs the engine's
    default concurrency, and the most requests the fake saw in any one-second window
    compared with the configured request rate. Target: ≥ 3× faster, never above the rate.

Both run ``--runs`` times, baseline and candidate interleaved (bench/_stats.py); times print as
median and spread (min–max) with the ratio of medians. ``--quick``: the seed once over in (b).
Everything runs offline on 127.0.0.1.
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

from _stats import interleave, ratio, runs_arg

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


def warm_cache(runs: int) -> None:
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

    engine = Counting(get_engine("espeak"))
    render(before[:1], engine)  # warm-up: the espeak worker starts

    def cold() -> dict[str, float]:
        with tempfile.TemporaryDirectory() as tmp:
            engine.calls = 0
            t0 = time.perf_counter()
            result = render(before, engine, cache=ClipCache(tmp))
            return {"cold": time.perf_counter() - t0, "cold calls": engine.calls,
                    "cold synthesized": result.synthesized}

    def warm() -> dict[str, float]:
        with tempfile.TemporaryDirectory() as tmp:
            cache = ClipCache(tmp)
            render(before, engine, cache=cache)  # not timed: the cache holds the seed
            engine.calls = 0
            t0 = time.perf_counter()
            result = render(after, engine, cache=cache)
            return {"warm": time.perf_counter() - t0, "warm calls": engine.calls,
                    "warm synthesized": result.synthesized, "warm cached": result.cached}

    f = interleave({"cold": cold, "warm": warm}, runs)

    def counts(key: str) -> str:  # the same in every run, or each run's
        values = sorted({int(v) for v in f[key].values})
        return str(values[0]) if len(values) == 1 else "/".join(map(str, values))

    print(f"(a) warm clip cache, espeak, seed article, {runs} interleaved runs")
    print(f"    sentences: {len(before)} before, {len(after)} after the edit; new or changed: {changed}")
    print(f"    cold render: {counts('cold calls')} engine calls, {counts('cold synthesized')} synthesized, "
          f"{f['cold'].show('s')}")
    print(f"    re-render:   {counts('warm calls')} engine calls, {counts('warm synthesized')} synthesized, "
          f"{counts('warm cached')} from cache, {f['warm'].show('s')}")
    print(f"    re-render / cold render: {ratio(f['warm'], f['cold']).show()}")
    print(f"    => only the changed paragraph's sentences were spoken: {counts('warm calls') == str(changed)}")


def gtts_concurrency(delay: float, repeat: int, runs: int) -> None:
    from reader.tts.gtts import GttsEngine
    from reader.tts.render import render
    from tests.fakes import without_proxies
    from tests.fakes.google_tts import FakeGoogleTTS

    sentences = split(seed_document()) * repeat
    engine = GttsEngine(timeout=10)
    with FakeGoogleTTS(delay=delay) as fake, mock.patch("gtts.tts._translate_url", fake.translate_url), \
            mock.patch.dict("os.environ", without_proxies(), clear=True):
        def one(name: str, concurrency: int | None) -> dict[str, float]:
            fake.requests.clear()
            t0 = time.perf_counter()
            result = render(sentences, engine, concurrency=concurrency)
            return {name: time.perf_counter() - t0, f"{name} requests": result.requests,
                    f"{name} peak": fake.max_rate(1.0)}

        f = interleave({"serial": lambda: one("serial", 1), "default": lambda: one("default", None)}, runs)
    print(f"(b) gTTS against the local fake, {delay * 1000:.0f} ms per request, {len(sentences)} sentences, "
          f"configured rate {engine.max_rate:g} requests/s, {runs} interleaved runs")
    for name, label in (("serial", "one at a time"), ("default", f"default ({engine.concurrency})")):
        print(f"    {label:14s} {f[name].show('s', 2)}; {f[name + ' requests'].median:.0f} requests; "
              f"max {f[name + ' peak'].max:.0f} requests in any 1 s window")
    speedup = ratio(f["serial"], f["default"])
    peak = f["default peak"].max
    print(f"    one at a time / default: {speedup.show(1)} (target >= 3x); "
          f"highest peak rate {peak:.0f}/s vs limit {engine.max_rate:g}/s: "
          f"{'within' if peak <= engine.max_rate else 'OVER'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--delay", type=float, default=0.15, help="fake gTTS answer delay, seconds (default 0.15)")
    ap.add_argument("--repeat", type=int, default=2, help="render the seed this many times over in (b)")
    runs_arg(ap)
    ap.add_argument("--quick", action="store_true", help="the seed once over in (b)")
    a = ap.parse_args()
    if a.quick:
        a.repeat = 1
    warm_cache(a.runs)
    gtts_concurrency(a.delay, a.repeat, a.runs)


if __name__ == "__main__":
    main()
