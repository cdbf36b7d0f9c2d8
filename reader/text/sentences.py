"""Paragraphs → sentences, and a Document → the Sentences the engines read.

A sentence ends at ``.`` ``!`` ``?`` ``…``/``...`` (with any closing quote or bracket right
after it) when the next token starts a new sentence. Never inside numbers, dates,
abbreviations and initials, URLs, codes or list markers; an abbreviation or an initial
can still end a sentence when a capitalised word follows that is not a name after a
title (``PGS. TS. Vũ``). Conventions in ``docs/text.md``.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from reader.models import Document, Sentence

from reader.text.definitions import NO_DEFINITIONS
from reader.text.normalize import normalize, table

_CLOSERS = "\"'”’»)]}"
_OPENERS = "\"'“‘«([{"
# A candidate end: the marks, then closing quotes/brackets, then whitespace or the end.
# A run of marks is tried from its first mark only (the lookbehinds): trying every later mark
# of a long run again made the search quadratic in the run's length.
_END = re.compile(r"((?<![.!?])\.{3}|…|(?<![.!?])[.!?]+)([" + re.escape(_CLOSERS) + r"]*)(?=\s|$)")
_NEXT = re.compile(r"\s+([" + re.escape(_OPENERS) + r"\-–—•*]*)\s*(\S)")
_WORD_BEFORE = re.compile(r"([^\s" + re.escape(_OPENERS) + r"]*)$")
_INITIAL_BEFORE = re.compile(r"(?:^|\s)[A-ZĐ][a-z]?\.$")


@lru_cache(maxsize=None)
def _nonfinal() -> frozenset[str]:
    return frozenset(table("nonfinal_abbreviations"))


@lru_cache(maxsize=None)
def _openers() -> frozenset[str]:
    return frozenset(table("sentence_openers"))


def _opens_sentence(para: str, pos: int) -> bool:
    """The word at ``pos`` is one that starts sentences and never a name after a title or a
    place prefix (``sentence_openers.tsv``: *Vì, Theo, Trong, Sau…*), so ``TP. Vì vậy`` ends."""
    m = re.match(r"[^\W\d_]+", para[pos:pos + 20])
    return m is not None and m.group(0) in _openers()


def _is_initial(word: str) -> bool:
    """``P``, ``T``, ``Ph``, ``Th``: a capital (or Vietnamese two-letter initial) for a name."""
    return (len(word) == 1 and word.isupper()) or word in ("Ph", "Th", "Tr", "Ng", "Nh", "Ch", "Kh", "Gi", "Qu")


_VI_SYLLABLE = re.compile(r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?"
                          r"[aeiouy]{1,3}(?:ch|ng|nh|[cmnpt])?")


def vietnamese_shaped(word: str) -> bool:
    """Could ``word`` be one Vietnamese syllable (``Văn``, ``Nguyễn``, ``Minh``)? ``John``,
    ``Lyndon``, ``Kennedy`` cannot: a letter or a cluster Vietnamese spelling never has."""
    base = "".join(c for c in unicodedata.normalize("NFD", word.lower()) if not unicodedata.combining(c))
    return _VI_SYLLABLE.fullmatch(base.replace("đ", "d")) is not None


def _western_middle_initial(para: str, start: int, end: int) -> bool:
    """``John F. Kennedy``, ``Lyndon B. Johnson``: a one-letter initial between two capitalised
    words, one of which cannot be a Vietnamese syllable. ``Nguyễn Văn A. Sau đó`` still ends."""
    before = re.search(r"([^\W\d_]+)\s+$", para[max(0, start - 40):start])
    after = re.match(r"\s+([^\W\d_]+)", para[end:end + 40])
    if not (before and after):
        return False
    prev, nxt = before.group(1), after.group(1)
    if not (prev[0].isupper() and nxt[0].isupper()):
        return False
    return not (vietnamese_shaped(prev) and vietnamese_shaped(nxt))


def _segment_start(para: str, pos: int, starts: list[int]) -> bool:
    """True when ``pos`` opens a segment: paragraph start, after a boundary, or after ``:`` / ``;``."""
    j = _end_of_text_before(para, pos)
    return j == 0 or bool(starts and starts[-1] >= j) or para[j - 1] in ":;"


def _end_of_text_before(para: str, pos: int) -> int:
    """``len(para[:pos].rstrip())`` without copying the paragraph (linear time on long ones)."""
    j = pos
    while j > 0 and para[j - 1].isspace():
        j -= 1
    return j


def _word_before(para: str, end: int) -> str:
    """The word (no spaces, no opening quotes) that ends at ``end``, searched in a window first."""
    lo = max(0, end - 64)
    m = _WORD_BEFORE.search(para, lo, end)
    assert m is not None  # the pattern matches the empty word too
    if lo and m.start(1) == lo:  # the word may go on before the window
        m = _WORD_BEFORE.search(para, 0, end)
        assert m is not None
    return m.group(1)


def _boundary(para: str, m: re.Match[str], starts: list[int]) -> int | None:
    """Where the next sentence starts after the end mark ``m``, or None for no boundary."""
    nxt = _NEXT.match(para, m.end())
    if not nxt:
        return None
    opener, first = nxt.group(1), nxt.group(2)
    mark, closers = m.group(1), m.group(2)
    upper, digit = first.isupper(), first.isdigit()
    if not (upper or digit or first in _OPENERS):
        return None  # a lower-case word, a comma, another mark: the sentence goes on
    if _inside_name(para, m.start()):
        return None
    if mark in ("...", "…"):
        return nxt.start(1) if upper else None
    if mark != "." or closers:
        return nxt.start(1)
    core = _word_before(para, m.start()).lstrip(_OPENERS)
    if not core:  # "công nghệ ." — a spaced full stop
        return nxt.start(1) if upper else None
    if upper and core.rsplit(".", 1)[-1] in _nonfinal() and not _opens_sentence(para, nxt.start(2)):
        return None  # PGS. TS. Vũ, PGS.TS. Trần, TP. Hồ Chí Minh (but "người dân TP. Vì vậy")
    if re.fullmatch(r"\d{1,2}|[IVXivx]{1,4}|[a-zđ]", core) and _segment_start(para, m.start() - len(core), starts):
        return None  # a list marker "1." / "II." / "a." opening a segment
    if _is_initial(core):
        if ("(" in opener or re.match(r"[A-ZĐ][a-z]?\.", para[nxt.start(2):nxt.start(2) + 3])
                or _initial_before(para, m.start() - len(core))):
            return None  # "Ph. (28 tuổi)", "J. K. Rowling"
        if len(core) == 1 and core.isascii() and _western_middle_initial(para, m.start() - 1, m.end()):
            return None  # "John F. Kennedy"
        return nxt.start(1) if upper else None  # "cho bà P. Do ông T. ..."
    if digit and not re.search(r"[^\W\d_]{2,}$|\d{3,}$|[)%]$", core):
        return None  # "số 1. 2 ..." — a digit after a short number or a letter is no new sentence
    return nxt.start(1)


def _initial_before(para: str, end: int) -> bool:
    """``para[:end]`` ends with an initial like ``J.`` (then spaces); looks only near ``end``."""
    j = _end_of_text_before(para, end)
    return _INITIAL_BEFORE.search(para, max(0, j - 4), j) is not None


@lru_cache(maxsize=None)
def _names_with_marks() -> tuple[str, ...]:
    return tuple(table("names_with_marks"))


def _inside_name(para: str, pos: int) -> bool:
    """The mark at ``pos`` belongs to a name like ``Hi! Café`` or ``Yahoo! News``."""
    for name in _names_with_marks():
        i = para.find(name, max(0, pos - len(name)), pos + len(name))
        if i != -1 and i <= pos < i + len(name) - 1:
            return True
    return False


def split_sentences(paragraph: str) -> list[str]:
    """One paragraph in, its sentences out; joined with the original whitespace they give
    back the paragraph."""
    starts: list[int] = []
    for m in _END.finditer(paragraph):
        b = _boundary(paragraph, m, starts)
        if b is not None:
            starts.append(b)
    out, prev = [], 0
    for b in starts:
        piece = paragraph[prev:b].strip()
        if piece:
            out.append(piece)
        prev = b
    last = paragraph[prev:].strip()
    if last:
        out.append(last)
    return out


_CLAUSE = re.compile(r"(?:[,;:](?=\s)|\s[-–—](?=\s))\s+")


def clause_breaks(sentence: str) -> tuple[int, ...]:
    """Offsets where a long sentence may be cut: the start of the text after a comma,
    semicolon, colon or spaced dash (never inside ``3,5`` or ``kinh tế-xã hội``)."""
    return tuple(m.end() for m in _CLAUSE.finditer(sentence) if m.end() < len(sentence))


def _speakable(spoken: str) -> bool:
    return any(c.isalnum() for c in spoken)


def sentences(doc: Document, *, captions: bool = False) -> list[Sentence]:
    """Title (paragraph -1), lead (0, if any), body paragraphs (1..). With ``captions``, each
    caption is read once after its paragraph as a paragraph of its own, and the paragraphs
    after it are numbered on from there (numbers stay in reading order). Abbreviations the
    document defines (``ngân hàng thương mại (NHTM)``) are read as their long form in the
    sentences after the definition, in this document only."""
    blocks: list[tuple[int, str]] = [(-1, doc.title or "")]
    if doc.lead:
        blocks.append((0, doc.lead))
    caps: dict[int, list[str]] = {}
    if captions:
        for c in doc.captions:
            caps.setdefault(c.after, []).append(c.text)
    n = 0
    for text in caps.get(-1, []):
        n += 1
        blocks.append((n, text))
    for i, para in enumerate(doc.paragraphs):
        n += 1
        blocks.append((n, para))
        for text in caps.get(i, []):
            n += 1
            blocks.append((n, text))
    out = []
    defined = NO_DEFINITIONS  # abbreviations this document defines, sentence by sentence
    for idx, text in blocks:
        for written in split_sentences(text):
            spoken = normalize(written, defined=defined)
            defined = defined.learn(written)
            if _speakable(spoken):
                out.append(Sentence(text=written, spoken=spoken, paragraph=idx, breaks=clause_breaks(spoken)))
    return out
