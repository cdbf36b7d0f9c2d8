#!/usr/bin/env python3
"""Exact bylines and leads over every saved page that has an expected text.

    .venv/bin/python tools/score_bylines.py [FOLDER] [--generic] [-v]

FOLDER defaults to tests/data/pages/ (searched recursively, synthetic pages included). Each
``NAME.html`` with a ``NAME.expected.txt`` beside it is extracted as the scorer runs it (a bare
file path, so the profile is found from the page; ``--generic``: with no profiles at all).
Counted: pages whose ``Document.author`` equals the ``AUTHOR:`` line exactly, out of the pages
with one; pages whose ``Document.lead`` equals line 2 (the sapo) exactly, out of all pages.
``-v`` prints one line per miss.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reader.errors import ReaderError  # noqa: E402
from reader.extract import extract  # noqa: E402
from reader.fetch import load  # noqa: E402


def expected(path: Path) -> tuple[str | None, str | None]:
    """(sapo, author) from an expected text: line 2, and the ``AUTHOR:`` line if any."""
    lines = [x for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    author = lines.pop()[len("AUTHOR:"):].strip() if lines and lines[-1].startswith("AUTHOR:") else None
    return (lines[1] if len(lines) > 1 else None), author


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", default=str(ROOT / "tests" / "data" / "pages"))
    ap.add_argument("--generic", action="store_true", help="extract with no site profiles")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    bylines = exact = leads = found = 0
    for exp in sorted(Path(a.folder).rglob("*.expected.txt")):
        page = exp.with_name(exp.name.replace(".expected.txt", ".html"))
        if not page.exists():
            continue
        lead, author = expected(exp)
        try:
            doc = extract(load(str(page)), profiles=() if a.generic else None)
            got_lead, got_author = doc.lead, doc.author
        except ReaderError as e:
            got_lead = got_author = f"<{e}>"
        name = str(page.relative_to(a.folder))
        if author is not None:
            bylines += 1
            exact += got_author == author
            if a.verbose and got_author != author:
                print(f"byline {name}: {got_author!r} != {author!r}")
        if lead is not None:
            leads += 1
            found += got_lead == lead
            if a.verbose and got_lead != lead:
                print(f"lead   {name}: {str(got_lead)[:60]!r} != {lead[:60]!r}")
    print(f"bylines exact {exact}/{bylines}  leads found {found}/{leads}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
