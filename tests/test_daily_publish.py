"""The daily run's publishing next to other commands' episodes, and when every source fails.

`vnreader demo` and `vnreader run` both default to ``audio_out/``: each record says which
command made it (``made_by``), and a run's retention leaves other commands' episodes alone.
"""
from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path

import feedparser
import pytest

from daily_support import FakeRenderer, Site, fake_stages, write_config
from reader.cli import run_exit_code
from reader import daily, pipeline
from reader import episodes as records
from reader.config import load_sources
from reader.logs import RunLog

BASE = "http://127.0.0.1:8000/"
NOW = datetime(2017, 7, 28, 8, 0, tzinfo=timezone.utc)  #: two days after the site's feed entries
LATER = datetime(2030, 1, 1, tzinfo=timezone.utc)  #: long after every date the demo and the site carry
GOOD = [{"name": "VnExpress", "url": "/feeds/vnexpress-2.xml", "limit": 2}]
BROKEN = [{"name": "Mất mạng", "url": "/feeds/khong-co.xml"}, {"name": "Cũng mất", "url": "/feeds/cung-khong.xml"}]


@pytest.fixture
def site():
    with Site() as s:
        yield s


def titles(out: Path) -> list[str]:
    return sorted(e.title for e in feedparser.parse((out / "feed.xml").read_bytes()).entries)


def run(cfg: Path, out: Path, *, now=NOW, stream=None):
    return daily.run(load_sources(cfg), out_dir=out, base_url=BASE, stages=fake_stages(FakeRenderer()),
                     log=RunLog(stream=stream or io.StringIO()), now=now)


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory) -> Path:
    """The real `vnreader demo` (espeak) once; tests copy its folder."""
    out = tmp_path_factory.mktemp("demo") / "audio_out"
    report = pipeline.demo(out, base_url=BASE)
    assert len(report.episodes) == 3 and not report.failures
    return out


def copy_of(folder: Path, dest: Path) -> Path:
    import shutil

    shutil.copytree(folder, dest)
    return dest


@pytest.mark.slow
def test_records_say_which_command_made_them(demo_out, site, tmp_path):
    assert {ep.made_by for ep in records.load_all(demo_out)} == {"demo"}
    out = tmp_path / "out"
    rep = run(write_config(tmp_path / "s.toml", site, GOOD), out)
    assert {records.load(records.record_path(ep.path)).made_by for ep in rep.new} == {"run"}
    one = pipeline.read_source(str(pipeline.SAMPLES / "quang-ninh-2021-01-09.txt"), tmp_path / "read" / "bai.mp3")
    assert one.made_by == "read" and records.load(records.record_path(one.path)).made_by == "read"


@pytest.mark.slow
def test_run_after_demo_offline_keeps_the_demo_episodes_and_the_feed(demo_out, site, tmp_path):
    """`make demo` then `vnreader run` with every feed failing: nothing deleted, the feed kept, exit 1."""
    out = copy_of(demo_out, tmp_path / "audio_out")
    demo_titles = titles(out)
    cfg = write_config(tmp_path / "s.toml", site, BROKEN, retention={"days": 7, "max_episodes": 1})
    log = io.StringIO()
    rep = run(cfg, out, now=LATER, stream=log)
    assert rep.removed == [] and run_exit_code(rep) == 1 and len(rep.failed) == 2
    assert titles(out) == demo_titles and len(demo_titles) == 3
    assert len(list(out.glob("*.mp3"))) == 3
    lines = [line for line in log.getvalue().splitlines() if "event=foreign-episodes" in line]
    assert len(lines) == 1 and "demo=3" in lines[0]


@pytest.mark.slow
def test_run_retention_leaves_other_commands_episodes(demo_out, site, tmp_path):
    """Feeds working: the run's own episodes expire, the demo's stay (said in one line)."""
    out = copy_of(demo_out, tmp_path / "audio_out")
    cfg = write_config(tmp_path / "s.toml", site, GOOD, retention={"days": 7, "max_episodes": 1})
    first = run(cfg, out)
    assert len(first.new) == 2 and first.removed == []
    log = io.StringIO()
    rep = run(cfg, out, now=LATER, stream=log)
    assert sorted(ep.title for ep in rep.removed) == sorted(ep.title for ep in first.new)
    assert {ep.made_by for ep in records.load_all(out)} == {"demo"} and len(titles(out)) == 3
    assert "event=foreign-episodes" in log.getvalue()


def test_every_source_failing_keeps_the_last_good_feed(site, tmp_path):
    out = tmp_path / "out"
    good = write_config(tmp_path / "good.toml", site, GOOD, retention={"days": 7, "max_episodes": 0})
    assert len(run(good, out).new) == 2
    feed, page = (out / "feed.xml").read_bytes(), (out / "index.html").read_bytes()
    broken = write_config(tmp_path / "broken.toml", site, BROKEN, retention={"days": 7, "max_episodes": 0})
    log = io.StringIO()
    rep = run(broken, out, now=LATER, stream=log)
    assert run_exit_code(rep) == 1 and rep.removed == [] and not rep.feed_changed
    assert (out / "feed.xml").read_bytes() == feed and (out / "index.html").read_bytes() == page
    assert len(list(out.glob("*.mp3"))) == 2
    assert "event=feed-kept" in log.getvalue()
    # once a source answers again, retention catches up
    rep = run(good, out, now=LATER)
    assert len(rep.removed) == 2 and titles(out) == []


