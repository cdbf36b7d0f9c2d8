"""The daily run end to end against a local news site (real feeds and pages on 127.0.0.1).

Most tests swap extraction and speech for light fakes (``tests/daily_support.py``) to check
the run's own logic fast: dedupe, conditional GET, digests, retention, locking, resuming
after SIGKILL, exit codes and output. ``test_real_pipeline_end_to_end`` runs the real
stages (fetch, extract, espeak, MP3, feed) on one short article.
"""
from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import pytest

from daily_support import ROOT, FakeRenderer, Site, fake_stages, write_config
from reader import daily
from reader import episodes as records
from reader.cli import build_parser, main as cli_main, run_exit_code
from reader.config import load_sources
from reader.errors import FeedError, LockedError
from reader.logs import RunLog

BASE = "http://127.0.0.1:8000/"
NOW = datetime(2017, 9, 1, 8, 0, tzinfo=timezone.utc)
VNE2 = "/feeds/vnexpress-2.xml"
VNE3 = "/feeds/vnexpress-3.xml"
GROUP = [{"name": "tin", "title": "Bản tin", "intro": "Chào buổi sáng.", "outro": "Hết bản tin."}]


def two_sources(**kw):
    return [{"name": "VnExpress", "url": VNE2, "limit": 2, **kw},
            {"name": "VnExpress mới", "url": VNE3, "limit": 2, **kw}]


@pytest.fixture
def site():
    with Site() as s:
        yield s


def do_run(cfg, out, renderer, **kw):
    kw.setdefault("now", NOW)
    return daily.run(load_sources(cfg), out_dir=out, base_url=BASE, stages=fake_stages(renderer),
                     log=RunLog(quiet=True), **kw)


def feed_items(out: Path) -> list:
    """Parse feed.xml; check every enclosure points at a complete file of the stated length."""
    parsed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    for e in parsed.entries:
        (enc,) = e.enclosures
        name = unquote(urlsplit(enc.href).path.rsplit("/", 1)[-1])
        f = out / name
        assert f.is_file(), name
        assert int(enc.length) == f.stat().st_size
        assert records.record_path(f).is_file()
    return parsed.entries


def no_leftovers(out: Path) -> None:
    assert list(out.glob(".*.part")) == []
    for mp3 in out.glob("*.mp3"):
        assert records.record_path(mp3).is_file(), mp3.name
    for rec in out.glob("*" + records.SUFFIX):
        assert rec.with_name(rec.name[: -len(records.SUFFIX)] + ".mp3").is_file(), rec.name


# ---------------------------------------------------------------- first and second run
@pytest.mark.slow
def test_first_run_then_nothing_new(site, tmp_path):
    cfg = write_config(tmp_path / "s.toml", site, two_sources(group="tin"), groups=GROUP)
    out = tmp_path / "out"
    r = FakeRenderer()
    rep = do_run(cfg, out, r)
    # VnExpress: 2 newest; VnExpress mới: its newest is the same page (canonical URL) → duplicate
    assert rep.failed == [] and run_exit_code(rep) == 0
    titles = sorted(ep.title for ep in rep.new)
    assert len(titles) == 4 and "Bản tin ngày 1/9/2017" in titles
    assert r.calls == 3 and r.digest_calls == 1
    reasons = [reason for _, reason in rep.skipped]
    assert reasons.count("same article as one already rendered") == 1
    assert reasons.count("more than 2 new articles in the feed") == 23 + 23
    items = feed_items(out)
    assert len(items) == 4
    digest = next(e for e in items if e.title.startswith("Bản tin"))
    digest_ep = records.load(records.record_path(next(out.glob("ban-tin-*.mp3"))))
    assert digest_ep.guid == digest.id
    assert [c.title for c in digest_ep.chapters][0] == "Giới thiệu" and len(digest_ep.chapters) == 4
    no_leftovers(out)

    feed_before = (out / "feed.xml").read_bytes()
    page_hits = sum(n for p, n in site.hits.items() if not p.startswith("/feeds/"))
    rep2 = do_run(cfg, out, r)
    assert (rep2.new, rep2.skipped, rep2.failed, rep2.removed) == ([], [], [], [])
    assert not rep2.changed
    assert r.calls == 3  # nothing synthesised
    assert (out / "feed.xml").read_bytes() == feed_before
    assert site.not_modified == 2  # both feeds answered 304 to the conditional GET
    assert sum(n for p, n in site.hits.items() if not p.startswith("/feeds/")) == page_hits


