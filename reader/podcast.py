"""Episodes → ``feed.xml``: an RSS 2.0 podcast feed that podcast apps accept.

Namespaces: itunes (Apple Podcasts, Spotify, Pocket Casts), atom (``rel="self"``),
podcast (Podcasting 2.0: guid, locked, transcript, chapters) and content.

The feed is **deterministic**: the same episodes and channel give a byte-identical
file. Nothing reads the clock: ``lastBuildDate`` and the channel ``pubDate`` are the
newest episode's date, and an episode without a date is dated by its MP3's mtime.
The XML is built with lxml (not feedgen, which stamps ``lastBuildDate`` with "now"
and a generator version), and written atomically.
"""
from __future__ import annotations

import os
import re
import unicodedata
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from html import escape
from pathlib import Path, PurePosixPath
from typing import Sequence
from urllib.parse import quote, urlsplit

from lxml import etree

from reader.errors import PublishError, UsageError
from reader.fsutil import atomic_write_bytes
from reader.models import Episode

#: The Podcasting 2.0 namespace has two URIs that the spec declares identical (clients
#: "must also recognize" the first one): https://podcastindex.org/namespace/1.0 and the
#: original GitHub URI below. gPodder's podcastparser (and older parsers) know only the
#: GitHub form, AntennaPod and Podcast Index read both, so the feed declares that one.
PODCAST_NS = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
PODCAST_NS_CANONICAL = "https://podcastindex.org/namespace/1.0"
NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "atom": "http://www.w3.org/2005/Atom",
    "podcast": PODCAST_NS,
    "content": "http://purl.org/rss/1.0/modules/content/",
}
#: Podcasting 2.0 namespace for ``podcast:guid`` (UUIDv5 of the feed URL).
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
DESCRIPTION_LIMIT = 4000  #: bytes (UTF-8); Apple Podcasts' limit for the channel description
ARTWORK_SUFFIXES = (".jpg", ".jpeg", ".png")  #: what Apple accepts for itunes:image
GENERATOR = "vnreader"

#: Apple Podcasts categories (https://podcasters.apple.com/support/1691-apple-podcasts-categories).
#: Only these names are accepted by the directories; a subcategory must belong to its category.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": ("Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality"),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": ("Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies", "Home & Garden",
                "Video Games"),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": ("Business News", "Daily News", "Entertainment News", "News Commentary", "Politics", "Sports News",
             "Tech News"),
    "Religion & Spirituality": ("Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion",
                                "Spirituality"),
    "Science": ("Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics", "Natural Sciences",
                "Nature", "Physics", "Social Sciences"),
    "Society & Culture": ("Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"),
    "Sports": ("Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf", "Hockey", "Rugby",
               "Running", "Soccer", "Swimming", "Tennis", "Volleyball", "Wilderness", "Wrestling"),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}

#: Sidecar files → (element attribute ``type``) for ``podcast:transcript``.
TRANSCRIPT_TYPES = (("transcript_vtt", "text/vtt"), ("transcript_srt", "application/x-subrip"))
CHAPTERS_TYPE = "application/json+chapters"

