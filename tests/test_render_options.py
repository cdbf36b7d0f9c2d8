"""RenderOptions: one factory for the CLI and the daily run; the daily run hands each stage its options."""
from __future__ import annotations

import pytest

from daily_support import FakeRenderer, Site, fake_stages, write_config
from reader import daily
from reader.config import load_sources
from reader.limits import Limits
from reader.logs import RunLog
from reader.models import FeedSource
from reader.pipeline import RenderOptions, render_options
from tests.test_daily import BASE, GROUP, NOW, VNE2

BASE_OPTIONS = RenderOptions(engine="espeak", voice="vi", rate=1.2, fallback="gtts")
# (source, expected engine, expected voice)
SOURCES = [
    (FeedSource("a", "http://x/"), "espeak", "vi"),
    (FeedSource("a", "http://x/", engine="piper"), "piper", "vi"),
    (FeedSource("a", "http://x/", voice="vi-north"), "espeak", "vi-north"),
    (FeedSource("a", "http://x/", engine="edge", voice="vi-VN-HoaiMyNeural"), "edge", "vi-VN-HoaiMyNeural"),
]


@pytest.mark.parametrize("source, engine, voice", SOURCES, ids=["config", "own-engine", "own-voice", "both"])
def test_for_source_takes_the_sources_engine_and_voice(source, engine, voice):
    got = BASE_OPTIONS.for_source(source)
    assert (got.engine, got.voice, got.rate, got.fallback) == (engine, voice, 1.2, "gtts")


def test_factory_opens_the_shared_cache_or_none(monkeypatch, tmp_path):
    monkeypatch.setenv("VNREADER_CACHE", str(tmp_path / "clips"))
    assert render_options().cache.directory == tmp_path / "clips"
    assert render_options(cache=False).cache is None


def test_factory_says_why_there_is_no_cache(monkeypatch):
    import reader.tts.cache

    class Broken:
        def __init__(self, *a, **kw):
            raise OSError("read-only file system")

    monkeypatch.setattr(reader.tts.cache, "ClipCache", Broken)
    seen = []
    assert render_options(warn=seen.append).cache is None
    assert [str(e) for e in seen] == ["read-only file system"]


def test_from_config_and_the_daily_run_hand_the_same_options(tmp_path):
    with Site() as site:
        cfg = write_config(tmp_path / "s.toml", site, [{"name": "VnExpress", "url": VNE2, "limit": 1,
                                                         "group": "tin", "engine": "espeak"}], groups=GROUP,
                           extra='\n[run]\nrate = 1.25\nfallback = "espeak"\n\n[limits]\nmax_chars = 9000\n')
        config = load_sources(cfg)
        r = FakeRenderer()
        seen = []

        def render(doc, out_dir, **kw):
            seen.append(("article", kw["options"]))
            return r.render(doc, out_dir, **kw)

        def digest(docs, out_dir, **kw):
            seen.append(("digest", kw["options"]))
            return r.render_digest(docs, out_dir, **kw)

        stages = daily.Stages(extract=fake_stages(r).extract, render=render, render_digest=digest)
        rep = daily.run(config, out_dir=tmp_path / "out", base_url=BASE, stages=stages, log=RunLog(quiet=True),
                        now=NOW)
    assert rep.failed == [] and [kind for kind, _ in seen] == ["article", "digest"]
    expected = RenderOptions.from_config(config, cache=False, made_by="run", made_at=NOW)
    assert expected == RenderOptions(engine=None, rate=1.25, fallback="espeak", limits=Limits(max_chars=9000),
                                     feed_title=config.channel.title, made_by="run", made_at=NOW)
    assert seen == [("article", expected.for_source(config.sources[0])), ("digest", expected)]
    assert seen[0][1].engine == "espeak"
