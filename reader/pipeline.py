"""Glue between the stages: Document → sentences → clips → Episode (→ feed for the demo).

Every call here is a few lines over the stage modules; the CLI and the daily run
(``reader/daily.py``) call these.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import shutil
import tempfile
import tomllib
import unicodedata
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterator, Sequence, TypedDict

from reader import episodes as records
from reader.config import SpeechSettings
from reader.errors import ReaderError, UsageError
from reader.limits import DEFAULT_LIMITS, Limits
from reader.models import Article, Document, Episode, RenderStats, Sentence
from reader.tts.spill import SpillFile

if TYPE_CHECKING:
    from reader.tts.cache import ClipCache

SAMPLES = Path(__file__).parent / "samples"
FEED_TITLE = "vnreader"
SECTION_PARAGRAPHS = 4  #: body paragraphs per chapter in a single-article episode


def slugify(text: str, limit: int = 60) -> str:
    """ASCII file-name slug of a Vietnamese title ("Giữ vững địa bàn" → "giu-vung-dia-ban")."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:limit].rstrip("-") or "episode"


def article_guid(doc: Document) -> str:
    """A guid that never changes for the same article: from its URL, else from its title."""
    if doc.url:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, doc.url))
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "vnreader:title:" + doc.title))


def _render_key(engine, voice: str, rate: float, pitch, sentences: Sequence[Sentence], extra: str = "") -> str:
    h = hashlib.sha256()
    h.update(json.dumps([engine.name, engine.version, voice, rate, pitch, extra,
                         [(s.paragraph, s.text, s.spoken) for s in sentences]], ensure_ascii=False).encode())
    return h.hexdigest()


class AudioSettings(TypedDict):
    """The encoder settings of an episode (a dict: it is hashed into the render key as JSON)."""

    format: str
    bitrate: int  #: kbit/s
    target_lufs: float
    true_peak: float  #: dBTP ceiling


#: Encoder settings every episode is built with; part of the render key stored in its record.
AUDIO_SETTINGS: AudioSettings = {"format": "mp3", "bitrate": 64, "target_lufs": -16.0, "true_peak": -1.0}


def _record_key(name_key: str) -> str:
    """The render key kept in an episode's record: the file-name key plus the encoder settings."""
    return hashlib.sha256(json.dumps([name_key, AUDIO_SETTINGS], sort_keys=True).encode()).hexdigest()


def _reuse(out_path: Path, key: str, *, named: bool) -> Episode | None:
    """The recorded episode if ``out_path`` exists and was rendered from the same inputs, else None.

    An output the caller named (``-o bai.mp3``) is reused only when its record holds the same
    render key; an output named by its own hash also when an older record has no key. The
    episode returned has ``reused`` set (never saved), so callers can say so.
    """
    record = records.record_path(out_path)
    if not (record.is_file() and out_path.is_file()):
        return None
    try:
        ep = records.load(record)
    except (ValueError, TypeError, KeyError):
        return None  # a damaged record: render again
    stored = ep.render_key
    if stored != key and (named or stored is not None):
        return None
    return replace(ep, reused=True)


def _chapter_title(sentence: Sentence, limit: int = 60) -> str:
    t = sentence.text.strip()
    return t if len(t) <= limit else t[:limit].rsplit(" ", 1)[0] + "…"


def _sections(title: str, sentences: Sequence[Sentence | None]) -> list[tuple[str, list[int]]]:
    """Single article: (chapter title, sentence indices) for the title and lead, then one per few body paragraphs."""
    head = [i for i, s in enumerate(sentences) if s is not None and s.paragraph <= 0]
    body = [i for i, s in enumerate(sentences) if s is None or s.paragraph > 0]
    out = [(title, head)] if head else []
    group: list[int] = []
    first_para = None
    for i in body:
        s = sentences[i]
        p = s.paragraph if s is not None else 0
        if first_para is None:
            first_para = p
        if p - first_para >= SECTION_PARAGRAPHS and group:
            out.append((_chapter_title(sentences[group[0]]), group))  # type: ignore[arg-type]
            group, first_para = [], p
        group.append(i)
    if group:
        lead = sentences[group[0]]
        out.append((_chapter_title(lead) if lead is not None else title, group))
    return out