@pytest.mark.slow
def test_no_conditional_get_still_dedupes(site, tmp_path):
    site.conditional = False
    cfg = write_config(tmp_path / "s.toml", site, two_sources())
    out = tmp_path / "out"
    r = FakeRenderer()
    do_run(cfg, out, r)
    feed_before = (out / "feed.xml").read_bytes()
    rep = do_run(cfg, out, r)
    assert site.not_modified == 0
    assert (rep.new, rep.skipped) == ([], [])  # entry ids already stored, over-limit ones too
    assert r.calls == 3 and (out / "feed.xml").read_bytes() == feed_before


def _with_new_item(feed_xml: str, link: str, title: str) -> str:
    item = (f"<item><title>{title}</title><description>Mới.</description>"
            f"<pubDate>Wed, 30 Aug 2017 21:00:00 +0700</pubDate><link>{link}</link><guid>{link}</guid></item>")
    return feed_xml.replace("<item>", item + "<item>", 1)


@pytest.mark.slow
def test_new_article_grows_the_digest(site, tmp_path):
    cfg = write_config(tmp_path / "s.toml", site, two_sources(group="tin"), groups=GROUP)
    out = tmp_path / "out"
    r = FakeRenderer()
    do_run(cfg, out, r)
    old_digest = next(out.glob("ban-tin-*.mp3"))
    # a new entry leading to a page not rendered yet (the tienphong page's path under another link)
    page = "/suckhoe.vnexpress.net/tin-tuc/suc-khoe/mot-tuan-ha-noi-co-1-400-nguoi-benh-sot-xuat-huyet-vao-vien-3618863.html"
    site.pages["/moi/tin-moi.html"] = "articles/genk-1.html"
    site.overrides[VNE2] = _with_new_item(site.feed_text(VNE2), site.url("/moi/tin-moi.html"), "Tin mới").encode()
    rep = do_run(cfg, out, r)
    # genk page was already rendered via the other feed: same canonical URL → duplicate, no new article
    assert [reason for _, reason in rep.skipped] == ["same article as one already rendered"]
    assert r.calls == 3
    site.overrides[VNE2] = _with_new_item(site.feed_text(VNE2), site.url("/moi/tin-moi-2.html"), "Tin mới 2").encode()
    site.overrides["/moi/tin-moi-2.html"] = (ROOT / "tests/data/site/articles/tienphong-2.html").read_bytes().replace(
        b"https://tienphong.vn/pnj-se-thue", b"https://tienphong.vn/tin-khac-pnj").replace(b"PNJ", b"DOJI")
    rep = do_run(cfg, out, r)
    assert r.calls == 4 and r.digest_calls == 3
    assert len(rep.new) == 2  # the article and the grown digest
    assert old_digest.exists() is False and [ep.path for ep in rep.removed] == [str(old_digest)]
    items = feed_items(out)
    assert len(items) == 5
    assert len({e.id for e in items}) == 5  # the digest kept its guid, once
    assert page in site.pages
    no_leftovers(out)


# ---------------------------------------------------------------- failures and exit codes
def test_not_a_feed_fails_that_source_only(site, tmp_path):
    cfg = write_config(tmp_path / "s.toml", site,
                       [{"name": "Znews", "url": "/feeds/znews.rss"}, *two_sources()])
    rep = do_run(cfg, tmp_path / "out", FakeRenderer())
    assert [item for item, _ in rep.failed] == ["Znews"]
    err = rep.failed[0][1]
    assert isinstance(err, FeedError) and "not RSS/Atom" in str(err) and "znews.rss" in str(err)
    assert len(rep.new) == 3 and run_exit_code(rep) == 1


