"""Text rules shared by every extraction path (site profile, generic, plain text).

Each rule is a small named function; the word lists and patterns are data files in
``reader/extract/data/`` so that a new widget label is a one-line edit.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).with_name("data")

_SPACE = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\u00ad]")
_EDGE_PUNCT = " \t.:|•·-–—»«>()[]"
#: capital letters used in Vietnamese names (Latin with every tone mark, Đ)
_UPPER = "A-ZÀ-ÝĂĐĨŨƠƯẠ-Ỹ"
_LOWER_HINT = re.compile(r"[a-zà-ỹđ]")
#: a trailing all-caps byline: "LÊ HÀ", "NGỌC MAI - THANH HÀ", "P.V", "HOÀNG ANH (TTXVN)"
_CAPS_BYLINE = re.compile(
    rf"^[{_UPPER}][{_UPPER}.'’\- ]*(\s*[,/&-]\s*[{_UPPER}][{_UPPER}.'’\- ]*)*(\s*\([^)]{{1,40}}\))?$")
#: "Theo TTXVN", "Theo Đời sống Pháp luật", "(Theo VnExpress)"
_THEO = re.compile(r"^\(?\s*Theo\s+(?P<src>[^.!?]{2,60}?)\s*\)?\.?$")
#: "(TTXVN/Vietnam+)", "(Reuters)": an outlet credit alone on the last line
_PAREN_SOURCE = re.compile(r"^\((?P<src>[^()]{2,40})\)\.?$")
#: "PV", "Nhóm PV", "Nhóm phóng viên", "PV Tổng hợp", "Nhóm PV - CTV"
_PV = re.compile(r"^(Nhóm\s+)?(PV|P\.V|phóng viên|PV\s*-\s*CTV|CTV)(\s+tổng hợp)?\.?$", re.I)


# ---------------------------------------------------------------- data files
def _lines(name: str) -> tuple[str, ...]:
    out = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            out.append(line.rstrip("\n"))
    return tuple(out)


@lru_cache(maxsize=None)
def ui_phrases() -> frozenset[str]:
    """Folded UI labels (``data/ui_phrases.txt``)."""
    return frozenset(fold_key(x) for x in _lines("ui_phrases.txt"))


@lru_cache(maxsize=None)
def line_patterns() -> tuple[re.Pattern, ...]:
    """Whole-line furniture patterns (``data/line_patterns.txt``)."""
    return tuple(re.compile(p, re.I) for p in _lines("line_patterns.txt"))


@lru_cache(maxsize=None)
def dateline_patterns() -> tuple[re.Pattern, ...]:
    """Outlet tags at the start of a lead (``data/datelines.txt``)."""
    return tuple(re.compile(p) for p in _lines("datelines.txt"))


@lru_cache(maxsize=None)
def boilerplate_class() -> re.Pattern:
    """One pattern over class names / ids of furniture blocks (``data/boilerplate_classes.txt``)."""
    return re.compile("|".join(f"(?:{p})" for p in _lines("boilerplate_classes.txt")), re.I)


@lru_cache(maxsize=None)
def layout_class() -> re.Pattern:
    """Layout class names that are furniture only inside a body (``data/layout_classes.txt``)."""
    return re.compile("|".join(f"(?:{p})" for p in _lines("layout_classes.txt")), re.I)


@lru_cache(maxsize=None)
def source_class() -> re.Pattern:
    """Class names of the box naming the outlet an article is taken from (``data/source_classes.txt``)."""
    return re.compile("|".join(f"(?:{p})" for p in _lines("source_classes.txt")), re.I)


@lru_cache(maxsize=None)
def paywall_phrases() -> tuple[str, ...]:
    return tuple(x.lower() for x in _lines("paywall.txt"))


# ---------------------------------------------------------------- rules
def squash(text: str) -> str:
    """NFC, invisible characters out, NBSP and every whitespace run → one space, trimmed."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    return _SPACE.sub(" ", text).strip()


def fold_key(text: str) -> str:
    """A comparison key: squashed, lower case, edge punctuation off."""
    return squash(text).strip(_EDGE_PUNCT).lower()