#: Characters XML 1.0 forbids, and lone surrogates (a JSON record can hold one; UTF-8 cannot encode it)
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Channel:
    """The podcast as a whole: what a directory shows before any episode."""

    title: str  #: operator; podcast name
    description: str  #: operator; at most 4000 bytes of UTF-8
    link: str  #: operator; the podcast's web page ("" = the base URL)
    author: str = ""  #: operator; itunes:author (the publisher's name)
    owner_name: str = ""  #: operator; itunes:owner name (directories contact them)
    owner_email: str = ""  #: operator; itunes:owner email; also podcast:locked's owner
    language: str = "vi"  #: operator; RSS language code
    category: str = "News"  #: operator; an Apple Podcasts category (see CATEGORIES)
    subcategory: str | None = None  #: operator; e.g. "Daily News" (must belong to category)
    explicit: bool = False  #: operator; itunes:explicit
    image: str | None = None  #: operator; artwork file name inside the output folder ("cover.jpg")
    guid: str | None = None  #: operator; podcast:guid; None = UUIDv5 of the feed URL
    locked: bool = True  #: operator; podcast:locked: other hosts may not import the feed

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise UsageError("channel title", "is empty", fix="give the podcast a title")
        size = len(self.description.encode("utf-8"))
        if size > DESCRIPTION_LIMIT:
            raise UsageError("channel description", f"is {size} bytes, more than {DESCRIPTION_LIMIT}",
                             fix="shorten the podcast description (Apple Podcasts rejects longer ones)")
        if self.link and urlsplit(self.link).scheme not in ("http", "https"):
            raise UsageError("channel link", f"{self.link!r} is not an absolute http(s) URL",
                             fix="give the podcast's web page, or leave it empty to use the base URL")
        if self.category not in CATEGORIES:
            raise UsageError("channel category", f"{self.category!r} is not an Apple Podcasts category",
                             fix="use one of: " + ", ".join(CATEGORIES))
        if self.subcategory is not None and self.subcategory not in CATEGORIES[self.category]:
            raise UsageError("channel subcategory", f"{self.subcategory!r} is not under {self.category!r}",
                             fix="use one of: " + (", ".join(CATEGORIES[self.category]) or "(none)"))
        if self.owner_email and "@" not in self.owner_email:
            raise UsageError("channel owner_email", f"{self.owner_email!r} is not an email address",
                             fix="give the address directories should write to")
        if self.image is not None and not self.image.lower().endswith(ARTWORK_SUFFIXES):
            raise UsageError("channel image", f"{self.image!r} is not a .jpg or .png file",
                             fix="make the cover with reader.artwork.make_cover(path.png/.jpg, ...)")
        if self.guid is not None:
            try:
                uuid.UUID(self.guid)
            except ValueError as e:
                raise UsageError("channel guid", f"{self.guid!r} is not a UUID",
                                 fix="leave it unset to derive it from the feed URL") from e


def podcast_guid(feed_url: str) -> str:
    """Podcasting 2.0 ``podcast:guid``: UUIDv5 of the feed URL without scheme and trailing slashes."""
    bare = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", feed_url.strip()).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def format_duration(seconds: float) -> str:
    """``itunes:duration`` as HH:MM:SS (whole seconds, at least 1)."""
    total = max(1, int(round(seconds)))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}"


