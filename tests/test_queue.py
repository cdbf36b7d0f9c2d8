"""Render workers over Celery and Redis (reader/queue.py): real Redis, real ``vnreader worker`` processes.

The distributed tests run ``vnreader run --queue`` against a local site of 33 articles in three
feeds (``queue_support.NewsSite``) with worker subprocesses, and check the feed against a
single-machine run of the same site; then the faults: a worker SIGKILLed mid-job, the broker
lost during a run (a private ``redis-server``), a worker whose engine fails, SIGTERM; RabbitMQ as
the broker; the ``remote`` engine behind the workers (the fake speech server). Each test
has its own queue name (the Redis key prefix too). The first tests need no server.
"""
from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import time
import urllib.request
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from queue_support import (REDIS_URL, NewsSite, RedisServer, Workers, article_text, free_port, queue_env, unique_name,
                           vnreader)
from reader.config import SpeechSettings, parse_sources
from reader.errors import ConfigError, EngineError, LimitError, ReaderError, UsageError
from reader.limits import Limits
from reader.models import Caption, Document
from reader.pipeline import RenderOptions, article_key
from reader.queue import QueueSettings, RenderJob, error_from_dict, error_to_dict, shown_url

DOC = Document(title="Bão số 3 đổ bộ", paragraphs=("Sáng 9.1, tại TP Hạ Long mưa lớn.", "Đoạn hai."),
               lead="Tin nhanh.", author="LÊ HÀ", published=datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc),
               url="https://baomau.vn/bao-so-3.html", site="baomau", captions=(Caption("Ảnh: mưa", 0),))


# ---------------------------------------------------------------- no server needed
def test_job_travels_as_json_and_back():
    options = RenderOptions(engine="espeak", voice="vi", rate=1.25, limits=Limits(max_chars=900),
                            feed_title="Tin", made_by="run", made_at=datetime(2026, 11, 26, tzinfo=timezone.utc),
                            speech=SpeechSettings(url="http://gpu-box:8000", voice="vi-female", rate=5.0,
                                                  rate_url="redis://127.0.0.1:6379/3"))
    job = RenderJob(key=article_key(DOC, options), doc=DOC, options=options, out_dir="/srv/out", source_name="Báo")
    back = RenderJob.from_dict(json.loads(json.dumps(job.to_dict())))
    assert back == job
    assert back.options == options  # every render option but the cache (the worker opens its own)
    assert back.key == article_key(back.doc, back.options)


def test_render_key_changes_with_what_is_heard():
    assert article_key(DOC) == article_key(DOC)
    assert article_key(DOC) != article_key(DOC, RenderOptions(rate=1.5))
    assert article_key(DOC) != article_key(Document(title=DOC.title, paragraphs=("Khác.",)))


@pytest.mark.parametrize("error", [EngineError("espeak", "crashed", fix="reinstall"),
                                   LimitError("https://x.vn/a", count=5000, limit=3000, unit="sentences",
                                              option="sentences")],
                         ids=["engine", "limit"])
def test_worker_errors_keep_class_message_and_fix(error):
    back = error_from_dict(json.loads(json.dumps(error_to_dict(error))))
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert back.expected


def test_unknown_error_class_is_a_reader_error():
    back = error_from_dict({"type": "NoSuchError", "subject": "x", "detail": "boom", "expected": False})
    assert type(back) is ReaderError and not back.expected and str(back).startswith("x: boom")


def test_settings_from_environment():
    s = QueueSettings.from_env("redis://127.0.0.1:6379/2", {"VNREADER_QUEUE_NAME": "tin", "VNREADER_QUEUE_VISIBILITY": "60"})
    assert (s.name, s.visibility_timeout, s.result_backend) == ("tin", 60.0, "redis://127.0.0.1:6379/2")
    assert QueueSettings.from_env("amqp://guest:guest@127.0.0.1:5672//", {}).result_backend == "rpc://"
    with pytest.raises(UsageError, match="not a Redis or RabbitMQ broker URL"):
        QueueSettings.from_env("http://127.0.0.1:6379", {})
    with pytest.raises(UsageError, match="VNREADER_QUEUE_VISIBILITY"):
        QueueSettings.from_env(REDIS_URL, {"VNREADER_QUEUE_VISIBILITY": "long"})