def _segments(title: str, clips):
    """Single article: a chapter for the title and lead, then one per few body paragraphs."""
    from reader.audio import Segment

    return [Segment(name, tuple(clips[i] for i in idx))
            for name, idx in _sections(title, [c.sentence for c in clips])]


@contextlib.contextmanager
def _encode_ahead(groups: Sequence[Sequence[int]], out_path: Path, options: RenderOptions):
    """An :class:`reader.audio.EncodeAhead` for a timeline of these sentence groups (in order),
    with the encoder settings ``_build`` uses; it encodes while the clips are spoken."""
    from reader.audio import ENCODER_HEADROOM_DB, EncodeAhead, timeline_order

    with EncodeAhead(timeline_order(groups), Path(out_path).parent, bitrate=AUDIO_SETTINGS["bitrate"],
                     target_lufs=AUDIO_SETTINGS["target_lufs"],
                     ceiling_db=AUDIO_SETTINGS["true_peak"] - ENCODER_HEADROOM_DB, rate=options.rate) as ahead:
        yield ahead


def _cover_bytes(out_dir: Path | None) -> bytes | None:
    if out_dir is None:
        return None
    for name in ("cover.jpg", "cover.png"):
        p = out_dir / name
        if p.is_file():
            return p.read_bytes()
    return None


def default_cache(warn: Callable[[Exception], None] | None = None):
    """The shared clip cache (``$VNREADER_CACHE`` or ``~/.cache/vnreader/clips``); None if unusable.

    With ``VNREADER_CACHE_URL=s3://bucket/prefix`` (or a folder) the clips live there, shared by
    every worker, with the folder cache in front as a local copy (``reader/tts/shared_cache.py``).
    ``warn(error)`` is told why, when there is none (the daily run logs it); without ``warn``,
    a ``logging`` warning says it."""
    import os

    try:
        from reader.tts.cache import ClipCache

        shared_url = os.environ.get("VNREADER_CACHE_URL")
        if shared_url:
            from reader.tts.shared_cache import open_shared_cache

            try:
                return open_shared_cache(shared_url, local=ClipCache())
            except UsageError as e:  # name the variable the URL came from
                raise UsageError(f"VNREADER_CACHE_URL={shared_url}", e.detail,
                                 fix=e.fix or "fix or unset VNREADER_CACHE_URL") from e
        return ClipCache()
    except (ImportError, OSError, ReaderError) as e:
        if warn is not None:
            warn(e)
        else:
            logging.getLogger(__name__).warning("clip cache unusable, every clip is spoken again: %s", e)
        return None


