"""reader.storage.S3Storage, publishing and the shared clip cache against a real S3 server (SeaweedFS).

The server is ``weed mini``, started once per test run (``tests/s3_support.py``); every test gets
its own bucket.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import feedparser
import pytest

import s3_support
from reader.errors import StorageError
from reader.publish import publish
from reader.storage import S3Storage, open_storage, sha256_of
from s3_support import make_out, rebuild_feed, remove_episode, write_episode

pytestmark = [pytest.mark.distributed, pytest.mark.slow]
s3_server, s3_env, s3_bucket = s3_support.s3_server, s3_support.s3_env, s3_support.s3_bucket  # fixtures


def test_put_get_head_list_delete(s3_bucket):
    store = open_storage(f"s3://{s3_bucket}/pod")
    assert isinstance(store, S3Storage)
    info = store.put("a.mp3", b"ID3 audio")
    assert (info.size, info.sha256, info.content_type) == (9, sha256_of(b"ID3 audio"), "audio/mpeg")
    store.put("feed.xml", b"<rss/>")
    store.put("sub/x.vtt", b"WEBVTT\n")
    assert store.get("a.mp3") == b"ID3 audio"
    assert store.get("missing.mp3") is None
    head = store.head("a.mp3")
    assert head is not None and (head.size, head.sha256, head.content_type) == (9, sha256_of(b"ID3 audio"),
                                                                                "audio/mpeg")
    assert store.head("nope") is None
    assert store.head("feed.xml").content_type == "application/rss+xml"
    assert [o.key for o in store.list()] == ["a.mp3", "feed.xml", "sub/x.vtt"]
    assert [(o.key, o.size) for o in store.list("sub")] == [("sub/x.vtt", 7)]
    store.delete("a.mp3")
    store.delete("a.mp3")  # already gone: no error
    assert store.get("a.mp3") is None
    assert [o.key for o in store.list()] == ["feed.xml", "sub/x.vtt"]


def test_prefix_is_a_folder_not_a_string_prefix(s3_bucket):
    open_storage(f"s3://{s3_bucket}/pod").put("a.mp3", b"1")
    open_storage(f"s3://{s3_bucket}/pod2").put("b.mp3", b"2")
    assert [o.key for o in open_storage(f"s3://{s3_bucket}/pod").list()] == ["a.mp3"]
    assert [o.key for o in open_storage(f"s3://{s3_bucket}").list()] == ["pod/a.mp3", "pod2/b.mp3"]


def test_put_a_file_streams_it(s3_bucket, tmp_path):
    src = tmp_path / "big.mp3"
    src.write_bytes(bytes(range(256)) * 8192)  # 2 MiB
    store = open_storage(f"s3://{s3_bucket}/p")
    info = store.put("big.mp3", src)
    assert info.size == src.stat().st_size
    assert store.get("big.mp3") == src.read_bytes()
    assert store.head("big.mp3").sha256 == sha256_of(src)


def test_missing_bucket_names_the_fix(s3_env):
    store = open_storage("s3://no-such-bucket-vnreader/p")
    with pytest.raises(StorageError) as e:
        store.put("a.mp3", b"x")
    assert "s3://no-such-bucket-vnreader/p/a.mp3" in str(e.value)
    assert "bucket exists" in str(e.value) or "create the bucket" in str(e.value)


def test_unreachable_endpoint_names_the_endpoint_setting(s3_env, monkeypatch):
    monkeypatch.setenv("VNREADER_S3_ENDPOINT", f"http://127.0.0.1:{s3_support.free_ports(1)[0]}")
    store = open_storage("s3://bucket/p")
    store.client.meta.config.retries = {"max_attempts": 1}
    with pytest.raises(StorageError) as e:
        store.get("a.mp3")
    assert "VNREADER_S3_ENDPOINT" in str(e.value)


# ---------------------------------------------------------------- publishing
ROOT = Path(__file__).resolve().parents[1]


def base_url(server, bucket: str) -> str:
    return f"{server.endpoint}/{bucket}/pod/"


def recorded(store: S3Storage) -> list[str]:
    """Every PUT and DELETE the storage's client sends, in order, as "put KEY" / "delete KEY"."""
    calls: list[str] = []

    def hook(params, event_name, **_):
        calls.append(f"{'put' if event_name.endswith('PutObject') else 'delete'} {params['Key'].removeprefix('pod/')}")

    store.client.meta.events.register("before-parameter-build.s3.PutObject", hook)
    store.client.meta.events.register("before-parameter-build.s3.DeleteObject", hook)
    return calls


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as r:  # anonymous, as a podcast app fetches
        return r.read()


