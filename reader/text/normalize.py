"""Written Vietnamese → what a Northern news reader says.

``normalize(text)`` runs ``RULES`` in order; each rule is a small ``str -> str`` function
whose docstring names its case and its risk. Order matters: the operator lexicon first,
then forms with letters and separators (codes, abbreviations, times, dates), then
ranges, percentages, units and currency, and plain numbers last. Word lists live in
``reader/text/data/*.tsv``; the conventions are in ``docs/text.md``.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from reader.text import lexicon as _lexicon
from reader.text.definitions import NO_DEFINITIONS, Definitions
from reader.text.numbers import (
    read_decimal,
    read_digits,
    read_fraction_digits,
    read_int,
    read_month,
    read_ordinal,
    roman_value,
)

DATA = Path(__file__).parent / "data"


@lru_cache(maxsize=None)
def table(name: str) -> dict[str, str]:
    """A word list from ``data/NAME.tsv``: first column → second column (or itself)."""
    out: dict[str, str] = {}
    for line in (DATA / f"{name}.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        out[unicodedata.normalize("NFC", parts[0].strip())] = (
            unicodedata.normalize("NFC", parts[1].strip()) if len(parts) > 1 else parts[0].strip())
    return out


def _alt(keys) -> str:
    return "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))


def spell(letters: str) -> str:
    """Spell capitals with Vietnamese letter names (``NĐ`` → *en đê*)."""
    names = table("letters")
    return " ".join(names.get(c.upper(), c) for c in letters if not c.isspace())


def spell_english(letters: str) -> str:
    """Spell capitals with English letter names as Vietnamese say them (``CEO`` → *xi i ô*)."""
    names = table("english_letters")
    return " ".join(names.get(c, c) for c in letters if not c.isspace())


# Shared pieces -----------------------------------------------------------------
DAY = r"(0?[1-9]|[12]\d|3[01])"
MONTH = r"(0?[1-9]|1[0-2])"
YEAR = r"(1[89]\d\d|20\d\d)"
NUM = r"\d+(?:[.,]\d+)*"
DASH = r"[-‐‑‒–—−]"
_END = r"(?![\w]|[.,/-]\d)"  # a number really ends here (not 2.5, 2/3, 2-3)


class _Guarded:
    """A pattern whose match must start a token: the character before it is no word
    character and none of ``bad``. Checked in Python after the match, because a regex that
    opens with a look-behind is scanned position by position and is many times slower."""

    def __init__(self, pattern: str, bad: str = ".,/-"):
        self.pattern = re.compile(pattern)
        self.bad = bad

    def sub(self, repl, text: str) -> str:
        bad = self.bad

        def one(m: re.Match) -> str:
            i = m.start()
            if i:
                c = text[i - 1]
                if c.isalnum() or c == "_" or c in bad:
                    return m.group(0)
            return repl(m) if callable(repl) else m.expand(repl)
        return self.pattern.sub(one, text)
MULTIPLIERS = ("nghìn", "ngàn", "triệu", "tỷ", "tỉ", "trăm", "chục")
_NO_NGAY = ("ngày", "mùng", "mồng")


def _prev_word(s: str, pos: int) -> str:
    m = re.search(r"([^\W\d_]+)[^\w]*$", s[max(0, pos - 30):pos])
    return m.group(1).lower() if m else ""


def _date_words(d: str, m: str, y: str | None = None, *, ngay: bool) -> str:
    words = ("ngày " if ngay else "") + f"{read_int(d)} tháng {read_month(m)}"
    if y:
        words += f" năm {read_int(y)}"
    return words


def _needs_ngay(s: str, pos: int) -> bool:
    return _prev_word(s, pos) not in _NO_NGAY


def when(pattern: str, *, digit: bool = False):
    """Mark a rule with a cheap trigger: ``normalize`` skips the rule when the text has no
    match (most sentences have no date, code or unit), and skips every rule whose trigger
    needs a digit when the text has none. The rule itself still works alone."""
    trigger = re.compile(pattern)

    def mark(rule):
        rule.trigger = trigger
        rule.needs_digit = digit
        return rule
    return mark


# Rules ---------------------------------------------------------------------------
def nfc(text: str) -> str:
    """Unicode NFC first: decomposed tone marks would defeat every later pattern."""
    return unicodedata.normalize("NFC", text)


def operator_lexicon(text: str) -> str:
    """``feeds/lexicon.tsv`` entries, whole words; an operator's reading beats every rule."""
    return _lexicon.load().apply(text)