def test_every_source_failing_on_a_first_run_still_writes_a_feed(site, tmp_path):
    out = tmp_path / "out"
    rep = run(write_config(tmp_path / "s.toml", site, BROKEN), out)
    assert run_exit_code(rep) == 1 and (out / "feed.xml").is_file() and titles(out) == []


# ---------------------------------------------------------------- a configured fallback engine
@pytest.mark.slow
def test_fallback_is_logged_counted_and_recorded(site, tmp_path, monkeypatch):
    """The configured engine fails on every sentence; espeak (the fallback) speaks the article."""
    from fakes.engines import ToneEngine
    from reader.errors import EngineError
    from reader.cli import run_summary as summary_lines
    from reader.transcripts import parse_vtt
    from reader.tts import ENGINES, get_engine

    if get_engine("espeak").check() is not None:
        pytest.skip("espeak unavailable")
    monkeypatch.setitem(ENGINES, "broken", lambda **kw: ToneEngine("broken", fail_always=EngineError))
    cfg = write_config(tmp_path / "s.toml", site, [{"name": "VnExpress", "url": "/feeds/vnexpress-2.xml", "limit": 1}],
                       extra='\n[run]\nengine = "broken"\nfallback = "espeak"\n')
    log = io.StringIO()
    from daily_support import fake_extract
    rep = daily.run(load_sources(cfg), out_dir=tmp_path / "out", base_url=BASE, log=RunLog(stream=log), now=NOW,
                    stages=daily.Stages(extract=fake_extract))
    assert not rep.failed and len(rep.new) == 1
    (ep,) = rep.new
    assert (ep.engine, ep.fell_back_from) == ("espeak", "broken") and "scripted failure" in ep.fallback_reason
    saved = records.load(records.record_path(ep.path))
    assert (saved.fell_back_from, saved.fallback_reason) == (ep.fell_back_from, ep.fallback_reason)
    warnings = [line for line in log.getvalue().splitlines() if "event=fell-back" in line]
    assert len(warnings) == 1 and "WARNING" in warnings[0]
    assert "engine=broken" in warnings[0] and "scripted failure" in warnings[0] and "spoken_by=espeak" in warnings[0]
    assert "1 fell back to espeak" in summary_lines(rep)[0]
    vtt = Path(ep.transcript_vtt).read_text(encoding="utf-8")
    assert "\nNOTE " in vtt and "broken" in vtt.split("-->")[0]
    assert [c.text for c in parse_vtt(vtt)] == [c.text for c in ep.cues]


def test_no_fallback_no_mention(site, tmp_path):
    from reader.cli import run_summary as summary_lines

    rep = run(write_config(tmp_path / "s.toml", site, GOOD), tmp_path / "out")
    assert all(ep.fell_back_from is None for ep in rep.new) and "fell back" not in summary_lines(rep)[0]


# ---------------------------------------------------------------- a site that changed its markup
def _drifting(site_of):
    """fake_extract, as if each page's profile body selector had matched nothing."""
    from dataclasses import replace

    from daily_support import fake_extract

    def extract(article, **kw):
        return replace(fake_extract(article, **kw), site=site_of(article.url),
                       drift="body selector matched nothing; generic extraction used")
    return extract


DRIFTS = [
    ("same-site-twice", lambda url: "dantri", {"profile dantri": 2}),
    ("two-sites", lambda url: "dantri" if "suckhoe" in url else "tuoitre", {"profile dantri": 1, "profile tuoitre": 1}),
]


@pytest.mark.parametrize("site_of, counts", [c[1:] for c in DRIFTS], ids=[c[0] for c in DRIFTS])
def test_profile_drift_is_logged_once_per_site_and_counted(site_of, counts, site, tmp_path):
    from reader.cli import run_summary as summary_lines

    cfg = write_config(tmp_path / "s.toml", site, [{"name": "VnExpress", "url": "/feeds/vnexpress-2.xml", "limit": 2}])
    for attempt in ("first run", "second run"):  # once per run: a later run says it again
        log = io.StringIO()
        rep = daily.run(load_sources(cfg), out_dir=tmp_path / attempt, base_url=BASE, log=RunLog(stream=log), now=NOW,
                        stages=daily.Stages(extract=_drifting(site_of), render=FakeRenderer().render))
        assert not rep.failed and len(rep.new) == 2, attempt
        warnings = [line for line in log.getvalue().splitlines() if "event=profile-drift" in line]
        assert len(warnings) == len(counts) and all(" WARNING " in w for w in warnings)
        for name in counts:
            assert sum(f'message="{name}: body selector matched nothing; generic extraction used"' in w
                       for w in warnings) == 1
        assert {k.split(":")[0]: n for k, n in rep.profile_drift.items()} == counts
        for name, n in counts.items():
            assert (f"  {name}: body selector matched nothing; generic extraction used ({n} page{'s' if n > 1 else ''})"
                    in summary_lines(rep))


def test_no_drift_no_mention(site, tmp_path):
    from reader.cli import run_summary as summary_lines

    log = io.StringIO()
    rep = run(write_config(tmp_path / "s.toml", site, GOOD), tmp_path / "out", stream=log)
    assert rep.profile_drift == {} and "profile-drift" not in log.getvalue()
    assert not any("selector" in line for line in summary_lines(rep))
