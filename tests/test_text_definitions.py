"""Abbreviations a document defines for itself (reader/text/definitions.py)."""
import pytest

from reader.models import Document
from reader.text import normalize, sentences
from reader.text.definitions import Definitions, find_definitions

# (id, text, [(short form, long form)])
FOUND = [
    ("long-then-short", "tính thanh khoản của ngân hàng thương mại (NHTM) được xem",
     [("NHTM", "ngân hàng thương mại")]),
    ("short-then-long", "NHCSXH (Ngân hàng Chính sách xã hội) cho vay", [("NHCSXH", "Ngân hàng Chính sách xã hội")]),
    ("skips-va", "Bộ Giáo dục và Đào tạo (GDĐT) có công văn", []),  # GDĐT is in the word list
    ("skips-va-unlisted", "Sở Khoa học và Đầu tư (KHĐT) có công văn", [("KHĐT", "Khoa học và Đầu tư")]),
    ("called", "Công ty Vạn Thịnh Phát (sau đây gọi tắt là VTP) ký", [("VTP", "Vạn Thịnh Phát")]),
    ("called-quoted", "Thanh tra Chính phủ, gọi tắt là “TTCP”, kết luận", [("TTCP", "Thanh tra Chính phủ")]),
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
    ("later-sentence", ["Thanh tra Chính phủ (TTCP) vừa có kết luận."], "TTCP kiến nghị xử lý.",
     "Thanh tra Chính phủ kiến nghị xử lý."),
    ("same-sentence-after", [], "Thanh tra Chính phủ (TTCP) kết luận, TTCP kiến nghị.",
     "Thanh tra Chính phủ (tê tê xê pê) kết luận, Thanh tra Chính phủ kiến nghị."),
    ("same-sentence-before", [], "TTCP nói: Thanh tra Chính phủ (TTCP) kết luận.",
     "tê tê xê pê nói: Thanh tra Chính phủ (tê tê xê pê) kết luận."),
    ("not-inside-code", ["Thanh tra Chính phủ (TTCP) vừa có kết luận."], "Văn bản 12/TTCP-C.",
     "Văn bản mười hai trên tê tê xê pê xê."),
    ("not-part-of-word", ["Thanh tra Chính phủ (TTCP) vừa có kết luận."], "Mã TTCPX.", "Mã TTCPX."),
    ("undefined", [], "TTCP kiến nghị xử lý.", "tê tê xê pê kiến nghị xử lý."),
    ("first-definition-wins", ["Thanh tra Chính phủ (TTCP) vừa có kết luận.", "Trung tâm Chính phủ (TTCP)."],
     "TTCP kiến nghị.", "Thanh tra Chính phủ kiến nghị."),
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
    learned = empty.learn("Thanh tra Chính phủ (TTCP) vừa có kết luận.")
    assert empty.pairs == () and learned.pairs == (("TTCP", "Thanh tra Chính phủ"),)
    with pytest.raises(AttributeError):
        learned.pairs = ()


def _doc(*paras):
    return Document(title="Kết luận thanh tra", paragraphs=paras)


def test_sentences_thread_definitions_through_the_document():
    doc = _doc("Thanh tra Chính phủ (TTCP) vừa có kết luận. Theo TTCP, sai phạm kéo dài.",
               "TTCP kiến nghị xử lý.")
    spoken = [s.spoken for s in sentences(doc)]
    assert spoken[2:] == ["Theo Thanh tra Chính phủ, sai phạm kéo dài.", "Thanh tra Chính phủ kiến nghị xử lý."]


def test_definitions_stay_in_their_document():
    sentences(_doc("Thanh tra Chính phủ (TTCP) vừa có kết luận."))
    assert [s.spoken for s in sentences(_doc("TTCP kiến nghị xử lý."))][1] == "tê tê xê pê kiến nghị xử lý."
