#!/usr/bin/env python3
"""Peak memory of build_episode for a long episode, against the size of its PCM.

    .venv/bin/python bench/audio_memory.py [--hours 2] [--rate 22050]

Builds an episode of N hours from synthetic sentence clips (a small pool of distinct
clips reused, so the input itself takes little memory and what is measured is the audio
stage: join, loudness, limiter, MP3 encoding, tags, transcripts). Prints the peak RSS
(resource.getrusage) before (after imports) and after, and compares the growth with the
size of the episode's PCM as int16 and as float64.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--rate", type=int, default=22050)
    a = ap.parse_args()

    from reader.audio import EpisodeMeta, Segment, build_episode
    from reader.models import Clip, Sentence

    rng = np.random.default_rng(0)
    pool = []
    for i in range(16):  # 16 distinct 4-second "sentences": harmonic vowels with a syllable envelope
        n = 4 * a.rate
        t = np.arange(n) / a.rate
        f0 = 110 + 10 * i
        x = sum(np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6.3)) / k for k in range(1, int(a.rate / 2 / f0)))
        x = x * np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 2
        pool.append((x / np.abs(x).max() * 0.5 * 32767).astype("<i2").tobytes())
    per_clip = 4.0 + 0.3  # speech + the sentence pause
    n_clips = int(a.hours * 3600 / per_clip)
    segments, clips = [], []
    for j in range(n_clips):
        s = Sentence(f"Câu số {j}.", f"câu số {j}", paragraph=1 + j // 5)
        clips.append(Clip(pool[j % len(pool)], a.rate, "synthetic", "v", s))
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
    pcm16, pcm64 = samples * 2 / 2**20, samples * 8 / 2**20
    print(f"episode: {ep.duration / 3600:.2f} h at {a.rate} Hz, {n_clips} clips in {len(segments)} chapters, "
          f"{ep.size / 2**20:.1f} MiB MP3, built in {took:.1f} s ({ep.duration / took:.0f}x real time)")
    print(f"loudness {ep.loudness.lufs} LUFS before encoding, gain {ep.loudness.gain_db} dB")
    print(f"PCM of the episode: {pcm16:.0f} MiB as int16, {pcm64:.0f} MiB as float64")
    print(f"peak RSS: {before:.0f} MiB before build_episode, {after:.0f} MiB after "
          f"(growth {after - before:.0f} MiB = {(after - before) / pcm16:.1%} of the int16 PCM, "
          f"{after / pcm16:.1%} counting the whole process)")


if __name__ == "__main__":
    main()