_URL = re.compile(r"(?:\bhttps?://|\bwww\.)[^\s<>\"“”]+"
                  r"|\b[\w-]+(?:\.[\w-]+)*\.(?:vn|com|net|org|gov|edu|info)\b(?:[:/][^\s<>\"“”]*)?",
                  re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_URL_SYMBOLS = {".": "chấm", "/": "xẹt", ":": "hai chấm", "@": "a còng", "-": "gạch ngang", "_": "gạch dưới",
                "?": "hỏi", "=": "bằng", "&": "và"}


def _read_address(addr: str) -> str:
    addr = re.sub(r"^https?://", "", addr, flags=re.I)
    out = []
    for piece in re.findall(r"\d+|[^\W\d_]+|[^\w\s]", addr):
        if piece.isdigit():
            out.append(read_digits(piece))
        elif piece.lower() == "www":
            out.append("vê kép vê kép vê kép")
        elif piece in _URL_SYMBOLS:
            out.append(_URL_SYMBOLS[piece])
        elif piece.isalpha():
            out.append(piece.lower())
    return " ".join(out)


@when(r"@|[wW]{3}\.|[hH][tT][tT][pP][sS]?:|\.(?:vn|com|net|org|gov|edu|info|VN|COM|NET|ORG|GOV|EDU|INFO|Vn|Com|Net|Org)\b")
def urls_and_emails(text: str) -> str:
    """Web and mail addresses, symbol by symbol (``.`` *chấm*, ``/`` *xẹt*, ``@`` *a còng*).

    Risk: a sentence-final dot or bracket glued to the address; those are left outside it.
    """
    def one(m: re.Match) -> str:
        addr = m.group(0)
        tail = re.search(r"[.,;:!?)\]]+$", addr)
        cut = tail.start() if tail else len(addr)
        return _read_address(addr[:cut]) + addr[cut:]
    text = _EMAIL.sub(one, text)
    return _URL.sub(one, text)


_PHONE = _Guarded(r"(0\d{2,3})([ .-]?)(\d{3,4})\2(\d{3,4})" + _END)
_HOTLINE = _Guarded(r"(1[89]00)[ .]?(\d{4}|\d{2}[ .]\d{2})" + _END)


@when(r"0\d\d|1[89]00", digit=True)
def phone_numbers(text: str) -> str:
    """Phone numbers (``0912 345 678``, ``024.3825.1234``, hotlines ``1900 1234``) digit by
    digit, group by group."""
    text = _HOTLINE.sub(lambda m: f"{read_digits(m.group(1))}, {read_digits(m.group(2))}", text)
    return _PHONE.sub(lambda m: ", ".join(read_digits(g) for g in (m.group(1), m.group(3), m.group(4))), text)


@lru_cache(maxsize=None)
def _senses() -> dict[str, tuple[tuple[str, str, str], ...]]:
    """``data/senses.tsv``: written form → ((spoken, side, cue), ...) in file order."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for line in (DATA / "senses.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        written, spoken, cue = (unicodedata.normalize("NFC", p.strip()) for p in line.split("\t"))
        side, _, word = cue.partition(" ")
        out.setdefault(written, []).append((spoken, side, word))
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=None)
def _sense_re() -> re.Pattern:
    return re.compile(r"(?<![\w.&/-])(" + _alt(_senses()) + r")(\.(?=\s*[^\W_]))?(?![\w&/-])")


_SENSE_PLATE = re.compile(r"\.?[\s:]*\d{2}[A-ZĐ]{1,2}\d?\s?[-.]?\s?\d{3}")
_SENSE_NAME = re.compile(r"\.?\s+[A-ZĐÀ-Ỹ][^\W\d_A-ZĐ]")


def _sense_selected(s: str, m: re.Match, side: str, cue: str) -> bool:
    if side == "after":
        return _prev_word(s, m.start()) == cue
    if cue == "plate":
        return _SENSE_PLATE.match(s, m.end(1)) is not None
    return cue == "name" and _SENSE_NAME.match(s, m.end(1)) is not None


@when("|".join(re.escape(k) for k in _senses()))
def senses(text: str) -> str:
    """Short forms read by their neighbours (``senses.tsv``): ``BS`` before a plate number or after
    *xe*, *biển*, *mang* → *biển số*; before a name → *bác sĩ*. When nothing selects, the word is
    left to ``abbreviations`` (``BS`` → *bác sĩ*). Runs before ``licence_plates`` so the plate is
    still digits. Risk: a doctor named right after *xe* (``xe BS Minh``) reads as a plate."""
    senses_ = _senses()

    def one(m: re.Match) -> str:
        for spoken, side, cue in senses_[m.group(1)]:
            if _sense_selected(m.string, m, side, cue):
                return spoken  # a dot after it ("BS. Trần") is swallowed
        return m.group(0)
    return _sense_re().sub(one, text)


_PLATE = _Guarded(r"(\d{2})([A-ZĐ]{1,2}\d?)-(\d{3})(?:\.?(\d{2}))?(?![\w])")


@when(r"\d[A-ZĐ]", digit=True)
def licence_plates(text: str) -> str:
    """Plates ``29A-123.45``: province number, series letters, then the serial digit by digit.

    Masked plates (``14A-130...``) keep the dots for the splitter and the engine.
    """
    def one(m: re.Match) -> str:
        series = " ".join(spell(c) if c.isalpha() else read_digits(c) for c in m.group(2))
        serial = read_digits(m.group(3) + (m.group(4) or ""))
        return f"{read_int(m.group(1))} {series} {serial}"
    return _PLATE.sub(one, text)


_BOAT = _Guarded(r"([A-ZĐ][A-ZĐa-z]{0,3})[ .-]?(\d{4,5})[ .-]?(TS)(?![\w])")


@when(r"\d[ .-]?TS", digit=True)
def boat_numbers(text: str) -> str:
    """Fishing-boat registrations ``QNg 90123 TS``, ``BĐ-97567-TS``: a code, never a quantity.

    The province letters and ``TS`` (thủy sản) spelled, the number digit by digit."""
    def one(m: re.Match) -> str:
        return f"{spell(m.group(1))} {read_digits(m.group(2))} {spell(m.group(3))}"
    return _BOAT.sub(one, text)


_LETTERS = r"[A-ZĐ][A-ZĐa-z]*\d*"
_DOC_CODE = _Guarded(r"(\d+(?:/\d+)*)([-/])(" + _LETTERS + r"(?:[-/&]" + _LETTERS + r")*)(?![\w-])")


@when(r"\d[-/][A-ZĐ]", digit=True)
def document_codes(text: str) -> str:
    """Document numbers ``01-NQ/TU``, ``45/2024/NĐ-CP``, laws ``32/2024/QH15``: numbers as cardinals,
    ``/`` → *trên*, ``-`` silent, letters with Vietnamese letter names (*en quy trên tê u*), a number
    glued after the letters as a cardinal (*quy hát mười lăm*)."""
    def one(m: re.Match) -> str:
        words = [" trên ".join(read_int(n) for n in m.group(1).split("/"))]
        if m.group(2) == "/":
            words.append("trên")
        for piece in re.split(r"([/&-])", m.group(3)):
            if piece == "/":
                words.append("trên")
            elif piece == "&":
                words.append("và")
            elif piece and piece != "-":
                words.append(_spell_code_piece(piece))
        return " ".join(words)
    return _DOC_CODE.sub(one, text)


def _spell_code_piece(piece: str) -> str:
    """``NĐ`` → *en đê*; a legislature number glued to the letters (``QH15``) → *quy hát mười lăm*."""
    m = re.fullmatch(r"(\D+)(\d*)", piece)
    assert m, piece  # _DOC_CODE pieces start with a letter
    letters, digits = m.groups()
    return spell(letters) + (f" {read_int(digits)}" if digits else "")


@lru_cache(maxsize=None)
def _abbr_re() -> _Guarded:
    return _Guarded(r"(" + _alt(table("abbreviations")) + r")(?:(\.\s*)(?=[^\W_])|(?![\w&-]))", bad="&-")


@when("|".join(sorted({re.escape(k[:2]) for k in table("abbreviations")})))
def abbreviations(text: str) -> str:
    """Dictionary abbreviations (``UBND``, ``TP.HCM``, ``PGS. TS.``), case-sensitive, a dot after
    one swallowed when a word follows. Risk: parts of codes (``NĐ-CP``) are excluded by the
    hyphen guard and read by ``document_codes`` instead."""
    words = table("abbreviations")
    return _abbr_re().sub(lambda m: words[m.group(1)] + (" " if m.group(2) else ""), text)


_INITIALS = _Guarded(r"((?:[A-ZĐ]\.)+[A-ZĐ]\.?)(?=[\s,;:)]|$)", bad=".")


@when(r"[A-ZĐ]\.[A-ZĐ]\.")
def initials(text: str) -> str:
    """A person's dotted initials (``ông T.V.M.``, ``B.V.T. (SN 1976``, ``anh N.V.A,``), as crime and crash
    reports write a name: each letter spelled (*tê vê em*); the last dot is kept only where
    the text ends. Risk: a dotted short form not in ``abbreviations.tsv`` (``U.S.``) is spelled."""
    def one(m: re.Match) -> str:
        end = "." if not text[m.end():].strip() else ""
        return spell(m.group(1).replace(".", "")) + end
    return _INITIALS.sub(one, text)


@lru_cache(maxsize=None)
def _admin_re() -> _Guarded:
    return _Guarded(r"(" + _alt(table("admin")) + r")\.(?:(?=\d)|(?=[A-ZĐ][^\W\d_])|\s(?=\d))", bad=".")


@lru_cache(maxsize=None)
def _address_admin_re() -> re.Pattern:
    return re.compile(r"((?:^|[,;:(])\s*)(" + _alt(table("admin")) + r")\.\s+(?=[A-ZĐ][^\W\d_])")


@when(r"[A-Z]\.")
def admin_prefixes(text: str) -> str:
    """``Q.1`` → *quận một*, ``P.Cô Giang`` → *phường Cô Giang*: glued to a name or a number;
    with a space before a name only where an address item starts (after ``,`` ``;`` ``:`` ``(``
    or at the start: ``P.25, Q. Bình Thạnh``), so an initial (``bà P. Do``) stays a letter.
    Risk: a person's initial listed after a comma (``A, P. Hùng``) reads as a place."""
    words = table("admin")
    text = _admin_re().sub(lambda m: words[m.group(1)] + " ", text)
    return _address_admin_re().sub(lambda m: m.group(1) + words[m.group(2)] + " ", text)


_TIME_H = _Guarded(r"([01]?\d|2[0-4])\s?h\s?([0-5]\d)(?:'|p\b|ph\b|\s?phút\b)?(?![\w])|"
                     r"([01]?\d|2[0-4])h(?![\w])|"
                     r"([01]?\d|2[0-4])g([0-5]\d)(?![\w])")
_CLOCK = _Guarded(r"([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(?![\d:])")


def _clock_words(h: str, mi: str | None, s: str | None = None) -> str:
    words = f"{read_int(h)} giờ"
    if mi and int(mi):
        words += f" {read_int(mi)} phút"
    if s and int(s):
        words += f" {read_int(s)} giây"
    return words


_HOUR_G = _Guarded(r"([01]?\d|2[0-4])g(?![\w])")


def _hour_g(m: re.Match) -> str:
    """``lúc 17g`` → *mười bảy giờ*: a bare ``g`` is an hour only after a time cue (``time_cues``)."""
    if _prev_word(m.string, m.start()) in table("time_cues"):
        return _clock_words(m.group(1), None)
    return m.group(0)


_TIME_RANGE = _Guarded(r"(\d{1,2}(?:[hg]\d{0,2}|:\d\d))\s*" + DASH + r"\s*(?=\d{1,2}(?:[hg]|:\d\d))")


@when(r"\d[hg:]|\d h\s?\d", digit=True)
def times(text: str) -> str:
    """Clock times ``14h30``, ``9g30``, ``4h``, ``11:37`` → *… giờ … phút*; ``8h00`` → *tám giờ*;
    ``14h-16h`` → *… đến …*. Risk: ``9g`` alone may be grams, so ``g`` needs minutes or a time cue
    right before (``lúc 17g``, ``time_cues.tsv``)."""
    text = _TIME_RANGE.sub(r"\1 đến ", text)
    def one(m: re.Match) -> str:
        if m.group(1):
            return _clock_words(m.group(1), m.group(2))
        if m.group(3):
            return _clock_words(m.group(3), None)
        return _clock_words(m.group(4), m.group(5))
    text = _TIME_H.sub(one, text)
    text = _HOUR_G.sub(_hour_g, text)
    return _CLOCK.sub(lambda m: _clock_words(m.group(1), m.group(2), m.group(3)), text)


_QUARTER = re.compile(r"\b([Qq]uý)\s+(IV|I{1,3}|[1-4])\s*[/-]\s*" + YEAR + r"\b|(?<![\w])Q([1-4])/" + YEAR + r"\b")


@when(r"[uQ][ý\d]", digit=True)
def quarters(text: str) -> str:
    """``quý IV/2025``, ``quý 3-2024``, ``Q3/2024`` → *quý … năm …*."""
    def one(m: re.Match) -> str:
        if m.group(1):
            q = m.group(2)
            n = roman_value(q) if not q.isdigit() else int(q)
            return f"{m.group(1)} {read_int(n)} năm {read_int(m.group(3))}"
        return f"quý {read_int(m.group(4))} năm {read_int(m.group(5))}"
    return _QUARTER.sub(one, text)


_DATE_RANGE = _Guarded(DAY + r"(?:([/.])" + MONTH + r")?(\s*" + DASH + r"\s*)" + DAY + r"([/.])" + MONTH
                         + r"(?:\6" + YEAR + r")?" + _END)


@when(r"\d\s*" + DASH + r"\s*\d", digit=True)
def date_ranges(text: str) -> str:
    """``1- 28/10/2020``, ``28/10 - 2/11`` → *một đến hai mươi tám tháng mười …*; *ngày* only
    before the first date, and only when the text has none."""
    def one(m: re.Match) -> str:
        d1, m1, d2, m2, y = m.group(1), m.group(3), m.group(5), m.group(7), m.group(8)
        if m1 is None and not (y or _is_date_context(m.string, m.start())) and m.group(6) == ".":
            return m.group(0)
        left = ("ngày " if _needs_ngay(m.string, m.start()) else "") + read_int(d1)
        if m1:
            left += f" tháng {read_month(m1)}"
        return f"{left} đến {_date_words(d2, m2, y, ngay=False)}"
    return _DATE_RANGE.sub(one, text)


_FULL_DATE = _Guarded(DAY + r"([-/.])" + MONTH + r"\2" + YEAR + _END)


@when(r"\d[-/.]\d+[-/.]\d", digit=True)
def full_dates(text: str) -> str:
    """``2.12.2020``, ``15/8/2024``, ``14-11-2016`` → *ngày D tháng M năm Y* (no *ngày* after *ngày*)."""
    return _FULL_DATE.sub(lambda m: _date_words(m.group(1), m.group(3), m.group(4),
                                                ngay=_needs_ngay(m.string, m.start())), text)


_SHORT_YEAR_DATE = _Guarded(DAY + r"/" + MONTH + r"/(\d\d)" + _END)


@when(r"\d/\d+/\d\d", digit=True)
def short_year_dates(text: str) -> str:
    """``25/11/24`` → *ngày hai mươi lăm tháng mười một năm hai mươi bốn*: a two-digit year is
    read as written (no century is guessed; ``05`` → *không năm*). Only with ``/``: ``1.2.10``
    is more likely a version number."""
    def one(m: re.Match) -> str:
        y = m.group(3)
        year = read_digits(y) if y.startswith("0") else read_int(y)
        return _date_words(m.group(1), m.group(2), ngay=_needs_ngay(m.string, m.start())) + f" năm {year}"
    return _SHORT_YEAR_DATE.sub(one, text)


_MONTH_YEAR = _Guarded(r"((?:[Tt]háng)\s+|T(?=\d))?" + MONTH + r"([-/.])" + YEAR + _END)


@when(r"[-/.](?:1[89]|20)\d\d", digit=True)
def month_years(text: str) -> str:
    """``tháng 9-2017``, ``tháng 1.2018``, ``3/2017``, ``T11/2025`` → *(tháng) M năm Y*. Without *tháng*, ``/``
    and ``.`` count, and ``-`` only in brackets or after a date cue (``(12-1964)``, ``từ 3-2017``;
    elsewhere ``3-2017`` may be a range); *tháng* is said."""
    def one(m: re.Match) -> str:
        if m.group(1) == "T":  # T11/2025: the newsroom short form of "tháng"
            return f"tháng {read_month(m.group(2))} năm {read_int(m.group(4))}"
        if m.group(1):
            return f"{m.group(1)}{read_month(m.group(2))} năm {read_int(m.group(4))}"
        if _prev_word(m.string, m.start()) == "số":
            return m.group(0)
        if m.group(3) == "-" and not (_in_brackets(m.string, m.start(), m.end())
                                      or _prev_word(m.string, m.start()) in table("date_cues")):
            return m.group(0)
        return f"tháng {read_month(m.group(2))} năm {read_int(m.group(4))}"
    return _MONTH_YEAR.sub(one, text)


def _is_date_context(s: str, pos: int) -> bool:
    """A date cue right before (``sáng``, ``ngày``, ``hôm nay``) or ``ngày`` a few words before."""
    before = s[max(0, pos - 40):pos].lower()
    words = re.findall(r"[^\W\d_]+", before)
    if not words:
        return False
    if words[-1] in table("date_cues"):
        return True
    return "ngày" in words[-3:]


_DAY_MONTH = _Guarded(DAY + r"([-/.])" + MONTH + _END)
_OPEN_PAREN = re.compile(r"\(\s*$")
_CLOSE_PAREN = re.compile(r"\s*\)")


def _in_brackets(s: str, start: int, end: int) -> bool:
    """The span ``s[start:end]`` is alone in brackets: ``(9-1)``, ``(12-1964)``."""
    return bool(_OPEN_PAREN.search(s, max(0, start - 3), start) and _CLOSE_PAREN.match(s, end))


@when(r"\d[-/.]\d", digit=True)
def day_months(text: str) -> str:
    """``9.1``, ``28-8``, ``18/12`` without a year. A date after a cue word (*sáng, chiều, ngày,
    hôm nay…*) or in brackets ``(9-1)``; ``a/b`` with no cue is a date unless it reads as a
    common fraction, a < b ≤ 5 (``2/9``, ``28/10`` dates; ``1/3``, ``3/4`` fractions) or follows a
    fraction cue (*chiếm, gần, vòng…*: ``vòng 1/8``); ``9.1`` without a cue is left for the
    decimals; ``9-11 tháng 3`` is a range of days; ``24/7`` with no cue is no date
    (``not_dates.tsv``); ``-``/``.`` before a counted noun (``từ 1-2 điểm``) is a quantity
    unless *ngày* comes right before (``hôm 4/9 năm ngoái`` stays a date), the pair goes down
    (``dịp 30-4 năm nay``: no range does) or *năm nay/ngoái/trước…* follows (``hôm 4-9 năm ngoái``)."""
    def one(m: re.Match) -> str:
        d, sep, mo = m.group(1), m.group(2), m.group(3)
        start = m.start()
        paren = _in_brackets(text, start, m.end())
        if sep == "-" and _next_word(text, m.end()) == "tháng":
            return m.group(0)
        if (sep != "/" and not paren and _counted_next(text, m.end())
                and _prev_word(text, start) not in _NO_NGAY
                and not (sep == "-" and (int(d) > int(mo) or _YEAR_PHRASE.match(text, m.end())))):
            return m.group(0)  # "từ 1-2 điểm", "đến 3.5 triệu": a range or a decimal, not a date
        if not paren:
            if sep == "/" and _prev_word(text, start) in table("fraction_cues"):
                return m.group(0)
            if m.group(0) in table("not_dates") and not _is_date_context(text, start):
                return m.group(0)
            if not _is_date_context(text, start) and (sep != "/" or int(d) < int(mo) <= 5):
                return m.group(0)
        return _date_words(d, mo, ngay=paren or _needs_ngay(text, start))
    return _DAY_MONTH.sub(one, text)


_YEAR_PHRASE = re.compile(r"\s+năm\s+(?:nay|ngoái|trước|sau|tới|này|đó)(?![\w])")


def _counted_next(s: str, end: int) -> bool:
    """The next word counts or measures (``range_nouns``, ``count_nouns``, a unit or a
    multiplier), so the number before it is a quantity: ``từ 1-2 điểm``."""
    word = _next_word(s, end)
    return bool(word) and (word in table("range_nouns") or word in table("count_nouns")
                           or word in table("units") or word in MULTIPLIERS)


_SCORE = _Guarded(r"(\d{1,2})\s*" + DASH + r"\s*(\d{1,2})" + _END)


@lru_cache(maxsize=None)
def _score_cue_re() -> re.Pattern:
    return re.compile(r"(?<![^\W\d_])(?:" + _alt(table("score_cues")) + r")(?![^\W\d_])", re.I)


def _score_cue_before(s: str, start: int) -> bool:
    """A match word (``score_cues.tsv``: *tỷ số, thắng, thua, hòa, kết quả, ghi bàn…*) earlier in
    the sentence: ``thua Việt Nam 0-1``, ``thua năm trận, lần lượt là 0-2 (…)``."""
    sentence = re.split(r"[.!?](?:\s|$)", s[:start])[-1]
    return _score_cue_re().search(sentence) is not None


def _between_names(s: str, start: int, end: int) -> bool:
    """``Hà Nội FC 1-1 Hà Tĩnh``: a capitalised word right before and right after."""
    before = re.search(r"(\S+)\s+$", s[max(0, start - 30):start])
    after = re.match(r"\s+(\S)", s[end:end + 3])
    return bool(before and after and before.group(1)[0].isupper() and after.group(1).isupper())


def _counted_after(s: str, end: int, low_first: bool) -> bool:
    """What follows makes ``a-b`` a range: ``%``, a multiplier or a unit, and when a < b also a
    counted noun (``range_nouns.tsv``: ``2-3 tuần``, ``3-5 năm``) unless a number follows it
    (``2-0 phút 36`` is a score, then a time)."""
    rest = s[end:end + 40]
    if rest.lstrip().startswith("%"):
        return True
    word = _next_word(s, end)
    if word in MULTIPLIERS or word in table("units"):
        return True
    if not (low_first and (word in table("range_nouns") or word in table("count_nouns"))):
        return False
    after = re.match(r"\s*[^\W\d_]+\s+(\S)", rest)
    return not (after and after.group(1).isdigit())


@when(r"\d\s*" + DASH + r"\s*\d", digit=True)
def scores(text: str) -> str:
    """Match scores (``2-1`` → *hai một*, never *đến*): after a match word in the sentence, or
    between two names (``Hà Nội FC 1-1 Hà Tĩnh``), unless a unit, ``%`` or (when the first
    number is smaller, as in every range) a counted noun follows. Risk: a range in a match report
    before an unlisted noun (``thắng 2-3 pha bóng``) is read as a score."""
    def one(m: re.Match) -> str:
        a, b = int(m.group(1)), int(m.group(2))
        s, start, end = m.string, m.start(), m.end()
        if not (_score_cue_before(s, start) or (a <= 15 and b <= 15 and _between_names(s, start, end))):
            return m.group(0)
        if _counted_after(s, end, a < b):
            return m.group(0)
        return f"{read_int(a)} {read_int(b)}"
    return _SCORE.sub(one, text)


_ROMAN_CUE = re.compile(r"(?i:\b(khóa|khoá|quý|kỷ|thứ|hội|chương|phần|mục|tập|kỳ|đợt|mùa|vòng|lần|cấp|hạng|số))"
                        r"\s+"
                        r"([IVXLC]{1,7})(?![\w])")
_ROMAN_LIST = re.compile(r"^(\s*)([IVX]{1,5})(\s*[-.)–]\s)")


@when(r"[IVXLC](?!\w)")
def roman_numerals(text: str) -> str:
    """Roman numerals after a cue (*khóa XIV*, *thế kỷ XXI*, *lần thứ XI*) → cardinals (*thứ IV*
    → *thứ tư*), and a list marker ``I-`` at the start. Risk: a bare ``X`` elsewhere stays a letter."""
    def one(m: re.Match) -> str:
        v = roman_value(m.group(2))
        if v is None:
            return m.group(0)
        spoken = read_ordinal(v) if m.group(1).lower() == "thứ" else read_int(v)
        return f"{m.group(1)} {spoken}"

    def lead(m: re.Match) -> str:
        v = roman_value(m.group(2))
        return m.group(0) if v is None else f"{m.group(1)}{read_int(v)}{m.group(3)}"
    return _ROMAN_LIST.sub(lead, _ROMAN_CUE.sub(one, text))


_MONTH = re.compile(r"\b([Tt]háng)\s+(0?[1-9]|1[0-2])" + _END)


@when(r"háng\s+\d", digit=True)
def months(text: str) -> str:
    """``tháng 4`` → *tháng tư*, ``tháng 12`` → *tháng mười hai* (a month on its own)."""
    return _MONTH.sub(lambda m: f"{m.group(1)} {read_month(m.group(2))}", text)


_ORDINAL = re.compile(r"\b([Tt]hứ)\s+(\d{1,3})(?![\w]|[.,/]\d)")


@when(r"hứ\s+\d", digit=True)
def ordinals(text: str) -> str:
    """``thứ 1`` → *thứ nhất*, ``thứ 4`` → *thứ tư* (also weekdays ``Thứ 2``), else the cardinal."""
    return _ORDINAL.sub(lambda m: f"{m.group(1)} {read_ordinal(m.group(2))}", text)


_RANGE = _Guarded(r"(" + NUM + r"(?:[hg]\d{0,2}|%)?)(\s*" + DASH + r"\s*)(?=\d)")


@when(r"\d\s*" + DASH + r"\s*\d", digit=True)
def ranges(text: str) -> str:
    """A dash between numbers (``10-15%``, ``2020 - 2025``, ``8 – 12m``) → *đến*.
    Runs after dates, codes, plates, phones and scores have taken their dashes."""
    return _RANGE.sub(lambda m: f"{m.group(1)} đến ", text)


_NEGATIVE = re.compile(r"(?:(?<=^)|(?<=[\s(]))[-−](?=\d)")


@when(r"[-−]\d", digit=True)
def negatives(text: str) -> str:
    """A minus glued to a number after a space (``-5 độ C``, ``(-2,5%)``) → *âm*. Runs after
    ``ranges``, so ``10-15`` and ``2020 - 2025`` have already become *đến*."""
    return _NEGATIVE.sub("âm ", text)


_FRACTION = _Guarded(r"(\d{1,4})/(\d{1,4}(?:,\d+)?)" + _END)


@when(r"\d/\d", digit=True)
def fractions(text: str) -> str:
    """``a/b`` left after dates: a fraction *a phần b* when a < b ≤ 100 (``1/3``, ``3/4``), else
    *a trên b* (scales ``1/500``, numbers ``số 3/2017``, ``24/7``, ratios ``1/2,91``, a count out of a
    count before a counted word of ``ratio_nouns.tsv``: ``thắng 12/30 trận``); two years in a
    row are a season (``V-League 2023/2024`` → *hai nghìn … hai mươi ba – hai nghìn … hai mươi bốn*)."""
    def one(m: re.Match) -> str:
        if "," in m.group(2):  # a ratio "1/2,91": the decimal is read by the numbers rule
            return f"{read_int(m.group(1))} trên {m.group(2)}"
        a, b = int(m.group(1)), int(m.group(2))
        if 1900 <= a <= 2099 and b == a + 1 and _prev_word(m.string, m.start()) != "số":  # a season "2023/2024": two years, a pause between
            return f"{read_int(a)} – {read_int(b)}"
        fraction = a < b <= 100 and _next_word(m.string, m.end()) not in table("ratio_nouns")
        return f"{read_int(a)} {'phần' if fraction else 'trên'} {read_int(b)}"
    return _FRACTION.sub(one, text)


_PERCENT = re.compile(r"(\d)\s?%")


@when(r"%", digit=True)
def percents(text: str) -> str:
    """``10%``, ``0,6%`` → *… phần trăm* (the number is read later)."""
    return _PERCENT.sub(r"\1 phần trăm", text)


@lru_cache(maxsize=None)
def _unit_res() -> tuple[re.Pattern, re.Pattern]:
    unit = (r"(" + _alt(table("units")) + r")(?:/(" + _alt(table("per_units")) + r")(?![\w²³])|(/)(?=\d)|(?![\w²³]|-[^\W\d_]))")
    return (re.compile(r"(\d) ?" + unit),
            re.compile(r"((?:" + "|".join(MULTIPLIERS) + r") )" + unit))


@when(r"\d", digit=True)
def units(text: str) -> str:
    """Units right after a number (``65ha``, ``5,5 km²``, ``70 triệu m3``, ``m3/s``, ``km/h``,
    ``L/100km``) → *héc-ta, ki-lô-mét vuông, mét khối một giây*. Risk: a one-letter unit
    (``m``, ``g``, ``L``) is read only right after a number, and never before ``-Word``
    (``15 V-League`` is no volt)."""
    words, per = table("units"), table("per_units")

    def one(m: re.Match) -> str:
        spoken = words[m.group(2)]
        if m.group(3):
            spoken += " một " + per[m.group(3)]
        elif m.group(4):
            spoken += " trên "
        return f"{m.group(1).rstrip()} {spoken}"
    after_digit, after_multiplier = _unit_res()
    return after_multiplier.sub(one, after_digit.sub(one, text))


_THOUSAND_K = re.compile(r"(\d)k(?![\w])")
_DOLLAR = re.compile(r"\$\s?(" + NUM + r")(\s*(?:" + "|".join(MULTIPLIERS) + r"))?")
_DONG = re.compile(r"(?<=\d)\s?(?:đ|đồng|VNĐ|VND)(?![\w])")


@when(r"[\d$](?:(?<=\$)|\s?[đV]|k)", digit=True)
def currency(text: str) -> str:
    """``$5``, ``$2 tỷ`` → *… đô la*; ``50.000đ`` → *… đồng*; ``50k`` → *năm mươi nghìn* (``USD``,
    ``VNĐ`` are in the abbreviation list). Risk: a race distance ``5k`` also becomes *nghìn*;
    ``4K`` (capital) is left alone."""
    text = _DOLLAR.sub(lambda m: f"{m.group(1)}{m.group(2) or ''} đô la", text)
    text = _THOUSAND_K.sub(r"\1 nghìn", text)
    return _DONG.sub(" đồng", text)


@lru_cache(maxsize=None)
def _rate_re() -> re.Pattern:
    return re.compile(r"(?<=[^\W\d_])/(?:(" + _alt(table("per_units")) + r")(?![\w])|(?=\d))")


@when(r"/", digit=True)
def rates(text: str) -> str:
    """``đồng/lượng``, ``USD/ounce``, ``lần/phút`` after a number → *… một lượng*; before a number
    ``/`` is *trên* (``100 USD/1000m3``). Risk: ``và/hoặc`` is no rate, so a number must come
    shortly before."""
    per = table("per_units")

    def one(m: re.Match) -> str:
        if not re.search(r"\d", m.string[max(0, m.start() - 40):m.start()]):
            return m.group(0)
        return " trên " if m.group(1) is None else " một " + per[m.group(1)]
    return _rate_re().sub(one, text)


_DECIMAL_CODE = _Guarded(r"(\d+)\.(\d+)([A-Z]{1,3})(?![\w])")
_ALNUM_CODE = _Guarded(r"(?=[A-ZĐ0-9]*\d)(?=[A-ZĐ0-9]*[A-ZĐ])([A-ZĐ0-9]{2,12})(?![\w])", bad="-")


@when(r"\d(?:(?<=[A-ZĐ]\d)|[A-ZĐ])", digit=True)
def model_codes(text: str) -> str:
    """Trim and model names: ``2.0E`` → *hai chấm không e*; ``SE67``, ``A80``, ``U23``, ``H5N1``:
    letters spelled, digit runs as cardinals; a road prefix is a word (``QL1A`` → *quốc lộ một a*)."""
    prefixes = table("code_prefixes")

    def alnum(m: re.Match) -> str:
        parts = re.findall(r"\d+|[^\W\d_]+", m.group(1))
        words = [prefixes[parts[0]]] if parts[0] in prefixes else []
        return " ".join(words + [read_int(p) if p.isdigit() and not p.startswith("0") or p == "0" else
                                 read_digits(p) if p.isdigit() else spell(p) for p in parts[len(words):]])
    text = _DECIMAL_CODE.sub(lambda m: f"{read_int(m.group(1))} chấm {read_digits(m.group(2))} {spell(m.group(3))}", text)
    return _ALNUM_CODE.sub(alnum, text)


_WORD_DIGITS = re.compile(r"(?<=[^\W\d_])-?(?=\d)|(?<=\d)(?=[^\W\d_])")


@when(r"\d(?:(?<=[^\W\d_]\d)|(?<=[^\W\d_]-\d)|[^\W\d_])", digit=True)
def split_words_digits(text: str) -> str:
    """``Mazda3``, ``Covid-19`` → ``Mazda 3``, ``Covid 19`` so the number is read on its own."""
    return _WORD_DIGITS.sub(" ", text)


_TIMES_SIGN = re.compile(r"(\d)\s?[x×]\s?(?=\d)")


@when(r"\d\s?[x×]\s?\d", digit=True)
def dimensions(text: str) -> str:
    """``1.260 x 2.720`` (a screen), ``3x4`` → *… nhân …*. Risk: a hexadecimal ``0x1F`` too."""
    return _TIMES_SIGN.sub(r"\1 nhân ", text)


_NUMBER = _Guarded(r"\d+(?:[.,]\d+)*(?![\w])", bad="")


_VN_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_EN_FULL = re.compile(r"\d{1,3}(?:,\d{3})+\.\d+")
_EN_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3}){2,}")
_COMMA_THREE = re.compile(r"\d{1,3},\d{3}")
_DECIMAL_COMMA = re.compile(r"\d+,\d+")
_DECIMAL_POINT = re.compile(r"\d+\.\d+")


