#!/usr/bin/env python3
"""Extraction speed: pages per second for vnreader vs trafilatura alone, same pages, one run.

    .venv/bin/python bench/extract.py [FOLDER ...] [--rounds N] [--runs N]

Pages a site profile covers and pages only the generic path reads are reported apart; each
figure is the median and spread of interleaved runs.

Default pages: tests/data/pages/ (the saved real pages; synthetic pages are left out). Each
page is decoded once up front; the timed part is HTML text → title + body text. vnreader
runs ``reader.extract.extract`` (profile or generic path, metadata, cleaning); trafilatura
runs ``extract_metadata`` + ``extract`` (what score_extraction.py --baseline runs). The last
ratio is above 1 when vnreader is faster.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reader.errors import ExtractError  # noqa: E402
from reader.extract import extract, load_profiles  # noqa: E402
from reader.fetch import decode_html  # noqa: E402
from reader.models import Article  # noqa: E402


def pages(folders: list[str]) -> list[tuple[str, str]]:
    out = []
    for folder in folders:
        for p in sorted(Path(folder).rglob("*.html")):
            if "synthetic" in p.parts:
                continue
            out.append((p.name, decode_html(p.read_bytes(), None)))
    return out


def run_vnreader(docs):
    for _, html in docs:
        try:
            extract(Article(url=None, html=html))
        except ExtractError:
            pass  # a page with no article (the saved 404 page) is refused: that is its result


def run_trafilatura(docs):
    import trafilatura

    for _, html in docs:
        trafilatura.extract_metadata(html)
        trafilatura.extract(html, include_comments=False, include_tables=False)


def rate(fn, docs, rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        fn(docs)
    return len(docs) * rounds / (time.perf_counter() - start)


def covered(docs) -> tuple[list, list]:
    """(pages a site profile claims, pages only the generic path reads)."""
    from reader.extract import pick_profile
    from reader.extract.blocks import parse

    registry = load_profiles()
    mine, other = [], []
    for name, html in docs:
        (mine if pick_profile(Article(url=None, html=html), parse(html), registry) else other).append((name, html))
    return mine, other


def spread(xs: list[float]) -> str:
    return f"median {statistics.median(xs):7.1f} (min {min(xs):.1f}, max {max(xs):.1f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="*", default=[str(ROOT / "tests" / "data" / "pages")])
    ap.add_argument("--rounds", type=int, default=4, help="passes over the pages per run (default 4)")
    ap.add_argument("--runs", type=int, default=5, help="interleaved runs of vnreader and trafilatura (default 5)")
    a = ap.parse_args()
    docs = pages(a.folders)
    if not docs:
        sys.exit("no .html pages found")
    groups = dict(zip(("pages a profile covers", "pages no profile covers"), covered(docs)))
    run_vnreader(docs)  # warm-up: imports, caches, profile loading
    run_trafilatura(docs)
    for label, group in groups.items():
        if not group:
            continue
        ours, theirs = [], []
        for _ in range(a.runs):
            ours.append(rate(run_vnreader, group, a.rounds))
            theirs.append(rate(run_trafilatura, group, a.rounds))
        ratios = [o / t for o, t in zip(ours, theirs)]
        print(f"{label}: {len(group)} pages x {a.rounds} rounds x {a.runs} interleaved runs")
        print(f"  vnreader     pages/s {spread(ours)}")
        print(f"  trafilatura  pages/s {spread(theirs)}")
        print(f"  ratio vnreader/trafilatura median {statistics.median(ratios):.2f} "
              f"(min {min(ratios):.2f}, max {max(ratios):.2f})")


if __name__ == "__main__":
    main()
