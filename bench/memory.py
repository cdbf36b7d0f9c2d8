#!/usr/bin/env python3
"""Peak memory of rendering a long article end to end, against a short one, in child processes.

    .venv/bin/python bench/memory.py [--repeat 37] [--base 1]

Each render runs in its own child process (this script with ``--child``): the seed article
(reader/samples) with its paragraphs repeated N times, through ``render_document`` with the
real espeak-ng engine and no clip cache — sentence split, normalisation, synthesis, spilling,
joining, loudness, MP3 encoding, tags, transcripts. The peak RSS of each child is read
with ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` after it exits (the baseline child
first, so the second reading is the long one). Prints both, the growth and the ratio;
the target is at most 64 MiB of growth, whatever the length.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "reader" / "samples" / "quang-ninh-2021-01-09.txt"
TARGET_MIB = 64


def child(repeat: int) -> None:
    sys.path.insert(0, str(ROOT))
    from reader.extract import extract
    from reader.fetch import load
    from reader.limits import Limits
    from reader.pipeline import RenderOptions, render_document

    doc = extract(load(str(SEED)))
    doc = replace(doc, paragraphs=doc.paragraphs * repeat)
    big = Limits(max_chars=10**9, max_sentences=10**7, max_minutes=10**6)  # measure memory, not the caps
    with tempfile.TemporaryDirectory(dir=ROOT / "audio_out" if (ROOT / "audio_out").is_dir() else None) as d:
        t0 = time.perf_counter()
        ep = render_document(doc, Path(d), RenderOptions(engine="espeak", limits=big))
        took = time.perf_counter() - t0
        size = Path(ep.path).stat().st_size
    print(json.dumps({"repeat": repeat, "minutes": ep.duration / 60, "sentences": ep.stats.sentences,
                      "chars": sum(len(p) for p in doc.paragraphs), "seconds": took, "mp3_bytes": size,
                      "sample_rate": ep.loudness.sample_rate}))


def run_child(repeat: int) -> tuple[dict, float]:
    out = subprocess.run([sys.executable, __file__, "--child", str(repeat)], check=True, capture_output=True,
                         text=True).stdout
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: KiB → MiB
    return json.loads(out.strip().splitlines()[-1]), peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=37, help="copies of the seed's paragraphs (37 ≈ 2 hours)")
    ap.add_argument("--base", type=int, default=1, help="copies in the baseline child (default 1)")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child is not None:
        child(a.child)
        return
    short, base_peak = run_child(a.base)
    long, long_peak = run_child(a.repeat)
    pcm_mib = long["minutes"] * 60 * long["sample_rate"] * 2 / 2**20
    for name, r, peak in (("baseline", short, base_peak), ("long", long, long_peak)):
        print(f"{name:8s}: seed x{r['repeat']}, {r['chars']} characters, {r['sentences']} sentences, "
              f"{r['minutes']:.1f} min of audio, rendered in {r['seconds']:.1f} s; peak RSS {peak:.0f} MiB")
    growth = long_peak - base_peak
    print(f"growth {growth:.0f} MiB for {long['minutes'] / max(short['minutes'], 1e-9):.0f}x the audio "
          f"({pcm_mib:.0f} MiB of int16 PCM); peak ratio {long_peak / base_peak:.2f}; "
          f"target <= {TARGET_MIB} MiB: {'met' if growth <= TARGET_MIB else 'MISSED'}")


if __name__ == "__main__":
    main()