@dataclass(frozen=True)
class RenderOptions:
    """How to render: the settings every episode of one command or run shares.

    Built by :func:`render_options` (the CLI) or :meth:`from_config` (the daily run); read by
    ``render_document``, ``render_digest``, ``speak_text``, ``read_source``, ``listen`` and ``demo``.
    """

    engine: str | None = None  #: cli / config [run]; engine name from tts.ENGINES, None = default
    voice: str | None = None  #: cli / config; None = the engine's default voice
    rate: float = 1.0  #: cli / config; speaking rate
    pitch: float | None = None  #: cli; None = the engine's default
    captions: bool = False  #: cli; read image captions too
    cache: ClipCache | None = field(default=None, compare=False)  #: factory; shared by every render (None: none)
    fallback: str | None = None  #: cli / config; engine that re-renders a whole episode when ``engine`` fails
    limits: Limits = DEFAULT_LIMITS  #: cli / config [limits]; checked before and while speaking
    feed_title: str | None = None  #: config [channel] / demo; album tag and artist fallback, None = FEED_TITLE
    made_by: str | None = None  #: the command ("demo", "run", "read", "serve"); kept in the record
    made_at: datetime | None = None  #: daily run; when it rendered (None: now, per episode)
    speech: SpeechSettings = SpeechSettings()  #: cli / config [speech]; the remote engine's server
    speech_limit: object = field(default=None, compare=False)  #: factory; the remote engine's rate limit, shared

    def make_engine(self, name: str | None = None):
        """The engine ``name`` (default ``self.engine``), built the one way every command builds it."""
        from reader.tts import get_engine

        return get_engine(self.engine if name is None else name, speech=self.speech, limiter=self.speech_limit)

    @classmethod
    def from_config(cls, config, *, cache: bool = True, warn: Callable[[Exception], None] | None = None,
                    made_by: str | None = None, made_at: datetime | None = None) -> RenderOptions:
        """The daily run's options from a ``reader.config.Config`` (per source: :meth:`for_source`)."""
        return render_options(engine=config.engine, voice=config.voice, rate=config.rate, fallback=config.fallback,
                              limits=config.limits, feed_title=config.channel.title, cache=cache, warn=warn,
                              made_by=made_by, made_at=made_at, speech=config.speech)

    def for_source(self, source) -> RenderOptions:
        """These options with a ``FeedSource``'s own engine and voice, when it names them."""
        return replace(self, engine=source.engine or self.engine, voice=source.voice or self.voice)


def render_options(*, engine: str | None = None, voice: str | None = None, rate: float = 1.0,
                   pitch: float | None = None, captions: bool = False, fallback: str | None = None,
                   limits: Limits = DEFAULT_LIMITS, feed_title: str | None = None, cache: bool = True,
                   warn: Callable[[Exception], None] | None = None, made_by: str | None = None,
                   made_at: datetime | None = None, speech: SpeechSettings | None = None) -> RenderOptions:
    """The one place render options are built: ``cache`` True opens the shared clip cache
    (:func:`default_cache`, ``warn`` told when it is unusable), False renders without one.
    ``speech`` (None: the defaults, no server) configures the remote engine; its rate limit is
    made here once, so every engine the options build shares it."""
    from reader.tts.remote import make_limiter

    speech = speech or SpeechSettings()
    return RenderOptions(engine=engine, voice=voice, rate=rate, pitch=pitch, captions=captions,
                         cache=default_cache(warn) if cache else None, fallback=fallback, limits=limits,
                         feed_title=feed_title, made_by=made_by, made_at=made_at, speech=speech,
                         speech_limit=make_limiter(speech))


DEFAULT_OPTIONS = RenderOptions()


def _speak(sentences, eng, options: RenderOptions, *, subject: object = None, spill=None, ahead=None):
    """Render every sentence with one engine (or, by policy, all of them with the fallback).

    Rendering stops with :class:`LimitError` as soon as the clips pass ``options.limits.max_minutes``.
    With ``spill`` (a SpillFile) every clip's PCM goes to disk as it is ready; with ``ahead``
    (an EncodeAhead) every clip is handed to it too, to be encoded while the rest are spoken.
    """
    from reader.tts.render import render

    fb = options.make_engine(options.fallback) if options.fallback else None
    meter = options.limits.minutes_meter(subject)

    def on_clip(i, clip) -> None:
        meter(i, clip)
        if ahead is not None:
            ahead.add(i, clip)

    return render(sentences, eng, voice=options.voice, rate=options.rate, pitch=options.pitch, cache=options.cache,
                  fallback=fb, on_clip=on_clip, spill=spill)


