"""The feed rules checker passes what write_feed writes and catches each broken rule."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

from feed_rules import CHANNEL_REQUIRED, ITEM_REQUIRED, check_feed
from podcast_fixtures import make_channel, make_episode
from reader.podcast import NS, write_feed

BASE = "http://127.0.0.1:8000/"


@pytest.fixture
def site(tmp_path):
    out = tmp_path / "audio_out"
    out.mkdir()
    eps = [make_episode(out, "sang", title="Bản tin sáng & tối <1>", guid="a",
                        published=datetime(2021, 1, 10, tzinfo=timezone.utc)),
           make_episode(out, "bài báo", title="Giữ vững địa bàn 🇻🇳", guid="b",
                        published=datetime(2021, 1, 9, tzinfo=timezone.utc))]
    feed = write_feed(eps, out, channel=make_channel(out), base_url=BASE)
    return out, feed


def test_written_feed_follows_every_rule(site):
    out, feed = site
    assert check_feed(feed.read_bytes(), out, BASE) == []


def _mutate(xml: bytes, fn) -> bytes:
    root = etree.fromstring(xml)
    fn(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _remove(path: str):
    def fn(root):
        els = root.find("channel").xpath(path.replace("channel/", "", 1).replace("item/", "item[1]/", 1),
                                         namespaces=NS)
        assert els, path
        for el in els:
            el.getparent().remove(el)
    return fn


def _set_text(path: str, text: str):
    def fn(root):
        root.find(path, NS).text = text
    return fn


def _set_attr(path: str, attr: str, value: str):
    def fn(root):
        root.find(path, NS).set(attr, value)
    return fn


def _swap_items(root):
    ch = root.find("channel")
    items = ch.findall("item")
    ch.remove(items[0])
    ch.append(items[0])


def _same_guid(root):
    for g in root.iter("guid"):
        g.text = "same"


MISSING = ([(f"channel-{t}", _remove(f"channel/{t}"), f"channel: missing <{t}>") for t in CHANNEL_REQUIRED]
           + [(f"item-{t}", _remove(f"channel/item/{t}"), f"item 1: missing <{t}>") for t in ITEM_REQUIRED])

BROKEN = [
    ("long-description", _set_text("channel/description", "ữ" * 1400), "more than 4000"),
    ("empty-title", _set_text("channel/title", " "), "<title> is empty"),
    ("relative-link", _set_text("channel/link", "/trang-chu"), "<link> is not an absolute"),
    ("bad-language", _set_text("channel/language", "Tiếng Việt"), "not a language code"),
    ("self-type", _set_attr("channel/atom:link", "type", "text/xml"), "application/rss+xml"),
    ("not-self", _set_attr("channel/atom:link", "rel", "alternate"), "no <atom:link rel=\"self\">"),
    ("webp-art", _set_attr("channel/itunes:image", "href", BASE + "cover.webp"), ".jpg or .png"),
    ("explicit-yes", _set_text("channel/itunes:explicit", "yes"), "true or false"),
    ("owner-email", _set_text("channel/itunes:owner/itunes:email", "toà soạn"), "no <itunes:email>"),
    ("guid-not-uuid", _set_text("channel/podcast:guid", "vnreader"), "not a UUID"),
    ("guid-uuid4", _set_text("channel/podcast:guid", "0b0f6a52-7f3c-4d2e-9a55-0c4f3f1f5e6a"), "version 5"),
    ("locked-true", _set_text("channel/podcast:locked", "true"), "yes or no"),
    ("category-no-text", lambda r: r.find("channel/itunes:category", NS).attrib.pop("text"), "no text attribute"),
    ("build-date", _set_text("channel/lastBuildDate", "2021-01-10"), "<lastBuildDate> is not an RFC 2822"),
    ("pubdate-iso", _set_text("channel/item/pubDate", "2021-01-10T00:00:00Z"), "<pubDate> is not an RFC 2822"),
    ("pubdate-no-zone", _set_text("channel/item/pubDate", "Sun, 10 Jan 2021 00:00:00"), "RFC 2822"),
    ("oldest-first", _swap_items, "not newest first"),
    ("duplicate-guid", _same_guid, "repeats"),
    ("guid-permalink", lambda r: r.find("channel/item/guid").attrib.pop("isPermaLink"), "isPermaLink"),
    ("enclosure-type", _set_attr("channel/item/enclosure", "type", "audio/mp3"), "audio/mpeg"),
    ("enclosure-length", _set_attr("channel/item/enclosure", "length", "0"), "positive byte count"),
    ("enclosure-size", _set_attr("channel/item/enclosure", "length", "12345"), "is not the file size"),
    ("enclosure-relative", _set_attr("channel/item/enclosure", "url", "sang.mp3"), "not an absolute"),
    ("enclosure-space", _set_attr("channel/item/enclosure", "url", BASE + "bài báo.mp3"), "unescaped space"),
    ("enclosure-missing-file", _set_attr("channel/item/enclosure", "url", BASE + "gone.mp3"), "names no file"),
    ("duration-words", _set_text("channel/item/itunes:duration", "2 phút"), "not seconds or"),
    ("item-art-gif", _set_attr("channel/item/itunes:image", "href", BASE + "a.gif"), ".jpg or .png"),
    ("transcript-type", _set_attr("channel/item/podcast:transcript", "type", "text/x-vtt-ish"), "transcript type"),
    ("transcript-missing", _set_attr("channel/item/podcast:transcript", "url", BASE + "x.vtt"), "names no file"),
    ("chapters-type", _set_attr("channel/item/podcast:chapters", "type", "application/json"), "json+chapters"),
    ("item-link", _set_text("channel/item/link", "bai-bao.html"), "<link> is not an absolute"),
]

CASES = MISSING + BROKEN


@pytest.mark.parametrize("mutate, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_checker_catches(site, mutate, expected):
    out, feed = site
    problems = check_feed(_mutate(feed.read_bytes(), mutate), out, BASE)
    assert any(expected in p for p in problems), problems


def test_checker_catches_bad_artwork(site):
    out, feed = site
    Image.new("RGBA", (1000, 800)).save(out / "cover.png")
    problems = check_feed(feed.read_bytes(), out, BASE)
    assert any("not square 1400" in p for p in problems)
    assert any("not RGB" in p for p in problems)


@pytest.mark.parametrize("xml, expected", [
    (b"<rss version='2.0'><channel><title>x</title></channel>", "not well-formed"),
    ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>ữ</title></channel></rss>'
     .encode("utf-16"), "not well-formed"),
    (b'<?xml version="1.0" encoding="UTF-8"?><rss version="0.91"><channel/></rss>', "rss version"),
    (b'<?xml version="1.0" encoding="UTF-8"?><feed/>', "rss version"),
], ids=["unclosed", "utf16", "old-rss", "atom"])
def test_checker_catches_bad_documents(xml, expected):
    problems = check_feed(xml)
    assert any(expected in p for p in problems), problems


def test_rules_hold_for_a_private_feed(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    base = "https://podcast.example.vn/Zx8-k2_pQ9wLm4/"
    ep = make_episode(out, "a", title="A")
    feed = write_feed([ep], out, channel=make_channel(out), base_url=base)
    assert check_feed(feed.read_bytes(), out, base) == []
    # checked against the wrong base URL, the self link is caught
    assert any("base URL" in p for p in check_feed(feed.read_bytes(), Path(out), "https://other.example.vn/"))
