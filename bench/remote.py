#!/usr/bin/env python3
"""The remote speech engine against the local fake server: concurrency, and the rate limit held.

    PYTHONPATH=. .venv/bin/python bench/remote.py [--delay 0.1] [--runs 5] [--rate 20]

(a) Concurrency: the seed article's sentences (the first ``--sentences``) rendered through
    the ``remote`` engine with 1, 2, 4 and 8 requests in flight, against the fake answering
    every request after ``--delay`` seconds (a GPU model's fixed cost per request). The four
    settings are interleaved in every run; ``--runs`` runs; median wall time, its spread
    (min–max), and the speed-up against concurrency 1 measured in the same runs.
(b) Rate limit: ``rate = --rate`` requests per second, concurrency 8, a fast fake; the most
    requests the fake saw arrive in any one-second window, (1) one process, (2) two processes
    sharing one Redis bucket (``rate_url``, redis://127.0.0.1:6379/3, a random key), and for
    contrast (3) two processes each with its own in-process bucket. Interleaved, ``--runs``
    runs, median and min–max. Target: (1) and (2) never above the rate.

No cache: every sentence reaches the server. Everything runs on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = ROOT / "reader" / "samples" / "quang-ninh-2021-01-09.txt"
REDIS = "redis://127.0.0.1:6379/3"


def seed_sentences(n: int):
    from reader.extract import extract
    from reader.fetch import load
    from reader.text import sentences

    out = sentences(extract(load(str(SEED))))
    while len(out) < n:
        out = out + out
    return out[:n]


class Recording:
    """A limiter that remembers every start slot it handed out (seconds of its own clock)."""

    def __init__(self, inner):
        self.inner, self.slots = inner, []

    def acquire(self) -> float:
        slot = self.inner.acquire()
        self.slots.append(slot)
        return slot


def render_remote(url: str, sentences, *, concurrency: int, rate: float = 0.0, rate_url: str | None = None,
                  key: str | None = None) -> tuple[float, list[float]]:
    """(wall seconds, start slots) to render ``sentences`` through the remote engine (no cache)."""
    from reader.config import SpeechSettings
    from reader.ratelimit import RedisTokenBucket, TokenBucket
    from reader.tts import get_engine
    from reader.tts.render import render

    settings = SpeechSettings(url=url, concurrency=concurrency, rate=rate, rate_url=rate_url)
    limiter = None
    if rate:
        limiter = Recording(RedisTokenBucket(rate_url, key or "", rate) if rate_url else TokenBucket(rate))
    engine = get_engine("remote", speech=settings, limiter=limiter)
    t0 = time.perf_counter()
    render(sentences, engine)
    return time.perf_counter() - t0, limiter.slots if limiter else []


def _child(url, n, concurrency, rate, rate_url, key, barrier, out):
    sentences = seed_sentences(n)
    barrier.wait()
    out.put(render_remote(url, sentences, concurrency=concurrency, rate=rate, rate_url=rate_url, key=key)[1])


def spread(xs: list[float], fmt: str = "{:.2f}") -> str:
    return f"median {fmt.format(statistics.median(xs))} (min–max {fmt.format(min(xs))}–{fmt.format(max(xs))})"


def concurrency(delay: float, runs: int, n: int) -> None:
    from tests.fakes.speech_server import FakeSpeechServer

    levels = (1, 2, 4, 8)
    sentences = seed_sentences(n)
    times: dict[int, list[float]] = {c: [] for c in levels}
    with FakeSpeechServer(delay=delay) as fake:
        for run in range(runs):
            order = levels if run % 2 == 0 else tuple(reversed(levels))  # interleaved, both directions
            for c in order:
                times[c].append(render_remote(fake.base_url, sentences, concurrency=c)[0])
    print(f"(a) concurrency: {n} sentences, fake answers after {delay * 1000:.0f} ms, {runs} interleaved runs")
    base = statistics.median(times[1])
    for c in levels:
        speedups = [t1 / tc for t1, tc in zip(times[1], times[c])]
        print(f"    concurrency {c}: wall {spread(times[c])} s; speed-up vs 1: {spread(speedups)}x"
              f" (ideal {c}x; median of medians {base / statistics.median(times[c]):.2f}x)")


def rate_limit(rate: float, runs: int, n: int) -> None:
    """Every configuration renders in child processes (the fake alone in this one), so they compare alike."""
    import redis

    from tests.fakes.speech_server import FakeSpeechServer, busiest

    ctx = multiprocessing.get_context("spawn")
    setups = {"one process": (1, False), "two processes, one Redis bucket": (2, True),
              "two processes, a bucket each (no sharing)": (2, False)}
    arrivals: dict[str, list[float]] = {label: [] for label in setups}
    slots: dict[str, list[float]] = {label: [] for label in setups}
    with FakeSpeechServer(delay=0.01) as fake:
        for _ in range(runs):
            for label, (procs_n, shared) in setups.items():
                fake.requests.clear()
                key = f"vnreader-bench:{uuid.uuid4().hex}"
                barrier, out = ctx.Barrier(procs_n), ctx.Queue()
                procs = [ctx.Process(target=_child, args=(fake.base_url, n, 8, rate, REDIS if shared else None,
                                                          key, barrier, out)) for _ in range(procs_n)]
                for p in procs:
                    p.start()
                starts = sorted(s for _ in procs for s in out.get(timeout=300))
                for p in procs:
                    p.join()
                if shared:
                    redis.Redis.from_url(REDIS).delete(key)
                arrivals[label].append(float(fake.max_rate(1.0)))
                slots[label].append(float(busiest(starts, 1.0)))
    print(f"(b) rate limit {rate:g} requests/s, concurrency 8, {n} sentences per process, {runs} interleaved runs;")
    print("    busiest one-second window, counted at the limiter (start slots) and at the server (arrivals)")
    for label in setups:
        held = "held" if max(slots[label]) <= rate else "over the limit"
        print(f"    {label:42s} slots {spread(slots[label], '{:.0f}')}, arrivals {spread(arrivals[label], '{:.0f}')}; "
              f"{held} at the limiter")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--delay", type=float, default=0.1, help="fake server's answer delay, seconds (default 0.1)")
    ap.add_argument("--runs", type=int, default=5, help="interleaved runs (default 5)")
    ap.add_argument("--sentences", type=int, default=32, help="sentences per render in (a) (default 32)")
    ap.add_argument("--rate", type=float, default=20.0, help="requests per second in (b) (default 20)")
    ap.add_argument("--only", choices=("a", "b"), default=None, help="run only part (a) or (b)")
    a = ap.parse_args()
    from tests.fakes import PROXY_VARS

    for name in PROXY_VARS:  # the fake is on 127.0.0.1
        os.environ.pop(name, None)
    if a.only != "b":
        concurrency(a.delay, a.runs, a.sentences)
    if a.only != "a":
        rate_limit(a.rate, a.runs, round(a.rate * 1.5))


if __name__ == "__main__":
    main()
