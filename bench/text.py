"""Text front-end throughput: characters per second through split + normalise, one core.

    .venv/bin/python bench/text.py [--mb 1] [--repeat 3]

Baselines measured in the same run on the same paragraphs:
  * underthesea's ``sent_tokenize`` alone (when installed: ``pip install underthesea``;
    it is not a vnreader dependency),
  * a plain regex splitter (``(?<=[.!?])\\s+(?=[A-ZĐ])``), always.
Two corpora from tests/data/text/, each repeated to the requested size: whole news
paragraphs (the segmentation gold, shared and held-out, and the seed article) and
number-dense sentences (the normalisation gold contexts, shared and held-out: the worst case). One line per contender; the best of
``--repeat`` runs counts.
"""
from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

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


def best_rate(fn, paras: list[str], repeat: int) -> float:
    chars = sum(len(p) for p in paras)
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn(paras)
        best = min(best, time.perf_counter() - t)
    return chars / best


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
    ap.add_argument("--repeat", type=int, default=3, help="runs per contender; the best counts (default 3)")
    a = ap.parse_args()
    try:
        import underthesea  # noqa: F401
    except ImportError:
        underthesea = None
        print("underthesea not installed: comparing against the regex splitter only")
    for name, base in (("news paragraphs", news_paragraphs()), ("number-dense sentences", number_sentences())):
        paras = scaled(base, a.mb)
        chars = sum(len(p) for p in paras)
        print(f"\n{name}: {len(paras)} paragraphs, {chars / 1e6:.2f} M characters, best of {a.repeat}")
        vnreader_front_end(paras[:50])  # warm up: word lists and patterns
        rates = {"vnreader split + normalize": best_rate(vnreader_front_end, paras, a.repeat),
                 "vnreader split only": best_rate(vnreader_split_only, paras, a.repeat),
                 "regex splitter (baseline)": best_rate(regex_split, paras, a.repeat)}
        if underthesea is not None:
            underthesea_split(paras[:10])
            rates["underthesea sent_tokenize (baseline)"] = best_rate(underthesea_split, paras, a.repeat)
        ours = rates["vnreader split + normalize"]
        for label, rate in rates.items():
            print(f"  {label:40s} {rate / 1e6:7.2f} M chars/s   split+normalize / this = {ours / rate:5.2f}")


if __name__ == "__main__":
    main()
