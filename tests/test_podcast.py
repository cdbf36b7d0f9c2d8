"""The podcast feed: feedparser and podcastparser read every field back; bytes are stable."""
from __future__ import annotations

import calendar
import os
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import podcastparser
import pytest
from lxml import etree

from podcast_fixtures import make_channel, make_episode
from reader import episodes as records
from reader.errors import PublishError, UsageError
from reader.podcast import (NS, Channel, format_duration, podcast_guid, rfc2822, write_feed)

BASE = "http://127.0.0.1:8000/"
UTC = timezone.utc


@pytest.fixture
def out(tmp_path) -> Path:
    d = tmp_path / "audio_out"
    d.mkdir()
    return d


def two_episodes(out: Path):
    old = make_episode(out, "giu-vung-dia-ban", title="Giữ vững địa bàn an toàn và đà tăng trưởng",
                       published=datetime(2021, 1, 9, 8, 0, tzinfo=UTC),
                       description="Sáng 9.1, Tỉnh ủy tổ chức hội nghị.", seconds=1.0)
    new = make_episode(out, "ban-tin-sang", title="Bản tin sáng", guid="guid-new",
                       published=datetime(2021, 1, 10, 6, 30, tzinfo=UTC), description="Tin mới nhất.",
                       image="https://cdn.example.vn/anh/bai-bao.jpg?w=680", seconds=2.0, freq=660.0)
    return old, new


def parse_both(feed: Path):
    data = feed.read_bytes()
    fp = feedparser.parse(data)
    with open(feed, "rb") as f:
        pp = podcastparser.parse(BASE + "feed.xml", f)
    return fp, pp


def test_feedparser_reads_every_field(out):
    old, new = two_episodes(out)
    feed = write_feed([old, new], out, channel=make_channel(out), base_url=BASE)
    fp, _ = parse_both(feed)
    assert not fp.bozo, fp.get("bozo_exception")
    c = fp.feed
    assert c.title == "Bản tin vnreader"
    assert c.subtitle == "Tin tức tiếng Việt đọc bằng giọng nói."
    assert c.link == "https://example.vn/"
    assert c.language == "vi"
    assert c.image.href == BASE + "cover.png"
    assert c.author == "vnreader"
    assert c.publisher_detail.name == "Ban biên tập" and c.publisher_detail.email == "podcast@example.vn"
    assert [t.term for t in c.tags] == ["News", "Daily News"]
    assert not c.itunes_explicit  # feedparser 6: "yes" → True, anything else falsy
    assert any(link.rel == "self" and link.href == BASE + "feed.xml" for link in c.links)
    assert calendar.timegm(c.updated_parsed) == int(new.published.timestamp())

    first, second = fp.entries
    assert [first.id, second.id] == ["guid-new", "guid-giu-vung-dia-ban"]  # newest first
    assert first.guidislink is False
    assert first.title == "Bản tin sáng"
    assert first.summary == "Tin mới nhất."
    assert first.link == "https://example.vn/bai-bao.html"
    assert calendar.timegm(first.published_parsed) == int(new.published.timestamp())
    enc = first.enclosures[0]
    assert enc.href == BASE + "ban-tin-sang.mp3"
    assert int(enc.length) == (out / "ban-tin-sang.mp3").stat().st_size
    assert enc.type == "audio/mpeg"
    assert first.itunes_duration == "00:00:02"
    assert first.image.href == "https://cdn.example.vn/anh/bai-bao.jpg?w=680"
    assert second.image.href == BASE + "cover.png"  # no article image → channel art


def test_podcastparser_reads_every_field(out):
    old, new = two_episodes(out)
    _, pp = parse_both(write_feed([old, new], out, channel=make_channel(out), base_url=BASE))
    assert pp["title"] == "Bản tin vnreader"
    assert pp["link"] == "https://example.vn/"
    assert pp["description"] == "Tin tức tiếng Việt đọc bằng giọng nói."
    assert pp["language"] == "vi"
    assert pp["cover_url"] == BASE + "cover.png"
    assert pp["itunes_author"] == "vnreader"
    assert pp["itunes_owner"] == {"name": "Ban biên tập", "email": "podcast@example.vn"}
    assert pp["itunes_categories"] == [["News", "Daily News"]]
    assert pp["explicit"] is False
    assert pp["import_prohibited"] is True  # podcast:locked yes
    eps = pp["episodes"]
    assert [e["guid"] for e in eps] == ["guid-new", "guid-giu-vung-dia-ban"]
    e = eps[1]
    assert e["title"] == "Giữ vững địa bàn an toàn và đà tăng trưởng"
    assert e["description"] == "Sáng 9.1, Tỉnh ủy tổ chức hội nghị."
    assert e["link"] == "https://example.vn/bai-bao.html"
    assert e["total_time"] == 1
    assert e["published"] == int(old.published.timestamp())
    assert e["enclosures"] == [{"url": BASE + "giu-vung-dia-ban.mp3", "file_size": old.size,
                                "mime_type": "audio/mpeg"}]
    assert e["episode_art_url"] == BASE + "cover.png"
    assert e["transcript_url"] in (BASE + "giu-vung-dia-ban.vtt", BASE + "giu-vung-dia-ban.srt")
    assert e["chapters_json_url"] == BASE + "giu-vung-dia-ban.chapters.json"