@pytest.fixture
def silent_url():
    """A port that accepts connections (the kernel's backlog) and never answers."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


@pytest.mark.slow
def test_feed_fetch_is_bounded_by_the_configured_fetch_timeout(site, tmp_path, silent_url):
    cfg = write_config(tmp_path / "s.toml", site, [{"name": "Treo", "url": f"{silent_url}/rss"}, *two_sources()],
                       extra="\n[run]\nfetch_timeout = 2\n")  # the good local feeds answer well within it
    rep = do_run(cfg, tmp_path / "out", FakeRenderer())
    assert [item for item, _ in rep.failed] == ["Treo"], rep.failed
    assert "no complete answer within 2 s" in str(rep.failed[0][1])
    assert len(rep.new) == 3  # the other sources went on


def test_page_fetch_gets_the_fetch_timeout(silent_url):
    from reader.errors import FetchError
    from reader.fetch import make_client

    fetch_page = daily.Stages().resolved(fetch_timeout=0.3).fetch_page
    with make_client() as c, pytest.raises(FetchError, match="no complete answer within 0.3 s"):
        fetch_page(f"{silent_url}/bai.html", client=c)


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_source_budget_leaves_the_rest_pending_for_the_next_run(site, tmp_path):
    import dataclasses
    import io

    from daily_support import fetch_page

    clock = _Clock()

    def slow_fetch(url, *, client=None):
        if "/suckhoe." in url or "/the-gioi/" in url:  # VnExpress's two articles
            clock.now += 200.0  # take 200 s each on the fake clock
        return fetch_page(url, client=client)

    cfg = write_config(tmp_path / "s.toml", site, [{"name": "VnExpress", "url": VNE2, "limit": 2},
                                                   {"name": "Znews", "url": "/feeds/znews.rss"},
                                                   {"name": "VnExpress mới", "url": VNE3, "limit": 2}],
                       extra="\n[run]\nsource_budget = 150\n")
    out, stream = tmp_path / "out", io.StringIO()
    stages = dataclasses.replace(fake_stages(FakeRenderer()), fetch_page=slow_fetch)
    rep = daily.run(load_sources(cfg), out_dir=out, base_url=BASE, stages=stages, log=RunLog(stream=stream),
                    now=NOW, clock=clock)
    budget = [item for item, reason in rep.skipped if "time budget (150 s) was spent" in reason]
    assert len(budget) == 1 and budget[0].startswith("VnExpress: ")  # 1 rendered (0 → 200 s), 1 left
    assert [item for item, _ in rep.failed] == ["Znews"]  # not RSS: fails, and is no budget matter
    assert len(rep.new) == 3  # VnExpress's first, and both of VnExpress mới (its own budget)
    assert "event=source-budget-spent source=VnExpress budget=150 spent=200.0 left=1" in stream.getvalue()

    again = daily.run(load_sources(cfg), out_dir=out, base_url=BASE, stages=fake_stages(FakeRenderer()),
                      log=RunLog(quiet=True), now=NOW, clock=_Clock())
    # it stayed pending, not failed: the next run fetches it (and finds VnExpress mới rendered the same page)
    assert [item for item, _ in again.failed] == ["Znews"] and again.new == []
    assert again.skipped == [(budget[0], "same article as one already rendered")]


def test_zero_source_budget_is_no_limit(site, tmp_path):
    clock = _Clock()

    class SlowRenderer(FakeRenderer):
        def render(self, *a, **kw):
            clock.now += 10_000.0
            return super().render(*a, **kw)

    cfg = write_config(tmp_path / "s.toml", site, [{"name": "VnExpress", "url": VNE2, "limit": 2}],
                       extra="\n[run]\nsource_budget = 0\n")
    rep = do_run(cfg, tmp_path / "out", SlowRenderer(), clock=clock)
    assert len(rep.new) == 2 and rep.failed == []
    assert not any("budget" in reason for _, reason in rep.skipped)


def test_missing_page_fails_that_article_and_is_retried(site, tmp_path):
    del site.pages["/vnexpress.net/tin-tuc/the-gioi/pho-tong-tu-lenh-quan-doi-australia-tham-viet-nam-3618888.html"]
    cfg = write_config(tmp_path / "s.toml", site, two_sources()[:1])
    r = FakeRenderer()
    rep = do_run(cfg, tmp_path / "out", r)
    assert len(rep.new) == 1 and len(rep.failed) == 1
    assert "404" in str(rep.failed[0][1]) and rep.failed[0][0].startswith("VnExpress: Phó tổng tư lệnh")
    site.pages["/vnexpress.net/tin-tuc/the-gioi/pho-tong-tu-lenh-quan-doi-australia-tham-viet-nam-3618888.html"] = \
        "articles/vnexpress-1.html"
    rep = do_run(cfg, tmp_path / "out", r)  # the feed answers 304; the failed entry is retried from state
    assert site.not_modified == 1
    assert [ep.title for ep in rep.new] and rep.failed == []


@pytest.fixture
def cli_fakes(monkeypatch, tmp_path):
    monkeypatch.setenv("VNREADER_CACHE", str(tmp_path / "clips"))
    r = FakeRenderer()
    monkeypatch.setattr(daily, "run", functools.partial(daily.run, stages=fake_stages(r), now=NOW))
    return r


@pytest.mark.slow
def test_cli_exit_codes_and_output(site, tmp_path, capsys, cli_fakes):
    cfg = write_config(tmp_path / "s.toml", site, two_sources())
    out = tmp_path / "out"
    argv = ["run", "--config", str(cfg), "--out", str(out), "--quiet"]
    assert cli_main(argv) == 0
    o, e = capsys.readouterr()
    assert e == "" and o.startswith("new 3, skipped 47, failed 0, removed 0; feed updated") and o.count("\n") == 1
    assert cli_main(argv) == 0
    assert capsys.readouterr() == ("", "")  # quiet when nothing changed
    assert cli_main(argv[:-1]) == 0
    o, e = capsys.readouterr()
    assert o.startswith("new 0, skipped 0, failed 0, removed 0; feed unchanged")
    # something broke: stderr and exit 1, even with --quiet
    cfg2 = write_config(tmp_path / "s2.toml", site, [{"name": "Znews", "url": "/feeds/znews.rss"}, *two_sources()])
    assert cli_main(["run", "--config", str(cfg2), "--out", str(out), "--quiet"]) == 1
    o, e = capsys.readouterr()
    assert o == "" and "failed Znews" in e and "HTML page, not RSS/Atom" in e


def test_cli_config_error_exit_2_before_anything_runs(site, tmp_path, capsys, cli_fakes):
    cfg = write_config(tmp_path / "s.toml", site, two_sources())
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("limit = 2", "limt = 2", 1), encoding="utf-8")
    out = tmp_path / "out"
    assert cli_main(["run", "--config", str(cfg), "--out", str(out)]) == 2
    _, e = capsys.readouterr()
    line = next(n for n, t in enumerate(cfg.read_text(encoding="utf-8").splitlines(), 1) if t.startswith("limt"))
    assert f"{cfg}:{line}:" in e and "did you mean 'limit'" in e
    assert not out.exists() and site.hits == {}


def test_cli_engine_that_cannot_run_is_a_config_error(site, tmp_path, capsys, cli_fakes, monkeypatch):
    from reader import tts

    class Broken:
        def __init__(self, **_):
            pass

        def check(self):
            return "its model file is missing"

    monkeypatch.setitem(tts.ENGINES, "broken", Broken)
    cfg = write_config(tmp_path / "s.toml", site, two_sources(engine="broken"))
    out = tmp_path / "out"
    assert cli_main(["run", "--config", str(cfg), "--out", str(out)]) == 2
    _, e = capsys.readouterr()
    assert "'broken' cannot run here: its model file is missing" in e and str(cfg) in e
    assert not out.exists() and site.hits == {}


def test_cli_log_json(site, tmp_path, capsys, cli_fakes):
    cfg = write_config(tmp_path / "s.toml", site, two_sources()[:1])
    assert cli_main(["run", "--config", str(cfg), "--out", str(tmp_path / "out"), "--log-json", "--verbose"]) == 0
    _, e = capsys.readouterr()
    events = [json.loads(line) for line in e.splitlines()]
    assert [ev["event"] for ev in events].count("episode") == 2
    assert all({"ts", "level", "event"} <= ev.keys() for ev in events)
    feed = next(ev for ev in events if ev["event"] == "feed")
    assert (feed["source"], feed["entries"], feed["new"]) == ("VnExpress", 25, 2)


# ---------------------------------------------------------------- retention and re-rendering
def test_retention_by_count_removes_files_and_items(site, tmp_path):
    """The run that renders more than the cap keeps them all (never removes its own); the next
    run trims the feed to the cap, the oldest-dated first."""
    cfg = write_config(tmp_path / "s.toml", site, two_sources(), retention={"days": 0, "max_episodes": 2})
    out = tmp_path / "out"
    rep = do_run(cfg, out, FakeRenderer())
    assert len(rep.new) == 3 and rep.removed == [] and len(feed_items(out)) == 3
    rep = do_run(cfg, out, FakeRenderer(), now=NOW + daily.timedelta(days=1))
    assert rep.new == [] and len(rep.removed) == 1
    gone = Path(rep.removed[0].path)
    assert not gone.exists() and not gone.with_suffix(".vtt").exists() and not records.record_path(gone).exists()
    items = feed_items(out)
    assert len(items) == 2 and rep.removed[0].title not in [e.title for e in items]
    # the expired article stays known: not rendered again
    rep2 = do_run(cfg, out, FakeRenderer())
    assert rep2.new == [] and rep2.removed == []


@pytest.mark.slow
def test_retention_by_count_keeps_the_most_recently_made(site, tmp_path):
    """A second run's episodes count first against the cap, even when their pages are dated earlier."""
    cfg = write_config(tmp_path / "s.toml", site, two_sources()[:1], retention={"days": 0, "max_episodes": 2})
    out = tmp_path / "out"
    first = do_run(cfg, out, FakeRenderer())
    assert len(first.new) == 2
    cfg = write_config(tmp_path / "s.toml", site, two_sources()[1:], retention={"days": 0, "max_episodes": 2})
    r = FakeRenderer()
    stages = daily.Stages(extract=old_dated_pages, render=r.render, render_digest=r.render_digest)
    second = daily.run(load_sources(cfg), out_dir=out, base_url=BASE, stages=stages, log=RunLog(quiet=True),
                       now=NOW + daily.timedelta(days=1))
    assert len(second.new) == 1
    assert sorted(e.title for e in feed_items(out)) == sorted([second.new[0].title, first.new[0].title])
    assert [ep.title for ep in second.removed] == [first.new[1].title]


