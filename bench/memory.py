#!/usr/bin/env python3
"""Peak memory of rendering a long article end to end, against a short one, in child processes.

    .venv/bin/python bench/memory.py [--repeat 37] [--base 1] [--runs 5] [--path read|library] [--quick]

The article is the seed (reader/samples) with its paragraphs repeated N times (37 ≈ 2 hours of
speech), written out as a text file. Each render is its own child process, with the real
espeak-ng engine and no clip cache:

* ``--path read`` (the default, the path users run): ``vnreader read FILE -o OUT.mp3 --no-cache``
  with the size caps lifted;
* ``--path library``: this script with ``--child``, calling ``pipeline.render_document``.

Either way: sentence split, normalisation, synthesis, spilling, joining, loudness, MP3
encoding, tags, transcripts. A child's peak RSS is its own ``ru_maxrss``, read with
``os.wait4`` when it exits. The short (baseline, ``--base`` copies) and the long child run in
turn, ``--runs`` times, in rotating order (bench/_stats.py); the growth is long minus short,
run by run. Prints median and spread (min–max) of each peak and of the growth; the target is
at most 64 MiB of growth, whatever the length. ``--quick``: 4 copies (about 13 minutes).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from _stats import Spread, interleave, ratio, runs_arg

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "reader" / "samples" / "quang-ninh-2021-01-09.txt"
TARGET_MIB = 64
NO_CAPS = ["--max-chars", str(10**9), "--max-sentences", str(10**7), "--max-minutes", str(10**6)]


def document(repeat: int):
    """The seed article with its paragraphs ``repeat`` times over."""
    from reader.extract import extract
    from reader.fetch import load

    doc = extract(load(str(SEED)))
    return replace(doc, paragraphs=doc.paragraphs * repeat)


def write_text(repeat: int, folder: Path) -> tuple[Path, dict]:
    """The long article as a plain-text file (headline, then one paragraph a line), and its size."""
    from reader.text import sentences

    doc = document(repeat)
    path = folder / f"seed-x{repeat}.txt"
    path.write_text(doc.title + "\n\n" + "\n\n".join(doc.paragraphs) + "\n", encoding="utf-8")
    return path, {"chars": sum(len(p) for p in doc.paragraphs), "sentences": len(sentences(doc))}


def child(repeat: int, out: str) -> None:
    """``--child``: render_document in this process (``--path library``)."""
    sys.path.insert(0, str(ROOT))
    from reader.limits import Limits
    from reader.pipeline import RenderOptions, render_document

    big = Limits(max_chars=10**9, max_sentences=10**7, max_minutes=10**6)  # measure memory, not the caps
    render_document(document(repeat), Path(out).parent, RenderOptions(engine="espeak", limits=big),
                    out_path=Path(out))


def vnreader() -> str:
    exe = Path(sys.executable).with_name("vnreader")
    return str(exe) if exe.exists() else "vnreader"


def measure(path: str, repeat: int, text: Path, folder: Path) -> dict[str, float]:
    """One child: its peak RSS (MiB), wall seconds and minutes of audio."""
    out = folder / f"x{repeat}.mp3"
    out.unlink(missing_ok=True)
    if path == "read":
        cmd = [vnreader(), "read", str(text), "-o", str(out), "--no-cache", *NO_CAPS]
    else:
        cmd = [sys.executable, __file__, "--child", str(repeat), "--out", str(out)]
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=folder,
                                env=dict(os.environ, VNREADER_CACHE=str(folder / "cache")))
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            err.seek(0)
            sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.read().decode(errors='replace')[-500:]}")
    from mutagen.mp3 import MP3

    return {"peak": usage.ru_maxrss / 1024, "seconds": took, "minutes": MP3(str(out)).info.length / 60}  # KiB → MiB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=37, help="copies of the seed's paragraphs (37 ≈ 2 hours)")
    ap.add_argument("--base", type=int, default=1, help="copies in the baseline child (default 1)")
    ap.add_argument("--path", choices=("read", "library"), default="read",
                    help="vnreader read FILE -o (default) or pipeline.render_document")
    runs_arg(ap)
    ap.add_argument("--quick", action="store_true", help="4 copies (about 13 minutes of audio)")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child is not None:
        child(a.child, a.out)
        return
    sys.path.insert(0, str(ROOT))
    if a.quick:
        a.repeat = 4
    with tempfile.TemporaryDirectory(dir=ROOT / "audio_out" if (ROOT / "audio_out").is_dir() else None) as d:
        folder = Path(d)
        (short_text, short), (long_text, long) = write_text(a.base, folder), write_text(a.repeat, folder)

        def one(name: str, repeat: int, text: Path) -> dict[str, float]:
            return {f"{name} {k}": v for k, v in measure(a.path, repeat, text, folder).items()}

        f = interleave({"short": lambda: one("short", a.base, short_text),
                        "long": lambda: one("long", a.repeat, long_text)}, a.runs)
    how = "vnreader read FILE -o OUT.mp3 --no-cache" if a.path == "read" else "pipeline.render_document"
    print(f"{how}, espeak-ng, {a.runs} interleaved runs of each child")
    for name, repeat, size in (("short", a.base, short), ("long", a.repeat, long)):
        print(f"{name:5s}: seed x{repeat}, {size['chars']} characters, {size['sentences']} sentences, "
              f"{f[name + ' minutes'].median:.1f} min of audio; rendered in {f[name + ' seconds'].show('s', 1)}")
        print(f"       peak RSS {f[name + ' peak'].show('MiB', 0)}")
    growth = Spread(tuple(lo - sh for lo, sh in zip(f["long peak"].values, f["short peak"].values)))
    pcm_mib = f["long minutes"].median * 60 * 22050 * 2 / 2**20
    print(f"growth (long - short, run by run) {growth.show('MiB', 0)} for "
          f"{f['long minutes'].median / max(f['short minutes'].median, 1e-9):.0f}x the audio "
          f"(about {pcm_mib:.0f} MiB of int16 PCM at 22050 Hz)")
    print(f"long / short peak RSS: {ratio(f['long peak'], f['short peak']).show()}")
    print(f"target: growth <= {TARGET_MIB} MiB in every run: {'met' if growth.max <= TARGET_MIB else 'MISSED'}")


if __name__ == "__main__":
    main()