def test_password_is_not_shown():
    assert shown_url("redis://:s3cret@cache.lan:6379/0") == "redis://:***@cache.lan:6379/0"
    assert shown_url(REDIS_URL) == REDIS_URL


def test_queue_table_in_sources_file():
    base = '[[sources]]\nname = "A"\nurl = "https://a.vn/rss"\n'
    c = parse_sources(base + '[queue]\nurl = "redis://10.0.0.5:6379/0"\nconcurrency = 4\n')
    assert (c.queue_url, c.queue_concurrency) == ("redis://10.0.0.5:6379/0", 4)
    assert (parse_sources(base).queue_url, parse_sources(base).queue_concurrency) == (None, 1)
    with pytest.raises(ConfigError, match=r"<sources>:5: url 'http://x' is not a Redis or RabbitMQ broker URL"):
        parse_sources(base + '[queue]\nurl = "http://x"\n')
    with pytest.raises(ConfigError, match="concurrency must be at least 1"):
        parse_sources(base + "[queue]\nconcurrency = 0\n")


def test_worker_help_and_missing_broker_url(capsys):
    from reader.cli import main

    with pytest.raises(SystemExit) as e:
        main(["worker", "--help"])
    assert e.value.code == 0 and "--concurrency" in capsys.readouterr().out
    assert main(["worker"]) == 2
    assert "no broker to take jobs from (give --queue redis://" in capsys.readouterr().err