def test_retention_by_days_skips_and_expires(site, tmp_path):
    cfg = write_config(tmp_path / "s.toml", site, two_sources(), retention={"days": 10, "max_episodes": 0})
    out = tmp_path / "out"
    rep = do_run(cfg, out, FakeRenderer())  # NOW = 1 Sep 2017: the July feed is too old
    assert sorted({reason for _, reason in rep.skipped}) == ["more than 2 new articles in the feed",
                                                              "published before the retention window"]
    assert sum(reason == "published before the retention window" for _, reason in rep.skipped) == 25
    assert len(rep.new) == 2 and len(feed_items(out)) == 2
    later = datetime(2017, 9, 20, tzinfo=timezone.utc)
    rep2 = do_run(cfg, out, FakeRenderer(), now=later)
    assert sorted(ep.title for ep in rep2.removed) == sorted(ep.title for ep in rep.new)
    assert feed_items(out) == [] and list(out.glob("*.mp3")) == []


def test_expired_entries_come_back_when_days_is_raised(site, tmp_path):
    """Entries set aside as `expired` are eligible again once a longer window covers them,
    `limit` per source and run, even while the feed answers 304."""
    cfg = write_config(tmp_path / "s.toml", site, two_sources()[:1], retention={"days": 10, "max_episodes": 0})
    out = tmp_path / "out"
    r = FakeRenderer()
    rep = do_run(cfg, out, r)  # NOW = 1 Sep 2017: every entry of the July feed is too old
    assert rep.new == [] and len(rep.skipped) == 25
    assert do_run(cfg, out, r).new == []  # same window: still set aside
    cfg = write_config(tmp_path / "s.toml", site, two_sources()[:1], retention={"days": 60, "max_episodes": 0})
    before = site.not_modified
    rep = do_run(cfg, out, r)
    assert site.not_modified == before + 1  # the feed itself said nothing new
    assert len(rep.new) == 2 and rep.removed == [] and not rep.failed
    assert len(feed_items(out)) == 2
    rep = do_run(cfg, out, r)  # the next two, newest first (the local site has no page for them)
    assert rep.new == [] and len(rep.failed) == 2 and len(feed_items(out)) == 2


