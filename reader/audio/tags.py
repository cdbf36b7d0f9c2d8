"""ID3v2.4 tags for an episode: text frames, article URL, description, cover art, chapters.

The tag is built in memory and written at the head of the file before the audio is
streamed after it, so the MP3 is written once, front to back.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from reader.errors import AudioError
from reader.models import Chapter

#: ISO 639-1 → ISO 639-2 codes for TLAN and COMM (ID3 wants three letters).
LANGUAGES = {"vi": "vie", "en": "eng", "fr": "fra", "zh": "zho", "ja": "jpn", "ko": "kor"}


@dataclass(frozen=True)
class EpisodeMeta:
    """What the tags and the Episode say about an episode."""

    title: str  #: pipeline; TIT2, Episode.title
    artist: str = ""  #: pipeline; source name, TPE1
    album: str = ""  #: pipeline; feed title, TALB
    date: datetime | None = None  #: pipeline; article date, TDRC and Episode.published
    language: str = "vi"  #: pipeline; TLAN
    url: str | None = None  #: pipeline; article URL, WOAS/WXXX and Episode.link
    description: str = ""  #: pipeline; the lead, COMM and Episode.description
    cover: bytes | None = None  #: pipeline; JPEG or PNG bytes for APIC
    guid: str = ""  #: pipeline; Episode.guid
    engine: str = ""  #: pipeline; engine that spoke it
    voice: str = ""  #: pipeline; voice used


def _one(text: str) -> str:
    """Text for one ID3 value: v2.4 separates values with NUL, so a NUL inside would split it."""
    return text.replace("\x00", "")


def language_code(lang: str) -> str:
    lang = (lang or "").strip().lower()
    if len(lang) == 3:
        return lang
    return LANGUAGES.get(lang.split("-")[0], "und")


def image_mime(data: bytes, subject: object = None) -> str:
    """MIME type of cover art, from its first bytes."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    raise AudioError(subject, "cover art is neither JPEG nor PNG", fix="give JPEG or PNG bytes as the cover")


def id3_bytes(meta: EpisodeMeta, chapters: Sequence[Chapter], *, subject: object = None) -> bytes:
    """The complete ID3v2.4 tag (header included) for ``meta`` and ``chapters``."""
    from mutagen.id3 import (APIC, CHAP, COMM, CTOC, ID3, TALB, TDRC, TIT2, TLAN, TPE1, TSSE, WOAS, WXXX,
                             CTOCFlags, Encoding, PictureType)

    utf8 = Encoding.UTF8
    lang = language_code(meta.language)
    tags = ID3()
    tags.add(TIT2(encoding=utf8, text=[_one(meta.title)]))
    if meta.artist:
        tags.add(TPE1(encoding=utf8, text=[_one(meta.artist)]))
    if meta.album:
        tags.add(TALB(encoding=utf8, text=[_one(meta.album)]))
    if meta.date is not None:
        tags.add(TDRC(encoding=utf8, text=[meta.date.strftime("%Y-%m-%dT%H:%M:%S")]))
    tags.add(TLAN(encoding=utf8, text=[lang]))
    if meta.url:
        tags.add(WOAS(url=meta.url))
        tags.add(WXXX(encoding=utf8, desc="article", url=meta.url))
    if meta.description:
        tags.add(COMM(encoding=utf8, lang=lang, desc="", text=[_one(meta.description)]))
    if meta.engine:
        tags.add(TSSE(encoding=utf8, text=[f"vnreader; {meta.engine} {meta.voice}".strip()]))
    if meta.cover:
        tags.add(APIC(encoding=utf8, mime=image_mime(meta.cover, subject), type=PictureType.COVER_FRONT,
                      desc="cover", data=meta.cover))
    ids = [f"chp{i}" for i in range(len(chapters))]
    for cid, ch in zip(ids, chapters):
        tags.add(CHAP(element_id=cid, start_time=round(ch.start * 1000), end_time=round(ch.end * 1000),
                      sub_frames=[TIT2(encoding=utf8, text=[_one(ch.title)])]))
    if ids:
        tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=ids,
                      sub_frames=[TIT2(encoding=utf8, text=[_one(meta.album or meta.title)])]))
    buf = io.BytesIO()
    try:
        tags.save(buf, v2_version=4, padding=lambda info: 1024)
    except Exception as e:  # mutagen raises its own and ValueError/struct errors on bad input
        raise AudioError(subject, f"could not build the ID3 tag: {e}", fix="check the episode metadata") from e
    return buf.getvalue()