def _build(segments, options: RenderOptions, *, title, out_path, guid, description, link, published, author,
           result, cover, image=None, key: str | None = None, ahead=None) -> Episode:
    from reader.audio import EpisodeMeta, build_episode

    feed_title = options.feed_title or FEED_TITLE
    meta = EpisodeMeta(title=title, artist=author or feed_title, album=feed_title, date=published, language="vi",
                       url=link, description=description, cover=cover, guid=guid,
                       engine=result.engine.name if hasattr(result.engine, "name") else str(result.engine),
                       voice=result.voice)
    ep = build_episode(segments, meta, out_path, rate=options.rate, bitrate=AUDIO_SETTINGS["bitrate"],
                       target_lufs=AUDIO_SETTINGS["target_lufs"], true_peak=AUDIO_SETTINGS["true_peak"],
                       ahead=ahead)
    if result.fell_back_from:
        _note_fallback(ep, result)
    speech = sum(c.duration for c in result.clips)
    stats = RenderStats(sentences=len(result.clips), synthesized=result.synthesized, cached=result.cached,
                        requests=result.requests, speech_seconds=round(speech, 3))
    return replace(ep, title=title, guid=guid, description=description, link=link, published=published,
                   author=author, image=image, stats=stats, render_key=key,
                   made_at=options.made_at or datetime.now(timezone.utc).replace(microsecond=0),
                   made_by=options.made_by,
                   fell_back_from=result.fell_back_from,
                   fallback_reason=str(result.error) if result.fell_back_from and result.error else None)


def _note_fallback(ep: Episode, result) -> None:
    """Say in the WebVTT transcript that the fallback engine spoke, instead of which, and why."""
    from reader.fsutil import atomic_write_text
    from reader.transcripts import format_vtt

    if ep.transcript_vtt:
        spoken_by = result.engine.name if hasattr(result.engine, "name") else str(result.engine)
        atomic_write_text(Path(ep.transcript_vtt), format_vtt(ep.cues, note=(
            f"Spoken by the fallback engine {spoken_by}: {result.fell_back_from} failed ({result.error})")))


def _article_plan(doc: Document, options: RenderOptions):
    """(sentences, engine, render key) of one article: what ``render_document`` speaks and names its file by."""
    from reader.text import sentences as split_document

    sents = split_document(doc, captions=options.captions)
    eng = options.make_engine()
    voice_id = options.voice or eng.default_voice
    return sents, eng, _render_key(eng, voice_id, options.rate, options.pitch, sents, extra=doc.title)


