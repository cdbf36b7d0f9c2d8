"""reader.storage: the folder backend, URLs, keys and content types (no server needed)."""
from __future__ import annotations

import builtins
import os
import sys

import pytest

from reader.errors import StorageError, UsageError
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
