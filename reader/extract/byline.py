"""The byline step shared by page and plain-text extraction: who wrote it, and where it came from.

Vietnamese news ends the same way on a page and in pasted text: up to three short lines
after the last paragraph naming the writer ("LÊ HÀ", "NGỌC MAI - THANH HÀ", a right-aligned
"Đức Hùng", "Bài và ảnh: Minh Trí") and the outlet the story came from ("Theo TTXVN",
"(Theo VnExpress)"). ``trailing`` reads them off the end of the body; the caller removes the
lines it took. ``credit`` joins the two the way a listener hears them ("LÊ HÀ, TTXVN").

The line rules themselves (``byline_of``, ``credit_line_author``, ``source_of``,
``tidy_author``) live in ``clean.py`` with the other line rules; this module decides which
trailing lines they are asked about, in what order, and when to stop.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from reader.extract.clean import byline_of, credit_line_author, fold_key, source_of, tidy_author

MAX_LINES = 3  #: trailing lines looked at; a longer tail is body text
MAX_RIGHT_WORDS = 8  #: a right-aligned line this short, with no final full stop, is a name


@dataclass(frozen=True)
class Line:
    """One body line as the byline step sees it (filled by ``page.py`` or ``plaintext.py``)."""

    text: str  #: the paragraph's text
    right: bool = False  #: page only; right-aligned, as many sites set the byline
    prose: bool = True  #: page only; a paragraph, list item or quote (a heading or table cell is never a name)


@dataclass(frozen=True)
class Trailing:
    """What the trailing lines said (``trailing``); read by the caller to pop lines and name the author."""

    author: str | None  #: the name line nearest the end, None when there is none
    source: str | None  #: the source line nearest the end ("TTXVN"), None when there is none
    taken: int  #: lines taken from the end of the body (the caller removes them)


def name_of(line: Line) -> str | None:
    """The writer named by one line: an all-caps or short Title-Case byline, a credit line
    ("Bài và ảnh: NGỌC MAI"), or a short right-aligned line without a final full stop; else None.
    Risk: a one-line closing sentence in Title Case (``byline_of`` refuses digits, final
    periods and lines over six words)."""
    name = byline_of(line.text) or credit_line_author(line.text)
    if name is None and line.right and len(line.text.split()) <= MAX_RIGHT_WORDS and not line.text.endswith("."):
        name = tidy_author(line.text)
    return name


def trailing(lines: Sequence[Line]) -> Trailing:
    """Author and source lines at the end of ``lines``, nearest the end first, at most MAX_LINES
    of them; the first line that is neither ends the tail. One line is always left as the body."""
    author: str | None = None
    source: str | None = None
    taken = 0
    while taken < MAX_LINES and len(lines) - taken > 1:
        line = lines[len(lines) - 1 - taken]
        src = source_of(line.text)
        if src:
            source = source or src
        else:
            name = name_of(line) if line.prose else None
            if not name:
                break
            author = author or name
        taken += 1
    return Trailing(author=author, source=source, taken=taken)


def credit(author: str | None, source: str | None) -> str | None:
    """Author and source as one credit: "LÊ HÀ, TTXVN"; the source alone when no one is named;
    the author alone when it names the source already ("Minh Anh (Theo TTXVN)")."""
    if author and source and fold_key(source) not in fold_key(author):
        return f"{author}, {source}"
    return author or source
