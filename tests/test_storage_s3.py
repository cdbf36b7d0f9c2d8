"""reader.storage.S3Storage, publishing and the shared clip cache against a real S3 server (SeaweedFS).

The server is ``weed mini`` started for the session (``tests/s3_support.py``); every test gets
its own bucket.
"""
from __future__ import annotations

import pytest

from reader.errors import StorageError
from reader.storage import S3Storage, open_storage, sha256_of
import s3_support

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
