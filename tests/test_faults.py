"""The daily run against a misbehaving site (``tests/fault_site.py``) and a broken output folder.

A faulty page or feed fails alone, with its reason in ``RunReport.failed``; the others finish.
What is retryable (5xx, 429 with Retry-After, a reset) is retried inside the fetch; a later run,
faults cleared, picks up what failed. Deadlines are small (``[run] fetch_timeout = 1.5``) so a
silent or trickling server costs 1.5 s, not minutes.
"""
from __future__ import annotations

import errno
import os
import subprocess

import pytest

from daily_support import FakeRenderer, fake_stages, write_config
from fault_site import FaultSite
from reader import daily
from reader.config import load_sources
from reader.errors import ReaderError, UsageError
from reader.logs import RunLog
from test_daily import BASE, NOW, VNE2, VNE3, _with_new_item, feed_items, no_leftovers

pytestmark = pytest.mark.slow  # the whole module: see README, "Development"

TIMEOUT = 1.5
EXTRA = f"\n[run]\nfetch_timeout = {TIMEOUT}\nsource_budget = 20\n"
PAGE = "/suckhoe.vnexpress.net/tin-tuc/suc-khoe/mot-tuan-ha-noi-co-1-400-nguoi-benh-sot-xuat-huyet-vao-vien-3618863.html"


@pytest.fixture
def site():
    with FaultSite() as s:
        yield s


def sources(**kw):
    return [{"name": "VnExpress", "url": VNE2, "limit": 2, **kw}, {"name": "Mới", "url": VNE3, "limit": 2, **kw}]


def run(cfg, out, renderer=None, **kw):
    return daily.run(load_sources(cfg), out_dir=out, base_url=BASE, stages=fake_stages(renderer or FakeRenderer()),
                     log=RunLog(quiet=True), now=NOW, **kw)


def failed(rep) -> dict[str, str]:
    return {item: str(err) for item, err in rep.failed}


# ---------------------------------------------------------------- a page that fails
#: fault → words its error gives (the run reports why, in words)
PAGE_FAULTS = [
    ("timeout", f"no complete answer within {TIMEOUT:g} s"),
    ("reset", "last try: connection reset"),  # retried until the deadline
    ("500", "last try: http 500"),
    ("truncate", "last try: "),
    ("long-length", "last try: "),
    ("redirect-loop", "redirect"),
    ("gzip-bomb", "passed the cap"),
    ("slow", f"no complete answer within {TIMEOUT:g} s"),
]


@pytest.mark.parametrize("fault, words", PAGE_FAULTS, ids=[f for f, _ in PAGE_FAULTS])
def test_a_faulty_page_fails_alone_and_the_next_run_picks_it_up(site, tmp_path, fault, words):
    cfg = write_config(tmp_path / "s.toml", site, sources(), extra=EXTRA)
    out = tmp_path / "out"
    site.fail(PAGE, fault)
    rep = run(cfg, out)
    assert len(rep.failed) == 1 and rep.failed[0][0].startswith("VnExpress: ")  # that article only
    (why,) = failed(rep).values()
    assert words in why.lower(), why
    assert isinstance(rep.failed[0][1], ReaderError) and rep.failed[0][1].expected
    assert len(rep.new) == 2 and len(feed_items(out)) == 2  # the other articles were rendered and published
    site.clear()
    rep = run(cfg, out)
    assert rep.failed == [] and len(rep.new) == 1  # the failed article, picked up
    assert len(feed_items(out)) == 3
    no_leftovers(out)


#: faults that end before the fetch gives up: retried inside the same run
RECOVERING = [("503", 2), ("429", 1), ("reset", 1), ("truncate", 1)]


@pytest.mark.parametrize("fault, times", RECOVERING, ids=[f"{f}x{n}" for f, n in RECOVERING])
def test_a_fault_that_recovers_is_retried_in_the_same_run(site, tmp_path, fault, times):
    cfg = write_config(tmp_path / "s.toml", site, sources(), extra="\n[run]\nfetch_timeout = 8\n")
    out = tmp_path / "out"
    site.fail(PAGE, fault, times=times)
    rep = run(cfg, out)
    assert rep.failed == [] and len(rep.new) == 3
    assert site.faulted[PAGE] == times and site.hits[PAGE] == times + 1


@pytest.mark.parametrize("fault", ["charset-lie", "short-length"])
def test_a_lying_header_still_gives_a_readable_article_or_a_clean_failure(site, tmp_path, fault):
    cfg = write_config(tmp_path / "s.toml", site, sources(), extra=EXTRA)
    site.fail(PAGE, fault)
    rep = run(cfg, tmp_path / "out")
    assert len(rep.new) + len(rep.failed) == 3
    for ep in rep.new:
        assert "Ã" not in ep.title and "Ä" not in ep.title  # UTF-8 read as Latin-1 would show these


# ---------------------------------------------------------------- feeds that fail
FEED_FAULTS = [("timeout", "no complete answer"), ("reset", "reset"), ("503", "http 503"),
               ("429", "429"), ("truncate", "last try"), ("redirect-loop", "redirect"),
               ("gzip-bomb", "cap"), ("slow", "no complete answer"), ("not-a-feed", "html page")]