def check_feed(server, bucket: str) -> list[str]:
    """The published feed parses and every enclosure and transcript resolves with its length; its titles."""
    parsed = feedparser.parse(fetch(base_url(server, bucket) + "feed.xml"))
    assert not parsed.bozo, parsed.bozo_exception
    for entry in parsed.entries:
        (enc,) = entry.enclosures
        assert enc.type == "audio/mpeg"
        assert len(fetch(enc.href)) == int(enc.length), enc.href
    return sorted(e.title for e in parsed.entries)


def test_publish_order_feed_last_deletions_after(s3_server, s3_bucket, tmp_path):
    base = base_url(s3_server, s3_bucket)
    out = make_out(tmp_path / "out", ["a", "b"], base)
    store = open_storage(f"s3://{s3_bucket}/pod")
    calls = recorded(store)
    rep = publish(out, store, workers=2)
    media = {"put a.mp3", "put a.vtt", "put b.mp3", "put b.vtt"}
    assert set(calls[:4]) == media
    assert set(calls[4:6]) == {"put a.episode.json", "put b.episode.json"}
    assert calls[6:] == ["put index.html", "put feed.xml"]
    assert len(rep.uploaded) == 8 and rep.deleted == ()
    head = store.head("feed.xml")
    assert head.content_type == "application/rss+xml" and head.sha256 == sha256_of(out / "feed.xml")
    assert store.head("a.mp3").content_type == "audio/mpeg"
    assert store.head(".vnreader-state.sqlite") is None  # dot files stay home
    assert check_feed(s3_server, s3_bucket) == ["Bản tin a", "Bản tin b"]

    calls.clear()  # nothing changed: nothing uploaded
    rep = publish(out, store)
    assert calls == [] and rep.uploaded == () and len(rep.unchanged) == 8

    remove_episode(out, "a")  # one expired, one new
    write_episode(out, "c")
    rebuild_feed(out, base)
    store.put("clips/ab/abc.clip", b"a shared clip")  # not a published name: never deleted
    calls.clear()
    rep = publish(out, store)
    assert set(calls[:2]) == {"put c.mp3", "put c.vtt"}  # uploaded at once: any order within a stage
    assert calls[2:5] == ["put c.episode.json", "put index.html", "put feed.xml"]
    assert sorted(calls[5:]) == ["delete a.episode.json", "delete a.mp3", "delete a.vtt"]
    assert rep.deleted == ("a.episode.json", "a.mp3", "a.vtt")
    assert check_feed(s3_server, s3_bucket) == ["Bản tin b", "Bản tin c"]
    assert store.get("clips/ab/abc.clip") == b"a shared clip"


def test_changed_file_of_the_same_size_is_uploaded(s3_server, s3_bucket, tmp_path):
    out = make_out(tmp_path / "out", ["a"], base_url(s3_server, s3_bucket))
    store = open_storage(f"s3://{s3_bucket}/pod")
    publish(out, store)
    data = (out / "a.vtt").read_bytes()
    (out / "a.vtt").write_bytes(data.replace(b"a\n", b"b\n"))
    assert publish(out, store).uploaded == ("a.vtt",)
    assert store.get("a.vtt") == (out / "a.vtt").read_bytes()