def old_dated_pages(article, **kw):
    """The fake extractor, with every page carrying a date long before its feed entry's."""
    from dataclasses import replace

    from daily_support import fake_extract

    return replace(fake_extract(article, **kw), published=datetime(2017, 6, 1, tzinfo=timezone.utc))


def test_retention_never_removes_what_the_same_run_rendered(site, tmp_path):
    """Pages dated before the window (feed entries inside it): rendered, kept, and kept `days`
    days counted from when they were made, not from the page's date."""
    cfg = write_config(tmp_path / "s.toml", site, two_sources(), retention={"days": 10, "max_episodes": 0})
    out = tmp_path / "out"
    r = FakeRenderer()
    stages = daily.Stages(extract=old_dated_pages, render=r.render, render_digest=r.render_digest)
    made = datetime(2017, 7, 28, tzinfo=timezone.utc)  # the feed entries (26 Jul) are inside the window
    run = functools.partial(daily.run, load_sources(cfg), out_dir=out, base_url=BASE, stages=stages,
                            log=RunLog(quiet=True))
    rep = run(now=made)
    assert len(rep.new) == 3 and rep.removed == []
    assert all(ep.published < made - daily.timedelta(days=10) for ep in rep.new)
    assert sorted(e.title for e in feed_items(out)) == sorted(ep.title for ep in rep.new)
    assert {records.load(records.record_path(ep.path)).made_at for ep in rep.new} == {made}
    assert run(now=datetime(2017, 8, 7, tzinfo=timezone.utc)).removed == []  # made 10 days ago: still in
    rep3 = run(now=datetime(2017, 8, 8, 1, tzinfo=timezone.utc))
    assert sorted(ep.title for ep in rep3.removed) == sorted(ep.title for ep in rep.new)
    assert feed_items(out) == []


