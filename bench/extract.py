#!/usr/bin/env python3
"""Extraction speed: pages per second for vnreader vs trafilatura alone, same pages, one run.

    .venv/bin/python bench/extract.py [FOLDER ...] [--rounds N]

Default pages: tests/data/pages/ (the saved real pages; synthetic pages are left out). Each
page is decoded once up front; the timed part is HTML text → title + body text. vnreader
runs ``reader.extract.extract`` (profile or generic path, metadata, cleaning); trafilatura
runs ``extract_metadata`` + ``extract`` (what score_extraction.py --baseline runs). The last
line is the ratio (above 1 = vnreader is faster).
"""
from __future__ import annotations

import argparse
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


def timed(fn, docs, rounds: int) -> float:
    fn(docs)  # warm-up: imports, caches, profile loading
    start = time.perf_counter()
    for _ in range(rounds):
        fn(docs)
    return len(docs) * rounds / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="*", default=[str(ROOT / "tests" / "data" / "pages")])
    ap.add_argument("--rounds", type=int, default=20)
    a = ap.parse_args()
    docs = pages(a.folders)
    if not docs:
        sys.exit("no .html pages found")
    load_profiles()
    ours = timed(run_vnreader, docs, a.rounds)
    theirs = timed(run_trafilatura, docs, a.rounds)
    print(f"pages {len(docs)} x {a.rounds} rounds")
    print(f"vnreader     {ours:8.1f} pages/s")
    print(f"trafilatura  {theirs:8.1f} pages/s")
    print(f"ratio vnreader/trafilatura {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
