"""Plain text scraped from a page (or typed) → ``Document``, through the same cleaning rules.

Line by line: widget labels and furniture lines go; a line shown twice in a row is an
image caption (alt text + caption) and is kept once, as a caption; a short label above
the headline ("Quảng Ninh") is the section; the first remaining line is the title;
trailing bylines ("LÊ HÀ", "Theo TTXVN") become the author.
"""
from __future__ import annotations

import re

from reader.errors import ExtractError
from reader.extract import byline
from reader.extract.clean import (fold_key, is_furniture, looks_like_text, squash, strip_credit, strip_dateline,
                                  strip_widgets, wire_end)
from reader.models import Caption, Document

MAX_SECTION_WORDS = 4
MAX_TITLE_WORDS = 40


def extract_text(text: str, *, url: str | None = None, title_hint: str | None = None,
                 captions: bool = False, subject: str = "text") -> Document:
    body = _lines(text)
    section = _pop_section(body)
    title = _pop_title(body, title_hint)
    author = _pop_byline(body)
    paragraphs, caps = _paragraphs(body)
    words = sum(len(p.split()) for p in paragraphs)
    if not title or not paragraphs or not any(looks_like_text(p) for p in paragraphs):
        raise ExtractError(subject, f"no article text ({words} words)",
                           fix="give a headline line followed by the article's paragraphs")
    if captions:
        paragraphs, caps = _captions_inline(paragraphs, caps), []
    return Document(title=title, paragraphs=tuple(paragraphs), lead=None, author=author, url=url, site="text",
                    section=section, captions=tuple(caps))


def _lines(text: str) -> list[tuple[str, bool]]:
    """(line, is_caption) without widgets and furniture; a line repeated right after itself is a caption
    shown twice."""
    lines = [wire_end(strip_widgets(x)) for x in text.splitlines()]
    lines = [x for x in lines if x and not is_furniture(x)]
    body: list[tuple[str, bool]] = []
    for x in lines:
        if body and fold_key(body[-1][0]) == fold_key(x):
            body[-1] = (body[-1][0], True)
            continue
        body.append((x, False))
    return body


def _pop_section(body: list[tuple[str, bool]]) -> str | None:
    """A section label ("Thời sự") above a longer headline, popped."""
    if (len(body) >= 3 and _is_label(body[0][0]) and _is_headline(body[1][0])
            and len(body[1][0].split()) > len(body[0][0].split())):
        return body.pop(0)[0]
    return None


def _pop_title(body: list[tuple[str, bool]], title_hint: str | None) -> str | None:
    """The hint (its copy in the text popped), else a short first line, popped."""
    if title_hint:
        title = squash(title_hint)
        if body and fold_key(body[0][0]) == fold_key(title):
            body.pop(0)
        return title
    if body and len(body[0][0].split()) <= MAX_TITLE_WORDS:
        return body.pop(0)[0]
    return None


def _pop_byline(body: list[tuple[str, bool]]) -> str | None:
    """Trailing byline and source lines ("LÊ HÀ", "Theo TTXVN"; ``byline.py``), popped: "LÊ HÀ, TTXVN"."""
    tail = byline.trailing([byline.Line(text) for text, _ in body])
    del body[len(body) - tail.taken:]
    return byline.credit(tail.author, tail.source)


def _paragraphs(body: list[tuple[str, bool]]) -> tuple[list[str], list[Caption]]:
    """Paragraphs (the first without its dateline) and captions, each after the paragraph it follows."""
    paragraphs: list[str] = []
    caps: list[Caption] = []
    for x, is_caption in body:
        if is_caption:
            cap = strip_credit(x)
            if cap:
                caps.append(Caption(text=cap, after=len(paragraphs) - 1))
        else:
            paragraphs.append(x)
    if paragraphs:
        paragraphs[0] = strip_dateline(paragraphs[0])
    return paragraphs, caps


def _captions_inline(paragraphs: list[str], caps: list[Caption]) -> list[str]:
    """Captions read as paragraphs, each after the one it follows."""
    merged: list[str] = [c.text for c in caps if c.after < 0]
    for i, p in enumerate(paragraphs):
        merged.append(p)
        merged.extend(c.text for c in caps if c.after == i)
    return merged


def _is_headline(line: str) -> bool:
    """A headline: not too long, and not a sentence ending in a full stop."""
    return len(line.split()) <= MAX_TITLE_WORDS and not line.rstrip().endswith(".")


def _is_label(line: str) -> bool:
    """A section label: a few words, no digits, no sentence punctuation."""
    words = line.split()
    return (1 <= len(words) <= MAX_SECTION_WORDS and not re.search(r"[\d.,;:!?\"“”]", line)
            and line[:1].isupper())