def test_podcasting20_elements(out):
    old, new = two_episodes(out)
    root = etree.fromstring(write_feed([old, new], out, channel=make_channel(out), base_url=BASE).read_bytes())
    ch = root.find("channel")
    assert ch.findtext("podcast:guid", namespaces=NS) == podcast_guid(BASE + "feed.xml")
    locked = ch.find("podcast:locked", NS)
    assert (locked.text, locked.get("owner")) == ("yes", "podcast@example.vn")
    item = ch.findall("item")[1]
    transcripts = {t.get("type"): t.get("url") for t in item.findall("podcast:transcript", NS)}
    assert transcripts == {"text/vtt": BASE + "giu-vung-dia-ban.vtt",
                           "application/x-subrip": BASE + "giu-vung-dia-ban.srt"}
    chapters = item.find("podcast:chapters", NS)
    assert chapters.get("type") == "application/json+chapters"


def test_sidecars_only_when_present(out):
    ep = make_episode(out, "khong-phu-de", title="Không phụ đề", sidecars=False)
    root = etree.fromstring(write_feed([ep], out, channel=make_channel(out), base_url=BASE).read_bytes())
    item = root.find("channel/item")
    assert item.findall("podcast:transcript", NS) == []
    assert item.find("podcast:chapters", NS) is None
    # a record that names a sidecar that was deleted is not advertised either
    ep2 = replace(make_episode(out, "mat-phu-de", title="Mất phụ đề"))
    Path(ep2.transcript_vtt).unlink()
    root = etree.fromstring(write_feed([ep2], out, channel=make_channel(out), base_url=BASE).read_bytes())
    types = [t.get("type") for t in root.find("channel/item").findall("podcast:transcript", NS)]
    assert types == ["application/x-subrip"]


def test_explicit_flag(out):
    ep = make_episode(out, "x", title="T", sidecars=False)
    feed = write_feed([ep], out, channel=make_channel(out, explicit=True), base_url=BASE)
    _, pp = parse_both(feed)  # feedparser 6 maps only "yes" to True; Apple's spec says "true"
    assert pp["explicit"] is True
    assert pp["episodes"][0]["explicit"] is True
    assert etree.fromstring(feed.read_bytes()).findtext("channel/itunes:explicit", namespaces=NS) == "true"


def test_podcast_guid_matches_the_spec_example():
    # Podcasting 2.0 namespace docs: this feed's guid
    assert podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml") == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    assert podcast_guid("http://mp3s.nashownotes.com/pc20rss.xml/") == "917393e3-1b1e-5cef-ace4-edaa54e1f810"


def test_channel_guid_override(out):
    ep = make_episode(out, "a", title="A")
    g = "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    root = etree.fromstring(write_feed([ep], out, channel=make_channel(out, guid=g), base_url=BASE).read_bytes())
    assert root.findtext("channel/podcast:guid", namespaces=NS) == g


HOSTILE = [
    ("ampersand", "Lãi suất & tỷ giá", True),
    ("angle", "Giá <vàng> tăng > 2%", True),
    ("quotes", "Ông nói: \"Đúng vậy\" và 'không'", True),
    ("emoji", "Bão số 3 🌀 đổ bộ 🇻🇳", True),
    ("cdata-end", "a ]]> b", True),
    # feedparser decodes entity-looking text in titles a second time (its HTML
    # heuristics); the XML itself carries the text exactly, as lxml and podcastparser show
    ("entity-like", "&amp; &lt; &#39; là chữ", False),
]


