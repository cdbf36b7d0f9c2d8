"""Sentence splitting, clause breaks and Document → Sentences."""
import re

import pytest

from reader.models import Caption, Document, Sentence
from reader.text import clause_breaks, sentences, split_sentences
from reader.text.sentences import vietnamese_shaped

SPLITS = [
    ("plain", "Trời mưa. Đường ngập.", ["Trời mưa.", "Đường ngập."]),
    ("thousands", "Có 24.500 người. Họ đến.", ["Có 24.500 người.", "Họ đến."]),
    ("decimal-comma", "Tăng 3,5%. Giảm 1,2%.", ["Tăng 3,5%.", "Giảm 1,2%."]),
    ("engine-size", "Động cơ 1.4L mạnh. Xe nhẹ.", ["Động cơ 1.4L mạnh.", "Xe nhẹ."]),
    ("date-dots", "Sáng 22.9.2017 họp. Chiều về.", ["Sáng 22.9.2017 họp.", "Chiều về."]),
    ("tp-glued", "Anh ở TP.HCM và Hà Nội.", ["Anh ở TP.HCM và Hà Nội."]),
    ("tp-spaced", "Tại TP. HCM hôm qua, trời mưa.", ["Tại TP. HCM hôm qua, trời mưa."]),
    ("tp-ends-sentence", "Anh về TP.HCM. Sau đó anh đi.", ["Anh về TP.HCM.", "Sau đó anh đi."]),
    ("titles", "Theo PGS. TS. Vũ Thanh Ca, lũ lớn.", ["Theo PGS. TS. Vũ Thanh Ca, lũ lớn."]),
    ("titles-glued", "PGS.TS. Trần Phu nói. Ông đi.", ["PGS.TS. Trần Phu nói.", "Ông đi."]),
    ("title-tskh", "Theo GS.TSKH. Nguyễn Văn A, đúng.", ["Theo GS.TSKH. Nguyễn Văn A, đúng."]),
    ("mark-inside-quote-then-dot", "Ông nói “Không!”. Rồi đi.", ["Ông nói “Không!”.", "Rồi đi."]),
    ("english-decimal", "Điểm chuẩn là 27.5. Năm ngoái là 27.", ["Điểm chuẩn là 27.5.", "Năm ngoái là 27."]),
    ("bracketed-date", "Giá hôm nay (20.11) tăng. Nhà đầu tư lo.", ["Giá hôm nay (20.11) tăng.", "Nhà đầu tư lo."]),
    ("district", "Nhà ở Q.1 rất đắt. Giá tăng.", ["Nhà ở Q.1 rất đắt.", "Giá tăng."]),
    ("initial-lowercase-next", "Bệnh nhân Ph. đã tỉnh. Gia đình mừng.", ["Bệnh nhân Ph. đã tỉnh.", "Gia đình mừng."]),
    ("initial-bracket", "Anh Mai Đình Ph. (28 tuổi) bị thương.", ["Anh Mai Đình Ph. (28 tuổi) bị thương."]),
    ("initial-comma", "Bà P., buộc phải trả tiền.", ["Bà P., buộc phải trả tiền."]),
    ("initial-ends", "Tiền chuyển cho bà P. Do ông T. vắng mặt nên hoãn.",
     ["Tiền chuyển cho bà P.", "Do ông T. vắng mặt nên hoãn."]),
    ("initials-in-a-row", "Nhà văn J. K. Rowling đến.", ["Nhà văn J. K. Rowling đến."]),
    ("place-prefix-ends-before-opener", "phục vụ người dân TP. Vì vậy, nước bị cắt.",
     ["phục vụ người dân TP.", "Vì vậy, nước bị cắt."]),
    ("western-middle-initial", "Thời Tổng thống John F. Kennedy và Lyndon B. Johnson. Sau đó thì khác.",
     ["Thời Tổng thống John F. Kennedy và Lyndon B. Johnson.", "Sau đó thì khác."]),
    ("vietnamese-name-initial-ends", "Người bị hại là anh Nguyễn Văn A. Sau đó anh về.",
     ["Người bị hại là anh Nguyễn Văn A.", "Sau đó anh về."]),
    ("list-digit-ends", "Ký tự đầu tiên là 1, 4 hoặc 5. Ví dụ như xe Mỹ.",
     ["Ký tự đầu tiên là 1, 4 hoặc 5.", "Ví dụ như xe Mỹ."]),
    ("url", "Xem www.catp.danang.gov.vn:8001/tin để biết. Cảm ơn.",
     ["Xem www.catp.danang.gov.vn:8001/tin để biết.", "Cảm ơn."]),
    ("ellipsis-boundary", "Hàng ở Q.5... Từ đầu năm giá tăng.", ["Hàng ở Q.5...", "Từ đầu năm giá tăng."]),
    ("ellipsis-comma", "Họ khai thác... , trung tá nói.", ["Họ khai thác... , trung tá nói."]),
    ("ellipsis-lowercase", "Ở Phú Quốc… đều tăng.", ["Ở Phú Quốc… đều tăng."]),
    ("ellipsis-plate", "Xe 14A-130... 23 lần vi phạm.", ["Xe 14A-130... 23 lần vi phạm."]),
    ("ellipsis-at-end", "Các tỉnh, thành… Hà Nội đứng đầu.", ["Các tỉnh, thành…", "Hà Nội đứng đầu."]),
    ("quote-inside", "Ông nói: “Tôi đồng ý. Tôi sẽ ký”. Sau đó ông về.",
     ["Ông nói: “Tôi đồng ý.", "Tôi sẽ ký”.", "Sau đó ông về."]),
    ("quote-attribution", "“Giá sẽ giảm. Nhưng rồi tăng”, ông Hải nói. Thế thôi.",
     ["“Giá sẽ giảm.", "Nhưng rồi tăng”, ông Hải nói.", "Thế thôi."]),
    ("quote-closing-after-mark", "Anh hỏi: \"Vì sao?\" Không ai đáp.", ["Anh hỏi: \"Vì sao?\"", "Không ai đáp."]),
    ("question-attribution", "Tôi phải làm gì? (Ngân, 30 tuổi, TP HCM)", ["Tôi phải làm gì?", "(Ngân, 30 tuổi, TP HCM)"]),
    ("no-mark-no-split", "Xe đẹp bắt mắt Hãng xe Nhật làm lại lưới.", ["Xe đẹp bắt mắt Hãng xe Nhật làm lại lưới."]),
    ("bullet-dash", "Gửi bài. - Bài viết bằng tiếng Việt.", ["Gửi bài.", "- Bài viết bằng tiếng Việt."]),
    ("spaced-full-stop", "Nâng cấp công nghệ . Xe đẹp.", ["Nâng cấp công nghệ .", "Xe đẹp."]),
    ("list-marker", "Gồm: 1. Tăng thu. 2. Giảm chi.", ["Gồm: 1. Tăng thu.", "2. Giảm chi."]),
    ("year-then-digit", "Xong năm 2017. 3 năm sau hỏng.", ["Xong năm 2017.", "3 năm sau hỏng."]),
    ("product-name", "Quán Hi! Café mở cửa.", ["Quán Hi! Café mở cửa."]),
    ("exclamation", "Tuyệt vời! Cảm ơn bạn.", ["Tuyệt vời!", "Cảm ơn bạn."]),
    ("trailing-fragment", "Khai mạc khóa XI;", ["Khai mạc khóa XI;"]),
    ("empty", "   ", []),
]


