"""Feed ingestion: one RSS/Atom feed → its entries, with conditional GET.

``read_feed`` sends ``If-None-Match`` / ``If-Modified-Since`` from the last run; a 304
comes back as ``FeedResult(not_modified=True)`` with no entries. Anything that is not a
feed (an HTML error page, a truncated file) raises :class:`~reader.errors.FeedError`
naming the source and its URL.
"""
from __future__ import annotations

import calendar
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import feedparser
import httpx

from reader.errors import FeedError, FetchError
from reader.fetch import DEFAULT_DEADLINE, get_bytes
from reader.models import Article, FeedSource

FEED_MAX_BYTES = 5_000_000


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed, as the feed describes it (the page is fetched later)."""

    entry_id: str  #: feeds; the entry's guid/id, else its link
    link: str  #: feeds; the article URL
    title: str | None = None  #: feeds; hint for extract
    published: datetime | None = None  #: feeds; UTC
    summary: str | None = None  #: feeds; description as plain text

    def article(self, source: FeedSource) -> Article:
        """An ``Article`` stub carrying the feed's hints (fetch fills ``html``)."""
        return Article(url=self.link, source=source.name, title=self.title, published=self.published,
                       summary=self.summary)


@dataclass(frozen=True)
class FeedResult:
    """What one feed request gave."""

    entries: tuple[FeedEntry, ...]  #: newest first
    etag: str | None = None  #: for the next run's If-None-Match
    modified: str | None = None  #: for the next run's If-Modified-Since
    not_modified: bool = False  #: the server answered 304: nothing new
    title: str | None = None  #: the feed's own title


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    return text or None


def _text(html: str | None) -> str | None:
    """A description's plain text (feeds put an <a><img></a> teaser before it)."""
    if not html:
        return None
    if "<" in html:
        from bs4 import BeautifulSoup

        html = BeautifulSoup(html, "lxml").get_text(" ")
    return _clean(html)


def _date(entry: feedparser.FeedParserDict) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)


def parse_feed(body: bytes, source: FeedSource, *, content_type: str | None = None) -> FeedResult:
    """Parse feed bytes; raise ``FeedError`` when they are not an RSS/Atom feed."""
    headers = {"content-type": content_type} if content_type else None
    parsed = feedparser.parse(body, response_headers=headers)
    if not parsed.get("version") and not parsed.entries:
        why = "the response is an HTML page, not RSS/Atom" if b"<html" in body[:2000].lower() else "not RSS/Atom"
        raise FeedError(f"{source.name} ({source.url})", why,
                        fix=f"check the url of source {source.name!r} in the sources file; open it in a browser")
    entries = []
    for e in parsed.entries:
        link = _clean(e.get("link"))
        if not link:
            continue
        entries.append(FeedEntry(entry_id=_clean(e.get("id")) or link, link=link, title=_clean(e.get("title")),
                                 published=_date(e), summary=_text(e.get("summary"))))
    entries.sort(key=lambda x: x.published.timestamp() if x.published else 0.0, reverse=True)
    return FeedResult(entries=tuple(entries), title=_clean(parsed.feed.get("title")))


def read_feed(source: FeedSource, client: httpx.Client, etag: str | None = None,
              modified: str | None = None, *, deadline: float = DEFAULT_DEADLINE) -> FeedResult:
    """GET ``source.url`` (conditionally) and parse it; ``deadline``: total seconds for the GET."""
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    try:
        resp = get_bytes(source.url, client=client, headers=headers, max_bytes=FEED_MAX_BYTES, deadline=deadline)
    except FeedError:
        raise
    except FetchError as e:
        raise type(e)(f"{source.name} ({source.url})", e.detail or e.message, fix=e.fix) from e
    if resp.status == 304:
        return FeedResult(entries=(), etag=etag, modified=modified, not_modified=True)
    result = parse_feed(resp.body, source, content_type=resp.headers.get("content-type"))
    return replace(result, etag=resp.headers.get("etag"), modified=resp.headers.get("last-modified"))
