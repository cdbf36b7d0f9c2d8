#!/usr/bin/env python3
"""Listen now: how soon the first audio comes, against writing the whole MP3, and how loud a stream is.

    .venv/bin/python bench/first_audio.py [--repeat 7] [--source FILE]

Measured on the path users run, the installed ``vnreader`` command, offline engine (espeak),
cold clip cache (a new empty cache folder for every run), each run a fresh process:

1. **text ready → first audio bytes**: in a child process, as ``pipeline.listen`` does, the
   espeak worker is started in the background and the article is loaded, extracted, split and
   normalised; the clock starts when the sentences are ready and stops when
   ``reader.stream.stream`` writes its first audio bytes (whatever is left of the worker's
   start is inside).
2. **command start → first audio bytes** of ``vnreader read SOURCE --stdout`` (the bytes
   arriving on the pipe), and the same command's time to its last byte.
3. **the baseline**: ``vnreader read SOURCE -o x.mp3``, start to exit (the whole episode).

Runs of 2 and 3 are interleaved; each figure prints as median and spread (min–max) over
``--repeat`` runs, with the ratio of first audio to the whole-file time.
``--loudness`` also decodes the streamed MP3 of each bundled sample and prints its
integrated loudness against the −16 LUFS target (±1.5 LU); the seed article is the one
``reader.stream.GAIN_PLAN`` was calibrated on, the other two were not.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "reader" / "samples" / "quang-ninh-2021-01-09.txt"
SAMPLES = [SEED, ROOT / "reader" / "samples" / "vnexpress-1.html", ROOT / "reader" / "samples" / "tienphong-2.html"]

_CHILD = r"""
import sys, time, io
from reader.extract import extract
from reader.fetch import load
from reader.text import sentences
from reader.tts import get_engine
from reader.stream import stream, warm_up
eng = get_engine("espeak")
warm_up(eng)  # as pipeline.listen does: the engine starts while the article is loaded
doc = extract(load(sys.argv[1]))
sents = sentences(doc)
t = time.perf_counter()
class Out(io.RawIOBase):
    def writable(self): return True
    def write(self, b): return len(b)
rep = stream(sents, eng, Out(), started=t)
print(rep.first_audio)
"""


def vnreader() -> str:
    exe = Path(sys.executable).with_name("vnreader")
    found = str(exe) if exe.exists() else shutil.which("vnreader")
    if not found:
        sys.exit("vnreader is not installed in this environment: make install")
    return found


def _env(cache: str) -> dict:
    return dict(os.environ, VNREADER_CACHE=cache)


def text_ready_to_first_audio(source: Path) -> float:
    with tempfile.TemporaryDirectory() as cache:
        out = subprocess.run([sys.executable, "-c", _CHILD, str(source)], env=_env(cache), check=True,
                             capture_output=True, text=True)
    return float(out.stdout.strip())


def stdout_stream(source: Path) -> tuple[float, float]:
    """(seconds to the first byte on the pipe, seconds to the last) of `vnreader read SOURCE --stdout`."""
    with tempfile.TemporaryDirectory() as cache:
        t = time.perf_counter()
        proc = subprocess.Popen([vnreader(), "read", str(source), "--stdout"], env=_env(cache),
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        first = proc.stdout.read(1)
        t_first = time.perf_counter() - t
        assert first, "no audio on standard output"
        while proc.stdout.read(1 << 16):
            pass
        proc.wait()
        return t_first, time.perf_counter() - t


def whole_file(source: Path) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        subprocess.run([vnreader(), "read", str(source), "-o", str(Path(tmp) / "x.mp3")], env=_env(tmp + "/c"),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t


def loudness(source: Path) -> float:
    import soundfile

    from reader.audio.loudness import LoudnessMeter

    with tempfile.TemporaryDirectory() as tmp:
        mp3 = Path(tmp) / "s.mp3"
        with open(mp3, "wb") as f:
            subprocess.run([vnreader(), "read", str(source), "--stdout"], env=_env(tmp + "/c"), check=True,
                           stdout=f, stderr=subprocess.DEVNULL)
        x, rate = soundfile.read(str(mp3), dtype="float32")
    meter = LoudnessMeter(rate)
    meter.add(x)
    return meter.integrated()


def spread(xs: list[float]) -> str:
    return f"median {statistics.median(xs):.3f} s (min {min(xs):.3f}, max {max(xs):.3f}, n={len(xs)})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--source", type=Path, default=SEED)
    ap.add_argument("--loudness", action="store_true", help="also measure the streamed loudness of the samples")
    a = ap.parse_args(argv)
    ready, first, last, whole = [], [], [], []
    for _ in range(a.repeat):
        ready.append(text_ready_to_first_audio(a.source))
        f, end = stdout_stream(a.source)
        first.append(f)
        last.append(end)
        whole.append(whole_file(a.source))
    print(f"source: {a.source.relative_to(ROOT) if a.source.is_relative_to(ROOT) else a.source}")
    print(f"text ready -> first audio (stream):        {spread(ready)}   target < 0.3 s")
    print(f"vnreader read --stdout: start -> 1st byte:  {spread(first)}   target < 0.6 s")
    print(f"vnreader read --stdout: start -> last byte: {spread(last)}")
    print(f"vnreader read -o x.mp3: start -> exit:      {spread(whole)}")
    ratios = [f / w for f, w in zip(first, whole)]
    print(f"first audio / whole file: median {statistics.median(ratios):.3f}x "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f})")
    if a.loudness:
        for s in SAMPLES:
            lufs = loudness(s)
            note = "calibration article" if s == SEED else "not calibrated on"
            print(f"streamed loudness {s.name}: {lufs:.2f} LUFS ({lufs + 16:+.2f} LU from -16; {note})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
