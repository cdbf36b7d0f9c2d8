"""Abbreviations a document defines for itself, read as their long form afterwards.

News defines its own short forms: ``ngân hàng thương mại (NHTM)``, ``NHTM (ngân hàng thương
mại)``, ``Công ty Vạn Thịnh Phát (sau đây gọi tắt là VTP)``. ``Definitions`` is the table one
document has built so far; ``sentences(doc)`` threads it from sentence to sentence and
``normalize(text, defined=...)`` reads every later use of a defined abbreviation as the long form
(a definition inside the text itself counts from where it stands). A short form in brackets right
after its long form is not read (the long form was just said); one defined by ``gọi tắt là`` is. The operator lexicon and the word lists (``abbreviations``, ``word_acronyms``,
``english_acronyms``) still win where they speak: ``Phòng Cảnh sát giao thông (CATP)`` never
turns ``CATP`` into a police department.

A long form is accepted only when the initials of its words spell the abbreviation (``và`` and
dashes may be skipped: ``Giáo dục và Đào tạo (GDĐT)``, ``kinh tế - xã hội (KT-XH)``). Risk: a
name whose initials happen to spell a different short form defined by letters further back.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_ABBR = r"[A-ZĐ][A-ZĐ0-9&]*(?:-[A-ZĐ0-9&]+)*"
_WORD = r"[^\W\d_]+"
# "long form (ABBR)" and "ABBR (long form)"; the long form is checked by its initials.
_PAREN_ABBR = re.compile(r"\(\s*[\"“]?(" + _ABBR + r")[\"”]?\s*\)")
_ABBR_PAREN = re.compile(r"(?<![\w/.&-])(" + _ABBR + r")\s*\(([^()]{3,80})\)")
# "…, sau đây gọi là ABBR", "(gọi tắt là “ABBR”)", "viết tắt là ABBR"
_CALLED = re.compile(r"(?i:\b(?:sau đây\s+)?(?:gọi\s+tắt\s+là|gọi\s+là|viết\s+tắt\s+là))\s*[\"“]?(" + _ABBR
                     + r")[\"”]?(?![\w-])")
_SKIPPABLE = {"và", "-", "–", "&"}
_MAX_WORDS = 12


def _base(word: str) -> str:
    """The first letter without its marks, upper case, ``Đ`` as ``D``."""
    c = unicodedata.normalize("NFD", word[:1])[:1].upper()
    return "D" if c == "Đ" else c


def _letters(abbr: str) -> str:
    return "".join("D" if c == "Đ" else c for c in abbr if c.isalpha())


def _tokens(text: str) -> list[re.Match]:
    return list(re.finditer(_WORD + r"|[-–&]", text))


def _long_form_before(text: str, end: int, abbr: str) -> str | None:
    """The words right before ``end`` whose initials spell ``abbr`` (read right to left)."""
    letters = _letters(abbr)
    if len(letters) < 2:
        return None
    toks = _tokens(text[max(0, end - 200):end])
    if toks and text[max(0, end - 200):end][toks[-1].end():].strip(" \t,:;\"“”'"):
        return None  # something other than spaces between the words and the bracket
    i, used = len(letters) - 1, []
    for tok in reversed(toks[-_MAX_WORDS:]):
        w = tok.group(0)
        if i < 0:
            break
        if _base(w) == letters[i] and w[0].isalpha():
            used.append(tok)
            i -= 1
        elif w.lower() in _SKIPPABLE and used:
            used.append(tok)
        else:
            return None
    if i >= 0 or not used:
        return None
    return _join(used[::-1])


def _long_form_inside(inner: str, abbr: str) -> str | None:
    """``inner`` (the text in brackets) when its words' initials spell ``abbr``."""
    letters = _letters(abbr)
    toks = _tokens(inner)
    if len(letters) < 2 or re.search(r"\d", inner):
        return None
    initials = [t for t in toks if t.group(0).lower() not in _SKIPPABLE]
    if "".join(_base(t.group(0)) for t in initials) != letters:
        return None
    return _join(toks)


def _join(toks: list[re.Match]) -> str:
    return " ".join(t.group(0) for t in toks)


