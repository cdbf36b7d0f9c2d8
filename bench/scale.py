#!/usr/bin/env python3
"""Throughput of the render workers (``vnreader run --queue``) with 1, 2 and 3 workers, against
the single-machine run of the same local site, in one run.

    .venv/bin/python bench/scale.py [--runs 5] [--feeds 3] [--per-feed 6] [--delay 0.04]

Needs Redis on 127.0.0.1:6379 (``.ci/services`` starts it); each run has its own queue name.
The site is ``tests/queue_support.NewsSite`` (generated Vietnamese articles, real fetch and
extraction); the engine is its ``tone`` engine, which sleeps ``--delay`` seconds per sentence
and returns a tone: synthesis dominates, as with a neural voice served over HTTP by another
machine, so the sleep stands in for a remote speech server's latency (it predates the fake
OpenAI-compatible server of tests/fakes/speech_server.py, which costs the same: a wait, no
CPU). The time is ``vnreader run`` from start to exit (feeds,
fetch, extraction, rendering, feed): the workers are started and ready before it starts, and
every run starts with an empty output folder and clip cache, so everything is spoken.

Interleaved: each repeat runs local, 1, 2 and 3 workers in turn. Prints, per setting, the
median and spread (min–max) of the wall time, the throughput (audio minutes rendered per wall
second) and its ratio to the single-machine run of the same repeat; then the per-job overhead
the queue adds: zero-delay jobs through one worker against zero-delay local renders, divided
by the number of articles.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from queue_support import REDIS_URL, NewsSite, Workers, queue_env, unique_name, vnreader  # noqa: E402


def one_run(site: NewsSite, tmp: Path, workers: int, delay: float) -> tuple[float, float, int]:
    """(wall seconds, audio minutes, episodes) of one ``vnreader run`` with ``workers`` (0 = local)."""
    for name in ("out", "clips", "logs"):
        shutil.rmtree(tmp / name, ignore_errors=True)
    out = tmp / "out"
    out.mkdir()
    cfg = site.write_config(tmp / "sources.toml")
    env = queue_env(unique_name("vnreader-bench"), tmp, VNREADER_TONE_DELAY=str(delay))
    args = ["run", "--config", str(cfg), "--out", str(out), "--base-url", site.audio_url, "--quiet"]
    pool = None
    if workers:
        pool = Workers(REDIS_URL, env, tmp / "logs", n=workers)
        pool.wait_ready()
        args += ["--queue", REDIS_URL]
    try:
        start = time.perf_counter()
        r = subprocess.run(vnreader(*args), env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
    finally:
        if pool is not None:
            pool.stop()
    if r.returncode != 0:
        raise SystemExit(f"run failed ({r.returncode}):\n{r.stderr[-2000:]}")
    records = [json.loads(p.read_text(encoding="utf-8")) for p in out.glob("*.episode.json")]
    return wall, sum(d["duration"] for d in records) / 60, len(records)


def job_overhead(tmp: Path, n: int) -> tuple[float, float]:
    """(seconds per job through the queue, seconds per job here) for ``n`` jobs with nothing to render.

    The episodes are rendered once first; then the same ``n`` jobs go through one worker, all sent
    at once, and the same renders are asked for locally: each finds its finished episode, so what
    is left is the queue's own cost per job (JSON, broker, the worker's dispatch, the answer).
    """
    import os

    import queue_support
    from reader.models import Document
    from reader.pipeline import RenderOptions, article_key, render_document
    from reader.queue import Dispatcher, QueueSettings, RenderJob

    queue_support.register_engines()
    out = tmp / "reuse"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    options = RenderOptions(engine="tone")
    docs = [Document(title=t, paragraphs=tuple(p), url=f"http://127.0.0.1/{i}")
            for i, (t, p) in enumerate(queue_support.article_text(f, k) for f in range(3) for k in range(n // 3 + 1))][:n]
    for doc in docs:
        render_document(doc, out, options)
    start = time.perf_counter()
    for doc in docs:
        assert render_document(doc, out, options).reused
    local = (time.perf_counter() - start) / n
    env = queue_env(unique_name("vnreader-bench"), tmp)
    os.environ["VNREADER_QUEUE_NAME"] = env["VNREADER_QUEUE_NAME"]
    with Workers(REDIS_URL, env, tmp / "logs-reuse", n=1) as pool:
        pool.wait_ready()
        dispatcher = Dispatcher(QueueSettings.from_env(REDIS_URL), poll=0.01)
        start = time.perf_counter()
        for doc in docs:
            dispatcher.submit(RenderJob(key=article_key(doc, options), doc=doc, options=options, out_dir=str(out)), None)
        answers = [a for _, a in dispatcher.results()]
        queued = (time.perf_counter() - start) / n
    assert all(getattr(a, "reused", False) for a in answers), answers[:1]
    return queued, local


def spread(xs: list[float], fmt: str = "{:.2f}") -> str:
    return f"{fmt.format(statistics.median(xs))} ({fmt.format(min(xs))}–{fmt.format(max(xs))})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="interleaved repeats (default 5)")
    ap.add_argument("--feeds", type=int, default=3)
    ap.add_argument("--per-feed", type=int, default=6)
    ap.add_argument("--delay", type=float, default=0.04, help="seconds of synthesis per sentence (default 0.04)")
    a = ap.parse_args()
    settings = [0, 1, 2, 3]
    walls: dict[int, list[float]] = {w: [] for w in settings}
    rates: dict[int, list[float]] = {w: [] for w in settings}
    ratios: dict[int, list[float]] = {w: [] for w in settings}
    overhead: list[float] = []
    with tempfile.TemporaryDirectory(prefix="vnreader-scale-") as t:
        tmp = Path(t)
        with NewsSite(tmp / "out", feeds=a.feeds, per_feed=a.per_feed) as site:
            n = a.feeds * a.per_feed
            for rep in range(a.runs):
                local_rate = None
                for w in settings:
                    wall, minutes, eps = one_run(site, tmp, w, a.delay)
                    assert eps == n, f"{eps} episodes, expected {n}"
                    walls[w].append(wall)
                    rates[w].append(minutes / wall)
                    local_rate = minutes / wall if w == 0 else local_rate
                    ratios[w].append((minutes / wall) / local_rate)
                zero_local = one_run(site, tmp, 0, 0.0)[0]
                zero_queue = one_run(site, tmp, 1, 0.0)[0]
                overhead.append((zero_queue - zero_local) / n)
                print(f"repeat {rep + 1}/{a.runs}: " + ", ".join(f"{w or 'local'} {walls[w][-1]:.2f} s"
                                                               for w in settings)
                      + f"; zero-delay local {zero_local:.2f} s, 1 worker {zero_queue:.2f} s", flush=True)
    print(f"\n{n} articles, {a.delay:g} s of synthesis per sentence, {a.runs} interleaved runs; median (min–max)")
    print(f"{'setting':12s} {'wall s':22s} {'audio min / wall s':24s} ratio to single machine")
    for w in settings:
        name = "single" if w == 0 else f"{w} worker{'s' if w > 1 else ''}"
        print(f"{name:12s} {spread(walls[w]):22s} {spread(rates[w], '{:.3f}'):24s} {spread(ratios[w])}×")
    print(f"zero-delay run, 1 worker minus local, per article: {spread([x * 1000 for x in overhead], '{:.0f}')} ms"
          " (negative: the run fetches and extracts the next article while the worker renders)")
    with tempfile.TemporaryDirectory(prefix="vnreader-scale-") as t:
        pairs = [job_overhead(Path(t), 60) for _ in range(a.runs)]
    print(f"queue overhead per job (60 jobs with nothing to render, 1 worker, sent at once): "
          f"{spread([q * 1000 for q, _ in pairs], '{:.1f}')} ms through the queue, "
          f"{spread([loc * 1000 for _, loc in pairs], '{:.1f}')} ms here")


if __name__ == "__main__":
    main()
