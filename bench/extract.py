#!/usr/bin/env python3
"""Extraction speed: pages per second for vnreader vs trafilatura alone, same pages, one run.

    .venv/bin/python bench/extract.py [FOLDER ...] [--rounds N] [--runs N] [--quick]

Pages a site profile covers and pages only the generic path reads are reported apart (and the
covered pages once more with the profiles off, the generic path on pages it is not meant for); each
figure is the median and spread (min–max) of interleaved runs (bench/_stats.py), trafilatura
being the baseline. ``--quick``: one round per run.

Default pages: tests/data/pages/ (the saved real pages; synthetic pages are left out). Each
page is decoded once up front; the timed part is HTML text → title + body text. vnreader
runs ``reader.extract.extract`` (profile or generic path, metadata, cleaning); trafilatura
runs ``extract_metadata`` + ``extract`` (what score_extraction.py --baseline runs). The last
ratio is above 1 when vnreader is faster.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _stats import interleave, ratio, runs_arg

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


def run_vnreader(docs, profiles=None):
    for _, html in docs:
        try:
            extract(Article(url=None, html=html), profiles=profiles)
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



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="*", default=[str(ROOT / "tests" / "data" / "pages")])
    ap.add_argument("--rounds", type=int, default=4, help="passes over the pages per run (default 4)")
    runs_arg(ap)
    ap.add_argument("--quick", action="store_true", help="one round per run")
    a = ap.parse_args()
    if a.quick:
        a.rounds = 1
    docs = pages(a.folders)
    if not docs:
        sys.exit("no .html pages found")
    mine, other = covered(docs)
    # (label, pages, profiles): the covered pages are read a second time with no profile at all,
    # the generic path's figure on pages whose right answer is known
    groups = [("pages a profile covers", mine, None), ("pages no profile covers", other, None),
              ("pages a profile covers, profiles off (generic path)", mine, ())]
    run_vnreader(docs)  # warm-up: imports, caches, profile loading
    run_trafilatura(docs)
    for label, group, profiles in groups:
        if not group:
            print(f"{label}: none among these pages")
            continue
        figures = interleave({"trafilatura": lambda g=group: rate(run_trafilatura, g, a.rounds),
                              "vnreader": lambda g=group, p=profiles: rate(lambda d: run_vnreader(d, p), g,
                                                                           a.rounds)}, a.runs)
        print(f"{label}: {len(group)} pages x {a.rounds} rounds x {a.runs} interleaved runs")
        print(f"  vnreader     pages/s {figures['vnreader'].show(digits=1)}")
        print(f"  trafilatura  pages/s {figures['trafilatura'].show(digits=1)}")
        print(f"  vnreader/trafilatura pages/s {ratio(figures['vnreader'], figures['trafilatura']).show()}")


if __name__ == "__main__":
    main()
