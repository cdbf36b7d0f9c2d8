#!/usr/bin/env python3
"""End-to-end offline render of a long article vs raw espeak-ng + raw lameenc, in one run.

    .venv/bin/python bench/render.py [--repeat 20] [--runs 5]

The article is the seed with its body repeated N times, as a text file. vnreader's time is
the path users run: `vnreader read FILE -o x.mp3 --no-cache`, start to exit (extraction,
split, normalisation, synthesis in the espeak worker, joining, loudness, MP3, tags,
transcripts). The baseline, in its own process, is the same spoken sentences synthesised by
espeak-ng through plain ctypes calls and encoded by lameenc one after the other, nothing else
(the text preparation is not timed). Runs are interleaved; prints median and spread of each
and of the ratio (target ≤ 1.0×: the serial work of the two libraries), and the machine's
load average before and after (other work on the same cores slows the overlapped render,
which needs both, more than the serial baseline, which needs one).
"""
from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = ROOT / "reader" / "samples" / "quang-ninh-2021-01-09.txt"


class RawEspeak:
    """The thinnest possible espeak-ng: initialise, set the voice, synthesise, collect samples."""

    CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

    def __init__(self):
        import espeakng_loader

        lib = ctypes.cdll.LoadLibrary(espeakng_loader.get_library_path())
        lib.espeak_ng_InitializePath(espeakng_loader.get_data_path().encode())
        assert lib.espeak_ng_Initialize(None) == 0
        assert lib.espeak_ng_InitializeOutput(1, 0, None) == 0  # synchronous
        self.rate = lib.espeak_ng_GetSampleRate()
        self.buf = bytearray()

        def cb(wav, n, events):
            if n > 0:
                self.buf += ctypes.string_at(wav, n * 2)
            return 0

        self._cb = self.CB(cb)
        lib.espeak_SetSynthCallback(self._cb)
        assert lib.espeak_ng_SetVoiceByName(b"vi") == 0
        self.lib = lib

    def synth(self, text: str) -> bytes:
        self.buf = bytearray()
        data = text.encode() + b"\0"
        self.lib.espeak_ng_Synthesize(data, len(data), 0, 0, 0, 1, None, None)
        self.lib.espeak_ng_Synchronize()
        return bytes(self.buf)


def baseline(spoken: list[str]) -> tuple[float, float]:
    import lameenc

    t0 = time.perf_counter()
    raw = RawEspeak()
    enc = lameenc.Encoder()
    enc.set_bit_rate(64)
    enc.set_in_sample_rate(raw.rate)
    enc.set_channels(1)
    from reader.audio.encode import QUALITY  # the same LAME setting vnreader uses

    enc.set_quality(QUALITY)
    out = bytearray()
    samples = 0
    for s in spoken:
        pcm = raw.synth(s)
        samples += len(pcm) // 2
        out += enc.encode(pcm)
    out += enc.flush()
    return time.perf_counter() - t0, samples / raw.rate


_BASELINE_CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[2])
from bench.render import baseline
from reader.extract import extract
from reader.fetch import load
from reader.text import sentences
spoken = [s.spoken for s in sentences(extract(load(sys.argv[1])))]
took, audio = baseline(spoken)
print(took, audio, len(spoken))
"""


def long_text(path: Path, repeat: int) -> Path:
    """The seed article with its body repeated ``repeat`` times: a headline line, then paragraphs."""
    lines = [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    path.write_text("\n".join([lines[0], *(lines[1:] * repeat)]) + "\n", encoding="utf-8")
    return path


def run_baseline(text: Path) -> tuple[float, float, int]:
    out = subprocess.run([sys.executable, "-c", _BASELINE_CHILD, str(text), str(ROOT)], check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def run_vnreader(text: Path, tmp: Path) -> float:
    """`vnreader read FILE -o x.mp3 --no-cache`, start to exit (the path users run), into a new folder
    (an existing x.mp3 rendered from the same inputs would be reused, not rendered)."""
    exe = Path(sys.executable).with_name("vnreader")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "reader"]
    out = Path(tempfile.mkdtemp(dir=tmp)) / "x.mp3"
    t0 = time.perf_counter()
    subprocess.run([*cmd, "read", str(text), "-o", str(out), "--no-cache"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def spread(xs: list[float], unit: str = " s") -> str:
    return f"median {statistics.median(xs):.2f}{unit} (min {min(xs):.2f}, max {max(xs):.2f}, n={len(xs)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=20, help="times the seed's body is repeated (default 20)")
    ap.add_argument("--runs", type=int, default=5, help="interleaved runs of baseline and vnreader (default 5)")
    a = ap.parse_args()

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        text = long_text(tmp / "long.txt", a.repeat)
        base, ours, ratios = [], [], []
        for _ in range(a.runs):
            b, audio, n = run_baseline(text)
            o = run_vnreader(text, tmp)
            base.append(b)
            ours.append(o)
            ratios.append(o / b)
    print(f"article: seed body x{a.repeat}, {n} sentences, {audio / 60:.1f} min of speech")
    print(f"raw espeak-ng + lameenc (one after the other): {spread(base)}")
    print(f"vnreader read FILE -o x.mp3 --no-cache:        {spread(ours)}")
    print(f"ratio {spread(ratios, 'x')} (target <= 1.0x)")
    load = " ".join(f"{x:.1f}" for x in load_before) + " -> " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min) before -> after: {load} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
