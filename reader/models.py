"""Typed hand-offs between the stages.

    FeedSource → Article → Document → list[Sentence] → list[Clip] → Episode → feed.xml

Every dataclass is frozen: a stage never edits what an earlier stage handed it.
Each field's ``#:`` comment says who fills it and who reads it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class FeedSource:
    """One news feed an operator subscribes to (``feeds/sources.toml``)."""

    name: str  #: config; shown in logs, used as the episode's artist
    url: str  #: config; the RSS/Atom URL fetch.py reads
    site: str | None = None  #: config; site profile name, None = pick by host
    engine: str | None = None  #: config; engine name from tts.ENGINES, None = default
    voice: str | None = None  #: config; engine voice, None = engine default
    limit: int = 5  #: config; articles per run
    group: str | None = None  #: config; daily digest group, None = no digest
    episodes: bool = True  #: config; one episode per article (False = only in the group digest)


@dataclass(frozen=True)
class Article:
    """A page as fetched, before any cleaning."""

    url: str | None  #: fetch; the page URL (None for stdin / plain files). extract picks the profile by its host
    html: str | None = None  #: fetch; decoded page HTML (None for plain text input)
    text: str | None = None  #: fetch; plain text input (scraped text, .txt files, stdin)
    source: str | None = None  #: fetch; FeedSource.name when it came from a feed
    title: str | None = None  #: fetch; the feed entry's title, a hint for extract
    published: datetime | None = None  #: fetch; the feed entry's date, a hint for extract
    summary: str | None = None  #: fetch; the feed entry's description, a hint for extract
    origin: str | None = None  #: fetch; what it was read from (URL, file path, "stdin"); extract names it in errors


@dataclass(frozen=True)
class Caption:
    """An image caption and the paragraph it follows."""

    text: str  #: extract; the caption, once
    after: int  #: extract; index in Document.paragraphs it follows (-1 = before the first)


@dataclass(frozen=True)
class Document:
    """Clean article text: what a listener hears, and its metadata."""

    title: str  #: extract; headline, read first
    paragraphs: tuple[str, ...]  #: extract; body paragraphs in order, no boilerplate
    lead: str | None = None  #: extract; sapo, read after the title; the feed item description
    author: str | None = None  #: extract; byline ("LÊ HÀ"), never part of paragraphs
    published: datetime | None = None  #: extract; publication time (timezone-aware when known)
    url: str | None = None  #: extract; canonical URL when known, else the fetched URL
    site: str | None = None  #: extract; profile name that extracted it ("vnexpress", "generic", "text")
    section: str | None = None  #: extract; site section ("Thời sự")
    image: str | None = None  #: extract; lead image URL (episode artwork)
    captions: tuple[Caption, ...] = ()  #: extract; read only when captions are asked for
    drift: str | None = None  #: extract; why the site profile's body selector was not used on this page
    #: ("body selector matched nothing; generic extraction used"); the daily run warns once per site


@dataclass(frozen=True)
class Sentence:
    """One sentence, as written and as spoken."""

    text: str  #: text.sentences; written form, for transcripts
    spoken: str  #: text.normalize; what the engine reads
    paragraph: int = 0  #: text.sentences; -1 = title, 0.. = lead/body paragraph index; audio picks pauses by it
    breaks: tuple[int, ...] = ()  #: text.sentences; clause break offsets in ``spoken`` for engines with request limits


@dataclass(frozen=True)
class PcmSpan:
    """Where a spilled clip's PCM lies: ``length`` bytes at ``offset`` of a spill file."""

    file: Any  #: tts.spill; a SpillFile (anything with ``read(offset, length) -> bytes``)
    offset: int  #: tts.spill; first byte
    length: int  #: tts.spill; bytes (even: int16 samples)

    def read(self) -> bytes:
        data: bytes = self.file.read(self.offset, self.length)
        return data


@dataclass(frozen=True)
class Clip:
    """Rendered speech of one sentence: 16-bit signed mono PCM, in memory or spilled to disk."""

    pcm: bytes  #: tts engine; little-endian int16 mono samples (b"" once spilled)
    sample_rate: int  #: tts engine
    engine: str  #: tts engine; registry name that spoke it
    voice: str  #: tts engine; voice id actually used
    sentence: Sentence | None = None  #: pipeline; what was spoken (transcripts, chapters)
    spilled: PcmSpan | None = None  #: tts.render; where the PCM went on disk; audio reads it with read_pcm()

    @property
    def nbytes(self) -> int:
        """Bytes of PCM, in memory or on disk."""
        return self.spilled.length if self.spilled is not None else len(self.pcm)

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return self.nbytes / 2 / self.sample_rate

    def read_pcm(self) -> bytes:
        """The PCM (read from the spill file when spilled): one clip in memory at a time."""
        return self.spilled.read() if self.spilled is not None else self.pcm