@pytest.mark.parametrize("para, expected", [(p, e) for _, p, e in SPLITS], ids=[i for i, _, _ in SPLITS])
def test_split_sentences(para, expected):
    got = split_sentences(para)
    assert got == expected
    # Joining with the original whitespace gives the paragraph back.
    assert re.sub(r"\s+", "", "".join(got)) == re.sub(r"\s+", "", para)


BREAKS = [
    ("comma", "Sáng nay, trời mưa", ("Sáng nay, ",)),
    ("semicolon-colon", "Gồm: a; b", ("Gồm: ", "Gồm: a; ")),
    ("spaced-dash", "Hà Nội – thủ đô", ("Hà Nội – ",)),
    ("decimal-comma", "ba phẩy năm, 3,5 ha", ("ba phẩy năm, ",)),
    ("word-hyphen", "kinh tế-xã hội", ()),
    ("final-comma", "xong,", ()),
]


@pytest.mark.parametrize("sentence, prefixes", [(s, p) for _, s, p in BREAKS], ids=[i for i, _, _ in BREAKS])
def test_clause_breaks(sentence, prefixes):
    assert tuple(sentence[:b] for b in clause_breaks(sentence)) == prefixes


def _doc(**kw):
    base = dict(title="Giữ vững đà tăng trưởng", lead="Sáng 9.1, tỉnh họp. Có 221 điểm cầu.",
                paragraphs=("Đạt 10%. Tăng 24.500 người.", "…", "Năm 2021 khó khăn."))
    base.update(kw)
    return Document(**base)


