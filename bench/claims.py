#!/usr/bin/env python3
"""Claims per second: SQLite vs PostgreSQL state, 1 and 8 worker processes, one run.

    .venv/bin/python bench/claims.py [--entries N] [--runs N] [--pg URL]

Each measurement ingests ``--entries`` pending entries into a fresh state (a SQLite file in
a temp folder, or a fresh PostgreSQL schema, dropped after), then starts the worker
processes together; each loops ``claim(limit=1)`` → ``done(worker=…)`` (what a run does per
article, without the article) until nothing is left. The timed part is from the start signal
to the last worker's end; claims/s = entries / that time. The four setups are interleaved,
``--runs`` times (default 5); each prints as median and spread (min–max), with its ratio to
SQLite with 1 worker measured in the same round (the baseline: today's single-machine run).
PostgreSQL: the server on 127.0.0.1:5432 (``--pg``, default the tests' database).
"""
from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from reader.feeds import FeedEntry  # noqa: E402
from reader.models import Document  # noqa: E402
from reader.store import open_store  # noqa: E402

T0 = datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc)
DOC = Document(title="Tin", paragraphs=("Sáng 9.1, hội nghị.",), url="https://x.vn/a.html", site="x")
SETUPS = [("sqlite", 1), ("sqlite", 8), ("postgres", 1), ("postgres", 8)]


def _worker(where, name: str, start, done) -> None:
    with open_store(where) as s:
        start.wait()
        while batch := s.claim("X", name, 60, limit=1):
            for e in batch:
                s.done(e.id, doc=DOC, guid="g", episode=None, worker=name)
    done.put(name)


@contextlib.contextmanager
def fresh_state(backend: str, pg: str):
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield Path(tmp) / "state.sqlite"
    else:
        import pg_support

        pg_support.BASE_URL = pg
        with pg_support.pg_schema("vn_bench") as url:
            yield url


def measure(backend: str, workers: int, entries: int, pg: str) -> float:
    """Claims per second for one setup."""
    ctx = multiprocessing.get_context("fork")
    with fresh_state(backend, pg) as where:
        with open_store(where) as s:
            s.ingest("X", "https://x.vn/rss", [(FeedEntry(entry_id=f"id-{i}", link=f"https://x.vn/{i}.html",
                                                          title=f"Tin {i}", published=T0 - timedelta(seconds=i)),
                                                "pending", None) for i in range(entries)], None, None, now=T0)
        start, done = ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=_worker, args=(where, f"w{i}", start, done)) for i in range(workers)]
        for p in procs:
            p.start()
        time.sleep(0.5)  # every worker connected and waiting
        t = time.perf_counter()
        start.set()
        for _ in procs:
            done.get(timeout=600)
        elapsed = time.perf_counter() - t
        for p in procs:
            p.join()
        with open_store(where) as s:
            assert s.counts() == {"done": entries}, s.counts()
    return entries / elapsed


def spread(xs: list[float], unit: str = "") -> str:
    return f"median {statistics.median(xs):8.1f}{unit} (min {min(xs):.1f}, max {max(xs):.1f}, n={len(xs)})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=400)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    a = ap.parse_args(argv)
    rates: dict[tuple[str, int], list[float]] = {k: [] for k in SETUPS}
    ratios: dict[tuple[str, int], list[float]] = {k: [] for k in SETUPS}
    for _ in range(a.runs):
        got = {k: measure(*k, a.entries, a.pg) for k in SETUPS}  # interleaved: every setup once a round
        for k in SETUPS:
            rates[k].append(got[k])
            ratios[k].append(got[k] / got[("sqlite", 1)])
    print(f"{a.entries} entries, claim(limit=1) + done per entry, {a.runs} interleaved runs")
    for backend, workers in SETUPS:
        k = (backend, workers)
        print(f"{backend:8} {workers} worker{'s' if workers > 1 else ' '}: claims/s {spread(rates[k])}   "
              f"vs sqlite 1 worker: median {statistics.median(ratios[k]):.2f}x "
              f"(min {min(ratios[k]):.2f}, max {max(ratios[k]):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