@pytest.mark.parametrize("text, feedparser_exact", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_text_survives(out, text, feedparser_exact):
    ep = make_episode(out, "x", title=text, description=text, link="https://example.vn/a?b=1&c=2")
    channel = make_channel(out, title=text, description=text)
    feed = write_feed([ep], out, channel=channel, base_url=BASE)
    fp, pp = parse_both(feed)
    assert not fp.bozo
    if feedparser_exact:
        assert fp.feed.title == text and fp.entries[0].title == text
    root = etree.fromstring(feed.read_bytes())
    assert root.findtext("channel/title") == text and root.findtext("channel/item/title") == text
    assert root.findtext("channel/description") == text
    assert pp["title"] == text and pp["episodes"][0]["title"] == text
    assert pp["episodes"][0]["description"] == text
    assert pp["episodes"][0]["link"] == "https://example.vn/a?b=1&c=2"
    feed.read_bytes().decode("utf-8")  # well-formed UTF-8


def test_control_characters_are_dropped(out):
    ep = make_episode(out, "x", title="Tin\x00 nóng\x0b", description="a\x1fb")
    fp, pp = parse_both(write_feed([ep], out, channel=make_channel(out), base_url=BASE))
    assert not fp.bozo
    assert pp["episodes"][0]["title"] == "Tin nóng"


def test_same_episodes_give_identical_bytes(out, tmp_path):
    old, new = two_episodes(out)
    channel = make_channel(out)
    feed = write_feed([old, new], out, channel=channel, base_url=BASE)
    first = feed.read_bytes()
    mtime = feed.stat().st_mtime_ns
    os.utime(out / "ban-tin-sang.mp3")  # touching files changes nothing
    again = write_feed([new, old], out, channel=channel, base_url=BASE)  # input order does not matter
    assert again.read_bytes() == first
    assert again.stat().st_mtime_ns == mtime  # an unchanged feed is not rewritten
    assert b"lastBuildDate" in first and rfc2822(new.published).encode() in first


def test_feed_from_episode_records(out):
    """The daily run rebuilds the feed from NAME.episode.json records (reader.episodes)."""
    old, new = two_episodes(out)
    for ep in (old, new):
        records.save(ep)
    channel = make_channel(out)
    a = write_feed(records.load_all(out), out, channel=channel, base_url=BASE).read_bytes()
    b = write_feed([old, new], out, channel=channel, base_url=BASE).read_bytes()
    assert a == b


def test_rerendered_audio_gets_a_new_url_and_keeps_its_guid(out):
    ep = make_episode(out, "bai-bao-1a2b3c", title="Bài báo", guid="guid-bai-bao")
    channel = make_channel(out)
    before = feedparser.parse(write_feed([ep], out, channel=channel, base_url=BASE).read_bytes()).entries[0]
    re = make_episode(out, "bai-bao-4d5e6f", title="Bài báo", guid="guid-bai-bao", seconds=2.0)
    after = feedparser.parse(write_feed([re], out, channel=channel, base_url=BASE).read_bytes()).entries[0]
    assert before.id == after.id
    assert before.enclosures[0].href != after.enclosures[0].href
    assert int(after.enclosures[0].length) == (out / "bai-bao-4d5e6f.mp3").stat().st_size


URLS = [
    ("plain", "ban-tin", "http://127.0.0.1:8000/", "http://127.0.0.1:8000/ban-tin.mp3"),
    ("no-slash", "ban-tin", "http://127.0.0.1:8000", "http://127.0.0.1:8000/ban-tin.mp3"),
    ("sub-path", "ban-tin", "https://example.vn/podcast/", "https://example.vn/podcast/ban-tin.mp3"),
    ("token", "ban-tin", "https://example.vn/s3cr3t/", "https://example.vn/s3cr3t/ban-tin.mp3"),
    ("space", "bản tin #1", "http://h/", "http://h/b%E1%BA%A3n%20tin%20%231.mp3"),
    ("folder", "2021/ban-tin", "http://h/", "http://h/2021/ban-tin.mp3"),
]


@pytest.mark.parametrize("name, base, expected", [u[1:] for u in URLS], ids=[u[0] for u in URLS])
def test_enclosure_url(out, name, base, expected):
    ep = make_episode(out, name, title="T", sidecars=False)
    fp = feedparser.parse(write_feed([ep], out, channel=make_channel(out), base_url=base).read_bytes())
    assert fp.entries[0].enclosures[0].href == expected
    assert int(fp.entries[0].enclosures[0].length) == (out / f"{name}.mp3").stat().st_size


IMAGES = [
    ("jpg-url", "https://cdn.example.vn/a.jpg", "https://cdn.example.vn/a.jpg"),
    ("png-url-query", "https://cdn.example.vn/a.PNG?w=1", "https://cdn.example.vn/a.PNG?w=1"),
    ("webp-url", "https://cdn.example.vn/a.webp", BASE + "cover.png"),
    ("not-http", "ftp://cdn.example.vn/a.jpg", BASE + "cover.png"),
    ("none", None, BASE + "cover.png"),
]


@pytest.mark.parametrize("image, expected", [i[1:] for i in IMAGES], ids=[i[0] for i in IMAGES])
def test_item_image(out, image, expected):
    ep = make_episode(out, "x", title="T", image=image, sidecars=False)
    fp = feedparser.parse(write_feed([ep], out, channel=make_channel(out), base_url=BASE).read_bytes())
    assert fp.entries[0].image.href == expected


def test_episode_without_article_links_to_the_podcast(out):
    ep = make_episode(out, "x", title="T", link=None, sidecars=False)
    fp = feedparser.parse(write_feed([ep], out, channel=make_channel(out), base_url=BASE).read_bytes())
    assert fp.entries[0].link == "https://example.vn/"


def test_empty_channel_link_is_the_base_url(out):
    ep = make_episode(out, "x", title="T", link=None, sidecars=False)
    fp = feedparser.parse(write_feed([ep], out, channel=make_channel(out, link=""), base_url=BASE).read_bytes())
    assert fp.feed.link == BASE and fp.entries[0].link == BASE


def test_undated_episode_uses_file_time(out):
    ep = make_episode(out, "x", title="T", published=None, sidecars=False)
    os.utime(ep.path, (1610000000, 1610000000))
    fp = feedparser.parse(write_feed([ep], out, channel=make_channel(out), base_url=BASE).read_bytes())
    assert calendar.timegm(fp.entries[0].published_parsed) == 1610000000


def test_no_episodes_is_a_valid_feed(out):
    fp = feedparser.parse(write_feed([], out, channel=make_channel(out), base_url=BASE).read_bytes())
    assert not fp.bozo and fp.entries == [] and fp.feed.title == "Bản tin vnreader"


DURATIONS = [("zero", 0.2, "00:00:01"), ("round", 59.6, "00:01:00"), ("minutes", 754.0, "00:12:34"),
             ("hours", 3 * 3600 + 5, "03:00:05")]


@pytest.mark.parametrize("seconds, expected", [d[1:] for d in DURATIONS], ids=[d[0] for d in DURATIONS])
def test_format_duration(seconds, expected):
    assert format_duration(seconds) == expected


DATES = [
    ("utc", datetime(2021, 1, 9, 8, 0, tzinfo=UTC), "Sat, 09 Jan 2021 08:00:00 +0000"),
    ("vietnam", datetime(2021, 1, 9, 15, 0, tzinfo=timezone(timedelta(hours=7))), "Sat, 09 Jan 2021 08:00:00 +0000"),
    ("naive-is-utc", datetime(2021, 1, 9, 8, 0, 0, 999), "Sat, 09 Jan 2021 08:00:00 +0000"),
]


@pytest.mark.parametrize("dt, expected", [d[1:] for d in DATES], ids=[d[0] for d in DATES])
def test_rfc2822(dt, expected):
    assert rfc2822(dt) == expected


CHANNEL_ERRORS = [
    ("long-description", dict(description="ữ" * 1334), "4000"),  # 1334 chars, 4002 bytes
    ("empty-title", dict(title="  "), "title"),
    ("bad-category", dict(category="Tin tức"), "category"),
    ("bad-subcategory", dict(subcategory="Politics", category="Arts"), "subcategory"),
    ("bad-email", dict(owner_email="toà soạn"), "email"),
    ("bad-image", dict(image="cover.webp"), "image"),
    ("bad-guid", dict(guid="not-a-uuid"), "guid"),
    ("relative-link", dict(link="trang-chu.html"), "link"),
]


@pytest.mark.parametrize("overrides, word", [c[1:] for c in CHANNEL_ERRORS], ids=[c[0] for c in CHANNEL_ERRORS])
def test_channel_rejects(overrides, word):
    fields = dict(title="T", description="D", link="https://example.vn/", author="a", owner_name="o",
                  owner_email="o@example.vn")
    fields.update(overrides)
    with pytest.raises(UsageError) as e:
        Channel(**fields)
    assert word in str(e.value) and e.value.fix


def test_description_limit_is_bytes_not_characters():
    Channel(title="T", description="ữ" * 1333, link="https://example.vn/")  # 3999 bytes: fine


def test_errors_name_the_input(out, tmp_path):
    channel = make_channel(out)
    ep = make_episode(out, "x", title="T", sidecars=False)
    with pytest.raises(UsageError, match="ftp://h/"):
        write_feed([ep], out, channel=channel, base_url="ftp://h/")
    Path(ep.path).unlink()
    with pytest.raises(PublishError, match="x.mp3"):
        write_feed([ep], out, channel=channel, base_url=BASE)
    outside = make_episode(tmp_path / "elsewhere", "y", title="T", sidecars=False)
    with pytest.raises(PublishError, match="not inside the output folder"):
        write_feed([outside], out, channel=channel, base_url=BASE)
    a = make_episode(out, "a", title="A", guid="same", sidecars=False)
    b = make_episode(out, "b", title="B", guid="same", sidecars=False)
    with pytest.raises(PublishError, match="same"):
        write_feed([a, b], out, channel=channel, base_url=BASE)
    (out / "cover.png").unlink()
    with pytest.raises(PublishError, match="cover.png"):
        write_feed([a], out, channel=channel, base_url=BASE)
