"""Channel artwork: square 1400–3000 px RGB JPEG/PNG, Vietnamese glyphs from the font wheel, stable bytes."""
from __future__ import annotations

import os
import sysconfig
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from reader.artwork import FONT_BOLD, FONT_REGULAR, TITLE_COLOUR, font_path, make_cover
from reader.errors import UsageError

TONES = ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")  # ngang huyền sắc ngã hỏi nặng
VOWELS = "aăâeêioôơuưy"


def vietnamese_letters() -> list[str]:
    """Every Vietnamese letter with a tone mark, precomposed (NFC), both cases, plus đ/Đ."""
    letters = ["đ", "Đ"]
    for v in VOWELS:
        for t in TONES:
            ch = unicodedata.normalize("NFC", v + t)
            letters += [ch, ch.upper()]
    return letters


def test_letter_list_is_complete():
    letters = vietnamese_letters()
    assert len(set(letters)) == 2 + 2 * 12 * 6 and all(len(ch) == 1 for ch in letters)
    assert {"ỹ", "ữ", "ặ", "ộ", "Đ"} <= set(letters)


@pytest.mark.parametrize("name", [FONT_BOLD, FONT_REGULAR])
def test_font_has_every_vietnamese_glyph(name):
    cmap = TTFont(str(font_path(name))).getBestCmap()
    missing = [ch for ch in vietnamese_letters() if ord(ch) not in cmap]
    assert missing == []


def test_font_comes_from_the_installed_wheel_not_the_system():
    path = font_path()
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert site in path.resolve().parents or "site-packages" in path.parts
    assert not str(path).startswith(("/usr/share/fonts", "/usr/local/share/fonts"))


SIZES = [("png-1400", "cover.png", 1400, "PNG"), ("jpg-3000", "cover.jpg", 3000, "JPEG"),
         ("jpeg-2048", "art.JPEG", 2048, "JPEG")]


@pytest.mark.parametrize("name, size, fmt", [s[1:] for s in SIZES], ids=[s[0] for s in SIZES])
def test_cover_is_square_rgb(tmp_path, name, size, fmt):
    path = make_cover(tmp_path / name, "Bản tin sáng", "Đọc bằng giọng nói", size=size)
    with Image.open(path) as img:
        assert img.size == (size, size)
        assert img.mode == "RGB"
        assert img.format == fmt
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


def test_same_inputs_same_bytes_and_no_rewrite(tmp_path):
    a = make_cover(tmp_path / "a.png", "Giữ vững địa bàn", "Quảng Ninh")
    b = make_cover(tmp_path / "b.png", "Giữ vững địa bàn", "Quảng Ninh")
    assert a.read_bytes() == b.read_bytes()
    os.utime(a, ns=(1_600_000_000_000_000_000,) * 2)
    make_cover(a, "Giữ vững địa bàn", "Quảng Ninh")
    assert a.stat().st_mtime_ns == 1_600_000_000_000_000_000


def title_pixels(path: Path) -> int:
    with Image.open(path) as img:
        return int(np.all(np.asarray(img) == TITLE_COLOUR, axis=-1).sum())


def test_title_is_drawn_and_diacritics_show(tmp_path):
    plain = make_cover(tmp_path / "plain.png", "y u a o D")
    marked = make_cover(tmp_path / "marked.png", "ỹ ữ ặ ộ Đ")
    assert title_pixels(plain) > 1000  # the text is really there
    assert title_pixels(marked) > title_pixels(plain)  # tone marks and the Đ bar add ink
    assert plain.read_bytes() != marked.read_bytes()


def test_emoji_are_left_out_not_drawn_as_boxes(tmp_path):
    plain = make_cover(tmp_path / "plain.png", "Bản tin sáng", "Quảng Ninh")
    emoji = make_cover(tmp_path / "emoji.png", "Bản tin 🌀 sáng 🇻🇳", "Quảng Ninh ✨")
    assert plain.read_bytes() == emoji.read_bytes()


def test_long_title_still_fits(tmp_path):
    path = make_cover(tmp_path / "long.png", "Hội nghị tổng kết công tác năm 2020 và triển khai nhiệm vụ năm 2021 " * 4)
    with Image.open(path) as img:
        w, h = img.size
        # the right margin stays background: no line runs off the edge
        strip = np.asarray(img.crop((w - w // 24, 0, w, h)))
        assert not np.all(strip == TITLE_COLOUR, axis=-1).any()


ERRORS = [
    ("too-small", "cover.png", "Tin", 1399, "1400"),
    ("too-large", "cover.png", "Tin", 3001, "3000"),
    ("gif", "cover.gif", "Tin", 1400, ".png"),
    ("empty-title", "cover.png", "  ", 1400, "title"),
    ("emoji-only-title", "cover.png", "🌀 🇻🇳", 1400, "title"),
]


@pytest.mark.parametrize("name, title, size, word", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_cover_rejects(tmp_path, name, title, size, word):
    with pytest.raises(UsageError) as e:
        make_cover(tmp_path / name, title, size=size)
    assert word in str(e.value) and e.value.fix
    assert not (tmp_path / name).exists()
