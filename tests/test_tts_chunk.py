"""Chunking text to an engine's request limit."""
from __future__ import annotations

import pytest

from reader.tts.chunk import chunk_text

LONG = ("Sáng ngày chín tháng một, Tỉnh ủy Quảng Ninh tổ chức hội nghị tổng kết công tác năm hai nghìn "
        "không trăm hai mươi, triển khai nhiệm vụ năm hai nghìn không trăm hai mươi mốt. "
        "Đồng chí Nguyễn Xuân Ký chủ trì hội nghị.")

CASES = [
    ("Xin chào.", 100, (), ["Xin chào."]),
    ("  Xin   chào.  ", 100, (), ["Xin chào."]),
    ("", 100, (), []),
    ("Một hai ba.", None, (), ["Một hai ba."]),
    ("Câu một. Câu hai dài hơn một chút!", 20, (), ["Câu một.", "Câu hai dài hơn một", "chút!"]),
    ("Một, hai, ba; bốn: năm", 9, (), ["Một, hai,", "ba; bốn:", "năm"]),
    ("alpha beta gamma delta", 11, (), ["alpha beta", "gamma delta"]),
    ("abcdefghij", 4, (), ["abcd", "efgh", "ij"]),
    ("mot hai ba bon nam sau", 12, (7, 15), ["mot hai", "ba bon", "nam sau"]),
    ("Đi học – về nhà", 8, (), ["Đi học", "– về nhà"]),
]


@pytest.mark.parametrize("text, limit, breaks, expected", CASES,
                         ids=["fits", "whitespace", "empty", "no-limit", "sentences-then-words",
                              "clauses", "words", "long-word", "given-breaks", "dash"])
def test_chunk_text(text, limit, breaks, expected):
    assert chunk_text(text, limit, breaks) == expected


@pytest.mark.parametrize("limit", [30, 50, 100], ids=["30", "50", "100"])
def test_pieces_fit_and_keep_every_word(limit):
    pieces = chunk_text(LONG, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert " ".join(pieces).split() == LONG.split()


def test_prefers_sentence_then_clause_boundaries():
    pieces = chunk_text(LONG, 100)
    assert pieces[0].endswith(",")  # a clause end, not mid-clause
    assert any(p.endswith("mốt.") for p in pieces) or any("mốt. Đồng" in p for p in pieces)