def _spoken_by_lists(abbr: str) -> bool:
    from reader.text.normalize import table  # normalize imports this module

    return (abbr in table("abbreviations") or abbr in table("word_acronyms")
            or abbr in table("english_acronyms"))


@dataclass(frozen=True)
class Found:
    """One definition in a text: ``abbr`` stands at ``start``–``end`` and means ``long``."""
    abbr: str  #: the short form as written (``NHTM``)
    long: str  #: its long form as written (``ngân hàng thương mại``)
    start: int  #: where the defining occurrence of ``abbr`` starts in the text
    end: int  #: where it ends
    silent: tuple[int, int] | None = None  #: what is not read: the bracketed short form after its long form
    listed: bool = False  #: the word lists read this short form already (they win for later uses)


def _all_definitions(text: str) -> list[Found]:
    found: list[Found] = []
    if "(" in text:
        for m in _PAREN_ABBR.finditer(text):
            long = _long_form_before(text, m.start(), m.group(1))
            if long:
                cut = len(text[:m.start()].rstrip())
                found.append(Found(m.group(1), long, m.start(1), m.end(1), silent=(cut, m.end())))
        for m in _ABBR_PAREN.finditer(text):
            long = _long_form_inside(m.group(2), m.group(1))
            if long:
                found.append(Found(m.group(1), long, m.start(1), m.end(1), silent=(m.start(1), m.start(2) - 1)))
    if "gọi" in text or "tắt" in text:
        for m in _CALLED.finditer(text):
            before = re.sub(r"[\s,(]+$", "", text[:m.start()])
            long = _long_form_before(before, len(before), m.group(1))
            if long:
                found.append(Found(m.group(1), long, m.start(1), m.end(1)))
    return sorted((Found(f.abbr, f.long, f.start, f.end, f.silent, _spoken_by_lists(f.abbr)) for f in found),
                  key=lambda f: f.start)


def find_definitions(text: str) -> list[Found]:
    """Every definition in ``text``, in order, except short forms the word lists already read."""
    return [f for f in _all_definitions(text) if not f.listed]


@lru_cache(maxsize=256)
def _use_re(keys: tuple[str, ...]) -> re.Pattern:
    alt = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
    return re.compile(r"(?<![\w/.&-])(?:" + alt + r")(?![\w&/]|-[\w])")


@dataclass(frozen=True)
class Definitions:
    """The abbreviations one document has defined so far (no state outside the document)."""
    pairs: tuple[tuple[str, str], ...] = ()  #: (short form, long form), first definition wins

    def learn(self, text: str) -> Definitions:
        """This table plus the definitions in ``text`` (an earlier definition is kept)."""
        known = dict(self.pairs)
        for f in find_definitions(text):
            known.setdefault(f.abbr, f.long)
        return self if len(known) == len(self.pairs) else Definitions(tuple(known.items()))

    def expand(self, text: str) -> str:
        """``text`` with each use of a defined abbreviation read as its long form: those defined
        before this text everywhere, those defined in it after their definition. A short form in
        brackets right after its long form (``Ngân hàng Nhà nước (NHNN)``), or right before its
        long form in brackets, is not read: the long form is said once, not twice."""
        here = _all_definitions(text)
        if not (self.pairs or here):
            return text
        known = dict(self.pairs)
        after: dict[str, int] = {}
        for f in here:
            if not f.listed and f.abbr not in known:
                known[f.abbr] = f.long
                after[f.abbr] = f.end
        defining = {(f.start, f.end) for f in here}
        edits = [(f.silent[0], f.silent[1], "") for f in here if f.silent]
        if known:
            for m in _use_re(tuple(known)).finditer(text):
                w = m.group(0)
                if (m.start(), m.end()) not in defining and m.start() >= after.get(w, 0):
                    edits.append((m.start(), m.end(), known[w]))
        out, pos = [], 0
        for start, end, spoken in sorted(edits):
            if start >= pos:
                out += [text[pos:start], spoken]
                pos = end
        return "".join(out) + text[pos:]


NO_DEFINITIONS = Definitions()