def strip_widgets(text: str) -> str:
    """Remove UI labels glued into a line ("Xem với cỡ chữ" before a headline). Risk: none
    of these phrases is written in article prose."""
    return squash(re.sub(r"Xem với cỡ chữ|Cỡ chữ\s*(A\s*){1,3}", " ", text, flags=re.I))


def is_furniture(line: str) -> bool:
    """A whole line that is a widget label, a credit, a teaser link or a dateline stamp."""
    key = fold_key(line)
    if not key:
        return True
    if key in ui_phrases():
        return True
    folded = squash(line)
    return any(p.match(folded) for p in line_patterns())


def strip_dateline(text: str) -> str:
    """Drop an outlet tag at the start of a lead ("TTO - ", "(Dân trí) - "). Only the first
    pattern that matches is applied, and only when text follows it."""
    for p in dateline_patterns():
        m = p.match(text)
        if m and len(text) - m.end() > 20:
            return text[m.end():].lstrip()
    return text


def strip_credit(caption: str) -> str:
    """A caption without its photo credit ("… Ảnh: Đức Hùng", "… - Ảnh chụp màn hình")."""
    caption = re.sub(r"\s*[-–—(]?\s*\(?(Ảnh|Nguồn|Video|Clip|Đồ họa|Đồ hoạ|Photo)\s*:[^.]*\)?\.?\s*$", "", caption)
    caption = re.sub(r"\s*[-–—]\s*(Ảnh|Nguồn)[^.:]{0,40}$", "", caption)
    caption = re.sub(r"\s*\((Ảnh|Nguồn)[^)]{0,60}\)\s*$", "", caption)
    return caption.strip()


def byline_of(line: str) -> str | None:
    """The author named by a short trailing line, or None.

    Recognised: all-caps names ("LÊ HÀ"), "PV" / "Nhóm PV", a short Title-Case name line
    without sentence punctuation ("Đức Hùng", "Ngọc Mai - Thanh Hà"). "Theo …" lines are
    sources, see ``source_of``. Risk: a one-line closing sentence in Title Case; lines with a
    final period, digits or more than six words are never taken.
    """
    text = squash(line).strip()
    if not text or len(text) > 60 or re.search(r"\d", text) or text.endswith(("!", "?", ":", ";")):
        return None
    if _PV.match(text):
        return text.rstrip(".")
    credited = _CREDITED.match(text)
    if credited and byline_of(credited.group("name")):
        return text  # "Thanh Tâm (Theo Reuters)", "Minh Anh (tổng hợp)"
    words = text.replace("-", " ").replace(",", " ").replace("/", " ").split()
    if not 1 <= len(words) <= 6:
        return None
    letters = [c for c in text if c.isalpha()]
    if (_CAPS_BYLINE.match(text) and letters and all(c.isupper() for c in letters)
            and any(len(w) > 1 for w in words)):
        return text.rstrip(".")
    if text.endswith(".") or re.search(r"[\"“”:;()]", text):
        return None
    if 2 <= len(words) <= 5 and all(w[0].isupper() for w in words if w not in ("&", "và")):
        return text
    return None


#: a name with its credit in brackets: "Thanh Tâm (Theo Reuters)", "Minh Anh (tổng hợp)", "Hà Linh (lược dịch)"
_CREDITED = re.compile(r"^(?P<name>.+?)\s*\(((theo|nguồn)\s+[^()]{2,40}|tổng hợp[^()]{0,40}|(lược |biên )?dịch[^()]{0,40})\)$",
                       re.I)

_CREDIT_LINE = re.compile(r"^(Bài và ảnh|Bài, ảnh|Bài/ảnh|Ảnh và bài|Bài|Thực hiện|Tác giả|Nhóm thực hiện|Nhóm tác giả)"
                          r"\s*:\s*(?P<name>[^.!?]{2,60})$", re.I)


def credit_line_author(line: str) -> str | None:
    """The name in a credit line "Bài và ảnh: NGỌC MAI", "Thực hiện: Minh Trí", or None."""
    m = _CREDIT_LINE.match(squash(line))
    if not m or len(m.group("name").split()) > 8:
        return None
    return tidy_author(m.group("name"))


def source_of(line: str) -> str | None:
    """The outlet named by "Theo TTXVN" / "(Theo VnExpress)", or None."""
    line = squash(line)
    m = _THEO.match(line) or _PAREN_SOURCE.match(line)
    if not m:
        return None
    src = m.group("src").strip()
    if len(src.split()) > 8 or not src[:1].isupper():
        return None
    return src