@pytest.mark.slow
def test_rerender_only_when_asked(site, tmp_path):
    cfg = write_config(tmp_path / "s.toml", site, two_sources()[:1])
    out = tmp_path / "out"
    r = FakeRenderer()
    do_run(cfg, out, r)
    path = "/vnexpress.net/tin-tuc/the-gioi/pho-tong-tu-lenh-quan-doi-australia-tham-viet-nam-3618888.html"
    html = (ROOT / "tests/data/site/articles/vnexpress-1.html").read_bytes()
    site.overrides[path] = html.replace("lan sang rừng phòng hộ".encode(), "lan rộng sang rừng phòng hộ".encode())
    assert site.overrides[path] != html
    old = {e.id: e.enclosures[0].href for e in feed_items(out)}
    rep = do_run(cfg, out, r)
    assert rep.new == [] and r.calls == 2
    rep = do_run(cfg, out, r, rerender=True)
    assert r.calls == 3 and len(rep.new) == 1 and len(rep.removed) == 1
    assert not Path(rep.removed[0].path).exists()
    new = {e.id: e.enclosures[0].href for e in feed_items(out)}
    assert new.keys() == old.keys()  # same guids
    assert sum(old[k] != new[k] for k in old) == 1  # the changed article has a new enclosure URL
    rep = do_run(cfg, out, r, rerender=True)
    assert rep.new == [] and r.calls == 3


# ---------------------------------------------------------------- lock, kill, resume
def _start(cfg: Path, out: Path, delay: float) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, str(ROOT / "tests" / "daily_support.py"), str(cfg), str(out), str(delay)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)