@dataclass(frozen=True)
class Chapter:
    """A titled span of an episode."""

    title: str  #: audio; chapter title
    start: float  #: audio; seconds from the episode start
    end: float  #: audio; seconds


@dataclass(frozen=True)
class Cue:
    """One transcript cue: a sentence's written text and when it is heard."""

    text: str  #: audio; Sentence.text
    start: float  #: audio; seconds
    end: float  #: audio; seconds
    paragraph: int = 0  #: audio; Sentence.paragraph (-1 title); the listening page skips by it. Not in .vtt/.srt


@dataclass(frozen=True)
class RenderStats:
    """What rendering an episode's sentences took."""

    sentences: int  #: pipeline; clips in the episode (one per sentence)
    synthesized: int  #: pipeline (tts.render); sentences the engine spoke; tests and benches read it
    cached: int  #: pipeline (tts.render); sentences taken from the clip cache
    requests: int = 0  #: pipeline (tts.render); engine calls, retries included (0 in records older than the field)
    speech_seconds: float = 0.0  #: pipeline; seconds of speech, pauses not included


@dataclass(frozen=True)
class LoudnessReport:
    """Loudness figures of an encoded episode (docs/audio.md)."""

    input_lufs: float  #: audio; integrated loudness of the joined clips
    gain_db: float  #: audio; gain applied before the limiter
    lufs: float  #: audio; loudness measured on what went into the encoder
    limited_samples: int  #: audio; samples the limiter turned down
    limiter_min_gain_db: float  #: audio; the limiter's deepest cut
    sample_rate: int  #: audio; the timeline's sample rate; benches read it
    timeline_seconds: float  #: audio; clips plus pauses, summed while joining
    limiter_ms: tuple[int, ...] = ()  #: audio; limiter (attack, release) in milliseconds


@dataclass(frozen=True)
class Episode:
    """An encoded MP3 with everything the feed needs."""

    path: str  #: audio; MP3 file path (name relative to the output folder is used in URLs)
    title: str  #: pipeline; item title
    guid: str  #: pipeline; stable id derived from the article URL (or content for local input)
    duration: float  #: audio; seconds
    size: int  #: audio; bytes of the MP3
    description: str = ""  #: pipeline; the lead
    link: str | None = None  #: pipeline; article URL
    published: datetime | None = None  #: pipeline; article date or render time
    author: str | None = None  #: pipeline; byline / source name
    image: str | None = None  #: pipeline; item artwork URL
    engine: str = ""  #: pipeline; engine that spoke every sentence
    voice: str = ""  #: pipeline; voice used
    chapters: tuple[Chapter, ...] = ()  #: audio
    cues: tuple[Cue, ...] = ()  #: audio; transcript cues
    transcript_vtt: str | None = None  #: audio; sidecar WebVTT path
    transcript_srt: str | None = None  #: audio; sidecar SRT path
    chapters_json: str | None = None  #: audio; sidecar Podcasting 2.0 chapters path
    made_at: datetime | None = None  #: pipeline / daily run; when it was rendered. daily retention counts from it (None: records older than the field)
    fell_back_from: str | None = None  #: pipeline (tts.render RenderResult); the configured engine that failed, when the fallback (``engine``) spoke the whole episode. daily logs and counts it; the record and the WebVTT NOTE keep it
    fallback_reason: str | None = None  #: pipeline; why that engine failed (its error message)
    made_by: str | None = None  #: pipeline / daily run; the command that made it: "demo", "run", "read". daily retention and the feed's owner; None: records older than the field (counted as the run's)
    stats: RenderStats | None = field(default=None, compare=False)  #: pipeline; what rendering did (the record keeps it)
    loudness: LoudnessReport | None = field(default=None, compare=False)  #: audio; loudness figures (the record keeps it)
    render_key: str | None = field(default=None, compare=False)  #: pipeline; hash of every rendering input; pipeline
    #: reuses a recorded episode only for the same key (None: records older than the key, or ``speak``)
    reused: bool = field(default=False, compare=False)  #: pipeline; returned as recorded, nothing rendered. The CLI
    #: prints "unchanged" for it. Never saved in the record