def tidy_author(text: str | None) -> str | None:
    """A byline as a listener should hear it.

    Whitespace and comma spacing fixed ("Thế Duyệt , Đời sống" → "Thế Duyệt, Đời sống"); label
    prefixes dropped ("Tác giả: …", and "Theo …" before a name: CMSes that print "Theo Phạm
    Trường" mean "by"); a trailing post time or date cut ("Minh Anh08:30 12/11/2026" → "Minh
    Anh"); an outlet code glued to the name split off ("Tâm HằngTTXVN" → "Tâm Hằng, TTXVN");
    a bracketed credit kept whole ("Minh Anh (tổng hợp)"), unpaired edge brackets dropped.
    """
    if not text:
        return None
    text = squash(text)
    text = re.sub(r"\s+([,;])", r"\1", text)
    text = re.sub(r"^(Tác giả|Bài|Bài và ảnh|Nhóm tác giả|By)\s*:\s*", "", text, flags=re.I)
    text = re.sub(r"^\(?\s*Theo\s+(?=\S)", "", text)
    text = _STAMP.sub("", text)
    text = _split_glued_outlet(text)
    text = _strip_brackets(text)
    return text or None


#: a post time / date at the end of a byline, glued or not ("Minh Anh08:30 12/11/2026",
#: "Hoàng Lan Thứ năm, 12/11/2026 - 08:30"): a wrapper classed author-… holds the time too
_STAMP = re.compile(r"[\s,|·•–-]*(?:(?:Thứ\s+(?:hai|ba|tư|năm|sáu|bảy)|Chủ\s+nhật)\s*,?\s*)?"
                    r"\d{1,2}(?:[:hg]\d{2}|[/.-]\d{1,2}[/.-]\d{2,4})[\d\s:/.,hg()+GMTngày-]*$", re.I)


def _strip_brackets(text: str) -> str:
    """Edge separators off, and brackets only when they do not pair: "(TTXVN)" → "TTXVN",
    "VnExpress)" → "VnExpress", but "Minh Anh (tổng hợp)" stays whole (a credit, not decoration)."""
    while True:
        t = text.strip(" -–|,")
        if t.startswith("(") and t.endswith(")") and _balanced(t[1:-1]):
            t = t[1:-1]
        elif t.endswith(")") and t.count(")") > t.count("("):
            t = t[:-1]
        elif t.startswith("(") and t.count("(") > t.count(")"):
            t = t[1:]
        if t == text:
            return t
        text = t


def _balanced(text: str) -> bool:
    depth = 0
    for c in text:
        depth += (c == "(") - (c == ")")
        if depth < 0:
            return False
    return depth == 0


def _split_glued_outlet(text: str) -> str:
    """"Tâm HằngTTXVN" → "Tâm Hằng, TTXVN": an all-caps outlet code (two letters or more) glued
    by a template to the lower-case end of a name of two words or more."""
    i = len(text)
    while i > 0 and text[i - 1].isupper():
        i -= 1
    if len(text) - i >= 2 and i > 0 and text[i - 1].islower() and " " in text[:i]:
        return f"{text[:i]}, {text[i:]}"
    return text


def wire_end(text: str) -> str:
    """The wire-service end mark "./." read as a plain full stop."""
    return re.sub(r"\s*\./\.\s*$", ".", text)


def has_paywall(text: str) -> bool:
    low = text.lower()
    return any(p in low for p in paywall_phrases())


def dedupe(paragraphs: list[str], *, drop: tuple[str, ...] = ()) -> list[str]:
    """Collapse a paragraph repeated right after itself (a caption shown twice), and drop
    paragraphs equal to the title or lead (``drop``)."""
    skip = {fold_key(x) for x in drop if x}
    out: list[str] = []
    for p in paragraphs:
        k = fold_key(p)
        if k in skip or (out and fold_key(out[-1]) == k):
            continue
        out.append(p)
    return out


def looks_like_text(line: str) -> bool:
    """At least one lower-case letter: a menu of capitalised labels is not prose."""
    return bool(_LOWER_HINT.search(line))