def _read_number(tok: str, nxt: str) -> str:
    if tok.isdigit():
        if len(tok) >= 10 or len(tok) > 1 and tok.startswith("0") and not _zero_padded_count(tok, nxt):
            return read_digits(tok)
        return read_int(tok)
    if _VN_THOUSANDS.fullmatch(tok):  # 24.500 / 1.949,8
        whole, _, frac = tok.partition(",")
        whole = whole.replace(".", "")
        return read_decimal(whole, frac) if frac else read_int(whole)
    if _EN_FULL.fullmatch(tok):  # 1,234.5 English
        whole, frac = tok.split(".")
        return f"{read_int(whole.replace(',', ''))} phẩy {read_fraction_digits(frac)}"
    if _EN_THOUSANDS.fullmatch(tok):  # 1,234,567
        return read_int(tok.replace(",", ""))
    if _COMMA_THREE.fullmatch(tok):  # 2,250: English thousands or a decimal comma
        whole, frac = tok.split(",")
        english = frac == "000" or (nxt in table("count_nouns") and nxt not in MULTIPLIERS)
        return read_int(whole + frac) if english else read_decimal(whole, frac)
    if _DECIMAL_COMMA.fullmatch(tok):
        whole, frac = tok.split(",")
        return read_decimal(whole, frac)
    if _DECIMAL_POINT.fullmatch(tok):  # 1.4, 258.1: an English decimal point
        whole, frac = tok.split(".")
        return f"{read_int(whole)} phẩy {read_fraction_digits(frac)}"
    return " chấm ".join(_read_number(p, "") for p in re.split(r"[.,]", tok))  # 1.2.3


