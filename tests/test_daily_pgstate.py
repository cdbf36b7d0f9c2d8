"""`vnreader run` with its state in PostgreSQL: the same episodes as with SQLite; runs sharing one
state (and one output folder) render every article once.

The real server on 127.0.0.1:5432, a schema of its own per test (``tests/pg_support.py``).
The first test is the real command (fetch, extract, espeak, MP3, feed) on the local news site
of ``tests/daily_support.py``; the concurrent one runs ``reader.daily.run`` in two processes
(``python tests/pg_support.py run …``) with the light stage fakes and slow writes, on a
generated site of 12 articles, so the two runs overlap.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import pytest

from daily_support import ROOT, Site, write_config
from reader import episodes as records
from reader.store import open_store

pytestmark = [pytest.mark.distributed, pytest.mark.slow]
BASE = "http://127.0.0.1:8000/"
VNE2 = "/feeds/vnexpress-2.xml"
VNE3 = "/feeds/vnexpress-3.xml"
ARTICLES = 12


def vnreader(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reader", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def episodes(out: Path) -> set[tuple[str, str, str]]:
    """(file, guid, title) of every episode record in ``out``."""
    return {(Path(ep.path).name, ep.guid, ep.title) for ep in records.load_all(out)}


def feed_files(out: Path) -> list[str]:
    """The enclosure file names of ``feed.xml``; each exists with the stated length."""
    parsed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not parsed.bozo
    names = []
    for e in parsed.entries:
        (enc,) = e.enclosures
        name = unquote(urlsplit(enc.href).path.rsplit("/", 1)[-1])
        assert (out / name).stat().st_size == int(enc.length)
        names.append(name)
    return names


def test_real_run_with_postgresql_state_matches_sqlite(tmp_path, pg_url):
    from reader.tts import get_engine

    if get_engine("espeak").check() is not None:
        pytest.fail("espeak-ng is part of the default install and must work here")
    env = dict(os.environ, PYTHONPATH=str(ROOT), VNREADER_CACHE=str(tmp_path / "clips"))
    with Site() as site:
        cfg = write_config(tmp_path / "s.toml", site, [{"name": "VnExpress", "url": VNE2, "limit": 2},
                                                       {"name": "VnExpress mới", "url": VNE3, "limit": 2}])
        lite, pg = tmp_path / "lite", tmp_path / "pg"
        r1 = vnreader("run", "--config", str(cfg), "--out", str(lite), "--base-url", BASE, env=env)
        assert r1.returncode == 0, r1.stderr
        r2 = vnreader("run", "--config", str(cfg), "--out", str(pg), "--base-url", BASE, "--state", pg_url, env=env)
        assert r2.returncode == 0, r2.stderr
        assert "event=state" in r2.stderr and "127.0.0.1:5432/test" in r2.stderr
        assert not (pg / ".vnreader-state.sqlite").exists()
        assert episodes(pg) == episodes(lite) and len(episodes(pg)) == 3  # 4 entries, one a duplicate
        assert sorted(feed_files(pg)) == sorted(feed_files(lite))
        with open_store(pg_url) as s, open_store(lite / ".vnreader-state.sqlite") as lite_state:
            assert s.counts() == lite_state.counts() and s.counts()["done"] == 3 and s.counts()["duplicate"] == 1
            assert [(e.entry_id, e.episode, e.guid) for e in s.rendered("VnExpress")] == \
                [(e.entry_id, e.episode, e.guid) for e in lite_state.rendered("VnExpress")]
        before = (pg / "feed.xml").read_bytes()
        again = vnreader("run", "--config", str(cfg), "--out", str(pg), "--base-url", BASE, "--state", pg_url,
                         "--quiet", env=env)
        assert (again.returncode, again.stdout) == (0, "")  # nothing new: nothing spoken, feed as it was
        assert (pg / "feed.xml").read_bytes() == before


def make_site(root: Path, n: int) -> Path:
    """A news site of ``n`` short articles in one feed (the format of ``tests/data/site``)."""
    (root / "feeds").mkdir(parents=True)
    (root / "articles").mkdir()
    items, pages = [], []
    for i in range(n):
        path = f"/tin/bai-{i}.html"
        body = "".join(f"<p>Đoạn {k} của bài {i}: Sáng 9.1, tại TP Hạ Long, hội nghị tổng kết công tác năm.</p>"
                       for k in range(3))
        (root / "articles" / f"bai-{i}.html").write_text(
            f'<html><head><link rel="canonical" href="{{{{BASE}}}}{path}"></head>'
            f"<body><h1>Bài số {i}</h1>{body}</body></html>", encoding="utf-8")
        pages.append(f'"{path}" = "articles/bai-{i}.html"')
        items.append(f"<item><title>Bài số {i}</title><link>{{{{BASE}}}}{path}</link><guid>{{{{BASE}}}}{path}</guid>"
                     f"<pubDate>Wed, 26 Jul 2017 {10 + i // 60:02d}:{i % 60:02d}:00 +0700</pubDate></item>")
    (root / "feeds" / "tin.xml").write_text(
        '<rss version="2.0"><channel><title>Tin</title><link>{{BASE}}/</link>' + "".join(items) + "</channel></rss>",
        encoding="utf-8")
    (root / "routes.toml").write_text('[feeds]\n"/feeds/tin.xml" = "feeds/tin.xml"\n\n[pages]\n' + "\n".join(pages) + "\n",
                                      encoding="utf-8")
    return root


def test_two_runs_sharing_postgresql_render_each_article_once(tmp_path, pg_url):
    with Site(make_site(tmp_path / "site", ARTICLES)) as site:
        cfg = write_config(tmp_path / "s.toml", site,
                           [{"name": "Tin", "url": "/feeds/tin.xml", "limit": ARTICLES, "group": "tin"}],
                           groups=[{"name": "tin", "title": "Bản tin"}])
        out = tmp_path / "out"
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        cmd = [sys.executable, str(ROOT / "tests" / "pg_support.py"), "run", str(cfg), str(out), "0.4", pg_url]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
                 for _ in range(2)]
        results = []
        for p in procs:
            stdout, stderr = p.communicate(timeout=240)
            assert p.returncode == 0, stderr
            results.append(json.loads(stdout.strip().splitlines()[-1]))
    rendered = [title for r in results for title in r["new"] if title.startswith("Bài số")]
    assert sorted(rendered) == sorted(f"Bài số {i}" for i in range(ARTICLES))  # each once, by one run or the other
    assert all(r["failed"] == [] for r in results)
    with open_store(pg_url) as s:
        assert s.counts() == {"done": ARTICLES}
        assert all(e.claimed_by is None for e in s.rendered("Tin"))
    names = feed_files(out)
    titles = sorted(t for _, _, t in episodes(out) if t.startswith("Bài số"))
    assert titles == sorted(f"Bài số {i}" for i in range(ARTICLES))
    assert len(names) == len(set(names)) == ARTICLES + 1  # every article and the day's digest, once
    assert list(out.glob(".*.part")) == []


def test_a_sqlite_run_refuses_a_folder_postgresql_runs_share(tmp_path):
    from reader import daily
    from reader.errors import LockedError

    out = tmp_path / "out"
    with daily.run_lock(out, shared=True), daily.run_lock(out, shared=True):  # two runs sharing a PostgreSQL state
        with pytest.raises(LockedError):
            with daily.run_lock(out):
                pass


def test_a_killed_run_is_finished_by_the_next(tmp_path, pg_url):
    """SIGKILL mid-run: its lease and unfinished files are a dead run's; the next run (alone) clears
    them at once and renders the rest, none twice."""
    import signal
    import time

    with Site(make_site(tmp_path / "site", ARTICLES)) as site:
        cfg = write_config(tmp_path / "s.toml", site,
                           [{"name": "Tin", "url": "/feeds/tin.xml", "limit": ARTICLES, "group": "tin"}],
                           groups=[{"name": "tin", "title": "Bản tin"}])
        out = tmp_path / "out"
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        cmd = [sys.executable, str(ROOT / "tests" / "pg_support.py"), "run", str(cfg), str(out)]
        proc = subprocess.Popen(cmd + ["2.0", pg_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        deadline = time.monotonic() + 60
        while proc.poll() is None and not (len(list(out.glob("*" + records.SUFFIX))) >= 2
                                           and any(out.glob(".*.part"))):  # in the middle of an MP3
            assert time.monotonic() < deadline, "the run wrote no episode"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        with open_store(pg_url) as s:
            held = [e for e in s.todo("Tin") if e.claimed_by]
        assert len(held) == 1  # the entry it was rendering, leased to the dead run
        done_before = len(list(out.glob("*" + records.SUFFIX)))
        r = subprocess.run(cmd + ["0", pg_url], capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 0, r.stderr
        new = [t for t in json.loads(r.stdout.strip().splitlines()[-1])["new"] if t.startswith("Bài số")]
        assert ARTICLES - done_before <= len(new) <= ARTICLES - done_before + 1
    with open_store(pg_url) as s:
        assert s.counts() == {"done": ARTICLES}
    assert len(feed_files(out)) == ARTICLES + 1
    assert list(out.glob(".*.part")) == []


def test_state_url_from_the_sources_file_and_state_option_wins(tmp_path, pg_url, monkeypatch, capsys):
    """``[state] url`` puts the run's state in PostgreSQL; ``--state PATH`` on the command line wins."""
    import functools
    from datetime import datetime, timezone

    from daily_support import FakeRenderer, fake_stages
    from reader import daily
    from reader.cli import main as cli_main

    monkeypatch.setenv("VNREADER_CACHE", str(tmp_path / "clips"))
    monkeypatch.setattr(daily, "run", functools.partial(daily.run, stages=fake_stages(FakeRenderer()),
                                                        now=datetime(2017, 9, 1, tzinfo=timezone.utc)))
    with Site() as site:
        cfg = write_config(tmp_path / "s.toml", site, [{"name": "VnExpress", "url": VNE2, "limit": 2}],
                           extra=f'\n[state]\nurl = "{pg_url}"\n')
        out = tmp_path / "out"
        assert cli_main(["run", "--config", str(cfg), "--out", str(out), "--base-url", BASE]) == 0
        assert 'event=state where="postgresql://postgres@127.0.0.1:5432/test?options=' in capsys.readouterr().err
        assert not (out / ".vnreader-state.sqlite").exists()
        with open_store(pg_url) as s:
            assert s.counts()["done"] == 2
        lite = tmp_path / "own.sqlite"
        assert cli_main(["run", "--config", str(cfg), "--out", str(tmp_path / "out2"), "--base-url", BASE,
                         "--state", str(lite)]) == 0
        with open_store(lite) as s:
            assert s.counts()["done"] == 2  # its own state: everything is new there


def test_a_dropped_connection_is_a_state_error(pg_url):
    import psycopg

    from pg_support import BASE_URL
    from reader.errors import StateError

    with open_store(pg_url) as s:
        pid = s._one("SELECT pg_backend_pid() AS pid")["pid"]
        with psycopg.connect(BASE_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(StateError, match="the PostgreSQL state failed") as e:
            s.todo("X")
        assert "127.0.0.1:5432/test" in str(e.value)
