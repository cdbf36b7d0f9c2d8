"""Numbers as a Northern Vietnamese news reader says them.

    read_int(2107)        -> "hai nghìn một trăm linh bảy"
    read_int(24500)       -> "hai mươi bốn nghìn năm trăm"
    read_decimal("0", "6") -> "không phẩy sáu"
    read_digits("03")     -> "không ba"

Conventions (docs/text.md): ``nghìn`` not ``ngàn``; ``linh`` for a zero tens digit;
``không trăm`` inside larger numbers; ``mốt`` for a unit 1 after ``mươi``; ``lăm`` for a
unit 5 after ``mười``/``mươi``; ``bốn`` (never ``tư``) for a unit 4; 14 is ``mười bốn``.
"""
from __future__ import annotations

from functools import lru_cache

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
SCALES = ("", "nghìn", "triệu")
MONTHS = ("", "một", "hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười", "mười một", "mười hai")


def _tens_units(t: int, u: int, *, after_hundred: bool) -> list[str]:
    """Two digits; ``after_hundred`` means a hundreds word comes before (so 0t u → ``linh u``)."""
    if t == 0:
        if u == 0:
            return []
        return ["linh", DIGITS[u]] if after_hundred else [DIGITS[u]]
    if t == 1:
        words = ["mười"]
        if u == 5:
            words.append("lăm")
        elif u:
            words.append(DIGITS[u])
        return words
    words = [DIGITS[t], "mươi"]
    if u == 1:
        words.append("mốt")
    elif u == 5:
        words.append("lăm")
    elif u:
        words.append(DIGITS[u])
    return words


def _group(n: int, *, leading: bool) -> list[str]:
    """A group below 1000. A non-leading group always says its hundreds (``không trăm``)."""
    h, t, u = n // 100, n // 10 % 10, n % 10
    if leading and h == 0:
        return _tens_units(t, u, after_hundred=False)
    return [DIGITS[h], "trăm", *_tens_units(t, u, after_hundred=True)]


def _below_billion(n: int, *, leading: bool) -> list[str]:
    groups = []
    while n:
        groups.append(n % 1000)
        n //= 1000
    words: list[str] = []
    first = True
    for scale in range(len(groups) - 1, -1, -1):
        g = groups[scale]
        if g == 0:
            continue
        words += _group(g, leading=leading and first)
        if SCALES[scale]:
            words.append(SCALES[scale])
        first = False
    return words


def _words(n: int, *, leading: bool = True) -> list[str]:
    if n >= 1_000_000_000:
        high, low = divmod(n, 1_000_000_000)
        words = _words(high, leading=leading) + ["tỷ"]
        if low:
            words += _below_billion(low, leading=False)
        return words
    return _below_billion(n, leading=leading)


@lru_cache(maxsize=4096)
def read_int(n: int | str) -> str:
    """A whole number in words (``2107`` → *hai nghìn một trăm linh bảy*)."""
    n = int(n)
    if n < 0:
        return "âm " + read_int(-n)
    if n == 0:
        return "không"
    return " ".join(_words(n))


def read_digits(s: str) -> str:
    """Digit by digit, for identifiers and zero-padded numbers (``03`` → *không ba*)."""
    return " ".join(DIGITS[int(c)] for c in s if c.isdigit())


def read_fraction_digits(frac: str) -> str:
    """The part after ``phẩy``: as a number, or digit by digit when it starts with 0."""
    if frac.startswith("0"):
        return read_digits(frac)
    return read_int(frac)


def read_decimal(whole: str | int, frac: str) -> str:
    """``whole,frac`` with a decimal comma (``4,37`` → *bốn phẩy ba mươi bảy*)."""
    return f"{read_int(whole)} phẩy {read_fraction_digits(frac)}"


def read_ordinal(n: int | str) -> str:
    """After ``thứ``: 1 → *nhất*, 4 → *tư*, otherwise the cardinal."""
    n = int(n)
    return {1: "nhất", 4: "tư"}.get(n, read_int(n))


def read_month(m: int | str) -> str:
    """After ``tháng``: 4 → *tư*, otherwise the cardinal."""
    m = int(m)
    return MONTHS[m] if 1 <= m <= 12 else read_int(m)


_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def roman_value(s: str) -> int | None:
    """Value of a well-formed Roman numeral (``XIV`` → 14), else None."""
    if not s or any(c not in _ROMAN for c in s):
        return None
    total = 0
    for i, c in enumerate(s):
        v = _ROMAN[c]
        if i + 1 < len(s) and _ROMAN[s[i + 1]] > v:
            total -= v
        else:
            total += v
    if total <= 0 or to_roman(total) != s:
        return None
    return total


def to_roman(n: int) -> str:
    out = []
    for v, sym in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                   (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= v:
            out.append(sym)
            n -= v
    return "".join(out)
