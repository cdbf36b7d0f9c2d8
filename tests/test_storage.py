"""reader.storage: the folder backend, URLs, keys and content types (no server needed)."""
from __future__ import annotations

import builtins
import os
import sys

import pytest
from s3_support import make_out, rebuild_feed, remove_episode, write_episode

from reader import daily
from reader.errors import LockedError, StorageError, UsageError
from reader.publish import publish
from reader.storage import LocalStorage, S3Storage, check_key, content_type_of, open_storage, sha256_of

CONTENT_TYPE_CASES = [
    ("ep.mp3", "audio/mpeg"), ("feed.xml", "application/rss+xml"), ("index.html", "text/html; charset=utf-8"),
    ("ep.chapters.json", "application/json+chapters"), ("ep.episode.json", "application/json"),
    ("ep.vtt", "text/vtt; charset=utf-8"), ("ep.srt", "application/x-subrip"), ("cover.jpg", "image/jpeg"),
    ("COVER.JPEG", "image/jpeg"), ("art.png", "image/png"), ("x.clip", "application/octet-stream"),
]


@pytest.mark.parametrize("key, expected", CONTENT_TYPE_CASES, ids=[c[0] for c in CONTENT_TYPE_CASES])
def test_content_type(key, expected):
    assert content_type_of(key) == expected


BAD_KEYS = ["", "/abs.mp3", "../up.mp3", "a/../b", "a//b", "./a", "a\\b", "nul\0.mp3", "dir/"]


@pytest.mark.parametrize("key", BAD_KEYS, ids=[repr(k) for k in BAD_KEYS])
def test_bad_keys_are_usage_errors(key, tmp_path):
    with pytest.raises(UsageError) as e:
        LocalStorage(tmp_path).put(key, b"x")
    assert "not a storage key" in str(e.value) and "'..'" in str(e.value)
    assert list(tmp_path.parent.glob("up.mp3")) == []


def test_good_key():
    assert check_key("clips/ab/abc.clip") == "clips/ab/abc.clip"


URL_CASES = [
    ("s3://bucket", "bucket", ""), ("s3://bucket/", "bucket", ""), ("s3://bucket/a/b/", "bucket", "a/b"),
]


