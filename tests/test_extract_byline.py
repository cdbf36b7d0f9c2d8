"""reader/extract/byline.py: the trailing byline and source step of page and plain-text extraction."""
from __future__ import annotations

import pytest

from reader.extract.byline import Line, Trailing, credit, trailing
from reader.extract.plaintext import extract_text

BODY = Line("Hội nghị tổng kết công tác năm diễn ra sáng nay tại thành phố Hạ Long với nhiều đại biểu.")

TRAILING_CASES = [
    ("caps-name", [BODY, Line("LÊ HÀ")], Trailing("LÊ HÀ", None, 1)),
    ("two-caps-names", [BODY, Line("NGỌC MAI - THANH HÀ")], Trailing("NGỌC MAI - THANH HÀ", None, 1)),
    ("source-only", [BODY, Line("Theo TTXVN")], Trailing(None, "TTXVN", 1)),
    ("bracketed-source", [BODY, Line("(Theo VnExpress)")], Trailing(None, "VnExpress", 1)),
    ("name-then-source", [BODY, Line("LÊ HÀ"), Line("Theo TTXVN")], Trailing("LÊ HÀ", "TTXVN", 2)),
    ("source-then-name", [BODY, Line("Theo TTXVN"), Line("LÊ HÀ")], Trailing("LÊ HÀ", "TTXVN", 2)),
    ("credit-line", [BODY, Line("Bài và ảnh: NGỌC MAI")], Trailing("NGỌC MAI", None, 1)),
    ("title-case-name", [BODY, Line("Đức Hùng")], Trailing("Đức Hùng", None, 1)),
    ("right-aligned-name", [BODY, Line("Nhóm phóng viên thường trú", right=True)],
     Trailing("Nhóm phóng viên thường trú", None, 1)),
    ("left-aligned-lowercase-line-is-body", [BODY, Line("nhóm phóng viên thường trú")], Trailing(None, None, 0)),
    ("heading-is-never-a-name", [BODY, Line("LÊ HÀ", prose=False)], Trailing(None, None, 0)),
    ("heading-may-still-be-a-source", [BODY, Line("Theo TTXVN", prose=False)], Trailing(None, "TTXVN", 1)),
    ("sentence-ends-the-tail", [BODY, Line("Hội nghị kết thúc lúc 11 giờ."), Line("LÊ HÀ")],
     Trailing("LÊ HÀ", None, 1)),
    ("at-most-three-lines", [BODY, Line("AN"), Line("MINH ANH"), Line("LÊ HÀ"), Line("Theo TTXVN")],
     Trailing("LÊ HÀ", "TTXVN", 3)),
    ("nearest-name-wins", [BODY, Line("MINH ANH"), Line("LÊ HÀ")], Trailing("LÊ HÀ", None, 2)),
    ("one-line-is-left-as-body", [Line("LÊ HÀ")], Trailing(None, None, 0)),
    ("empty", [], Trailing(None, None, 0)),
]


@pytest.mark.parametrize("lines, expected", [c[1:] for c in TRAILING_CASES], ids=[c[0] for c in TRAILING_CASES])
def test_trailing(lines, expected):
    assert trailing(lines) == expected


CREDIT_CASES = [
    ("author-and-source", ("LÊ HÀ", "TTXVN"), "LÊ HÀ, TTXVN"),
    ("source-alone", (None, "TTXVN"), "TTXVN"),
    ("author-alone", ("LÊ HÀ", None), "LÊ HÀ"),
    ("author-names-the-source", ("Minh Anh (Theo TTXVN)", "TTXVN"), "Minh Anh (Theo TTXVN)"),
    ("neither", (None, None), None),
]


@pytest.mark.parametrize("parts, expected", [c[1:] for c in CREDIT_CASES], ids=[c[0] for c in CREDIT_CASES])
def test_credit(parts, expected):
    assert credit(*parts) == expected


def test_plain_text_uses_the_same_step():
    text = ("Giữ vững địa bàn an toàn\n" + BODY.text + "\n" + BODY.text.replace("sáng", "chiều") +
            "\nLÊ HÀ\nTheo TTXVN\n")
    doc = extract_text(text)
    assert doc.author == "LÊ HÀ, TTXVN"
    assert [p for p in doc.paragraphs if "LÊ HÀ" in p or "TTXVN" in p] == []
