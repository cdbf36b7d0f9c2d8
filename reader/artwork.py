"""Channel artwork: a square cover with the podcast's Vietnamese title, drawn with Pillow.

Podcast directories want 1400–3000 px square RGB JPEG or PNG. The text is drawn with
Source Sans Pro from the ``font-source-sans-pro`` wheel (every Vietnamese letter, such
as ỹ ữ ặ ộ Đ, has a glyph), never a system font, so the cover looks the same everywhere.
The bytes are deterministic: the same inputs and library versions give the same file,
and an unchanged cover is not rewritten.
"""
from __future__ import annotations

import io
import unicodedata
from importlib import resources
from pathlib import Path

from reader.errors import PublishError, UsageError
from reader.fsutil import atomic_write_bytes

MIN_SIZE, MAX_SIZE = 1400, 3000  #: px; Apple Podcasts' limits for channel artwork
FONT_PACKAGE = "font_source_sans_pro"
FONT_BOLD = "SourceSansPro-Bold.ttf"
FONT_REGULAR = "SourceSansPro-Regular.ttf"
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}

BACKGROUND_TOP = (12, 44, 84)  #: deep blue
BACKGROUND_BOTTOM = (4, 18, 38)
ACCENT = (240, 178, 50)  #: amber: the wave bars and the rule under the title
TITLE_COLOUR = (255, 255, 255)
SUBTITLE_COLOUR = (200, 214, 232)
#: heights (0..1) of the sound-wave bars drawn above the title
WAVE = (0.25, 0.45, 0.8, 0.55, 1.0, 0.7, 0.4, 0.85, 0.5, 0.3, 0.6, 0.2)


def font_path(name: str = FONT_BOLD) -> Path:
    """Path of a bundled font file inside the font wheel."""
    try:
        path = Path(str(resources.files(FONT_PACKAGE) / "files" / name))
    except ModuleNotFoundError as e:
        raise PublishError(FONT_PACKAGE, "the cover font package is not installed",
                           fix="pip install font-source-sans-pro") from e
    if not path.is_file():
        raise PublishError(str(path), "font file missing from the font package",
                           fix="reinstall font-source-sans-pro")
    return path


def _font(name: str, px: int):
    from PIL import ImageFont

    return ImageFont.truetype(str(font_path(name)), px, layout_engine=ImageFont.Layout.BASIC)


def _wrap(text: str, font, width: int, draw) -> list[str]:
    """Greedy word wrap to ``width`` px; a word longer than the line stays on its own line."""
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(trial, font=font) <= width:
            lines[-1] = trial
        else:
            lines.append(word)
    return lines


def _fit(text: str, name: str, start_px: int, width: int, max_lines: int, draw):
    """The largest font size (from ``start_px`` down) at which ``text`` fits in max_lines lines."""
    px = start_px
    while True:
        font = _font(name, px)
        lines = _wrap(text, font, width, draw)
        widest = max((draw.textlength(line, font=font) for line in lines), default=0)
        if (len(lines) <= max_lines and widest <= width) or px <= 12:
            return font, lines, px
        px = int(px * 0.92)


#: Unicode categories the text font has no glyphs for (emoji and other symbols, private use,
#: unassigned, lone surrogates, format controls): dropped rather than drawn as empty boxes
UNDRAWABLE = ("So", "Sk", "Co", "Cn", "Cs", "Cf")


def drawable(text: str) -> str:
    """NFC text without the characters the font cannot draw, whitespace collapsed.

    Risk: a title made only of emoji becomes empty; make_cover rejects that.
    """
    text = unicodedata.normalize("NFC", text)
    return " ".join("".join(ch for ch in text if unicodedata.category(ch) not in UNDRAWABLE).split())


def render_cover(title: str, subtitle: str | None = None, size: int = MIN_SIZE):
    """The cover as a Pillow RGB image."""
    from PIL import Image, ImageDraw

    title = drawable(title)
    subtitle = drawable(subtitle) if subtitle else None

    gradient = Image.linear_gradient("L").resize((size, size))
    img = Image.composite(Image.new("RGB", (size, size), BACKGROUND_BOTTOM),
                          Image.new("RGB", (size, size), BACKGROUND_TOP), gradient)
    draw = ImageDraw.Draw(img)
    margin = size // 12
    width = size - 2 * margin

    # sound-wave bars, top third
    bar_w = width // (2 * len(WAVE))
    base_y, max_h = int(size * 0.30), int(size * 0.16)
    for i, h in enumerate(WAVE):
        x = margin + i * 2 * bar_w + bar_w // 2
        bh = max(bar_w, int(max_h * h))
        draw.rounded_rectangle((x, base_y - bh, x + bar_w, base_y), radius=bar_w // 2, fill=ACCENT)

    font, lines, px = _fit(title, FONT_BOLD, size // 7, width, 3, draw)
    y = int(size * 0.36)
    line_h = int(px * 1.15)
    for line in lines:
        draw.text((margin, y), line, font=font, fill=TITLE_COLOUR)
        y += line_h
    y += px // 4
    draw.rectangle((margin, y, margin + width // 4, y + max(4, size // 150)), fill=ACCENT)
    y += px // 2
    if subtitle:
        room = size - margin // 2 - y
        start = size // 16
        while True:
            sfont, slines, spx = _fit(subtitle, FONT_REGULAR, start, width, 3, draw)
            if len(slines) * int(spx * 1.2) <= room or spx <= 12:
                break
            start = int(spx * 0.92)
        for line in slines:
            draw.text((margin, y), line, font=sfont, fill=SUBTITLE_COLOUR)
            y += int(spx * 1.2)
    return img


def make_cover(path: Path, title: str, subtitle: str | None = None, size: int = MIN_SIZE) -> Path:
    """Write a square cover (PNG or JPEG by the file suffix) atomically; return its path.

    Same inputs, same bytes: an unchanged cover is left alone (mtime kept).
    """
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(str(path), "cover must be a .png or .jpg file", fix="name the cover cover.png or cover.jpg")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise UsageError(f"cover size {size}", f"must be {MIN_SIZE}–{MAX_SIZE} px",
                         fix="podcast directories reject smaller or larger artwork")
    if not drawable(title or ""):
        raise UsageError("cover title", "is empty (or only symbols the font cannot draw)",
                         fix="give the podcast title in words")
    img = render_cover(title, subtitle, size)
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.save(buf, format="JPEG", quality=90, optimize=False, progressive=False, subsampling=0)
    else:
        img.save(buf, format="PNG", optimize=False)
    data = buf.getvalue()
    try:
        if path.is_file() and path.read_bytes() == data:
            return path
        return atomic_write_bytes(path, data)
    except OSError as e:
        raise PublishError(str(path), f"could not write the cover: {e.strerror or e}",
                           fix="check that the folder exists and is writable") from e
