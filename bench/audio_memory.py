#!/usr/bin/env python3
"""Peak memory of build_episode for a long episode, against a short one and the size of its PCM.

    .venv/bin/python bench/audio_memory.py [--hours 2] [--base-hours 0.1] [--rate 22050] [--runs 5] [--quick]

Builds an episode of N hours from synthetic sentence clips (a small pool of distinct
clips reused, so the input itself takes little memory and what is measured is the audio
stage: join, loudness, limiter, MP3 encoding, tags, transcripts). Each build is a child
process (this script with ``--child``) that reads its own peak RSS (resource.getrusage)
after the imports and after build_episode. The short (baseline, ``--base-hours``) and the
long build run in turn, ``--runs`` times, in rotating order (bench/_stats.py); prints the
median and spread (min–max) of each growth, and compares the long one with the size of the
episode's PCM as int16 and as float64. ``--quick``: a 30-minute long episode.
End to end (real clips from espeak-ng, the path users run) is bench/memory.py.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _stats import interleave, ratio, runs_arg

ROOT = Path(__file__).resolve().parents[1]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child(hours: float, rate: int) -> None:
    """``--child``: build one episode here and print its figures as one JSON line."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from reader.audio import EpisodeMeta, Segment, build_episode
    from reader.models import Clip, Sentence

    rng = np.random.default_rng(0)
    pool = []
    for i in range(16):  # 16 distinct 4-second "sentences": harmonic vowels with a syllable envelope
        n = 4 * rate
        t = np.arange(n) / rate
        f0 = 110 + 10 * i
        x = sum(np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6.3)) / k for k in range(1, int(rate / 2 / f0)))
        x = x * np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 2
        pool.append((x / np.abs(x).max() * 0.5 * 32767).astype("<i2").tobytes())
    per_clip = 4.0 + 0.3  # speech + the sentence pause
    n_clips = int(hours * 3600 / per_clip)
    segments, clips = [], []
    for j in range(n_clips):
        s = Sentence(f"Câu số {j}.", f"câu số {j}", paragraph=1 + j // 5)
        clips.append(Clip(pool[j % len(pool)], rate, "synthetic", "v", s))
        if len(clips) == 200:
            segments.append(Segment(f"Phần {len(segments) + 1}", tuple(clips)))
            clips = []
    if clips:
        segments.append(Segment(f"Phần {len(segments) + 1}", tuple(clips)))

    import scipy.signal  # noqa: F401  (imported by the meter anyway; ~75 MiB of RSS on its own)

    before = peak_mb()
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        ep = build_episode(segments, EpisodeMeta(title="memory bench"), Path(d) / "long.mp3")
        took = time.perf_counter() - t0
    after = peak_mb()
    samples = ep.loudness.timeline_seconds * ep.loudness.sample_rate
    print(json.dumps({"before": before, "after": after, "growth": after - before, "seconds": took,
                      "hours": ep.duration / 3600, "clips": n_clips, "chapters": len(segments),
                      "mp3_mib": ep.size / 2**20, "pcm16_mib": samples * 2 / 2**20, "pcm64_mib": samples * 8 / 2**20,
                      "lufs": ep.loudness.lufs, "gain_db": ep.loudness.gain_db}))


def build(hours: float, rate: int, name: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", str(hours), "--rate", str(rate)], check=True,
                         capture_output=True, text=True).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    return {f"{name} {k}": float(v) for k, v in figures.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--base-hours", type=float, default=0.1, help="the baseline episode (default 0.1 h)")
    ap.add_argument("--rate", type=int, default=22050)
    runs_arg(ap)
    ap.add_argument("--quick", action="store_true", help="a 30-minute long episode")
    ap.add_argument("--child", type=float, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child is not None:
        child(a.child, a.rate)
        return
    if a.quick:
        a.hours = 0.5
    f = interleave({"short": lambda: build(a.base_hours, a.rate, "short"),
                    "long": lambda: build(a.hours, a.rate, "long")}, a.runs)
    print(f"{a.runs} interleaved runs of each child, {a.rate} Hz")
    for name in ("short", "long"):
        m = {k: f[f"{name} {k}"].median for k in ("hours", "clips", "chapters", "mp3_mib", "lufs", "gain_db")}
        print(f"{name:5s}: {m['hours']:.2f} h, {m['clips']:.0f} clips in {m['chapters']:.0f} chapters, "
              f"{m['mp3_mib']:.1f} MiB MP3, loudness {m['lufs']} LUFS before encoding, gain {m['gain_db']} dB")
        print(f"       built in {f[name + ' seconds'].show('s', 1)}")
        print(f"       peak RSS after the imports {f[name + ' before'].show('MiB', 0)}")
        print(f"       growth during build_episode {f[name + ' growth'].show('MiB', 0)}")
    pcm16, pcm64 = f["long pcm16_mib"].median, f["long pcm64_mib"].median
    growth = f["long growth"]
    print(f"long episode's PCM: {pcm16:.0f} MiB as int16, {pcm64:.0f} MiB as float64; its growth is "
          f"{growth.median / pcm16:.1%} of the int16 PCM (max {growth.max / pcm16:.1%})")
    print(f"long / short peak RSS after build_episode: {ratio(f['long after'], f['short after']).show()}")


if __name__ == "__main__":
    main()
