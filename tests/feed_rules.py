"""Feed rules: what Apple Podcasts, Spotify, AntennaPod, Pocket Casts and gPodder need from feed.xml.

``check_feed(xml_bytes, out_dir=None, base_url=None) -> list[str]`` returns one line per
broken rule (empty = fine). The rules are issue 6's lists: every channel and item element
named there, with the value constraints the directories enforce. Given the output
folder and its base URL, it also checks that every URL names a real file and that
enclosure lengths and the artwork match the files.

Independent of ``reader.podcast`` on purpose: it reads only the XML, so it checks the
writer instead of repeating it. Other tests may import it (``from feed_rules import check_feed``).
"""
from __future__ import annotations

import re
import uuid
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM = "http://www.w3.org/2005/Atom"
PODCAST_URIS = ("https://podcastindex.org/namespace/1.0",
                "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md")
ART_SUFFIXES = (".jpg", ".jpeg", ".png")
ART_MIN, ART_MAX = 1400, 3000
DESCRIPTION_MAX = 4000  # bytes
TRANSCRIPT_TYPES = {"text/vtt", "application/x-subrip", "application/srt", "text/html", "application/json",
                    "text/plain"}
CHAPTERS_TYPE = "application/json+chapters"
DURATION_RE = re.compile(r"^(\d+|(\d+:)?[0-5]?\d:[0-5]\d)$")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")

#: element (prefix form) → required on the channel
CHANNEL_REQUIRED = ("title", "description", "link", "language", "atom:link", "itunes:image", "itunes:category",
                    "itunes:explicit", "itunes:author", "itunes:owner", "podcast:guid", "podcast:locked")
#: element → required on every item
ITEM_REQUIRED = ("title", "description", "guid", "pubDate", "enclosure", "itunes:duration", "itunes:image",
                 "podcast:transcript", "podcast:chapters", "link")


def _ns(root) -> dict[str, str]:
    podcast = next((u for u in root.nsmap.values() if u in PODCAST_URIS), PODCAST_URIS[0])
    return {"itunes": ITUNES, "atom": ATOM, "podcast": podcast}


