"""Abbreviations a document defines for itself (reader/text/definitions.py)."""
import pytest

from reader.models import Document
from reader.text import normalize, sentences
from reader.text.definitions import Definitions, find_definitions

# (id, text, [(short form, long form)])
FOUND = [
    ("long-then-short", "tính thanh khoản của quỹ tín dụng nhân dân (QTDND) được xem",
     [("QTDND", "quỹ tín dụng nhân dân")]),
    ("short-then-long", "QTDND (Quỹ tín dụng nhân dân) cho vay", [("QTDND", "Quỹ tín dụng nhân dân")]),
    ("listed-now", "ngân hàng thương mại (NHTM) và Thanh tra Chính phủ (TTCP)", []),
    ("skips-va", "Bộ Giáo dục và Đào tạo (GDĐT) có công văn", []),  # GDĐT is in the word list
    ("skips-va-unlisted", "Sở Khoa học và Đầu tư (KHĐT) có công văn", [("KHĐT", "Khoa học và Đầu tư")]),
    ("called", "Công ty Vạn Thịnh Phát (sau đây gọi tắt là VTP) ký", [("VTP", "Vạn Thịnh Phát")]),
    ("called-quoted", "Ban Quản lý dự án, gọi tắt là “BQLDA”, kết luận", [("BQLDA", "Ban Quản lý dự án")]),
    ("hyphenated", "công ty chứng khoán - quỹ (CK-Q) mở", [("CK-Q", "chứng khoán - quỹ")]),
    ("initials-differ", "Phòng Cảnh sát giao thông (CAX) tuần tra", []),
    ("word-list-wins", "Tòa án nhân dân (TAND) tỉnh", []),
    ("english-list-wins", "giám đốc điều hành (CEO) của", []),
    ("one-letter", "khu vực (A) và", []),
    ("year-in-brackets", "Nguyễn Văn An (NVA 1985)", []),
]


@pytest.mark.parametrize("text, want", [c[1:] for c in FOUND], ids=[c[0] for c in FOUND])
def test_find_definitions(text, want):
    assert [(f.abbr, f.long) for f in find_definitions(text)] == want


# (id, earlier sentences of the document, sentence, its spoken form)
EXPAND = [
    ("later-sentence", ["Ban Quản lý dự án (BQLDA) vừa có kết luận."], "BQLDA kiến nghị xử lý.",
     "Ban Quản lý dự án kiến nghị xử lý."),
    ("same-sentence-after", [], "Ban Quản lý dự án (BQLDA) kết luận, BQLDA kiến nghị.",
     "Ban Quản lý dự án kết luận, Ban Quản lý dự án kiến nghị."),
    ("bracket-after-long-form-silent", [], "Ban Quản lý dự án (BQLDA), thành lập", "Ban Quản lý dự án, thành lập"),
    ("short-before-bracketed-long-silent", [], "QTDND (Quỹ tín dụng nhân dân) cho vay",
     "(Quỹ tín dụng nhân dân) cho vay"),
    ("listed-bracket-silent", [], "Ngân hàng Nhà nước (NHNN) niêm yết", "Ngân hàng Nhà nước niêm yết"),
    ("listed-bracket-other-meaning-read", [], "Phòng Cảnh sát giao thông (CATP) tuần tra",
     "Phòng Cảnh sát giao thông (công an thành phố) tuần tra"),
    ("called-is-read", [], "Công ty Vạn Thịnh Phát (sau đây gọi tắt là VTP) và VTP.",
     "Công ty Vạn Thịnh Phát (sau đây gọi tắt là vê tê pê) và Vạn Thịnh Phát."),
    ("same-sentence-before", [], "BQLDA nói: Ban Quản lý dự án (BQLDA) kết luận.",
     "bê quy e lờ dê a nói: Ban Quản lý dự án kết luận."),
    ("not-inside-code", ["Ban Quản lý dự án (BQLDA) vừa có kết luận."], "Văn bản 12/BQLDA-C.",
     "Văn bản mười hai trên bê quy e lờ dê a xê."),
    ("not-part-of-word", ["Ban Quản lý dự án (BQLDA) vừa có kết luận."], "Mã BQLDAX.", "Mã BQLDAX."),
    ("undefined", [], "BQLDA kiến nghị xử lý.", "bê quy e lờ dê a kiến nghị xử lý."),
    ("first-definition-wins", ["Ban Quản lý dự án (BQLDA) vừa có kết luận.", "Ban Quy hoạch Liên Doanh An (BQLDA)."],
     "BQLDA kiến nghị.", "Ban Quản lý dự án kiến nghị."),
    ("long-form-normalised", ["Tổng công ty Đường sắt (TCTĐS) vừa họp."], "TCTĐS có 2 tuyến.",
     "Tổng công ty Đường sắt có hai tuyến."),
]


@pytest.mark.parametrize("earlier, text, want", [c[1:] for c in EXPAND], ids=[c[0] for c in EXPAND])
def test_expand_after_definition(earlier, text, want):
    defined = Definitions()
    for s in earlier:
        defined = defined.learn(s)
    assert normalize(text, defined=defined) == want


def test_definitions_are_frozen_and_learning_returns_a_new_table():
    empty = Definitions()
    learned = empty.learn("Ban Quản lý dự án (BQLDA) vừa có kết luận.")
    assert empty.pairs == () and learned.pairs == (("BQLDA", "Ban Quản lý dự án"),)
    with pytest.raises(AttributeError):
        learned.pairs = ()


def _doc(*paras):
    return Document(title="Kết luận thanh tra", paragraphs=paras)


def test_sentences_thread_definitions_through_the_document():
    doc = _doc("Ban Quản lý dự án (BQLDA) vừa có kết luận. Theo BQLDA, sai phạm kéo dài.",
               "BQLDA kiến nghị xử lý.")
    spoken = [s.spoken for s in sentences(doc)]
    assert spoken[2:] == ["Theo Ban Quản lý dự án, sai phạm kéo dài.", "Ban Quản lý dự án kiến nghị xử lý."]


def test_definitions_stay_in_their_document():
    sentences(_doc("Ban Quản lý dự án (BQLDA) vừa có kết luận."))
    assert [s.spoken for s in sentences(_doc("BQLDA kiến nghị xử lý."))][1] == "bê quy e lờ dê a kiến nghị xử lý."