def _zero_padded_count(tok: str, nxt: str) -> bool:
    """``06 tháng``, ``08 người``: a two-digit zero-padded number before a counted noun
    (``count_nouns``, ``range_nouns``) is a count, *sáu tháng*; ``(03)`` alone stays digits."""
    return len(tok) == 2 and (nxt in table("count_nouns") or nxt in table("range_nouns"))


_NEXT_WORD = re.compile(r"\s*([^\W\d_]+)")


def _next_word(s: str, end: int) -> str:
    m = _NEXT_WORD.match(s, end)
    return m.group(1).lower() if m else ""


@when(r"\d", digit=True)
def numbers(text: str) -> str:
    """Every number left: ``.`` thousands and ``,`` decimals (``24.500``, ``3,5``), English
    separators when unmistakable (``23,000``, ``1.4``, ``2,250 người``), zero-padded and
    very long digit strings (identifiers) digit by digit."""
    return _NUMBER.sub(lambda m: _read_number(m.group(0), _next_word(m.string, m.end())), text)


_ACRONYM = _Guarded(r"([A-ZĐ]{2,6})(?![\w])", bad="-")


@when(r"[A-ZĐ]{2}")
def acronyms(text: str) -> str:
    """Capitals not in the dictionary (``SJC``, ``DOHC``) spelled with letter names; a few
    (``ASEAN``, ``COVID``, ``LED``) read as words, and English ones said the English way
    (``english_acronyms.tsv``: ``CEO`` → *xi i ô*, ``MC`` → *em xi*); after a name cue
    (``name_cues.tsv``: ``bão YAGI``) one of three or more letters is a name, said as a word
    (*Yagi*). A line mostly in capitals is left alone. Risk: a real acronym after *bão* is read
    as a word."""
    if sum(map(str.isupper, text)) > 0.6 * sum(map(str.isalpha, text)):
        return text
    words, english, names = table("word_acronyms"), table("english_acronyms"), table("name_cues")

    def one(m: re.Match) -> str:
        w = m.group(1)
        if w in words:
            return words[w]
        if w in english:
            return spell_english(w)
        if len(w) > 2 and _prev_word(text, m.start()) in names:
            return w.capitalize()
        return spell(w)
    return _ACRONYM.sub(one, text)