def _is_url(value: str | None) -> bool:
    parts = urlsplit(value or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _date(value: str | None):
    try:
        dt = parsedate_to_datetime(value or "")
    except (TypeError, ValueError, IndexError):
        return None
    return dt if dt.tzinfo is not None else None


def _local(url: str, out_dir: Path, base_url: str) -> Path | None:
    """The file a URL under base_url names, or None when it is elsewhere."""
    if not url.startswith(base_url):
        return None
    return out_dir.joinpath(*unquote(url[len(base_url):]).split("/"))


def check_feed(xml: bytes, out_dir: Path | None = None, base_url: str | None = None) -> list[str]:
    errors: list[str] = []
    err = errors.append
    if not xml.lstrip().startswith(b"<?xml") or b'encoding="UTF-8"' not in xml.split(b"?>", 1)[0].replace(b"'", b'"'):
        err("xml: no <?xml ... encoding=\"UTF-8\"?> declaration")
    try:
        xml.decode("utf-8")
        root = etree.fromstring(xml)
    except (UnicodeDecodeError, etree.XMLSyntaxError) as e:
        return errors + [f"xml: not well-formed UTF-8 XML: {e}"]
    if root.tag != "rss" or root.get("version") != "2.0":
        err("rss: root must be <rss version=\"2.0\">")
    for prefix, uri in (("itunes", ITUNES), ("atom", ATOM)):
        if root.nsmap.get(prefix) != uri:
            err(f"rss: xmlns:{prefix} must be {uri}")
    if root.nsmap.get("podcast") not in PODCAST_URIS:
        err("rss: xmlns:podcast must be the Podcasting 2.0 namespace")
    ns = _ns(root)
    ch = root.find("channel")
    if ch is None:
        return errors + ["channel: missing"]
    base_url = base_url.rstrip("/") + "/" if base_url else None
    local = (lambda url: _local(url, out_dir, base_url)) if out_dir is not None and base_url else (lambda url: None)

    for tag in CHANNEL_REQUIRED:
        if ch.find(tag, ns) is None:
            err(f"channel: missing <{tag}>")
    for tag in ("title", "description", "language", "itunes:author"):
        el = ch.find(tag, ns)
        if el is not None and not (el.text or "").strip():
            err(f"channel: <{tag}> is empty")
    desc = ch.findtext("description") or ""
    if len(desc.encode("utf-8")) > DESCRIPTION_MAX:
        err(f"channel: <description> is {len(desc.encode('utf-8'))} bytes, more than {DESCRIPTION_MAX}")
    if ch.find("link") is not None and not _is_url(ch.findtext("link")):
        err("channel: <link> is not an absolute http(s) URL")
    lang = ch.findtext("language")
    if lang is not None and not LANGUAGE_RE.match(lang.strip()):
        err(f"channel: <language> {lang!r} is not a language code")
    selfs = [a for a in ch.findall("atom:link", ns) if a.get("rel") == "self"]
    if ch.find("atom:link", ns) is not None and not selfs:
        err("channel: no <atom:link rel=\"self\">")
    for a in selfs:
        if not _is_url(a.get("href")):
            err("channel: <atom:link rel=\"self\"> href is not an absolute URL")
        if a.get("type") != "application/rss+xml":
            err("channel: <atom:link rel=\"self\"> type must be application/rss+xml")
        if base_url and not (a.get("href") or "").startswith(base_url):
            err("channel: <atom:link rel=\"self\"> is not under the base URL")
    image = ch.find("itunes:image", ns)
    if image is not None:
        href = image.get("href") or ""
        if not _is_url(href) or not urlsplit(href).path.lower().endswith(ART_SUFFIXES):
            err("channel: <itunes:image> href must be an absolute URL of a .jpg or .png")
        else:
            errors.extend(_check_art(local(href)))
    cat = ch.find("itunes:category", ns)
    if cat is not None:
        if not (cat.get("text") or "").strip():
            err("channel: <itunes:category> has no text attribute")
        for sub in cat.findall("itunes:category", ns):
            if not (sub.get("text") or "").strip():
                err("channel: nested <itunes:category> has no text attribute")
    explicit = ch.findtext("itunes:explicit", namespaces=ns)
    if explicit is not None and explicit.strip() not in ("true", "false"):
        err(f"channel: <itunes:explicit> must be true or false, not {explicit!r}")
    owner = ch.find("itunes:owner", ns)
    if owner is not None:
        if not (owner.findtext("itunes:name", namespaces=ns) or "").strip():
            err("channel: <itunes:owner> has no <itunes:name>")
        if "@" not in (owner.findtext("itunes:email", namespaces=ns) or ""):
            err("channel: <itunes:owner> has no <itunes:email>")
    guid = ch.findtext("podcast:guid", namespaces=ns)
    if guid is not None:
        try:
            if uuid.UUID(guid.strip()).version != 5:
                err("channel: <podcast:guid> is not a version 5 UUID")
        except ValueError:
            err(f"channel: <podcast:guid> {guid!r} is not a UUID")
    locked = ch.findtext("podcast:locked", namespaces=ns)
    if locked is not None and locked.strip() not in ("yes", "no"):
        err(f"channel: <podcast:locked> must be yes or no, not {locked!r}")
    for tag in ("lastBuildDate", "pubDate"):
        if ch.find(tag) is not None and _date(ch.findtext(tag)) is None:
            err(f"channel: <{tag}> is not an RFC 2822 date with a zone")

    seen: set[str] = set()
    previous = None
    for n, item in enumerate(ch.findall("item"), 1):
        where = f"item {n}"
        for tag in ITEM_REQUIRED:
            if item.find(tag, ns) is None:
                err(f"{where}: missing <{tag}>")
        for tag in ("title", "description", "guid"):
            el = item.find(tag)
            if el is not None and not (el.text or "").strip():
                err(f"{where}: <{tag}> is empty")
        g = item.find("guid")
        if g is not None:
            if g.text in seen:
                err(f"{where}: <guid> {g.text!r} repeats")
            seen.add(g.text)
            if g.get("isPermaLink", "true") != "false" and not _is_url(g.text):
                err(f"{where}: <guid> is not a URL, so it needs isPermaLink=\"false\"")
        if item.find("pubDate") is not None:
            when = _date(item.findtext("pubDate"))
            if when is None:
                err(f"{where}: <pubDate> is not an RFC 2822 date with a zone")
            elif previous is not None and when > previous:
                err(f"{where}: items are not newest first")
            previous = when or previous
        if item.find("link") is not None and not _is_url(item.findtext("link")):
            err(f"{where}: <link> is not an absolute http(s) URL")
        enc = item.find("enclosure")
        if enc is not None:
            url, length = enc.get("url") or "", enc.get("length") or ""
            if not _is_url(url):
                err(f"{where}: <enclosure> url is not an absolute http(s) URL")
            if " " in url:
                err(f"{where}: <enclosure> url has an unescaped space")
            if not length.isdigit() or int(length) <= 0:
                err(f"{where}: <enclosure> length must be a positive byte count")
            if enc.get("type") != "audio/mpeg":
                err(f"{where}: <enclosure> type must be audio/mpeg")
            path = local(url)
            if path is not None:
                if not path.is_file():
                    err(f"{where}: <enclosure> {url} names no file")
                elif length.isdigit() and int(length) != path.stat().st_size:
                    err(f"{where}: <enclosure> length {length} is not the file size {path.stat().st_size}")
        dur = item.findtext("itunes:duration", namespaces=ns)
        if dur is not None and not DURATION_RE.match(dur.strip()):
            err(f"{where}: <itunes:duration> {dur!r} is not seconds or [HH:]MM:SS")
        img = item.find("itunes:image", ns)
        if img is not None and (not _is_url(img.get("href"))
                                or not urlsplit(img.get("href")).path.lower().endswith(ART_SUFFIXES)):
            err(f"{where}: <itunes:image> href must be an absolute URL of a .jpg or .png")
        for t in item.findall("podcast:transcript", ns):
            if t.get("type") not in TRANSCRIPT_TYPES:
                err(f"{where}: <podcast:transcript> type {t.get('type')!r} is not a transcript type")
            errors.extend(_check_linked(where, "podcast:transcript", t.get("url"), local))
        for c in item.findall("podcast:chapters", ns):
            if c.get("type") != CHAPTERS_TYPE:
                err(f"{where}: <podcast:chapters> type must be {CHAPTERS_TYPE}")
            errors.extend(_check_linked(where, "podcast:chapters", c.get("url"), local))
    return errors


def _check_linked(where: str, tag: str, url: str | None, local) -> list[str]:
    if not _is_url(url):
        return [f"{where}: <{tag}> url is not an absolute http(s) URL"]
    path = local(url)
    if path is not None and not path.is_file():
        return [f"{where}: <{tag}> {url} names no file"]
    return []


def _check_art(path: Path | None) -> list[str]:
    if path is None:
        return []
    if not path.is_file():
        return [f"channel: <itunes:image> {path.name} names no file"]
    from PIL import Image

    with Image.open(path) as img:
        w, h = img.size
        out = []
        if w != h or not ART_MIN <= w <= ART_MAX:
            out.append(f"channel: artwork is {w}x{h}, not square {ART_MIN}–{ART_MAX} px")
        if img.format not in ("JPEG", "PNG") or img.mode != "RGB":
            out.append(f"channel: artwork is {img.format} {img.mode}, not RGB JPEG/PNG")
        return out