def rfc2822(dt: datetime) -> str:
    """RFC 2822 date in UTC ("Sat, 09 Jan 2021 01:00:00 +0000"); naive times count as UTC."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return format_datetime(dt.astimezone(timezone.utc).replace(microsecond=0))


def normalize_base_url(base_url: str) -> str:
    """Check an absolute http(s) URL and give it exactly one trailing slash."""
    parts = urlsplit(base_url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(base_url or "base URL", "is not an absolute http(s) URL",
                         fix="give --base-url like http://127.0.0.1:8000/ (the public address of the output folder)")
    return base_url.rstrip("/") + "/"


def clean_text(text: str | None) -> str:
    """NFC text with the characters XML 1.0 forbids removed (escaping is lxml's job)."""
    return _XML_INVALID.sub("", unicodedata.normalize("NFC", text or ""))


def _shown(*values: str | None) -> str:
    """The first value with visible text once cleaned (a name of only spaces or control characters is none)."""
    return next((v for v in values if v is not None and clean_text(v).strip()), values[-1] or "")


def _resolve(path: str | os.PathLike, out_dir: Path) -> Path:
    p = Path(path)
    if p.is_absolute():
        return p
    inside = out_dir / p
    return inside if inside.exists() else p


def _url_for(path: Path, out_dir: Path, base_url: str) -> str:
    """base_url + the file's path relative to out_dir, percent-encoded."""
    try:
        rel = path.resolve().relative_to(out_dir.resolve())
    except ValueError as e:
        raise PublishError(str(path), f"is not inside the output folder {out_dir}",
                           fix="write episodes and their sidecars into the folder the feed is published from") from e
    return base_url + quote(PurePosixPath(*rel.parts).as_posix(), safe="/")


def _published(ep: Episode, mp3: Path) -> datetime:
    if ep.published is not None:
        return ep.published if ep.published.tzinfo else ep.published.replace(tzinfo=timezone.utc)
    return datetime.fromtimestamp(int(mp3.stat().st_mtime), tz=timezone.utc)


def _item_image(ep: Episode, channel_art: str | None, out_dir: Path, base_url: str) -> str | None:
    """The episode's own artwork when it is a JPEG/PNG URL or file, else the channel art."""
    if ep.image:
        img = ep.image.strip()
        parts = urlsplit(img)
        if parts.scheme in ("http", "https") and parts.path.lower().endswith(ARTWORK_SUFFIXES):
            return img
        if not parts.scheme and img.lower().endswith(ARTWORK_SUFFIXES):
            local = _resolve(img, out_dir)
            if local.is_file():
                return _url_for(local, out_dir, base_url)
    return channel_art


def _sub(parent, tag: str, value: str | None = None, **attrs: str):
    """Append ``<tag attrs>value</tag>``; ``prefix:name`` tags use NS."""
    if ":" in tag:
        prefix, local = tag.split(":", 1)
        tag = f"{{{NS[prefix]}}}{local}"
    el = etree.SubElement(parent, tag)
    for k, v in attrs.items():
        el.set(k, clean_text(v))
    if value is not None:
        el.text = clean_text(value)
    return el


def build_feed(episodes: Sequence[Episode], out_dir: Path, *, channel: Channel, base_url: str,
               feed_name: str = "feed.xml") -> bytes:
    """The feed document as UTF-8 bytes (see ``write_feed``)."""
    out_dir = Path(out_dir)
    base_url = normalize_base_url(base_url)
    feed_url = base_url + quote(feed_name, safe="/")
    link = channel.link or base_url
    items = _feed_items(episodes, out_dir)

    rss = etree.Element("rss", nsmap=NS, version="2.0")
    ch = _sub(rss, "channel")
    _sub(ch, "title", channel.title)
    _sub(ch, "description", channel.description)
    _sub(ch, "link", link)
    _sub(ch, "language", channel.language)
    _sub(ch, "generator", GENERATOR)
    if items:
        newest = rfc2822(items[0][0])
        _sub(ch, "pubDate", newest)
        _sub(ch, "lastBuildDate", newest)
    _sub(ch, "atom:link", href=feed_url, rel="self", type="application/rss+xml")
    art = _channel_art(ch, channel, out_dir, base_url, link)
    _channel_itunes(ch, channel, feed_url)
    for published, ep, mp3 in items:
        _item(_sub(ch, "item"), published, ep, mp3, channel=channel, art=art, out_dir=out_dir, base_url=base_url,
              link=link)
    return etree.tostring(rss, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _feed_items(episodes: Sequence[Episode], out_dir: Path) -> list[tuple[datetime, Episode, Path]]:
    """(published, episode, MP3) newest first; every MP3 present, every guid once."""
    items = []
    for ep in episodes:
        mp3 = _resolve(ep.path, out_dir)
        if not mp3.is_file():
            raise PublishError(str(ep.path), "episode MP3 is missing", fix="render the episode again or drop its record")
        items.append((_published(ep, mp3), ep, mp3))
    items.sort(key=lambda t: (t[0], t[1].guid), reverse=True)
    dupes = sorted(g for g, n in Counter(ep.guid for _, ep, _ in items).items() if n > 1)
    if dupes:
        raise PublishError(dupes[0], "two episodes share this guid",
                           fix="give every episode its own guid (apps show only one of them)")
    return items


def _channel_art(ch, channel: Channel, out_dir: Path, base_url: str, link: str) -> str | None:
    """The channel's <image> and itunes:image; returns the artwork URL (None without artwork)."""
    if not channel.image:
        return None
    art_path = out_dir / channel.image
    if not art_path.is_file():
        raise PublishError(str(art_path), "channel artwork is missing",
                           fix="make it with reader.artwork.make_cover, or set Channel.image=None")
    art = _url_for(art_path, out_dir, base_url)
    img = _sub(ch, "image")
    _sub(img, "url", art)
    _sub(img, "title", channel.title)
    _sub(img, "link", link)
    _sub(ch, "itunes:image", href=art)
    return art


def _channel_itunes(ch, channel: Channel, feed_url: str) -> None:
    """The channel's category, owner, author and Podcasting 2.0 elements."""
    cat = _sub(ch, "itunes:category", text=channel.category)
    if channel.subcategory:
        _sub(cat, "itunes:category", text=channel.subcategory)
    _sub(ch, "itunes:explicit", "true" if channel.explicit else "false")
    owner = _sub(ch, "itunes:owner")
    _sub(owner, "itunes:name", _shown(channel.owner_name, channel.author, channel.title))
    if channel.owner_email:
        _sub(owner, "itunes:email", channel.owner_email)
    _sub(ch, "itunes:author", _shown(channel.author, channel.owner_name, channel.title))
    _sub(ch, "itunes:summary", channel.description)
    _sub(ch, "itunes:type", "episodic")
    _sub(ch, "podcast:guid", channel.guid or podcast_guid(feed_url))
    locked = _sub(ch, "podcast:locked", "yes" if channel.locked else "no")
    if channel.owner_email:
        locked.set("owner", channel.owner_email)


def _item(it, published: datetime, ep: Episode, mp3: Path, *, channel: Channel, art: str | None, out_dir: Path,
          base_url: str, link: str) -> None:
    """One episode's <item> children."""
    _sub(it, "title", ep.title)
    _sub(it, "description", ep.description or ep.title)
    if ep.description:
        _sub(it, "content:encoded", _html_paragraph(ep.description))
    _sub(it, "link", ep.link or link)  # local text has no article page: link the podcast's
    _sub(it, "guid", ep.guid).set("isPermaLink", "false")
    _sub(it, "pubDate", rfc2822(published))
    _sub(it, "enclosure", url=_url_for(mp3, out_dir, base_url), length=str(mp3.stat().st_size),
         type="audio/mpeg")
    _sub(it, "itunes:title", ep.title)
    _sub(it, "itunes:duration", format_duration(ep.duration))
    _sub(it, "itunes:episodeType", "full")
    _sub(it, "itunes:explicit", "true" if channel.explicit else "false")
    if ep.author:
        _sub(it, "itunes:author", ep.author)
    image = _item_image(ep, art, out_dir, base_url)
    if image:
        _sub(it, "itunes:image", href=image)
    for attr, mime in TRANSCRIPT_TYPES:
        side = getattr(ep, attr)
        if side and _resolve(side, out_dir).is_file():
            _sub(it, "podcast:transcript", url=_url_for(_resolve(side, out_dir), out_dir, base_url),
                 type=mime, language=channel.language)
    if ep.chapters_json and _resolve(ep.chapters_json, out_dir).is_file():
        _sub(it, "podcast:chapters", url=_url_for(_resolve(ep.chapters_json, out_dir), out_dir, base_url),
             type=CHAPTERS_TYPE)


def _html_paragraph(text: str) -> str:
    """The lead as one HTML paragraph (escaped here; lxml escapes it again as element text)."""
    return f"<p>{escape(clean_text(text), quote=False)}</p>"


def write_feed(episodes: Sequence[Episode], out_dir: Path, *, channel: Channel, base_url: str,
               feed_name: str = "feed.xml") -> Path:
    """Write ``out_dir/feed_name`` atomically and return its path.

    ``base_url`` is the public URL of ``out_dir`` (with a private token, include it:
    ``https://host/TOKEN/``); enclosure, transcript, chapter and artwork URLs are
    base_url + the file's path relative to ``out_dir``. Items are newest first.
    An unchanged feed is not rewritten, so its mtime (and HTTP Last-Modified) stays.
    """
    out_dir = Path(out_dir)
    data = build_feed(episodes, out_dir, channel=channel, base_url=base_url, feed_name=feed_name)
    target = out_dir / feed_name
    try:
        if target.is_file() and target.read_bytes() == data:
            return target
        return atomic_write_bytes(target, data)
    except OSError as e:
        raise PublishError(str(target), f"could not write the feed: {e.strerror or e}",
                           fix="check that the output folder exists and is writable") from e
