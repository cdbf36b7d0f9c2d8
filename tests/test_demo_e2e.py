"""End to end: `vnreader demo` into a temp folder, then read everything back as a listener's app would."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import numpy as np
import podcastparser
import pytest
import soundfile

pytestmark = pytest.mark.slow  # the whole module: see README, "Development"

BASE = "http://127.0.0.1:8000/podcast/"


def run_demo(out: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, VNREADER_CACHE=str(out.parent / (out.name + "-clips")))
    return subprocess.run([sys.executable, "-m", "reader", "demo", "--out", str(out), "--base-url", BASE],
                          capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    p = run_demo(out)
    assert p.returncode == 0, p.stderr
    assert "feed.xml" in p.stdout
    assert all(line.startswith("wrote ") for line in p.stdout.splitlines()), p.stdout
    return out


def local_file(demo_dir: Path, url: str) -> Path:
    assert url.startswith(BASE), url
    return demo_dir / unquote(urlsplit(url).path[len(urlsplit(BASE).path):])


def test_feed_parses_with_feedparser(demo_dir):
    feed = feedparser.parse((demo_dir / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.language == "vi"
    assert len(feed.entries) == 3
    titles = {e.title for e in feed.entries}
    assert "Giữ vững địa bàn an toàn và đà tăng trưởng" in titles
    for e in feed.entries:
        assert e.id and e.published_parsed
        (enc,) = e.enclosures
        assert enc.type == "audio/mpeg"
        assert int(enc.length) == local_file(demo_dir, enc.href).stat().st_size


def test_feed_follows_the_feed_rules(demo_dir):
    from feed_rules import check_feed

    assert check_feed((demo_dir / "feed.xml").read_bytes(), demo_dir, BASE) == []


def test_feed_parses_with_podcastparser(demo_dir):
    with open(demo_dir / "feed.xml", "rb") as f:
        parsed = podcastparser.parse(BASE + "feed.xml", f)
    assert len(parsed["episodes"]) == 3
    for ep in parsed["episodes"]:
        (enc,) = ep["enclosures"]
        assert enc["mime_type"] == "audio/mpeg"
        assert enc["file_size"] == local_file(demo_dir, enc["url"]).stat().st_size
        assert ep["total_time"] > 10


def test_every_episode_decodes_with_expected_duration_and_sound(demo_dir):
    records = sorted(demo_dir.glob("*.episode.json"))
    assert len(records) == 3
    for rec in records:
        meta = json.loads(rec.read_text(encoding="utf-8"))
        mp3 = demo_dir / meta["path"]
        samples, sr = soundfile.read(str(mp3), dtype="float32")
        duration = len(samples) / sr
        expected = meta["loudness"]["timeline_seconds"]       # clips + pauses, summed while joining
        assert 0.7 * expected < meta["stats"]["speech_seconds"] < expected
        assert abs(duration - expected) <= 0.02 * expected, (mp3.name, duration, expected)
        rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
        assert rms > 0.02, (mp3.name, rms)          # speech, not silence
        assert float(np.max(np.abs(samples))) < 1.0  # no clipping


def test_seed_reads_right(demo_dir):
    (rec,) = [r for r in demo_dir.glob("*.episode.json")
              if json.loads(r.read_text(encoding="utf-8"))["title"].startswith("Giữ vững")]
    meta = json.loads(rec.read_text(encoding="utf-8"))
    assert meta["author"] == "LÊ HÀ"
    vtt = (demo_dir / meta["transcript_vtt"]).read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT")
    assert "Xem với cỡ chữ" not in vtt
    assert vtt.count("Toàn cảnh hội nghị") <= 1
    assert "Sáng 9.1, tại TP Hạ Long" in vtt  # transcripts keep the written form


def test_second_demo_run_changes_nothing(demo_dir):
    before = {p.name: p.stat().st_mtime_ns for p in demo_dir.iterdir()}
    feed = (demo_dir / "feed.xml").read_bytes()
    p = run_demo(demo_dir)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 5 and all(line.startswith("unchanged ") for line in lines), p.stdout  # 3 MP3s, feed, page
    assert (demo_dir / "feed.xml").read_bytes() == feed
    after = {p.name: p.stat().st_mtime_ns for p in demo_dir.iterdir()}
    assert {k: v for k, v in after.items() if k != "feed.xml"} == {k: v for k, v in before.items() if k != "feed.xml"}