KILL_SCRIPT = """
import os, signal, sys, threading
from reader.storage import open_storage
from reader.publish import publish
after, phase, mid = int(sys.argv[3]), sys.argv[4], sys.argv[5] == "mid"
store = open_storage(sys.argv[2])
sent = []
def die():
    os.kill(os.getpid(), signal.SIGKILL)
def kill(request, **_):
    if request.method == phase:
        if len(sent) == after:
            if mid:  # while this request's body is on its way
                threading.Timer(0.002, die).start()
            else:
                die()
        sent.append(1)
store.client.meta.events.register("before-send.s3", kill)
publish(sys.argv[1], store, workers=1)
"""
#: (PUT or DELETE requests let through, which method, "mid": killed 2 ms into sending the next one,
#: "before": as it is about to be sent): mid-media, before the records, before the page, before the
#: feed, before the first deletion, mid-deletions
KILLS = [(1, "PUT", "mid"), (1, "PUT", "before"), (6, "PUT", "before"), (9, "PUT", "before"),
         (10, "PUT", "before"), (0, "DELETE", "before"), (2, "DELETE", "before")]


def stored_sha256s(out: Path) -> dict[str, str]:
    return {p.name: sha256_of(p) for p in out.iterdir() if not p.name.startswith(".")}


@pytest.mark.parametrize("after, phase, when", KILLS, ids=[f"{p}-{n}-{w}" for n, p, w in KILLS])
def test_killed_publish_leaves_a_consistent_feed_and_a_rerun_finishes(s3_server, s3_env, s3_bucket, tmp_path,
                                                                      after, phase, when):
    base = base_url(s3_server, s3_bucket)
    url = f"s3://{s3_bucket}/pod"
    out = make_out(tmp_path / "out", ["a", "b"], base, size=512 * 1024)
    publish(out, url)
    old_feed, old = (out / "feed.xml").read_bytes(), stored_sha256s(out)
    remove_episode(out, "a")
    for name in ("c", "d", "e"):
        write_episode(out, name, size=512 * 1024)
    rebuild_feed(out, base)  # uploads: 6 media, 3 records, the page, the feed; then 3 deletions
    new = stored_sha256s(out)
    env = {**os.environ, **s3_env, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(out), url, str(after), phase, when], env=env,
                          capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    store = open_storage(url)
    for obj in store.list():  # no half object: each is whole, the old version or the new one
        data = store.get(obj.key)
        assert sha256_of(data) in (old.get(obj.key), new.get(obj.key)), obj.key
        assert store.head(obj.key).sha256 == sha256_of(data)
    remote_feed = fetch(base + "feed.xml")
    assert remote_feed == (old_feed if phase == "PUT" else (out / "feed.xml").read_bytes())
    titles = check_feed(s3_server, s3_bucket)  # every enclosure of whichever feed is up exists, whole
    assert titles == (["Bản tin a", "Bản tin b"] if phase == "PUT" else ["Bản tin b", "Bản tin c",
                                                                              "Bản tin d", "Bản tin e"])
    rep = publish(out, url)  # the rerun finishes
    assert "feed.xml" in rep.uploaded or phase == "DELETE"
    assert check_feed(s3_server, s3_bucket) == ["Bản tin b", "Bản tin c", "Bản tin d", "Bản tin e"]
    keys = {o.key for o in open_storage(url).list()}
    assert keys == {p.name for p in out.iterdir() if not p.name.startswith(".")}
    assert publish(out, url).uploaded == ()