def _wait_for(pred, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not pred():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


@pytest.mark.slow
def test_overlapping_run_is_refused(site, tmp_path, capsys):
    cfg = write_config(tmp_path / "s.toml", site, two_sources()[:1])
    out = tmp_path / "out"
    proc = _start(cfg, out, delay=0.6)
    try:
        _wait_for(lambda: (out / daily.LOCK_NAME).is_file() and (out / daily.LOCK_NAME).read_text().strip(), proc)
        with pytest.raises(LockedError, match="another vnreader run") as ei:
            do_run(cfg, out, FakeRenderer())
        assert str(proc.pid) in str(ei.value) and ei.value.exit_code == 3
        assert cli_main(["run", "--config", str(cfg), "--out", str(out)]) == 3
        assert "another vnreader run is using this output folder" in capsys.readouterr().err
    finally:
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert json.loads(stdout) == {"new": 2, "failed": 0}
    rep = do_run(cfg, out, FakeRenderer())  # the lock is free again
    assert rep.new == []


KILL_POINTS = [
    ("while-writing-first-mp3", lambda out: any(out.glob(".*.mp3.*.part"))),
    ("after-first-episode", lambda out: any(out.glob("*" + records.SUFFIX))),
    ("while-writing-digest", lambda out: any(out.glob(".ban-tin-*.part"))),
]


@pytest.mark.slow
@pytest.mark.parametrize("point", [k[1] for k in KILL_POINTS], ids=[k[0] for k in KILL_POINTS])
def test_killed_run_resumes(site, tmp_path, point):
    cfg = write_config(tmp_path / "s.toml", site, two_sources(group="tin"), groups=GROUP)
    clean = tmp_path / "clean"
    do_run(cfg, clean, FakeRenderer())
    want = sorted(e.title for e in feed_items(clean))

    out = tmp_path / "out"
    proc = _start(cfg, out, delay=0.4)
    _wait_for(lambda: out.is_dir() and point(out), proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    if (out / "feed.xml").exists():
        feed_items(out)  # whatever feed exists references only complete files
    r = FakeRenderer()
    rep = do_run(cfg, out, r)
    assert rep.failed == [] and rep.new  # the next run completes the work
    assert sorted(e.title for e in feed_items(out)) == want
    no_leftovers(out)
    rep = do_run(cfg, out, r)
    assert not rep.changed


@pytest.mark.slow
def test_leftovers_of_a_killed_run_are_cleared(site, tmp_path):
    cfg = write_config(tmp_path / "s.toml", site, two_sources()[:1])
    out = tmp_path / "out"
    r = FakeRenderer()
    do_run(cfg, out, r)
    feed_before = (out / "feed.xml").read_bytes()
    (out / ".half-abc.mp3.x1y2.part").write_bytes(b"ID3 half")
    (out / "orphan-0123456789.mp3").write_bytes(b"ID3 no record")
    (out / "orphan-0123456789.vtt").write_text("WEBVTT\n", encoding="utf-8")
    (out / "gone-0123456789.episode.json").write_text("{}", encoding="utf-8")  # a record without its MP3
    # a record deleted by hand: the state says done, so the MP3 is an orphan and goes too
    mp3 = next(out.glob("pnj-*.mp3"))
    records.record_path(mp3).unlink()
    rep = do_run(cfg, out, r)
    assert r.calls == 2  # nothing rendered again
    assert sorted(p.name for p in out.glob("*orphan*")) == [] and not (out / "gone-0123456789.episode.json").exists()
    assert list(out.glob(".*.part")) == [] and not mp3.exists()
    assert [e.title for e in feed_items(out)] != [] and (out / "feed.xml").read_bytes() != feed_before
    assert rep.feed_changed
    no_leftovers(out)


def test_progress_bars_on_a_terminal(site, tmp_path):
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    cfg = write_config(tmp_path / "s.toml", site, two_sources()[:1])
    log = RunLog(stream=term)
    assert log.show_progress
    daily.run(load_sources(cfg), out_dir=tmp_path / "out", base_url=BASE, stages=fake_stages(FakeRenderer()),
              log=log, now=NOW)
    text = term.getvalue()
    assert "VnExpress:" in text and "0/2" in text and "%|" in text  # the bar
    assert "event=episode" in text  # log lines printed above it
    assert not RunLog(stream=Terminal(), quiet=True).show_progress
    assert not RunLog(stream=io.StringIO()).show_progress


# ---------------------------------------------------------------- the real stages
@pytest.mark.slow
def test_real_pipeline_end_to_end(site, tmp_path):
    pytest.importorskip("reader.extract")
    from reader.tts import get_engine
    from reader.tts.cache import ClipCache

    why = get_engine("espeak").check()
    if why is not None:
        pytest.skip(f"espeak unavailable: {why}")
    path = "/suckhoe.vnexpress.net/tin-tuc/suc-khoe/mot-tuan-ha-noi-co-1-400-nguoi-benh-sot-xuat-huyet-vao-vien-3618863.html"
    cfg = write_config(tmp_path / "s.toml", site, [{"name": "VnExpress", "url": VNE2, "limit": 1, "group": "tin"}],
                       groups=GROUP)
    out = tmp_path / "out"
    config = load_sources(cfg)
    cache = ClipCache(tmp_path / "clips")
    rep = daily.run(config, out_dir=out, base_url=BASE, log=RunLog(quiet=True), now=NOW, cache=cache)
    assert rep.failed == [] and len(rep.new) == 2, rep.failed
    article, digest = rep.new
    assert article.title.startswith("PNJ") and article.duration > 10 and site.hits[path] == 1
    assert digest.title == "Bản tin ngày 1/9/2017" and digest.duration > article.duration
    assert [c.title for c in digest.chapters][1] == article.title
    assert digest.stats.cached > 0  # the article's sentences were not spoken twice
    items = feed_items(out)
    assert sorted(e.title for e in items) == sorted([article.title, digest.title])
    assert (out / "cover.jpg").is_file()
    before = (out / "feed.xml").read_bytes()
    rep2 = daily.run(config, out_dir=out, base_url=BASE, log=RunLog(quiet=True), now=NOW, cache=cache)
    assert not rep2.changed and (out / "feed.xml").read_bytes() == before


@pytest.mark.slow
def test_real_run_killed_then_resumed(site, tmp_path):
    """`vnreader run` with the real stages, SIGKILLed after its first episode; the next run completes."""
    pytest.importorskip("reader.extract")
    from reader.tts import get_engine

    if get_engine("espeak").check() is not None:
        pytest.skip("espeak unavailable")
    cfg = write_config(tmp_path / "s.toml", site, two_sources(group="tin"), groups=GROUP)
    out = tmp_path / "out"
    env = dict(os.environ, VNREADER_CACHE=str(tmp_path / "clips"))
    cmd = [str(ROOT / ".venv/bin/vnreader") if (ROOT / ".venv/bin/vnreader").is_file() else "vnreader",
           "run", "--config", str(cfg), "--out", str(out), "--base-url", BASE]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    _wait_for(lambda: any(out.glob("*" + records.SUFFIX)), proc, timeout=60)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    done_before = len(list(out.glob("*" + records.SUFFIX)))
    assert 1 <= done_before < 4
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    # an episode recorded just before the kill but not yet marked done in the state is
    # picked up again (its record is reused, nothing is spoken) and counted as new
    new = int(r.stdout.split(",")[0].split()[1])
    assert 4 - done_before <= new <= 5 - done_before, r.stdout
    items = feed_items(out)
    assert len(items) == 4 and sum(e.title.startswith("Bản tin ngày") for e in items) == 1
    no_leftovers(out)
    before = (out / "feed.xml").read_bytes()
    r = subprocess.run(cmd + ["--quiet"], capture_output=True, text=True, env=env, timeout=120)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert (out / "feed.xml").read_bytes() == before


@pytest.mark.slow
def test_an_article_that_crashes_the_voice_fails_alone_and_is_given_up(site, tmp_path, monkeypatch):
    """Real stages; the article's dialogue crashes espeak-ng itself (cleaning switched off to prove the isolation).

    Before the worker process, this segfaulted the whole run: no feed, nothing published,
    and the entry stayed pending on every later run.
    """
    from reader.store import MAX_ATTEMPTS, STATE_NAME, Store
    from reader.tts import espeak

    monkeypatch.setattr(espeak, "clean_text", lambda text: text)
    bad = "/vnexpress.net/tin-tuc/the-gioi/pho-tong-tu-lenh-quan-doi-australia-tham-viet-nam-3618888.html"
    page = (site.root / site.pages[bad]).read_text(encoding="utf-8")
    marker = '<p class="Normal">'
    assert marker in page
    site.overrides[bad] = page.replace(marker, marker + '"-Dạ, cháu chào bác." ', 1).encode("utf-8")
    cfg = write_config(tmp_path / "s.toml", site, [{"name": "VnExpress", "url": VNE2, "limit": 2}])
    out = tmp_path / "out"
    config = load_sources(cfg)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        rep = daily.run(config, out_dir=out, base_url=BASE, log=RunLog(quiet=True), now=NOW)
        (item, err), = rep.failed
        assert "crashed on" in str(err) and "Dạ, cháu chào bác" in str(err), err
        if attempt == 1:
            assert len(rep.new) == 1 and rep.new[0].title.startswith("PNJ")
        titles = [e.title for e in feed_items(out)]
        assert len(titles) == 1 and titles[0].startswith("PNJ")
        no_leftovers(out)
    with Store(out / STATE_NAME) as store:
        assert store.counts().get("gave-up") == 1
    rep = daily.run(config, out_dir=out, base_url=BASE, log=RunLog(quiet=True), now=NOW)
    assert rep.failed == [] and not rep.new  # given up: not tried again


@pytest.mark.slow
def test_channel_guid_from_the_sources_file_is_the_podcast_guid(site, tmp_path):
    guid = "0b3e2f4e-4c61-4a8e-9d59-3a2f6f0d8c11"
    cfg = write_config(tmp_path / "s.toml", site, two_sources())
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("[channel]\n", f'[channel]\nguid = "{guid}"\n', 1),
                   encoding="utf-8")
    out = tmp_path / "out"
    do_run(cfg, out, FakeRenderer())
    assert f"<podcast:guid>{guid}</podcast:guid>" in (out / "feed.xml").read_text(encoding="utf-8")


def test_run_timeout_option_overrides_the_config(site, tmp_path, monkeypatch):
    cfg = write_config(tmp_path / "s.toml", site, two_sources(), extra="\n[run]\nfetch_timeout = 12\n")
    seen = []
    monkeypatch.setattr(daily, "check_engines", lambda config: None)
    monkeypatch.setattr(daily, "run", lambda config, **kw: seen.append(config.fetch_timeout) or daily.RunReport())
    for extra in ([], ["--timeout", "3.5"]):
        assert cli_main(["run", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet", *extra]) == 0
    assert seen == [12.0, 3.5]


def test_run_leaves_the_summary_and_exit_code_to_the_cli(site, tmp_path, monkeypatch, capsys):
    cfg = write_config(tmp_path / "s.toml", site, two_sources())
    failed = daily.RunReport(failed=[("VnExpress: a", daily.ReaderError("a", "gone"))])
    monkeypatch.setattr(daily, "check_engines", lambda config: None)
    monkeypatch.setattr(daily, "run", lambda config, **kw: failed)
    args = build_parser().parse_args(["run", "--config", str(cfg), "--out", str(tmp_path / "out")])
    assert daily.run_from_args(args) is failed
    assert capsys.readouterr() == ("", "")
    assert cli_main(["run", "--config", str(cfg), "--out", str(tmp_path / "out")]) == 1
    assert "failed VnExpress: a: a: gone" in capsys.readouterr().err