def article_key(doc: Document, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    """The render key of one article: a hash of every input that changes its audio.

    ``render_document`` names the episode ``<slug>-<key[:10]>.mp3`` and reuses it when its record
    holds the same key; the job queue (``reader/queue.py``) identifies a render job by it, so a
    job run twice finds the finished episode and never makes a second one.
    """
    return _article_plan(doc, options)[2]


def render_document(doc: Document, out_dir: Path, options: RenderOptions = DEFAULT_OPTIONS, *,
                    source_name: str | None = None, guid: str | None = None, published: datetime | None = None,
                    out_path: Path | None = None, subject: object = None) -> Episode:
    """Render one article into ``out_dir/<slug>-<hash>.mp3`` with its sidecars and record.

    The hash covers everything that changes the audio (engine, version, voice, rate and every
    sentence), so changed text gets a new file name and podcast apps fetch it anew. When that
    file and its record already exist the recorded episode is returned and nothing is spoken.
    ``options.made_at`` (default: now) and ``options.made_by`` (the command: "demo", "run", "read")
    go into the record; the daily run's retention touches only what a run made.
    ``options.limits`` are checked before anything is spoken (characters, sentences) and while
    speaking (minutes); ``subject`` names the input in a :class:`LimitError` (default the URL or title).
    """
    out_dir = Path(out_dir)
    subject = subject or doc.url or doc.title
    limits = options.limits
    limits.check_document(doc, subject, captions=options.captions)
    sents, eng, key = _article_plan(doc, options)
    limits.check_sentences(len(sents), subject)
    named = out_path is not None
    out_path = Path(out_path) if out_path is not None else out_dir / f"{slugify(doc.title)}-{key[:10]}.mp3"
    if (ep := _reuse(out_path, _record_key(key), named=named)) is not None:
        return ep
    guid = guid or article_guid(doc)
    published = published or doc.published or _previous_date(out_dir, guid) or datetime.now(timezone.utc).replace(microsecond=0)
    groups = [idx for _, idx in _sections(doc.title, sents)]
    with SpillFile(Path(out_path).parent) as spill, _encode_ahead(groups, out_path, options) as ahead:
        result = _speak(sents, eng, options, subject=subject, spill=spill, ahead=ahead)
        ep = _build(_segments(doc.title, result.clips), options=options, title=doc.title, out_path=Path(out_path),
                    guid=guid, description=doc.lead or (doc.paragraphs[0] if doc.paragraphs else ""), link=doc.url,
                    published=published, author=doc.author or source_name, result=result,
                    cover=_cover_bytes(out_dir), image=doc.image, key=_record_key(key), ahead=ahead)
    records.save(ep)
    return ep


def render_digest(docs: Sequence[Document], out_dir: Path, options: RenderOptions = DEFAULT_OPTIONS, *,
                  title: str, guid: str, published: datetime, intro: str | None = None,
                  outro: str | None = None) -> Episode:
    """Several articles in one episode: an intro line, one chapter per article, a short outro.

    Only ``options.limits.max_minutes`` applies (per episode); the character and sentence caps are
    per article. ``options.pitch`` is not used: a digest is spoken at the engine's pitch.
    """
    from reader.audio import Segment
    from reader.text import normalize, sentences as split_document

    if not docs:
        raise UsageError(title, "a digest needs at least one article")
    out_dir = Path(out_dir)
    intro = intro or f"{title}. Hôm nay có {len(docs)} tin."
    outro = outro or "Hết bản tin. Cảm ơn quý vị đã lắng nghe."
    parts: list[tuple[str, list[Sentence]]] = [("Giới thiệu", [Sentence(intro, normalize(intro), -1)])]
    for doc in docs:
        parts.append((doc.title, split_document(doc, captions=options.captions)))
    parts.append(("Kết thúc", [Sentence(outro, normalize(outro), 1)]))
    flat = [s for _, ss in parts for s in ss]
    options = replace(options, pitch=None)
    eng = options.make_engine()
    voice_id = options.voice or eng.default_voice
    key = _render_key(eng, voice_id, options.rate, None, flat, extra=title)
    out_path = out_dir / f"{slugify(title)}-{key[:10]}.mp3"
    if (ep := _reuse(out_path, _record_key(key), named=False)) is not None:
        return ep
    bounds = [0]
    for _, ss in parts:
        bounds.append(bounds[-1] + len(ss))
    groups = [range(a, b) for a, b in zip(bounds, bounds[1:])]
    with SpillFile(out_dir) as spill, _encode_ahead(groups, out_path, options) as ahead:
        result = _speak(flat, eng, options, subject=title, spill=spill, ahead=ahead)
        segments = [Segment(name, result.clips[g.start:g.stop]) for (name, _), g in zip(parts, groups)]
        lead = "; ".join(d.title for d in docs)
        ep = _build(segments, options=options, title=title, out_path=out_path, guid=guid, description=lead, link=None,
                    published=published, author=None, result=result, cover=_cover_bytes(out_dir),
                    key=_record_key(key), ahead=ahead)
    records.save(ep)
    return ep


def _previous_date(out_dir: Path, guid: str) -> datetime | None:
    """The first publication date given to this article, so a re-render keeps its place in the feed."""
    if not out_dir.is_dir():
        return None
    dates = [ep.published for ep in records.load_all(out_dir) if ep.guid == guid and ep.published]
    return min(dates) if dates else None


# ---------------------------------------------------------------- CLI helpers
def speak_text(text: str, out_path: str | Path | None, options: RenderOptions = DEFAULT_OPTIONS, *,
               stream: BinaryIO | None = None, subject: object = "TEXT") -> Episode:
    """Free text to one MP3 (no feed, no record); ``out_path`` None = the MP3 alone to ``stream``.

    ``subject`` names the input in errors. No fallback engine, no feed title: a file, not an episode.
    """
    from reader.audio import Segment
    from reader.text import normalize, split_sentences

    limits = options.limits
    options = replace(options, fallback=None, feed_title=None)
    limits.check_chars(len(text), subject)
    sents = []
    for i, para in enumerate(p for p in text.splitlines() if p.strip()):
        for s in split_sentences(para.strip()):
            spoken = normalize(s)
            if spoken.strip():
                sents.append(Sentence(s, spoken, i + 1))
    if not sents:
        raise UsageError(subject, "nothing speakable in the text", fix="give some Vietnamese words")
    limits.check_sentences(len(sents), subject)
    title = _chapter_title(sents[0])
    guid = str(uuid.uuid5(uuid.NAMESPACE_URL, "vnreader:text:" + text))
    with (_output(out_path, stream) as path, SpillFile(path.parent) as spill,
          _encode_ahead([range(len(sents))], path, options) as ahead):
        result = _speak(sents, options.make_engine(), options, subject=subject, spill=spill, ahead=ahead)
        return _build([Segment(title, result.clips)], options=options, title=title, out_path=path, guid=guid,
                      description="", link=None, published=datetime.now(timezone.utc).replace(microsecond=0),
                      author=None, result=result, cover=None, ahead=ahead)


@contextlib.contextmanager
def _output(out_path: str | Path | None, stream: BinaryIO | None) -> Iterator[Path]:
    """The path to render to; for ``out_path`` None, a temp folder whose MP3 is then copied to ``stream``.

    Only the MP3 goes to the stream: sidecars and the record stay in the temp folder, which is removed.
    """
    if out_path is not None:
        yield Path(out_path)
        return
    if stream is None:
        raise UsageError("output", "no output file and no stream to write the episode to",
                         fix="give an output path (-o FILE)")
    with tempfile.TemporaryDirectory(prefix="vnreader-") as tmp:
        path = Path(tmp) / "episode.mp3"
        yield path
        with open(path, "rb") as f:
            shutil.copyfileobj(f, stream)
        stream.flush()


def read_source(source: str, out_path: str | Path | None, options: RenderOptions = DEFAULT_OPTIONS, *,
                stream: BinaryIO | None = None, max_bytes: int | None = None,
                timeout: float | None = None) -> Episode:
    """One article (URL, file or stdin) to one MP3; ``out_path`` None = the MP3 alone to ``stream``.

    ``timeout``: total seconds for a URL's fetch, retries included. The record says ``made_by`` "read".
    """
    from reader.extract import extract
    from reader.fetch import DEFAULT_DEADLINE, MAX_BYTES, load

    _warm_up(options)  # the engine starts while the article is fetched and extracted
    doc = extract(load(source, max_bytes=max_bytes or MAX_BYTES, deadline=timeout or DEFAULT_DEADLINE),
                  captions=options.captions)
    with _output(out_path, stream) as path:
        return render_document(doc, path.parent, replace(options, made_by="read"), out_path=path,
                               subject="stdin" if source == "-" else source)


def _warm_up(options: RenderOptions) -> None:
    """In a background thread: start the engine (espeak's worker process, whose start-up is
    most of the wait for the first clip) while the caller fetches and prepares the text. The
    audio stage is imported by the render itself, in its own thread: importing reader.audio in
    two threads at once can hand one of them a half-initialised module (a cannot-import error).
    Any failure is left for the render itself to report, with its input's name."""
    import threading

    def start() -> None:
        try:
            options.make_engine().check()
        except Exception:  # noqa: BLE001 - rendering reports it properly
            pass

    threading.Thread(target=start, name="engine-warm-up", daemon=True).start()


def listen(source: str, options: RenderOptions = DEFAULT_OPTIONS, *, out=None, player=None, fmt: str = "mp3",
           started: float | None = None, max_bytes: int | None = None, timeout: float | None = None):
    """One article streamed as it is spoken: into ``out`` (a binary file) or through ``player``.

    Returns (document, StreamReport). Nothing is written to disk but the clip cache.
    """
    from reader import stream as streaming
    from reader.extract import extract
    from reader.fetch import DEFAULT_DEADLINE, MAX_BYTES, load
    from reader.text import sentences as split_document

    streaming.check_format(fmt)
    voice, rate, pitch, captions, cache, limits = (options.voice, options.rate, options.pitch,
                                                   options.captions, options.cache, options.limits)
    eng = options.make_engine()
    if voice is not None and hasattr(eng, "check_voice"):
        eng.check_voice(voice)
    streaming.warm_up(eng)  # the engine starts while the page is fetched and extracted
    doc = extract(load(source, max_bytes=max_bytes or MAX_BYTES, deadline=timeout or DEFAULT_DEADLINE),
                  captions=captions)
    subject = "stdin" if source == "-" else source
    limits.check_document(doc, subject, captions=captions)
    sents = split_document(doc, captions=captions)
    limits.check_sentences(len(sents), subject)
    if player is not None:
        return doc, streaming.play(sents, eng, player, voice=voice, rate=rate, pitch=pitch, cache=cache,
                                   started=started, subject=source)
    return doc, streaming.stream(sents, eng, out, fmt=fmt, voice=voice, rate=rate, pitch=pitch, cache=cache,
                                 started=started, subject=source)


# ---------------------------------------------------------------- demo
@dataclass
class DemoReport:
    episodes: list[Episode] = field(default_factory=list)
    failures: list[tuple[str, ReaderError]] = field(default_factory=list)
    feed: Path | None = None
    page: Path | None = None  #: the listening page (index.html)


def demo_channel(base_url: str):
    from reader.podcast import Channel

    return Channel(title="vnreader — tin tức đọc bằng giọng nói",
                   description="Bản tin tiếng Việt đọc tự động bằng vnreader: các bài mẫu đi kèm chương trình.",
                   link=base_url, language="vi", author="vnreader", owner_name="vnreader",
                   owner_email="vnreader@example.invalid", image="cover.jpg")


def load_samples() -> list[tuple[Article, dict]]:
    """The bundled sample articles with their source names and dates."""
    from reader.fetch import load

    manifest = tomllib.loads((SAMPLES / "samples.toml").read_text(encoding="utf-8"))
    out = []
    for s in manifest["sample"]:
        art = load(str(SAMPLES / s["file"]))
        art = replace(art, url=s.get("url") or art.url, source=s.get("source"),
                      published=datetime.fromisoformat(s["published"]) if s.get("published") else art.published)
        out.append((art, s))
    return out


def demo(out_dir: Path, options: RenderOptions = DEFAULT_OPTIONS, *, base_url: str) -> DemoReport:
    """Render the bundled samples into ``out_dir`` and write ``feed.xml`` beside them."""
    from reader.artwork import make_cover
    from reader.extract import extract
    from reader.player import write_player
    from reader.podcast import normalize_base_url, write_feed

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    channel = demo_channel(base_url)
    cover = out_dir / channel.image
    if not cover.is_file():
        make_cover(cover, "vnreader", "Tin tức đọc bằng giọng nói")
    report = DemoReport()
    options = replace(options, feed_title=channel.title, made_by="demo")
    for art, sample in load_samples():
        try:
            doc = extract(art)
            if doc.published is None and art.published is not None:
                doc = replace(doc, published=art.published)
            ep = render_document(doc, out_dir, options, source_name=sample.get("source"), subject=sample["file"])
            report.episodes.append(ep)
        except ReaderError as e:
            report.failures.append((sample["file"], e))
    report.feed = write_feed(report.episodes, out_dir, channel=channel, base_url=base_url)
    report.page = write_player(report.episodes, out_dir, channel_title=channel.title,
                               feed_url=normalize_base_url(base_url) + report.feed.name)
    return report
