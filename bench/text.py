"""Text front-end throughput: characters per second through split + normalise, one core.

    .venv/bin/python bench/text.py [--mb 1] [--runs 5] [--quick]

Baselines measured in the same run on the same paragraphs:
  * underthesea's ``sent_tokenize`` alone (when installed: ``pip install underthesea``;
    it is not a vnreader dependency),
  * a plain regex splitter (``(?<=[.!?])\\s+(?=[A-ZĐ])``), always.
Two corpora from tests/data/text/, each repeated to the requested size: whole news
paragraphs (the segmentation gold, shared and held-out, and the seed article) and
number-dense sentences (the normalisation gold contexts, shared and held-out: the worst case).
The contenders run in turn, ``--runs`` times, in rotating order (bench/_stats.py); each line
gives the median and spread (min–max) of the rate and the ratio to the regex splitter's rate,
run by run. ``--quick``: 0.2 M characters per corpus.
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from _stats import interleave, ratio, runs_arg, timed

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "text"


def news_paragraphs() -> list[str]:
    """Whole news paragraphs as printed: the segmentation gold (shared and held-out) and the
    seed article."""
    paras = []
    for name in ("segmentation.jsonl", "heldout_segmentation.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                paras.append(json.loads(line)["text"])
    for p in (DATA / "quang-ninh-2021-01-09.txt").read_text(encoding="utf-8").split("\n"):
        if p.strip():
            paras.append(p.strip())
    return paras


def number_sentences() -> list[str]:
    """Sentences picked because they hold numbers, dates and codes: the normalisation gold
    (shared and held-out)."""
    seen: dict[str, None] = {}
    for name in ("normalization.jsonl", "heldout_normalization.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                seen.setdefault(json.loads(line)["context"], None)
    return list(seen)


def scaled(base: list[str], mb: float) -> list[str]:
    size = sum(len(p) for p in base)
    return base * max(1, int(mb * 1_000_000 / size))


def rate(fn, paras: list[str]) -> float:
    """Characters per second of one pass of ``fn`` over ``paras``."""
    return sum(len(p) for p in paras) / timed(lambda: fn(paras))


def vnreader_front_end(paras):
    from reader.text import normalize, split_sentences

    for p in paras:
        for s in split_sentences(p):
            normalize(s)


def vnreader_split_only(paras):
    from reader.text import split_sentences

    for p in paras:
        split_sentences(p)


_NAIVE = re.compile(r"(?<=[.!?])\s+(?=[A-ZĐ])")


def regex_split(paras):
    for p in paras:
        _NAIVE.split(p)


def underthesea_split(paras):
    from underthesea import sent_tokenize

    for p in paras:
        sent_tokenize(p)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=1.0, help="text size per corpus in millions of characters (default 1)")
    runs_arg(ap)
    ap.add_argument("--quick", action="store_true", help="0.2 M characters per corpus")
    a = ap.parse_args()
    if a.quick:
        a.mb = 0.2
    try:
        import underthesea  # noqa: F401
    except ImportError:
        underthesea = None
        print("underthesea not installed: comparing against the regex splitter only")
    for name, base in (("news paragraphs", news_paragraphs()), ("number-dense sentences", number_sentences())):
        paras = scaled(base, a.mb)
        chars = sum(len(p) for p in paras)
        print(f"\n{name}: {len(paras)} paragraphs, {chars / 1e6:.2f} M characters, {a.runs} interleaved runs")
        vnreader_front_end(paras[:50])  # warm up: word lists and patterns
        contenders = {"regex splitter (baseline)": regex_split, "vnreader split + normalize": vnreader_front_end,
                      "vnreader split only": vnreader_split_only}
        if underthesea is not None:
            underthesea_split(paras[:10])
            contenders["underthesea sent_tokenize"] = underthesea_split
        figures = interleave({label: lambda fn=fn, ps=paras: rate(fn, ps) / 1e6 for label, fn in contenders.items()}, a.runs)
        base = figures["regex splitter (baseline)"]
        for label, fig in figures.items():
            print(f"  {label:28s} M chars/s {fig.show(digits=2)}")
            if fig is not base:
                print(f"  {'':28s} / regex splitter: {ratio(fig, base).show(digits=3)}")
        if underthesea is not None:
            ours, theirs = figures["vnreader split + normalize"], figures["underthesea sent_tokenize"]
            print(f"  split + normalize / underthesea: {ratio(ours, theirs).show()}")


if __name__ == "__main__":
    main()
