"""SIGKILL a daily run at many points; each time the folder must be consistent and resumable.

The run is ``tests/daily_support.py`` as a subprocess (the real ``reader.daily.run`` with the
stage fakes, slow writes). A kill point is an event seen in the output folder: the lock taken,
the state database made, the k-th MP3 temp file (``.NAME.mp3.*.part``) just made and half
written, the k-th episode record, the feed in place. Every point runs on a fresh folder and on a
folder a finished run already published ("continuing"). After each kill:

* ``feed.xml``, if any, is the old one byte for byte or a whole new one that parses;
* every enclosure it lists exists with its listed length (and its record);
* the state database passes ``PRAGMA integrity_check``;
* the next run completes (nothing failed), ends with the same episodes as an unkilled run,
  no guid or title twice, no leftovers; and the run after it changes nothing.

``make test`` kills at every point of ``POINTS`` (15 fresh + 9 continuing = 24 kills);
``make soak`` (``pytest -m soak``) at every point with 5 other MP3 write times (120 kills).
"""
from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

import feedparser
import pytest

from daily_support import FakeRenderer, Site, write_config
from reader import episodes as records
from reader.store import STATE_NAME
from test_daily import GROUP, _start, do_run, feed_items, no_leftovers, two_sources

pytestmark = pytest.mark.slow  # the whole module: see README, "Development"

DELAY = 0.3  #: seconds the fake renderer takes to write one MP3


def _points(mp3s: int, records_: int) -> list[tuple[str, str, int, float]]:
    """(name, kind, k, after): kill ``after`` MP3 write times once the k-th event of that kind is seen."""
    out = [("lock", "lock", 1, 0.0), ("state", "state", 1, 0.0)]
    for k in range(1, mp3s + 1):
        out += [(f"mp3-{k}-start", "mp3", k, 0.0), (f"mp3-{k}-middle", "mp3", k, 0.5)]
    out += [(f"record-{k}", "record", k, 0.0) for k in range(1, records_ + 1)]
    return out + [("feed", "feed", 1, 0.0)]


#: a fresh run renders 3 articles and the digest; a continuing one 1 new article and the grown digest
POINTS = {"fresh": _points(4, 4), "continuing": _points(2, 2)}
CASES = [(mode, *pt) for mode, pts in POINTS.items() for pt in pts]
SOAK_DELAYS = (0.15, 0.2, 0.25, 0.4, 0.6)  #: soak: other MP3 write times, so each kill lands elsewhere


class Watcher:
    """Polls the output folder and remembers every event seen so far (temp files are short-lived)."""

    def __init__(self, out: Path, feed_before: bytes | None):
        self.out, self.feed_before = out, feed_before
        self.parts: set[str] = set()
        self.records_before = self._records() if out.is_dir() else set()

    def _records(self) -> set[str]:
        return {p.name for p in self.out.glob("*" + records.SUFFIX)}

    def count(self, kind: str) -> int:
        out = self.out
        if not out.is_dir():
            return 0
        if kind == "lock":
            lock = out / ".vnreader.lock"
            return int(lock.is_file() and bool(lock.read_text().strip()))
        if kind == "state":
            return int((out / STATE_NAME).is_file())
        if kind == "mp3":  # MP3 temp files live for DELAY seconds: polling sees every one
            self.parts |= {p.name for p in out.glob(".*.mp3.*.part")}
            return len(self.parts)
        if kind == "record":
            return len(self._records() - self.records_before)
        feed = out / "feed.xml"
        return int(feed.is_file() and feed.read_bytes() != self.feed_before)


def _kill_at(cfg: Path, out: Path, kind: str, k: int, after: float, delay: float) -> bool:
    """Start a run, kill it at the point; True if it was killed (False: it finished first)."""
    feed = out / "feed.xml"
    watcher = Watcher(out, feed.read_bytes() if feed.is_file() else None)
    proc = _start(cfg, out, delay=delay)
    end = time.monotonic() + 60
    while watcher.count(kind) < k:
        if proc.poll() is not None:
            return False
        assert time.monotonic() < end, "the run never reached the kill point"
        time.sleep(0.003)
    time.sleep(after * delay)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    return proc.returncode == -signal.SIGKILL


def _check_folder(out: Path, feed_before: bytes | None) -> None:
    feed = out / "feed.xml"
    if feed.is_file():
        data = feed.read_bytes()
        if data != feed_before:
            assert not feedparser.parse(data).bozo, "a partial feed.xml"
        feed_items(out)  # every enclosure exists with its listed length
    else:
        assert feed_before is None
    state = out / STATE_NAME
    if state.is_file():
        with sqlite3.connect(state) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def _finish_and_compare(cfg: Path, out: Path, want: list[str]) -> None:
    r = FakeRenderer()
    rep = do_run(cfg, out, r)
    assert rep.failed == []
    items = feed_items(out)
    assert sorted(e.title for e in items) == want
    assert len({e.id for e in items}) == len(items), "an episode twice"
    no_leftovers(out)
    assert not do_run(cfg, out, r).changed


@pytest.fixture(scope="module")
def site():
    with Site() as s:
        yield s


@pytest.fixture(scope="module")
def configs(site, tmp_path_factory):
    """(first.toml: one source, both.toml: both), and the titles an unkilled run ends with."""
    d = tmp_path_factory.mktemp("kills")
    first = write_config(d / "first.toml", site, two_sources(group="tin")[:1], groups=GROUP)
    both = write_config(d / "both.toml", site, two_sources(group="tin"), groups=GROUP)
    fresh, cont = d / "clean-fresh", d / "clean-continuing"
    do_run(both, fresh, FakeRenderer())
    do_run(first, cont, FakeRenderer())
    do_run(both, cont, FakeRenderer())
    want = {"fresh": sorted(e.title for e in feed_items(fresh)),
            "continuing": sorted(e.title for e in feed_items(cont))}
    return first, both, want


def _one_kill(configs, tmp_path: Path, mode: str, kind: str, k: int, after: float, delay: float = DELAY) -> None:
    first, both, want = configs
    out = tmp_path / "out"
    if mode == "continuing":
        do_run(first, out, FakeRenderer())
    feed = out / "feed.xml"
    before = feed.read_bytes() if feed.is_file() else None
    assert _kill_at(both, out, kind, k, after, delay), "the run finished before the kill point"
    _check_folder(out, before)
    _finish_and_compare(both, out, want[mode])


@pytest.mark.parametrize("mode, kind, k, after", [c[:1] + c[2:] for c in CASES],
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_killed_run_leaves_a_consistent_folder(configs, tmp_path, mode, kind, k, after):
    _one_kill(configs, tmp_path, mode, kind, k, after)


@pytest.fixture
def soak(request):
    if "soak" not in (request.config.option.markexpr or ""):
        pytest.skip("soak: run with `make soak` (pytest -m soak)")


@pytest.mark.soak
@pytest.mark.parametrize("delay", SOAK_DELAYS, ids=[f"{int(a * 1000)}ms" for a in SOAK_DELAYS])
@pytest.mark.parametrize("mode, kind, k, after", [c[:1] + c[2:] for c in CASES],
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_soak_killed_runs(soak, configs, tmp_path, mode, kind, k, after, delay):
    _one_kill(configs, tmp_path, mode, kind, k, after, delay)
