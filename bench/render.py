#!/usr/bin/env python3
"""End-to-end offline render of a long article vs raw espeak-ng + raw lameenc, in one run.

    .venv/bin/python bench/render.py [--repeat 20]

The article is the seed (tests/data or ../shared) repeated N times. vnreader's time covers
everything from the Document on: sentence split, normalisation, synthesis, joining,
loudness, MP3 encoding, tags and transcripts (clip cache off). The baseline is the same
spoken text synthesised by espeak-ng through plain ctypes calls and encoded by lameenc,
nothing else. Prints both times and the ratio (target ≤ 1.5×).
"""
from __future__ import annotations

import argparse
import ctypes
import sys
import tempfile
import time
from dataclasses import replace
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=20)
    a = ap.parse_args()

    from reader.extract import extract
    from reader.fetch import load
    from reader.pipeline import render_document
    from reader.text import sentences

    doc = extract(load(str(SEED)))
    doc = replace(doc, paragraphs=doc.paragraphs * a.repeat)
    spoken = [s.spoken for s in sentences(doc)]
    chars = sum(len(s) for s in spoken)

    base, base_audio = baseline(spoken)
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        ep = render_document(doc, Path(d))
        ours = time.perf_counter() - t0
    print(f"article: seed x{a.repeat}, {len(spoken)} sentences, {chars} spoken characters, {ep.duration / 60:.1f} min of audio")
    print(f"raw espeak-ng + lameenc: {base:.2f} s ({base_audio / 60:.1f} min of speech)")
    print(f"vnreader end to end:     {ours:.2f} s")
    print(f"ratio {ours / base:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
