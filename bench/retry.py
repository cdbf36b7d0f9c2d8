#!/usr/bin/env python3
"""The hand-written retry loops against tenacity: what a retry costs, on the fetch path and alone.

    .venv/bin/python bench/retry.py [--calls 2000] [--runs 5] [--quick]

(a) **fetch**: ``reader.fetch.fetch_url`` against an ``httpx.MockTransport`` that answers 503
    twice, then the page (backoff 0, so only the loop's own work is timed), against the same
    GET through ``tenacity.Retrying`` (stop after 4 attempts, retry on 5xx, no wait) with the
    same client. vnreader's loop also streams the body under the size cap and keeps the total
    deadline; the tenacity one does neither, so its figure is a floor.
(b) **the loop alone**: a function failing twice with ``EngineBusy`` then returning, retried
    by a loop of the shape of ``tts.render``'s (attempts, exponential backoff with jitter, a
    cancel event) against ``tenacity.Retrying`` (stop_after_attempt, wait_random_exponential,
    retry_if_exception_type, the event's ``wait`` as its sleep), waits of 0.

The hand-written loop is the baseline; tenacity (``pip install tenacity``: not a vnreader
dependency) the candidate. The two run in turn, ``--runs`` times, in rotating order
(bench/_stats.py): median and spread (min–max) in microseconds per call, and the ratio
tenacity / vnreader. ``--quick``: 300 calls.
"""
from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from pathlib import Path

from _stats import interleave, ratio, runs_arg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGE = "<html><head><title>Tin</title></head><body><p>Nội dung bài báo.</p></body></html>".encode()


def flaky_client():
    """An httpx client whose every URL answers 503, 503, then 200 (per URL)."""
    import httpx

    seen: dict[str, int] = {}

    def handler(request):
        n = seen.get(str(request.url), 0)
        seen[str(request.url)] = n + 1
        if n < 2:
            return httpx.Response(503)
        return httpx.Response(200, content=PAGE, headers={"content-type": "text/html; charset=utf-8"})

    return httpx.Client(transport=httpx.MockTransport(handler))


def fetch_vnreader(calls: int) -> float:
    from reader.fetch import fetch_url

    with flaky_client() as client:
        t = time.perf_counter()
        for i in range(calls):
            fetch_url(f"https://bao.example/{i}", client=client, retries=3, backoff=0)
        return (time.perf_counter() - t) / calls * 1e6


def fetch_tenacity(calls: int) -> float:
    import tenacity

    with flaky_client() as client:
        retrying = tenacity.Retrying(stop=tenacity.stop_after_attempt(4), wait=tenacity.wait_none(),
                                     retry=tenacity.retry_if_result(lambda r: r.status_code >= 500))
        t = time.perf_counter()
        for i in range(calls):
            r = retrying(client.get, f"https://bao.example/{i}")
            assert r.status_code == 200
        return (time.perf_counter() - t) / calls * 1e6


class Flaky:
    """Fails twice with EngineBusy, then answers; again for the next call."""

    def __init__(self):
        self.n = 0

    def __call__(self) -> str:
        from reader.errors import EngineBusy

        self.n += 1
        if self.n % 3:
            raise EngineBusy("fake", "busy")
        return "clip"


def loop_vnreader(calls: int) -> float:
    from reader.errors import EngineBusy, EngineTimeout

    fn, cancelled, retries, backoff = Flaky(), threading.Event(), 3, 0.0

    def call():  # the shape of tts.render's _Job.call
        for attempt in range(retries + 1):
            if cancelled.is_set():
                raise RuntimeError("cancelled")
            try:
                return fn()
            except (EngineBusy, EngineTimeout):
                if attempt == retries:
                    raise
                if cancelled.wait(backoff * (2 ** attempt) * random.uniform(0.5, 1.5)):
                    raise RuntimeError("cancelled") from None
        raise AssertionError("unreachable")

    t = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - t) / calls * 1e6


def loop_tenacity(calls: int) -> float:
    import tenacity

    from reader.errors import EngineBusy, EngineTimeout

    fn, cancelled = Flaky(), threading.Event()
    retrying = tenacity.Retrying(stop=tenacity.stop_after_attempt(4), wait=tenacity.wait_random_exponential(0),
                                 retry=tenacity.retry_if_exception_type((EngineBusy, EngineTimeout)),
                                 sleep=cancelled.wait, reraise=True)
    t = time.perf_counter()
    for _ in range(calls):
        retrying(fn)
    return (time.perf_counter() - t) / calls * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=2000, help="calls per run (default 2000)")
    runs_arg(ap)
    ap.add_argument("--quick", action="store_true", help="300 calls")
    a = ap.parse_args()
    try:
        import tenacity
    except ImportError:
        sys.exit("tenacity is not installed (pip install tenacity): it is the candidate this bench measures")
    if a.quick:
        a.calls = 300
    f = interleave({"fetch vnreader": lambda: fetch_vnreader(a.calls), "fetch tenacity": lambda: fetch_tenacity(a.calls),
                    "loop vnreader": lambda: loop_vnreader(a.calls), "loop tenacity": lambda: loop_tenacity(a.calls)},
                   a.runs)
    version = getattr(tenacity, "__version__", None) or _dist_version("tenacity")
    print(f"{a.calls} calls per run, each retried twice; tenacity {version}; {a.runs} interleaved runs")
    for what, label in (("fetch", "(a) fetch, 503 503 200"), ("loop", "(b) the loop alone, busy busy ok")):
        base, cand = f[f"{what} vnreader"], f[f"{what} tenacity"]
        print(f"{label}")
        print(f"    vnreader  µs/call {base.show(digits=1)}")
        print(f"    tenacity  µs/call {cand.show(digits=1)}")
        print(f"    tenacity / vnreader {ratio(cand, base).show()}")


def _dist_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


if __name__ == "__main__":
    main()