@pytest.mark.parametrize("url, bucket, prefix", URL_CASES, ids=[c[0] for c in URL_CASES])
def test_s3_urls(url, bucket, prefix, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    store = open_storage(url)
    assert isinstance(store, S3Storage) and (store.bucket, store.prefix) == (bucket, prefix)
    assert store.key("feed.xml") == (f"{prefix}/feed.xml" if prefix else "feed.xml")


BAD_URLS = [("s3:///prefix", "no bucket"), ("s3://b/p?x=1", "no query"), ("gs://bucket/p", "unknown storage URL"),
            ("s3://b/../x", "not a storage key"), ("  ", "empty storage URL")]


@pytest.mark.parametrize("url, words", BAD_URLS, ids=[c[0] for c in BAD_URLS])
def test_bad_urls(url, words):
    with pytest.raises(UsageError) as e:
        open_storage(url)
    assert words in str(e.value) and "(" in str(e.value)  # a fix is given


def test_folder_urls(tmp_path):
    assert isinstance(open_storage(tmp_path), LocalStorage)
    assert open_storage(f"file://{tmp_path}").root == tmp_path
    assert open_storage(str(tmp_path / "x")).root == tmp_path / "x"


def test_missing_boto3_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_boto(name, *args, **kwargs):
        if name == "boto3" or name.startswith("botocore"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "boto3", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_boto)
    with pytest.raises(UsageError) as e:
        open_storage("s3://bucket/p")
    assert "boto3" in str(e.value) and "vnreader[s3]" in str(e.value)


def test_local_put_get_head_list_delete(tmp_path):
    store = LocalStorage(tmp_path / "pub")
    info = store.put("a.mp3", b"audio")
    assert (info.key, info.size, info.sha256, info.content_type) == ("a.mp3", 5, sha256_of(b"audio"), "audio/mpeg")
    src = tmp_path / "src.vtt"
    src.write_bytes(b"WEBVTT\n")
    store.put("sub/b.vtt", src)
    (tmp_path / "pub" / ".a.mp3.123.part").write_bytes(b"half")  # a temp file is not an object
    assert store.get("a.mp3") == b"audio" and store.get("sub/b.vtt") == b"WEBVTT\n"
    assert store.get("missing") is None and store.head("missing") is None and store.get("a.mp3/x") is None
    head = store.head("sub/b.vtt")
    assert head is not None and (head.size, head.sha256) == (7, sha256_of(src))
    assert [(o.key, o.size) for o in store.list()] == [("a.mp3", 5), ("sub/b.vtt", 7)]
    assert [o.key for o in store.list("sub")] == ["sub/b.vtt"]
    assert store.list("nothing") == []
    store.delete("a.mp3")
    store.delete("a.mp3")
    assert [o.key for o in store.list()] == ["sub/b.vtt"]


def test_local_put_replaces_atomically(tmp_path):
    store = LocalStorage(tmp_path)
    store.put("feed.xml", b"old")
    store.put("feed.xml", b"new")
    assert (tmp_path / "feed.xml").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.xml"]  # no temp file left


def test_local_write_failure_is_a_storage_error(tmp_path, monkeypatch):
    import errno

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(StorageError) as e:
        LocalStorage(tmp_path).put("a.mp3", b"x")
    assert "No space left on device" in str(e.value) and "free space" in str(e.value)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- publishing to a folder

BASE = "https://podcast.example.vn/tin/"


def test_publish_to_a_folder_in_order(tmp_path):
    out = make_out(tmp_path / "out", ["a", "b"], BASE)
    order: list[str] = []
    rep = publish(out, tmp_path / "pub", on_upload=order.append, workers=1)
    assert order == ["a.mp3", "a.vtt", "b.mp3", "b.vtt", "a.episode.json", "b.episode.json", "index.html",
                     "feed.xml"]
    assert rep.uploaded == tuple(order) and rep.unchanged == () and rep.deleted == ()
    assert sorted(p.name for p in (tmp_path / "pub").iterdir()) == sorted(order)  # no dot files
    assert (tmp_path / "pub" / "feed.xml").read_bytes() == (out / "feed.xml").read_bytes()


def test_publish_skips_unchanged_and_deletes_expired_after_the_feed(tmp_path):
    out = make_out(tmp_path / "out", ["a", "b"], BASE)
    publish(out, tmp_path / "pub")
    assert publish(out, tmp_path / "pub").uploaded == ()
    remove_episode(out, "a")
    write_episode(out, "c")
    rebuild_feed(out, BASE)
    (tmp_path / "pub" / "notes.txt").write_text("not ours")  # not a published name: left alone
    events: list[str] = []
    pub = tmp_path / "pub"
    rep = publish(out, pub, on_upload=lambda k: events.append(f"put {k} a.mp3 there={(pub / 'a.mp3').exists()}"),
                  workers=1)
    assert rep.uploaded == ("c.mp3", "c.vtt", "c.episode.json", "index.html", "feed.xml")
    assert rep.deleted == ("a.episode.json", "a.mp3", "a.vtt")
    assert all(e.endswith("there=True") for e in events)  # nothing deleted before the feed was up
    assert not (pub / "a.mp3").exists() and (pub / "notes.txt").exists()


def test_publish_refuses_a_folder_without_a_feed(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError) as e:
        publish(tmp_path / "empty", tmp_path / "pub")
    assert "no feed.xml here" in str(e.value) and "--out" in str(e.value)


def test_publish_refuses_the_folder_itself_inside_or_around_it(tmp_path):
    out = make_out(tmp_path / "out", ["a"], BASE)
    with pytest.raises(UsageError, match="the output folder itself"):
        publish(out, out)
    for target in (out / "pub", tmp_path):  # inside: it would publish itself; around: delete the source
        with pytest.raises(UsageError, match="inside the output folder, or holds it"):
            publish(out, target)
    assert (out / "a.mp3").is_file() and not (out / "pub").exists()


def test_publish_waits_for_no_run(tmp_path):
    out = make_out(tmp_path / "out", ["a"], BASE)
    with daily.run_lock(out):
        with pytest.raises(LockedError):
            publish(out, tmp_path / "pub")
    assert not (tmp_path / "pub").exists()


def test_cli_publish(tmp_path, capsys):
    from reader.cli import main

    out = make_out(tmp_path / "out", ["a"], BASE)
    assert main(["publish", str(out), str(tmp_path / "pub")]) == 0
    assert capsys.readouterr().out.strip() == f"published to {tmp_path / 'pub'}: 5 uploaded, 0 unchanged, 0 deleted"
    assert main(["publish", "--quiet", str(out), str(tmp_path / "pub")]) == 0
    assert capsys.readouterr().out == ""
    assert main(["publish", str(out), "gs://bucket/x"]) == 2
    assert "unknown storage URL scheme" in capsys.readouterr().err


# ---------------------------------------------------------------- [storage] url in the sources file
SOURCES = '[[sources]]\nname = "VnExpress"\nurl = "https://vnexpress.net/rss/tin-moi-nhat.rss"\n'


def test_config_storage_url(tmp_path):
    from reader.config import parse_sources

    assert parse_sources(SOURCES, tmp_path / "s.toml").storage_url is None
    cfg = parse_sources(SOURCES + '[storage]\nurl = "s3://podcast/tin"\n', tmp_path / "s.toml")
    assert cfg.storage_url == "s3://podcast/tin"
    cfg = parse_sources(SOURCES + '[storage]\nurl = "public"\n', tmp_path / "s.toml")
    assert cfg.storage_url == str(tmp_path / "public")


@pytest.mark.parametrize("url, words", [("s3://", "no bucket"), ("ftp://x/y", "unknown storage URL scheme")],
                         ids=["no-bucket", "ftp"])
def test_config_bad_storage_url_names_the_line(tmp_path, url, words):
    from reader.config import parse_sources
    from reader.errors import ConfigError

    with pytest.raises(ConfigError) as e:
        parse_sources(SOURCES + f'[storage]\nurl = "{url}"\n', tmp_path / "s.toml")
    assert f"s.toml:5: [storage] url: {words}" in str(e.value) and "s3://BUCKET/PREFIX" in str(e.value)


class FailingStorage(LocalStorage):
    """A folder whose put of one key fails (a storage error mid-publish)."""

    def __init__(self, root, fail: str):
        super().__init__(root)
        self.fail = fail

    def put(self, key, data, *, content_type=None):
        if key == self.fail:
            raise StorageError(key, "put: the storage refused it")
        return super().put(key, data, content_type=content_type)


def test_a_failed_upload_stops_before_the_feed(tmp_path):
    out = make_out(tmp_path / "out", ["a", "b", "c"], BASE)
    pub = tmp_path / "pub"
    with pytest.raises(StorageError, match="refused"):
        publish(out, FailingStorage(pub, "b.vtt"), workers=3)
    assert not (pub / "feed.xml").exists() and not (pub / "index.html").exists()
    assert not list(pub.glob("*.episode.json"))
    rep = publish(out, pub)  # the rerun finishes, skipping what made it
    assert rep.uploaded[-1] == "feed.xml" and "b.vtt" in rep.uploaded and "a.mp3" in rep.unchanged
