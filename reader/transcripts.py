"""Transcripts and chapters beside an episode: WebVTT, SRT and Podcasting 2.0 chapters JSON.

Cues carry a sentence's written text (``Sentence.text``), never the spoken form. Times are
seconds from the start of the episode, written to the millisecond; a cue never starts
before the previous one ends, even after rounding.

Formatters return text; :func:`write_sidecars` writes the three files atomically beside
the MP3 (``NAME.vtt``, ``NAME.srt``, ``NAME.chapters.json``). The parsers read back what the
formatters write (tests and tools use them).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

from reader.fsutil import atomic_write_text
from reader.models import Chapter, Cue

CHAPTERS_VERSION = "1.2.0"
CHAPTERS_MIME = "application/json+chapters"
VTT_MIME = "text/vtt"
SRT_MIME = "application/x-subrip"


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _clock(ms: int, sep: str) -> str:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


#: lone UTF-16 surrogates (from a broken ``\\ud800`` escape in a page's JSON, say): not text, and
#: not encodable as UTF-8, so they would stop the transcript being written
_SURROGATES = re.compile("[\ud800-\udfff]")


def _one_line(text: str) -> str:
    return " ".join(_SURROGATES.sub("", text).split())


def _spans(cues: Sequence[Cue]) -> list[tuple[int, int, str]]:
    """Cues in milliseconds, empty ones dropped, never overlapping after rounding."""
    out = []
    last = 0
    for c in cues:
        text = _one_line(c.text)
        if not text:
            continue
        start = max(_ms(c.start), last)
        end = max(_ms(c.end), start + 1)
        out.append((start, end, text))
        last = end
    return out


def vtt_escape(text: str) -> str:
    """Cue text with the characters WebVTT reserves escaped (and no ``-->``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def format_vtt(cues: Sequence[Cue], note: str | None = None) -> str:
    """WebVTT; ``note`` (e.g. which engine spoke and why) goes in a ``NOTE`` block before the cues."""
    lines = ["WEBVTT", ""]
    if note:
        lines += ["NOTE " + _one_line(note).replace("-->", "->"), ""]
    for n, (start, end, text) in enumerate(_spans(cues), 1):
        lines += [str(n), f"{_clock(start, '.')} --> {_clock(end, '.')}", vtt_escape(text), ""]
    return "\n".join(lines)


def format_srt(cues: Sequence[Cue]) -> str:
    lines = []
    for n, (start, end, text) in enumerate(_spans(cues), 1):
        lines += [str(n), f"{_clock(start, ',')} --> {_clock(end, ',')}", text, ""]
    return "\n".join(lines)


def format_chapters(chapters: Sequence[Chapter]) -> str:
    """Podcasting 2.0 chapters (``application/json+chapters``)."""
    doc = {"version": CHAPTERS_VERSION,
           "chapters": [{"startTime": round(c.start, 3), "endTime": round(c.end, 3), "title": _SURROGATES.sub("", c.title)}
                        for c in chapters]}
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


_TIME = re.compile(r"(?:(\d+):)?(\d{2}):(\d{2})[.,](\d{3})")


def _seconds(stamp: str) -> float:
    m = _TIME.fullmatch(stamp.strip())
    if not m:
        raise ValueError(f"bad timestamp {stamp!r}")
    h, mi, s, ms = m.groups()
    return int(h or 0) * 3600 + int(mi) * 60 + int(s) + int(ms) / 1000


def _parse_blocks(text: str) -> list[Cue]:
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines = block.split("\n")
        for i, line in enumerate(lines):
            if "-->" in line:
                start, _, end = line.partition("-->")
                end = end.split()[0]
                body = "\n".join(lines[i + 1:])
                cues.append(Cue(body, _seconds(start), _seconds(end)))
                break
    return cues


def parse_vtt(text: str) -> list[Cue]:
    """Cues of a WebVTT file (text unescaped)."""
    if not text.lstrip("\ufeff").startswith("WEBVTT"):
        raise ValueError("not a WebVTT file (no WEBVTT header)")
    cues = _parse_blocks(text.split("\n", 1)[1] if "\n" in text else "")
    return [Cue(c.text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"), c.start, c.end)
            for c in cues]


def parse_srt(text: str) -> list[Cue]:
    return _parse_blocks(text)


def sidecar_paths(mp3_path: str | Path) -> tuple[Path, Path, Path]:
    """``NAME.vtt``, ``NAME.srt`` and ``NAME.chapters.json`` beside ``NAME.mp3``."""
    p = Path(mp3_path)
    return p.with_name(p.stem + ".vtt"), p.with_name(p.stem + ".srt"), p.with_name(p.stem + ".chapters.json")


def write_sidecars(mp3_path: str | Path, cues: Sequence[Cue], chapters: Sequence[Chapter]) -> tuple[Path, Path, Path]:
    """Write the three sidecars atomically; returns their paths (vtt, srt, chapters)."""
    vtt, srt, chap = sidecar_paths(mp3_path)
    atomic_write_text(vtt, format_vtt(cues))
    atomic_write_text(srt, format_srt(cues))
    atomic_write_text(chap, format_chapters(chapters))
    return vtt, srt, chap