def test_cli_publish_to_s3(s3_server, s3_env, s3_bucket, tmp_path):
    out = make_out(tmp_path / "out", ["a"], base_url(s3_server, s3_bucket))
    env = {**os.environ, **s3_env, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "reader", "publish", str(out), f"s3://{s3_bucket}/pod"]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"published to s3://{s3_bucket}/pod: 5 uploaded, 0 unchanged, 0 deleted"
    missing = subprocess.run([*cmd[:-1], "s3://no-such-bucket-vnreader/pod"], env=env, capture_output=True,
                             text=True, timeout=120)
    assert missing.returncode == 1 and "s3://no-such-bucket-vnreader/pod/" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_run_publishes_with_the_flag_or_the_storage_table(s3_server, s3_bucket, tmp_path, monkeypatch):
    import argparse
    from datetime import datetime, timezone

    from daily_support import FakeRenderer, Site, fake_stages, write_config
    from reader import daily
    from reader.cli import run_exit_code, run_summary

    real_run = daily.run
    now = datetime(2017, 7, 28, 8, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(daily, "run", lambda config, **kw: real_run(
        config, **{**kw, "stages": fake_stages(FakeRenderer()), "now": now}))
    base = base_url(s3_server, s3_bucket)
    with Site() as site:
        cfg = write_config(tmp_path / "s.toml", site, [{"name": "VnExpress", "url": "/feeds/vnexpress-2.xml",
                                                         "limit": 2}])
        args = argparse.Namespace(config=str(cfg), out=str(tmp_path / "out"), state=None, base_url=base,
                                  rerender=False, quiet=True, verbose=False, log_json=False, timeout=None,
                                  publish=f"s3://{s3_bucket}/pod")
        rep = daily.run_from_args(args)
        assert len(rep.new) == 2 and run_exit_code(rep) == 0
        assert rep.published is not None and rep.published.uploaded[-1] == "feed.xml"
        line = f"  published to s3://{s3_bucket}/pod: {len(rep.published.uploaded)} uploaded, 0 unchanged, 0 deleted"
        assert line in run_summary(rep)
        assert len(check_feed(s3_server, s3_bucket)) == 2

        cfg.write_text(cfg.read_text(encoding="utf-8") + '\n[storage]\nurl = "s3://no-such-bucket-vnreader/x"\n',
                       encoding="utf-8")
        args.publish = None
        rep = daily.run_from_args(args)  # nothing new; the table's target fails: the run says so, exit 1
        assert rep.published is None and run_exit_code(rep) == 1
        assert rep.failed[-1][0] == "publish to s3://no-such-bucket-vnreader/x"


# ---------------------------------------------------------------- the shared clip cache
CACHE_SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
from fakes.engines import ToneEngine
from reader import pipeline
from reader.models import Sentence
from reader.tts.render import render
cache = pipeline.default_cache()
engine = ToneEngine()
texts = ["Xin chào.", "Hà Nội mưa to.", "Tạm biệt quý vị."]
result = render([Sentence(text=t, spoken=t) for t in texts], engine, cache=cache)
print(json.dumps({"cache": type(cache).__name__, "calls": engine.calls, "cached": result.cached,
                  "pcm": [c.pcm.hex() for c in result.clips]}))
"""


def test_shared_clip_cache_between_two_processes(s3_server, s3_env, s3_bucket, tmp_path):
    """Two workers with their own local caches: what the first speaks, the second only reads."""
    import json

    def worker(name: str) -> dict:
        env = {**os.environ, **s3_env, "PYTHONPATH": str(ROOT), "VNREADER_CACHE": str(tmp_path / name),
               "VNREADER_CACHE_URL": f"s3://{s3_bucket}/clips"}
        proc = subprocess.run([sys.executable, "-c", CACHE_SCRIPT, str(ROOT / "tests")], env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    first, second = worker("one"), worker("two")
    assert first["cache"] == second["cache"] == "SharedClipCache"
    assert (len(first["calls"]), first["cached"]) == (3, 0)
    assert (second["calls"], second["cached"]) == ([], 3)
    assert second["pcm"] == first["pcm"]
    keys = [o.key for o in open_storage(f"s3://{s3_bucket}/clips").list()]
    assert len(keys) == 3 and all(k.endswith(".clip") for k in keys)
