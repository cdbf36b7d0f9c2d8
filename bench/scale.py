#!/usr/bin/env python3
"""Throughput of ``vnreader run --queue`` with 1, 2 and 3 ``vnreader worker`` processes, against
the single-machine ``vnreader run`` of the same local site and the same speech server.

    PYTHONPATH=. .venv/bin/python bench/scale.py [--runs 3] [--delay 0.1] [--in-flight 1,4]
                                                 [--feeds 3] [--per-feed 6] [--engine remote|tone] [--zero-only]

Needs Redis on 127.0.0.1:6379 (``.ci/services`` starts it); each run has its own queue name.

**What runs.** The commands users run: ``python -m reader run`` and ``python -m reader worker``
(``vnreader run`` / ``vnreader worker``), each a process of its own, the workers started and
ready before the run starts (their start is not timed). The site is ``tests/queue_support.NewsSite``
(``--feeds × --per-feed`` generated Vietnamese articles, real fetch and extraction). The engine is
``remote`` (``[run] engine = "remote"`` in the sources file) against the fake OpenAI-compatible
server of ``tests/fakes/speech_server.py``, which answers each ``/v1/audio/speech`` request after
``--delay`` seconds (a GPU model's fixed cost per sentence: synthesis dominates, and it costs the
client no CPU). A fresh fake per run; every run starts with an empty output folder and clip
cache, so every sentence reaches the server.

**Concurrency.** The fake is a threading HTTP server (one thread per connection, a backlog of
64): its waits overlap, so it is not the bottleneck; the bench prints the most requests it had
in flight at once, which should be workers × ``[speech] concurrency``. ``--in-flight`` lists the
``[speech] concurrency`` values to measure (requests one render keeps in flight; default 4 in
the product): each worker renders one article at a time (``--concurrency 1``), so with W workers
and C in flight the server sees up to W × C requests at once, and the single-machine run C.

**Interleaved**: each repeat runs every setting once (single machine and 1, 2, 3 workers for each
``--in-flight`` value, and the zero-delay runs), in an order rotated from repeat to repeat, so
a busy spell of the shared machine falls on all of them alike. Prints, per setting, the median
and spread (min–max) of the wall time of ``vnreader run`` (start to exit: feeds, fetch,
extraction, rendering, feed), the throughput in audio minutes rendered per wall second, and its
ratios to the single-machine run and to 1 worker of the same repeat and in-flight value.

**The queue's per-job overhead**, two ways: (1) the same whole run with a zero-delay server,
one worker against the single machine, the difference per article (and three workers: their
wall time per article bounds what the run machine itself spends on one); (2) 60 jobs whose episodes
already exist sent at once through one worker, against the same reuse done in-process, per job
(what is left is JSON, the broker, the worker's dispatch and the answer).

``--engine tone`` keeps the older mode: an in-process engine that sleeps ``--delay`` seconds per
sentence (``tests/queue_support.py`` registers it, so the commands go through that script).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import queue_support  # noqa: E402
from fakes.speech_server import FakeSpeechServer  # noqa: E402
from queue_support import REDIS_URL, NewsSite, Workers, queue_env, unique_name  # noqa: E402

MIN_RUNS = 3


def product(*args: str) -> list[str]:
    """``vnreader ARGS`` as installed: ``python -m reader ARGS`` (no test engines registered)."""
    return [sys.executable, "-m", "reader", *args]


class ProductWorkers(Workers):
    """``queue_support.Workers``, but each is the product's own ``vnreader worker`` command."""

    def add(self, **env: str) -> subprocess.Popen:
        i = len(self.procs)
        log = open(self.logs / f"worker-{i}.log", "wb")
        proc = subprocess.Popen(product("worker", "--queue", self.url, "--concurrency", str(self.concurrency)),
                                env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        log.close()
        self.procs.append(proc)
        return proc


@dataclass(frozen=True)
class Setting:
    """One contender: ``workers`` (0 = the single-machine run), requests in flight per render, delay."""

    workers: int
    in_flight: int
    delay: float

    @property
    def label(self) -> str:
        who = "single" if self.workers == 0 else f"{self.workers} worker{'s' if self.workers > 1 else ''}"
        return f"{who}, delay {self.delay:g} s, in flight {self.in_flight}"


@dataclass(frozen=True)
class Reading:
    wall: float  #: seconds of ``vnreader run``, start to exit
    minutes: float  #: audio minutes of the episodes it made
    episodes: int
    requests: int  #: speech requests the server answered (0 for the tone engine)
    peak: int  #: most speech requests in flight at the server at once

    @property
    def rate(self) -> float:
        return self.minutes / self.wall


def one_run(site: NewsSite, tmp: Path, s: Setting, engine: str) -> Reading:
    """One ``vnreader run`` of the whole site in setting ``s``, from an empty output folder and cache."""
    for name in ("out", "clips", "logs"):
        shutil.rmtree(tmp / name, ignore_errors=True)
    out = tmp / "out"
    out.mkdir()
    extra_env: dict[str, str] = {}
    fake = None
    if engine == "remote":
        fake = FakeSpeechServer(delay=s.delay).start()
        cfg = site.write_config(tmp / "sources.toml", engine="remote",
                                extra=f'\n[speech]\nurl = "{fake.base_url}"\nconcurrency = {s.in_flight}\n')
        command, pool_class = product, ProductWorkers
    else:
        cfg = site.write_config(tmp / "sources.toml", engine="tone")
        extra_env["VNREADER_TONE_DELAY"] = str(s.delay)
        command, pool_class = queue_support.vnreader, Workers
    env = queue_env(unique_name("vnreader-bench"), tmp, **extra_env)
    env.pop("VNREADER_SPEECH_API_KEY", None)
    args = ["run", "--config", str(cfg), "--out", str(out), "--base-url", site.audio_url, "--quiet"]
    pool = None
    try:
        if s.workers:
            pool = pool_class(REDIS_URL, env, tmp / "logs", n=s.workers)
            pool.wait_ready()
            args += ["--queue", REDIS_URL]
        start = time.perf_counter()
        r = subprocess.run(command(*args), env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
    finally:
        if pool is not None:
            pool.stop()
        if fake is not None:
            fake.stop()
    if r.returncode != 0:
        raise SystemExit(f"{s.label}: run failed ({r.returncode}):\n{r.stdout[-1000:]}\n{r.stderr[-2000:]}")
    records = [json.loads(p.read_text(encoding="utf-8")) for p in out.glob("*.episode.json")]
    requests = len(fake.texts()) if fake is not None else 0
    peak = fake.max_in_flight() if fake is not None else 0
    return Reading(wall, sum(d["duration"] for d in records) / 60, len(records), requests, peak)


def job_overhead(tmp: Path, n: int) -> tuple[float, float]:
    """(seconds per job through the queue, seconds per job here) for ``n`` jobs with nothing to render.

    The episodes are rendered once first; then the same ``n`` jobs go through one worker, all sent
    at once, and the same renders are asked for locally: each finds its finished episode, so what
    is left is the queue's own cost per job (JSON, broker, the worker's dispatch, the answer).
    The engine does not matter (nothing is spoken twice): it is the test ``tone`` engine.
    """
    from reader.models import Document
    from reader.pipeline import RenderOptions, article_key, render_document
    from reader.queue import Dispatcher, QueueSettings, RenderJob

    queue_support.register_engines()
    out = tmp / "reuse"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    options = RenderOptions(engine="tone")
    texts = [queue_support.article_text(f, k) for f in range(3) for k in range(n // 3 + 1)][:n]
    docs = [Document(title=t, paragraphs=tuple(p), url=f"http://127.0.0.1/{i}") for i, (t, p) in enumerate(texts)]
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
    """``median (min–max)``."""
    return f"{fmt.format(statistics.median(xs))} ({fmt.format(min(xs))}–{fmt.format(max(xs))})"


def runs_type(text: str) -> int:
    n = int(text)
    if n < MIN_RUNS:
        raise argparse.ArgumentTypeError(f"at least {MIN_RUNS} runs (a spread needs them)")
    return n


def measure(a: argparse.Namespace, settings: list[Setting], zero: list[Setting]) -> dict[Setting, list[Reading]]:
    """Every setting once per repeat, in an order rotated by one each repeat; the readings per setting."""
    readings: dict[Setting, list[Reading]] = {s: [] for s in settings + zero}
    n = a.feeds * a.per_feed
    order = settings + zero
    with tempfile.TemporaryDirectory(prefix="vnreader-scale-") as t:
        tmp = Path(t)
        with NewsSite(tmp / "out", feeds=a.feeds, per_feed=a.per_feed) as site:
            for rep in range(a.runs):
                k = rep % len(order)
                for s in order[k:] + order[:k]:
                    got = one_run(site, tmp, s, a.engine)
                    if got.episodes != n:
                        raise SystemExit(f"{s.label}: {got.episodes} episodes, expected {n}")
                    readings[s].append(got)
                print(f"repeat {rep + 1}/{a.runs}: " + ", ".join(
                    f"[{s.workers or 'local'}×{s.in_flight}{'' if s.delay else ' zero'}] {readings[s][-1].wall:.2f} s"
                    for s in order), flush=True)
    return readings


def report(a: argparse.Namespace, settings: list[Setting], zero: list[Setting],
           readings: dict[Setting, list[Reading]]) -> None:
    n = a.feeds * a.per_feed
    first = readings[(settings or zero)[0]][0]
    cost = f"{a.delay:g} s per {'request' if a.engine == 'remote' else 'sentence'}" if settings else "zero delay"
    print(f"\n{n} articles in {a.feeds} feeds, engine {a.engine}, {cost}, {first.requests or '?'} sentences, "
          f"{first.minutes:.2f} audio minutes per run; {a.runs} interleaved runs, median (min–max)")
    if settings:
        print(f"{'setting':20s} {'wall s':20s} {'audio min / wall s':22s} {'× single':18s} {'× 1 worker':18s} "
              "server peak in flight")
    for s in settings:
        rs = readings[s]
        base = readings[Setting(0, s.in_flight, s.delay)]
        one = readings[Setting(1, s.in_flight, s.delay)]
        vs_single = [r.rate / b.rate for r, b in zip(rs, base)]
        vs_one = [r.rate / o.rate for r, o in zip(rs, one)]
        name = ("single" if s.workers == 0 else f"{s.workers} worker{'s' if s.workers > 1 else ''}") + \
            (f", C={s.in_flight}" if a.engine == "remote" else "")
        print(f"{name:20s} {spread([r.wall for r in rs]):20s} {spread([r.rate for r in rs], '{:.3f}'):22s} "
              f"{spread(vs_single) + '×':18s} {spread(vs_one) + '×':18s} "
              f"{spread([float(r.peak) for r in rs], '{:.0f}') if a.engine == 'remote' else '-'}")
    local, queued, three = (readings[s] for s in zero)
    per_article = [(q.wall - loc.wall) / n * 1000 for q, loc in zip(queued, local)]
    print(f"zero-delay run: single {spread([r.wall for r in local])} s, 1 worker {spread([r.wall for r in queued])} s,"
          f" 3 workers {spread([r.wall for r in three])} s")
    print(f"  1 worker minus single, per article: {spread(per_article, '{:.0f}')} ms (negative: the run fetches and "
          "extracts the next article while the worker renders)")
    print(f"  3 workers, wall per article (the run machine's own part, an upper bound): "
          f"{spread([r.wall / n * 1000 for r in three], '{:.0f}')} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=runs_type, default=3, help=f"interleaved repeats, at least {MIN_RUNS} (default 3)")
    ap.add_argument("--feeds", type=int, default=3)
    ap.add_argument("--per-feed", type=int, default=6)
    ap.add_argument("--delay", type=float, default=0.1,
                    help="seconds the speech server takes per request (remote) or the engine sleeps per sentence "
                         "(tone); default 0.1")
    ap.add_argument("--in-flight", default="1,4",
                    help="comma-separated [speech] concurrency values (requests one render keeps in flight); "
                         "remote only; default 1,4")
    ap.add_argument("--engine", choices=("remote", "tone"), default="remote")
    ap.add_argument("--zero-only", action="store_true", help="only the zero-delay runs (the queue's overhead and "
                    "the run machine's own part)")
    ap.add_argument("--no-reuse", action="store_true", help="skip the 60-job reuse measurement of the queue's cost")
    a = ap.parse_args()
    flights = [int(x) for x in a.in_flight.split(",")] if a.engine == "remote" else [1]
    settings = [Setting(w, c, a.delay) for c in flights for w in (0, 1, 2, 3)]
    zero = [Setting(w, flights[-1], 0.0) for w in (0, 1, 3)]
    if a.zero_only:
        settings = []
    readings = measure(a, settings, zero)
    report(a, settings, zero, readings)
    if not a.no_reuse:
        with tempfile.TemporaryDirectory(prefix="vnreader-scale-") as t:
            pairs = [job_overhead(Path(t), 60) for _ in range(a.runs)]
        print(f"queue overhead per job (60 jobs with nothing to render, 1 worker, sent at once): "
              f"{spread([q * 1000 for q, _ in pairs], '{:.1f}')} ms through the queue, "
              f"{spread([loc * 1000 for _, loc in pairs], '{:.1f}')} ms here")


if __name__ == "__main__":
    main()