def test_a_mix_of_faulty_feeds_fails_each_alone_then_recovers(site, tmp_path):
    srcs = [{"name": "VnExpress", "url": VNE2, "limit": 2}]
    for fault, _ in FEED_FAULTS:
        path = site.alias(f"/feeds/{fault}.xml", VNE3)
        site.fail(path, fault)
        srcs.append({"name": f"feed-{fault}", "url": path, "limit": 2})
    cfg = write_config(tmp_path / "s.toml", site, srcs, extra=EXTRA)
    out = tmp_path / "out"
    rep = run(cfg, out)
    why = failed(rep)
    assert sorted(why) == sorted(f"feed-{f}" for f, _ in FEED_FAULTS)
    for fault, words in FEED_FAULTS:
        assert words in why[f"feed-{fault}"].lower(), (fault, why[f"feed-{fault}"])
    assert len(rep.new) == 2 and len(feed_items(out)) == 2  # the good source published
    site.clear()
    rep = run(cfg, out)
    assert rep.failed == [] and len(rep.new) == 1  # vnexpress-3's new article (its other one is a duplicate)
    assert len(feed_items(out)) == 3
    assert not run(cfg, out).changed


def test_a_feed_that_changes_between_runs(site, tmp_path):
    cfg = write_config(tmp_path / "s.toml", site, sources()[:1], extra=EXTRA)
    out = tmp_path / "out"
    site.fail(VNE2, "truncate")
    assert list(failed(run(cfg, out))) == ["VnExpress"]
    site.clear()
    assert len(run(cfg, out).new) == 2
    site.overrides[VNE2] = _with_new_item(site.feed_text(VNE2), site.url(PAGE) + "?v=2", "Tin mới").encode()
    site.pages[PAGE + "?v=2"] = site.pages[PAGE]
    rep = run(cfg, out)
    assert rep.failed == [] and [s for s, why in rep.skipped if "same article" in why]  # same page, new link


# ---------------------------------------------------------------- the output folder
@pytest.fixture
def published(site, tmp_path):
    cfg = write_config(tmp_path / "s.toml", site, sources()[:1], extra=EXTRA)
    out = tmp_path / "out"
    assert len(run(cfg, out).new) == 2
    site.overrides[VNE3] = site.body(VNE3)[0]
    cfg = write_config(tmp_path / "s.toml", site, sources(), extra=EXTRA)  # one more source: new articles
    return cfg, out, (out / "feed.xml").read_bytes()


def _enospc(*a, **kw):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_full_disk_is_a_clear_error_and_the_feed_is_untouched(published, monkeypatch):
    """Simulated with os.replace raising ENOSPC (every atomic write ends with it)."""
    cfg, out, before = published
    monkeypatch.setattr(os, "replace", _enospc)
    rep = run(cfg, out)
    assert rep.failed and all("No space left on device" in str(e) and e.expected for _, e in rep.failed)
    assert (out / "feed.xml").read_bytes() == before and list(out.glob(".*.part")) == []
    monkeypatch.undo()
    rep = run(cfg, out)
    assert rep.failed == [] and len(feed_items(out)) == 3  # the next run catches up
    no_leftovers(out)


@pytest.fixture
def tiny_tmpfs(tmp_path):
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root, or no mount permission)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_really_full_disk_on_a_tiny_tmpfs(site, tiny_tmpfs, tmp_path):
    cfg = write_config(tmp_path / "s.toml", site, sources()[:1], extra=EXTRA)
    out = tiny_tmpfs / "out"
    assert len(run(cfg, out).new) == 2
    before = (out / "feed.xml").read_bytes()
    with open(tiny_tmpfs / "filler", "wb") as f:  # fill the disk to the last block
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as e:
            assert e.errno == errno.ENOSPC
    cfg = write_config(tmp_path / "s.toml", site, sources(), extra=EXTRA)
    with pytest.raises(ReaderError) as ei:
        run(cfg, out)
    assert "space" in str(ei.value).lower() or "full" in str(ei.value).lower(), str(ei.value)
    assert (out / "feed.xml").read_bytes() == before
    feed_items(out)
    (tiny_tmpfs / "filler").unlink()
    rep = run(cfg, out)
    assert rep.failed == [] and len(feed_items(out)) == 3


def test_read_only_output_folder_is_a_clear_error(published, monkeypatch):
    """Simulated: opening anything for writing in the folder raises EROFS (root ignores chmod)."""
    cfg, out, before = published
    real_open = os.open

    def ro_open(path, flags, *a, **kw):
        if str(path).startswith(str(out)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *a, **kw)

    monkeypatch.setattr(os, "open", ro_open)
    with pytest.raises(UsageError, match="Read-only file system") as ei:
        run(cfg, out)
    assert ei.value.exit_code == 2 and "output folder" in str(ei.value)
    monkeypatch.undo()
    assert (out / "feed.xml").read_bytes() == before
