#!/usr/bin/env python3
"""Listen now: how soon the first audio comes, against writing the whole MP3, and how loud a stream is.

    .venv/bin/python bench/first_audio.py [--runs 7] [--source FILE] [--loudness] [--quick]

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

Runs of 1, 2 and 3 are interleaved, in rotating order (bench/_stats.py); each figure prints as
median and spread (min–max) over ``--runs`` runs (``--repeat`` is the old name), with the ratio
of first audio to the whole-file time. ``--quick``: the minimum number of runs.
``--loudness`` also decodes the streamed MP3 of each bundled sample and prints its
integrated loudness against the −16 LUFS target (±1.5 LU); the seed article is the one
``reader.stream.GAIN_PLAN`` was calibrated on, the other two were not.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _stats import MIN_RUNS, interleave, ratio, runs_arg

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


def stdout_stream(source: Path) -> dict[str, float]:
    """Seconds to the first byte on the pipe ("first") and to the last ("last") of `vnreader read SOURCE --stdout`."""
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
        return {"first": t_first, "last": time.perf_counter() - t}


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    runs_arg(ap, default=7)
    ap.add_argument("--repeat", dest="runs", type=int, help=argparse.SUPPRESS)  # the old name of --runs
    ap.add_argument("--source", type=Path, default=SEED)
    ap.add_argument("--loudness", action="store_true", help="also measure the streamed loudness of the samples")
    ap.add_argument("--quick", action="store_true", help=f"{MIN_RUNS} runs")
    a = ap.parse_args(argv)
    if a.quick:
        a.runs = MIN_RUNS
    f = interleave({"whole": lambda: whole_file(a.source),  # the baseline
                    "stream": lambda: stdout_stream(a.source),
                    "ready": lambda: text_ready_to_first_audio(a.source)}, a.runs)
    print(f"source: {a.source.relative_to(ROOT) if a.source.is_relative_to(ROOT) else a.source}")
    print(f"text ready -> first audio (stream):        {f['ready'].show('s')}   target < 0.3 s")
    print(f"vnreader read --stdout: start -> 1st byte:  {f['first'].show('s')}   target < 0.6 s")
    print(f"vnreader read --stdout: start -> last byte: {f['last'].show('s')}")
    print(f"vnreader read -o x.mp3: start -> exit:      {f['whole'].show('s')}")
    print(f"first audio / whole file: {ratio(f['first'], f['whole']).show(digits=3)}")
    if a.loudness:
        for s in SAMPLES:
            lufs = loudness(s)
            note = "calibration article" if s == SEED else "not calibrated on"
            print(f"streamed loudness {s.name}: {lufs:.2f} LUFS ({lufs + 16:+.2f} LU from -16; {note})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
