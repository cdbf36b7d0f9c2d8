"""Small real episodes for the feed and server tests: a sine tone encoded with lameenc,
its sidecars (WebVTT, SRT, Podcasting 2.0 chapters) and the Episode record.

Independent of the other stages: nothing here synthesises speech.
"""
from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path

import lameenc

from reader.models import Chapter, Cue, Episode

SAMPLE_RATE = 16000


def sine_mp3(seconds: float = 1.0, freq: float = 440.0, bitrate: int = 32) -> bytes:
    """A mono MP3 of a sine tone."""
    n = int(SAMPLE_RATE * seconds)
    pcm = bytearray()
    for i in range(n):
        v = int(8000 * math.sin(2 * math.pi * freq * i / SAMPLE_RATE))
        pcm += v.to_bytes(2, "little", signed=True)
    enc = lameenc.Encoder()
    enc.set_bit_rate(bitrate)
    enc.set_in_sample_rate(SAMPLE_RATE)
    enc.set_channels(1)
    enc.set_quality(7)
    return bytes(enc.encode(bytes(pcm)) + enc.flush())


_MP3_CACHE: dict[tuple[float, float], bytes] = {}


def write_mp3(path: Path, seconds: float = 1.0, freq: float = 440.0) -> Path:
    key = (seconds, freq)
    if key not in _MP3_CACHE:
        _MP3_CACHE[key] = sine_mp3(seconds, freq)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_MP3_CACHE[key])
    return path


def _ts(t: float, sep: str) -> str:
    ms = int(round(t * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def make_episode(out_dir: Path, name: str, *, title: str, guid: str | None = None,
                 published: datetime | None = datetime(2021, 1, 9, 8, 0, tzinfo=timezone.utc),
                 description: str = "Tóm tắt bài báo.", link: str | None = "https://example.vn/bai-bao.html",
                 image: str | None = None, seconds: float = 1.0, sidecars: bool = True,
                 freq: float = 440.0) -> Episode:
    """Write NAME.mp3 (+ NAME.vtt/.srt/.chapters.json) into out_dir; return its Episode."""
    out_dir = Path(out_dir)
    mp3 = write_mp3(out_dir / f"{name}.mp3", seconds, freq)
    cues = (Cue(title, 0.0, seconds / 2), Cue(description, seconds / 2, seconds))
    chapters = (Chapter(title, 0.0, seconds),)
    vtt = srt = chj = None
    if sidecars:
        vtt = out_dir / f"{name}.vtt"
        vtt.write_text("WEBVTT\n\n" + "".join(f"{_ts(c.start, '.')} --> {_ts(c.end, '.')}\n{c.text}\n\n" for c in cues),
                       encoding="utf-8")
        srt = out_dir / f"{name}.srt"
        srt.write_text("".join(f"{i}\n{_ts(c.start, ',')} --> {_ts(c.end, ',')}\n{c.text}\n\n"
                               for i, c in enumerate(cues, 1)), encoding="utf-8")
        chj = out_dir / f"{name}.chapters.json"
        chj.write_text(json.dumps({"version": "1.2.0", "chapters": [{"startTime": c.start, "title": c.title}
                                                                     for c in chapters]}, ensure_ascii=False),
                       encoding="utf-8")
    return Episode(path=str(mp3), title=title, guid=guid or f"guid-{name}", duration=seconds,
                   size=mp3.stat().st_size, description=description, link=link, published=published,
                   author="LÊ HÀ", image=image, engine="test", voice="sine", chapters=chapters, cues=cues,
                   transcript_vtt=str(vtt) if vtt else None, transcript_srt=str(srt) if srt else None,
                   chapters_json=str(chj) if chj else None)


def make_channel(out_dir: Path, **overrides):
    """A Channel with a real cover in out_dir (cover.png)."""
    from reader.podcast import Channel

    image = overrides.pop("image", "cover.png")
    if image:
        cover = Path(out_dir) / image
        if not cover.exists():
            cover.parent.mkdir(parents=True, exist_ok=True)
            cover.write_bytes(_cover_bytes())
    fields = dict(title="Bản tin vnreader", description="Tin tức tiếng Việt đọc bằng giọng nói.",
                  link="https://example.vn/", author="vnreader", owner_name="Ban biên tập",
                  owner_email="podcast@example.vn", subcategory="Daily News", image=image)
    fields.update(overrides)
    return Channel(**fields)


_COVER: list[bytes] = []


def _cover_bytes() -> bytes:
    """One rendered 1400 px cover, reused (rendering costs ~0.1 s)."""
    if not _COVER:
        import tempfile

        from reader.artwork import make_cover

        with tempfile.TemporaryDirectory() as d:
            _COVER.append(make_cover(Path(d) / "cover.png", "Bản tin vnreader", "Tin tức đọc bằng giọng nói").read_bytes())
    return _COVER[0]