_SYMBOLS = (("&", " và "), ("%", " phần trăm"), ("°C", " độ C"), ("~", " khoảng "), ("+", " cộng "))


@when(r"[&%~+°]")
def symbols(text: str) -> str:
    """Stray symbols: ``&`` *và*, ``%`` *phần trăm*, ``°C`` *độ C*, ``~`` *khoảng*, ``+`` *cộng*."""
    for sym, word in _SYMBOLS:
        if sym in text:
            text = text.replace(sym, word)
    return text


def tidy_spaces(text: str) -> str:
    """One space between words, none before closing punctuation the rules may have moved."""
    if "  " in text or "\t" in text or "\u00a0" in text:
        text = _SPACES.sub(" ", text)
    return text.strip()


_SPACES = re.compile(r"[ \t\u00a0]+")


RULES = (
    nfc,
    operator_lexicon,
    urls_and_emails,
    phone_numbers,
    senses,
    licence_plates,
    boat_numbers,
    document_codes,
    abbreviations,
    initials,
    admin_prefixes,
    times,
    quarters,
    date_ranges,
    full_dates,
    short_year_dates,
    month_years,
    day_months,
    scores,
    roman_numerals,
    months,
    ordinals,
    ranges,
    negatives,
    fractions,
    percents,
    units,
    currency,
    rates,
    model_codes,
    split_words_digits,
    dimensions,
    numbers,
    symbols,  # before acronyms: the words it adds count in the capitals share (idempotent)
    acronyms,
    tidy_spaces,
)


def normalize(text: str, rules=RULES, *, defined: Definitions = NO_DEFINITIONS) -> str:
    """The spoken form of ``text``: every rule in order (a rule whose trigger finds nothing is skipped).

    Right after the operator lexicon, abbreviations the document has defined (``defined``, from
    the sentences before) or that ``text`` defines itself are read as their long form
    (``reader/text/definitions.py``)."""
    has_digit = None
    for rule in rules:
        trigger = getattr(rule, "trigger", None)
        if trigger is not None:
            if rule.needs_digit:
                if has_digit is None:
                    has_digit = _DIGIT.search(text) is not None
                if not has_digit:
                    continue
            if not trigger.search(text):
                continue
        text = rule(text)
        if rule is operator_lexicon:
            text = defined.expand(text)
    return text


_DIGIT = re.compile(r"\d")