def test_missing_celery_names_the_extra(monkeypatch):
    import builtins

    from reader import queue

    real = builtins.__import__

    def no_celery(name, *args, **kwargs):
        if name == "celery" or name.startswith("celery."):
            raise ImportError("No module named 'celery'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_celery)
    with pytest.raises(UsageError, match=r"needs Celery.*pip install 'vnreader\[queue\]'"):
        queue.make_app(QueueSettings(REDIS_URL))


def test_unreachable_broker_stops_the_run_before_anything(tmp_path):
    """Nothing listens on the port: exit 1, the URL and the fix named, no feed read, no state written."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    with NewsSite(tmp_path / "out", feeds=1, per_feed=2) as site:
        cfg = site.write_config(tmp_path / "sources.toml")
        r = subprocess.run(vnreader("run", "--config", str(cfg), "--out", str(tmp_path / "out"), "--queue", url),
                           env=queue_env(unique_name(), tmp_path), capture_output=True, text=True, timeout=60)
        assert not site.hits
    assert r.returncode == 1
    assert f"vnreader run: error: {url}: the broker is unreachable" in r.stderr
    assert "check that the broker (Redis) is running" in r.stderr
    assert not (tmp_path / "out" / ".vnreader-state.sqlite").exists()


# ---------------------------------------------------------------- distributed: helpers
def _run(site: NewsSite, cfg: Path, out: Path, env: dict, *more: str, timeout: float = 120):
    return subprocess.run(vnreader("run", "--config", str(cfg), "--out", str(out), "--base-url", site.audio_url,
                                   *more), env=env, capture_output=True, text=True, timeout=timeout)


def _feed_items(out: Path) -> list[dict]:
    root = ET.parse(out / "feed.xml").getroot()
    return [{"title": it.findtext("title"), "guid": it.findtext("guid"), "url": it.find("enclosure").get("url"),
             "length": int(it.find("enclosure").get("length"))} for it in root.iter("item")]


def _episodes(out: Path) -> dict[str, tuple]:
    """File name → (guid, title, duration) of every episode record in ``out``."""
    found = {}
    for rec in out.glob("*.episode.json"):
        d = json.loads(rec.read_text(encoding="utf-8"))
        found[Path(d["path"]).name] = (d["guid"], d["title"], round(d["duration"], 3))
    return found


def _assert_whole(out: Path, titles: set[str]) -> None:
    """Every article exactly once, every enclosure downloadable with its length, no half file."""
    items = _feed_items(out)
    assert sorted(i["title"] for i in items) == sorted(titles)
    assert len({i["guid"] for i in items}) == len(items)
    for item in items:
        with urllib.request.urlopen(item["url"], timeout=10) as resp:
            body = resp.read()
        assert len(body) == item["length"] == int(resp.headers["Content-Length"]) > 0
        assert body[:3] == b"ID3"
    mp3s = {p.name for p in out.glob("*.mp3")}
    assert mp3s == set(_episodes(out)) and len(mp3s) == len(titles)  # no episode without a record, no second one
    assert not list(out.glob(".*.part"))


def _states(out: Path) -> dict[str, int]:
    with sqlite3.connect(out / ".vnreader-state.sqlite") as db:
        return dict(db.execute("SELECT status, count(*) FROM entries GROUP BY status").fetchall())


def _done_jobs(workers: Workers) -> list[list[str]]:
    """Per worker, the keys of the jobs it rendered (not reused)."""
    return [re.findall(r"event=job-done key=(\w+) file=\S+ reused=False", workers.log(i))
            for i in range(len(workers.procs))]


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# ---------------------------------------------------------------- distributed
@pytest.mark.distributed
@pytest.mark.slow
def test_three_workers_make_the_single_machine_feed(tmp_path):
    with NewsSite(tmp_path / "out") as site:
        assert len(site.articles()) >= 30
        cfg = site.write_config(tmp_path / "sources.toml")
        env = queue_env(unique_name(), tmp_path, VNREADER_TONE_DELAY="0.01")
        with Workers(REDIS_URL, env, tmp_path / "logs", n=3) as workers:
            local = _run(site, cfg, tmp_path / "local", queue_env(unique_name(), tmp_path / "solo"))
            assert local.returncode == 0, local.stderr  # while the workers start
            workers.wait_ready()
            r = _run(site, cfg, tmp_path / "out", env, "--queue", REDIS_URL)
            assert r.returncode == 0, r.stderr
            assert r.stdout.startswith("new 33, skipped 0, failed 0, removed 0; feed updated")
            _assert_whole(tmp_path / "out", site.titles())
            assert _episodes(tmp_path / "out") == _episodes(tmp_path / "local")  # same files, guids, durations
            done = _done_jobs(workers)
            assert sorted(k for keys in done for k in keys) == sorted(n.rsplit("-", 1)[1][:10]
                                                                        for n in _episodes(tmp_path / "out"))
            assert sum(1 for keys in done if keys) >= 2  # the jobs spread over the workers
            feed = (tmp_path / "out" / "feed.xml").read_bytes()
            again = _run(site, cfg, tmp_path / "out", env, "--queue", REDIS_URL)
            assert again.returncode == 0 and again.stdout.startswith("new 0, skipped 0, failed 0")
            assert (tmp_path / "out" / "feed.xml").read_bytes() == feed
            assert _done_jobs(workers) == done  # nothing sent, nothing rendered
            assert workers.stop() == [0, 0, 0]


@pytest.mark.distributed
@pytest.mark.slow
def test_killed_worker_jobs_are_redone_elsewhere(tmp_path):
    """SIGKILL a worker (and its pool) mid-job: the job comes back after the visibility timeout,
    another worker renders it; one episode per article, no half file."""
    with NewsSite(tmp_path / "out", per_feed=4) as site:
        cfg = site.write_config(tmp_path / "sources.toml")
        env = queue_env(unique_name(), tmp_path, VNREADER_TONE_DELAY="0.08")
        with Workers(REDIS_URL, env, tmp_path / "logs", n=3) as workers:
            workers.wait_ready()
            run = subprocess.Popen(vnreader("run", "--config", str(cfg), "--out", str(tmp_path / "out"),
                                            "--base-url", site.audio_url, "--queue", REDIS_URL),
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            _wait_for(lambda: "event=job-start" in workers.log(0), 60, "worker 0 to start a job")
            taken = re.findall(r"event=job-start key=(\w{10})", workers.log(0))[-1]
            workers.kill(0)
            out, err = run.communicate(timeout=90)
            assert run.returncode == 0, err
            assert out.startswith("new 12, skipped 0, failed 0")
            _assert_whole(tmp_path / "out", site.titles())
            assert taken not in _done_jobs(workers)[0]
            assert taken in [k for keys in _done_jobs(workers)[1:] for k in keys]  # redone elsewhere
            assert workers.stop()[1:] == [0, 0]


@pytest.mark.distributed
@pytest.mark.slow
def test_broker_lost_mid_run_then_rerun_completes(tmp_path):
    """A private Redis killed during a run: the run fails clearly (URL, fix); restarted, the workers
    reconnect and a rerun completes every article once, reusing what was finished."""
    with NewsSite(tmp_path / "out", per_feed=4) as site, RedisServer(tmp_path / "redis") as redis:
        cfg = site.write_config(tmp_path / "sources.toml")
        env = queue_env(unique_name(), tmp_path, VNREADER_TONE_DELAY="0.05")
        with Workers(redis.url, env, tmp_path / "logs", n=2) as workers:
            workers.wait_ready()
            run = subprocess.Popen(vnreader("run", "--config", str(cfg), "--out", str(tmp_path / "out"),
                                            "--base-url", site.audio_url, "--queue", redis.url),
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            _wait_for(lambda: any(_done_jobs(workers)), 60, "a finished job")
            redis.kill()
            _, err = run.communicate(timeout=60)
            assert run.returncode == 1
            assert f"vnreader run: error: {redis.url}: the broker was lost while waiting for results" in err
            assert "restart Redis and run again" in err
            assert _states(tmp_path / "out").get("pending", 0) > 0  # not failed: nothing counted against them
            redis.start()
            r = _run(site, cfg, tmp_path / "out", env, "--queue", redis.url, "--queue-timeout", "60")
            assert r.returncode == 0, r.stderr
            _assert_whole(tmp_path / "out", site.titles())
            assert _states(tmp_path / "out") == {"done": 12}
            assert workers.stop() == [0, 0]


@pytest.mark.distributed
@pytest.mark.slow
def test_failing_engine_fails_the_article_and_the_next_run_retries(tmp_path):
    """The single-machine policy: while the worker's engine fails, the articles fail this run (exit
    1, counted, none in the feed); once it works again, the next run renders them."""
    down = tmp_path / "speech-service-down"
    down.touch()
    with NewsSite(tmp_path / "out", feeds=1, per_feed=3) as site:
        cfg = site.write_config(tmp_path / "sources.toml")
        env = queue_env(unique_name(), tmp_path, VNREADER_TONE_FAIL_FILE=str(down))
        with Workers(REDIS_URL, env, tmp_path / "logs", n=1) as workers:
            workers.wait_ready()
            r = _run(site, cfg, tmp_path / "out", env, "--queue", REDIS_URL)
            assert r.returncode == 1
            assert r.stderr.count("tone: scripted failure (the speech service is down)") >= 3
            assert "new 0, skipped 0, failed 3" in r.stderr
            assert _feed_items(tmp_path / "out") == []
            assert _states(tmp_path / "out") == {"failed": 3}
            assert workers.log(0).count("event=job-failed") == 3
            down.unlink()
            r = _run(site, cfg, tmp_path / "out", env, "--queue", REDIS_URL)
            assert r.returncode == 0, r.stderr
            assert r.stdout.startswith("new 3, skipped 0, failed 0")
            _assert_whole(tmp_path / "out", site.titles())
            assert _states(tmp_path / "out") == {"done": 3}


@pytest.mark.distributed
@pytest.mark.slow
def test_sigterm_is_a_warm_shutdown(tmp_path):
    """SIGTERM while a job runs: the worker finishes it, takes nothing more and exits 0."""
    with NewsSite(tmp_path / "out", feeds=1, per_feed=2) as site:
        cfg = site.write_config(tmp_path / "sources.toml")
        env = queue_env(unique_name(), tmp_path, VNREADER_TONE_DELAY="0.2")
        with Workers(REDIS_URL, env, tmp_path / "logs", n=1) as workers:
            workers.wait_ready()
            run = subprocess.Popen(vnreader("run", "--config", str(cfg), "--out", str(tmp_path / "out"),
                                            "--base-url", site.audio_url, "--queue", REDIS_URL,
                                            "--queue-timeout", "5"),
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            _wait_for(lambda: "event=job-start" in workers.log(0), 60, "the worker to start a job")
            assert workers.stop() == [0]
            log = workers.log(0)
            assert "Warm shutdown" in log and "event=worker-stop exitcode=0" in log
            assert len(_done_jobs(workers)[0]) == 1  # the running job finished, the second was not taken
            _, err = run.communicate(timeout=60)
            assert run.returncode == 1 and "no worker finished this job within 5 s" in err
            assert len(_feed_items(tmp_path / "out")) == 1


@pytest.mark.distributed
@pytest.mark.slow
def test_rabbitmq_broker_works_too(tmp_path):
    """The same run through RabbitMQ (answers over ``rpc://``): Celery's own URL is all it takes."""
    from kombu import Connection

    url = "amqp://guest:guest@127.0.0.1:5672//"
    name = unique_name()
    with NewsSite(tmp_path / "out", feeds=1, per_feed=3) as site:
        cfg = site.write_config(tmp_path / "sources.toml")
        env = queue_env(name, tmp_path)
        try:
            with Workers(url, env, tmp_path / "logs", n=1) as workers:
                workers.wait_ready()
                r = _run(site, cfg, tmp_path / "out", env, "--queue", url)
                assert r.returncode == 0, r.stderr
                assert "event=queue broker=amqp://guest:***@127.0.0.1:5672//" in r.stderr
                _assert_whole(tmp_path / "out", site.titles())
                assert workers.stop() == [0]
        finally:
            with Connection(url) as conn:  # the queue RabbitMQ keeps after the test
                conn.default_channel.queue_delete(name)


@pytest.mark.distributed
@pytest.mark.slow
def test_remote_speech_server_behind_the_workers(tmp_path):
    """``engine = "remote"``: the ``[speech]`` settings travel with each job, each worker sends its
    own API key, and every sentence is spoken by the (fake) OpenAI-compatible server."""
    from fakes.speech_server import FakeSpeechServer

    with FakeSpeechServer(delay=0.01, api_key="k-worker") as speech, \
            NewsSite(tmp_path / "out", feeds=1, per_feed=3) as site:
        cfg = site.write_config(tmp_path / "sources.toml", engine="remote",
                                extra=f'\n[speech]\nurl = "{speech.base_url}"\nmodel = "tts-1"\nvoice = "vi-nu"\n'
                                      f'rate = 50\nrate_url = "{REDIS_URL}"\n')
        env = queue_env(unique_name(), tmp_path)
        with Workers(REDIS_URL, {**env, "VNREADER_SPEECH_API_KEY": "k-worker"}, tmp_path / "logs", n=2) as workers:
            workers.wait_ready()
            r = _run(site, cfg, tmp_path / "out", env, "--queue", REDIS_URL)
            assert r.returncode == 0, r.stderr
            _assert_whole(tmp_path / "out", site.titles())
            spoken = speech.speech()
            assert spoken and all(req.behaviour == "ok" for req in spoken)
            assert {req.body["voice"] for req in spoken} == {"vi-nu"}
            assert {req.headers["authorization"] for req in spoken} == {"Bearer k-worker"}
            assert sum(len(keys) for keys in _done_jobs(workers)) == 3
            assert workers.stop() == [0, 0]


class SharedStorySite(NewsSite):
    """Two feeds, the second also listing the first feed's first article under an address of its own
    (the same story in two feeds: another link, the same canonical URL and text)."""

    SHARED = "/bai/2/tin-chung.html"

    def feed_xml(self, feed: int) -> str:
        xml = super().feed_xml(feed)
        if feed != 1:
            return xml
        title, paras = article_text(0, 0)
        link = self.base + self.SHARED
        shared = (f"<item><title>{escape(title)}</title><link>{link}</link><guid>{link}</guid>"
                  f"<description>{escape(paras[0])}</description></item>")
        return xml.replace("</channel>", shared + "</channel>")

    def body(self, path: str) -> tuple[bytes, str] | None:
        if path == self.SHARED:
            return self.page_html(0, 0).encode(), "text/html; charset=utf-8"
        return super().body(path)


def _summary(r: subprocess.CompletedProcess, out: Path) -> str:
    return r.stdout.replace(str(out), "OUT")


@pytest.mark.distributed
@pytest.mark.slow
def test_same_article_in_two_feeds_is_one_duplicate_as_on_one_machine(tmp_path):
    """Both entries of a shared story are prepared before either render ends: the queued run holds the
    later one until the first's answer, then records it as its duplicate, as a single-machine run does;
    nothing is left pending and a rerun has nothing to do."""
    with SharedStorySite(tmp_path / "out", feeds=2, per_feed=3) as site:
        cfg = site.write_config(tmp_path / "sources.toml", limit=4)
        env = queue_env(unique_name(), tmp_path, VNREADER_TONE_DELAY="0.05")
        with Workers(REDIS_URL, env, tmp_path / "logs", n=2) as workers:
            local = _run(site, cfg, tmp_path / "local", queue_env(unique_name(), tmp_path / "solo"))
            assert local.returncode == 0, local.stderr
            assert _states(tmp_path / "local") == {"done": 6, "duplicate": 1}
            workers.wait_ready()
            r = _run(site, cfg, tmp_path / "out", env, "--queue", REDIS_URL)
            assert r.returncode == 0, r.stderr
            assert r.stdout.startswith("new 6, skipped 1, failed 0")
            assert _summary(r, tmp_path / "out") == _summary(local, tmp_path / "local")
            assert _states(tmp_path / "out") == _states(tmp_path / "local")
            _assert_whole(tmp_path / "out", site.titles())
            assert _episodes(tmp_path / "out") == _episodes(tmp_path / "local")
            again = _run(site, cfg, tmp_path / "out", env, "--queue", REDIS_URL)
            assert again.returncode == 0, again.stderr
            assert again.stdout.startswith("new 0, skipped 0, failed 0")
            assert _states(tmp_path / "out") == {"done": 6, "duplicate": 1}
            assert workers.stop() == [0, 0]


@pytest.mark.distributed
@pytest.mark.slow
def test_same_article_held_behind_a_failed_job_is_sent_in_turn(tmp_path):
    """The first entry of a shared story fails on its worker: the held one is then sent as a job of its
    own and fails too, as both do on one machine; none stays pending, and the next run takes them as one."""
    down = tmp_path / "speech-service-down"
    down.touch()
    with SharedStorySite(tmp_path / "out", feeds=2, per_feed=1) as site:
        cfg = site.write_config(tmp_path / "sources.toml", limit=2)
        env = queue_env(unique_name(), tmp_path, VNREADER_TONE_FAIL_FILE=str(down))
        with Workers(REDIS_URL, env, tmp_path / "logs", n=1) as workers:
            local = _run(site, cfg, tmp_path / "local", queue_env(unique_name(), tmp_path / "solo",
                                                                   VNREADER_TONE_FAIL_FILE=str(down)))
            assert local.returncode == 1
            assert _states(tmp_path / "local") == {"failed": 3}
            workers.wait_ready()
            r = _run(site, cfg, tmp_path / "out", env, "--queue", REDIS_URL)
            assert r.returncode == 1
            assert "new 0, skipped 0, failed 3" in r.stderr
            assert _states(tmp_path / "out") == {"failed": 3}
            assert workers.log(0).count("event=job-failed") == 3  # the shared story's key twice
            down.unlink()
            again = _run(site, cfg, tmp_path / "out", env, "--queue", REDIS_URL)
            assert again.returncode == 0, again.stderr
            assert again.stdout.startswith("new 2, skipped 1, failed 0")
            assert _states(tmp_path / "out") == {"done": 2, "duplicate": 1}
            assert workers.stop() == [0]