def test_sentences_title_lead_body():
    got = sentences(_doc())
    assert [(s.paragraph, s.text) for s in got] == [
        (-1, "Giữ vững đà tăng trưởng"),
        (0, "Sáng 9.1, tỉnh họp."), (0, "Có 221 điểm cầu."),
        (1, "Đạt 10%."), (1, "Tăng 24.500 người."),
        (3, "Năm 2021 khó khăn."),  # paragraph 2 ("…") has nothing to say
    ]
    assert all(isinstance(s, Sentence) for s in got)
    assert got[1].spoken == "Sáng ngày chín tháng một, tỉnh họp."
    assert got[1].breaks == (len("Sáng ngày chín tháng một, "),)
    assert got[3].spoken == "Đạt mười phần trăm."


def test_sentences_without_lead_start_body_at_one():
    got = sentences(_doc(lead=None))
    assert [s.paragraph for s in got] == [-1, 1, 1, 3]


def test_sentences_captions_read_once_after_their_paragraph():
    doc = _doc(lead=None, captions=(Caption("Toàn cảnh hội nghị", 0), Caption("Ảnh đầu bài", -1)))
    assert "Toàn cảnh hội nghị" not in [s.text for s in sentences(doc)]
    got = sentences(doc, captions=True)
    assert [(s.paragraph, s.text) for s in got] == [
        (-1, "Giữ vững đà tăng trưởng"),
        (1, "Ảnh đầu bài"),
        (2, "Đạt 10%."), (2, "Tăng 24.500 người."),
        (3, "Toàn cảnh hội nghị"),
        (5, "Năm 2021 khó khăn."),
    ]


def test_sentences_never_empty_spoken():
    doc = Document(title="—", paragraphs=("* * *", "Có 3 người."))
    got = sentences(doc)
    assert [s.text for s in got] == ["Có 3 người."]
    assert all(s.spoken.strip() for s in got)


SHAPES = [
    ("plain", "Văn", True),
    ("three-letter-onset", "Nghiêng", True),
    ("tone-on-glide", "Quyền", True),
    ("no-marks-still-vietnamese", "Minh", True),
    ("english-j", "John", False),
    ("two-syllables", "Lyndon", False),
    ("english-cluster", "Dwight", False),
    ("english-ending", "Kennedy", False),
]


@pytest.mark.parametrize("word, shaped", [(w, e) for _, w, e in SHAPES], ids=[i for i, _, _ in SHAPES])
def test_vietnamese_shaped(word, shaped):
    assert vietnamese_shaped(word) is shaped
