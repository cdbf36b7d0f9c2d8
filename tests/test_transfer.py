"""Workers that share no folder with the run: episodes through the storage's staging prefix (reader/transfer.py).

The first tests need no server (a folder storage). The distributed ones run the whole setup with
the three real services: ``vnreader run --queue`` with its state in PostgreSQL (a schema of its
own), three ``vnreader worker`` processes each with a folder of its own (scratch and clip
cache), episodes staged in SeaweedFS and ``--publish`` to the same bucket; the published feed,
fetched from the S3 endpoint over HTTP, is checked against a single-machine run of the same site.
"""
from __future__ import annotations

import hashlib
import re
import subprocess
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import s3_support
from queue_support import REDIS_URL, NewsSite, Workers, queue_env, unique_name, vnreader
from reader.artwork import make_cover
from reader.config import parse_sources
from reader.errors import ConfigError, StorageError
from reader.storage import LocalStorage
from reader.transfer import already_staged, fetch, staging_url, upload

s3_server, s3_env, s3_bucket = s3_support.s3_server, s3_support.s3_env, s3_support.s3_bucket  # fixtures

KEY = "ab" * 32


def _episode_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "tin-abababab.mp3").write_bytes(b"ID3" + b"x" * 1000)
    (folder / "tin-abababab.vtt").write_text("WEBVTT\n", encoding="utf-8")
    (folder / "tin-abababab.episode.json").write_text('{"path": "tin-abababab.mp3"}\n', encoding="utf-8")
    return folder


# ---------------------------------------------------------------- no server needed
def test_staged_episode_arrives_whole_and_staging_is_emptied(tmp_path):
    staging = LocalStorage(tmp_path / "bucket" / ".staging")
    files = upload(staging, KEY, _episode_folder(tmp_path / "scratch"))
    assert [f.name for f in files][-1].endswith(".episode.json")  # the record last
    assert already_staged(staging, KEY) == files
    out = tmp_path / "out"
    out.mkdir()
    record = fetch(staging, KEY, files, out)
    assert record == out / "tin-abababab.episode.json"
    assert sorted(p.name for p in out.iterdir()) == sorted(f.name for f in files)
    assert (out / "tin-abababab.mp3").read_bytes() == (tmp_path / "scratch" / "tin-abababab.mp3").read_bytes()
    assert not list((tmp_path / "bucket" / ".staging").rglob("*.*"))


def test_without_its_record_a_staged_set_is_not_complete(tmp_path):
    staging = LocalStorage(tmp_path / "staging")
    folder = _episode_folder(tmp_path / "scratch")
    (folder / "tin-abababab.episode.json").unlink()  # a worker killed before its last upload
    upload(staging, KEY, folder)
    assert already_staged(staging, KEY) is None


def test_a_staged_file_that_is_not_what_the_worker_sent_is_refused(tmp_path):
    staging = LocalStorage(tmp_path / "staging")
    files = upload(staging, KEY, _episode_folder(tmp_path / "scratch"))
    staging.put(f"{KEY}/tin-abababab.mp3", b"ID3" + b"y" * 1000)  # same size, other bytes
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(StorageError, match="not what the worker uploaded"):
        fetch(staging, KEY, files, out)
    assert not (out / "tin-abababab.episode.json").exists()  # nothing of it is recorded


def test_the_runs_cover_travels_to_the_scratch_folder_and_not_back(tmp_path):
    from reader.transfer import get_cover, put_cover

    staging = LocalStorage(tmp_path / "staging")
    run_out = tmp_path / "out"
    run_out.mkdir()
    assert put_cover(staging, run_out) == ""  # no cover yet
    (run_out / "cover.png").write_bytes(b"PNG-bytes")
    key = put_cover(staging, run_out)
    assert key.startswith("covers/") and key.endswith(".png")
    scratch = _episode_folder(tmp_path / "scratch")
    get_cover(staging, key, scratch)
    assert (scratch / "cover.png").read_bytes() == b"PNG-bytes"
    assert "cover.png" not in [f.name for f in upload(staging, KEY, scratch)]


@pytest.mark.slow
def test_a_worker_redoes_a_half_staged_job_and_reuses_a_whole_one(tmp_path, monkeypatch):
    """A worker killed mid-upload left the MP3's first bytes and no record: the next worker to get
    the job renders and uploads it whole; a job run again after that finds the whole set and
    answers with it without speaking."""
    from fakes.engines import ToneEngine
    from reader.models import Document
    from reader.pipeline import RenderOptions, article_key, slugify
    from reader.queue import RenderJob, run_job
    from reader.tts import ENGINES

    engine = ToneEngine("tone")
    monkeypatch.setitem(ENGINES, "tone", lambda **kw: engine)
    monkeypatch.setenv("VNREADER_CACHE", str(tmp_path / "clips"))
    monkeypatch.setenv("VNREADER_WORKER_DIR", str(tmp_path / "scratch"))
    doc = Document(title="Tin số một", paragraphs=("Sáng nay trời mưa.", "Chiều nắng."), url="http://x.vn/1")
    options = RenderOptions(engine="tone", made_by="run")
    key = article_key(doc, options)
    staging = LocalStorage(tmp_path / "bucket" / ".staging")
    name = f"{slugify(doc.title)}-{key[:10]}"
    staging.put(f"{key}/{name}.mp3", b"ID3 half")
    job = RenderJob(key=key, doc=doc, options=options, staging=staging.url)

    answer = run_job(job.to_dict())
    assert answer["reused"] is False and engine.calls
    files = [f["name"] for f in answer["staged"]["files"]]
    assert files[-1] == f"{name}.episode.json" and f"{name}.mp3" in files
    assert staging.head(f"{key}/{name}.mp3").size > len(b"ID3 half")
    assert not list((tmp_path / "scratch").iterdir())  # the scratch folder is gone
    engine.calls.clear()
    again = run_job(job.to_dict())
    assert again == {**answer, "reused": True} and not engine.calls  # nothing spoken twice


def test_staging_url_and_transfer_key():
    assert staging_url("s3://podcast/tin/") == "s3://podcast/tin/.staging"
    base = '[[sources]]\nname = "A"\nurl = "https://a.vn/rss"\n'
    assert parse_sources(base).queue_transfer == "folder"
    assert parse_sources(base + '[queue]\ntransfer = "storage"\n').queue_transfer == "storage"
    with pytest.raises(ConfigError, match="transfer 'nfs' is not one of folder, storage"):
        parse_sources(base + '[queue]\ntransfer = "nfs"\n')


def test_storage_transfer_without_a_storage_is_a_usage_error(tmp_path, capsys):
    from reader.cli import main

    cfg = tmp_path / "sources.toml"
    cfg.write_text('[queue]\ntransfer = "storage"\n[[sources]]\nname = "A"\nurl = "http://127.0.0.1:9/rss"\n',
                   encoding="utf-8")
    assert main(["run", "--config", str(cfg), "--out", str(tmp_path / "out"), "--queue", REDIS_URL]) == 2
    assert "the workers' episodes need a storage to go through" in capsys.readouterr().err


# ---------------------------------------------------------------- distributed: helpers
def _published(server, bucket: str, prefix: str) -> list[dict]:
    """The feed's items as a podcast app sees them, over HTTP from the S3 endpoint."""
    with urllib.request.urlopen(f"{server.endpoint}/{bucket}/{prefix}/feed.xml", timeout=10) as resp:
        root = ET.fromstring(resp.read())
    return [{"title": it.findtext("title"), "guid": it.findtext("guid"), "url": it.find("enclosure").get("url"),
             "length": int(it.find("enclosure").get("length"))} for it in root.iter("item")]


def _local_items(out: Path) -> set[tuple[str, str, str, int]]:
    root = ET.parse(out / "feed.xml").getroot()
    return {(it.findtext("title"), it.findtext("guid"), it.find("enclosure").get("url").rsplit("/", 1)[1],
             int(it.find("enclosure").get("length"))) for it in root.iter("item")}


def _assert_published(server, bucket: str, prefix: str, titles: set[str], local: Path) -> None:
    """Every article exactly once, every enclosure downloadable with its length, the single-machine set;
    no staged object left, every object whole (its bytes hash to the SHA-256 stored at upload)."""
    items = _published(server, bucket, prefix)
    assert sorted(i["title"] for i in items) == sorted(titles)
    assert len({i["guid"] for i in items}) == len(items)
    for item in items:
        with urllib.request.urlopen(item["url"], timeout=10) as resp:
            body = resp.read()
        assert len(body) == item["length"] == int(resp.headers["Content-Length"]) > 0
        assert body[:3] == b"ID3"
    assert {(i["title"], i["guid"], i["url"].rsplit("/", 1)[1], i["length"]) for i in items} == _local_items(local)
    client = server.client()
    keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", ())]
    assert not [k for k in keys if "/.staging/" in k and "/.staging/covers/" not in k]  # covers stay
    assert len([k for k in keys if k.endswith(".mp3")]) == len(titles)
    for key in keys:
        obj = client.get_object(Bucket=bucket, Key=key)
        assert hashlib.sha256(obj["Body"].read()).hexdigest() == obj["Metadata"]["sha256"], key


def _own_folder_workers(env: dict, tmp: Path, n: int = 3) -> Workers:
    """``n`` workers, each with its own scratch folder and clip cache (no folder shared with the run)."""
    workers = Workers(REDIS_URL, env, tmp / "logs", n=0)
    for i in range(n):
        workers.add(VNREADER_WORKER_DIR=str(tmp / f"w{i}" / "scratch"), VNREADER_CACHE=str(tmp / f"w{i}" / "clips"))
    return workers


def _done_jobs(workers: Workers) -> list[list[str]]:
    return [re.findall(r"event=job-done key=(\w+) file=\S+ reused=False", workers.log(i))
            for i in range(len(workers.procs))]


def _setup(site: NewsSite, tmp: Path, server, bucket: str) -> tuple[Path, list[str]]:
    cfg = site.write_config(tmp / "sources.toml", extra='\n[queue]\ntransfer = "storage"\n')
    base = f"{server.endpoint}/{bucket}/feed/"
    return cfg, ["--base-url", base, "--publish", f"s3://{bucket}/feed", "--queue", REDIS_URL]


# ---------------------------------------------------------------- distributed
@pytest.mark.distributed
@pytest.mark.slow
def test_workers_without_a_shared_folder_publish_the_single_machine_feed(tmp_path, s3_server, s3_env, s3_bucket,
                                                                         pg_url):
    with NewsSite(tmp_path / "out") as site:
        assert len(site.articles()) >= 30 and site.n_feeds >= 3
        cfg, args = _setup(site, tmp_path, s3_server, s3_bucket)
        for folder in ("local", "out"):  # a cover from an earlier run: every render embeds it
            make_cover(tmp_path / folder / "cover.jpg", "Tin thử hàng đợi")
        env = queue_env(unique_name(), tmp_path, VNREADER_TONE_DELAY="0.01", **s3_env)
        with _own_folder_workers(env, tmp_path) as workers:
            local = subprocess.run(vnreader("run", "--config", str(cfg), "--out", str(tmp_path / "local"),
                                            "--base-url", f"{s3_server.endpoint}/{s3_bucket}/feed/"),
                                   env=queue_env(unique_name(), tmp_path / "solo"), capture_output=True, text=True,
                                   timeout=120)
            assert local.returncode == 0, local.stderr  # while the workers start
            workers.wait_ready()
            r = subprocess.run(vnreader("run", "--config", str(cfg), "--out", str(tmp_path / "out"),
                                        "--state", pg_url, *args), env=env, capture_output=True, text=True,
                               timeout=120)
            assert r.returncode == 0, r.stderr
            assert r.stdout.startswith("new 33, skipped 0, failed 0, removed 0; feed updated")
            _assert_published(s3_server, s3_bucket, "feed", site.titles(), tmp_path / "local")
            done = _done_jobs(workers)
            assert sum(len(keys) for keys in done) == 33 and sum(1 for keys in done if keys) >= 2
            assert f"staged=s3://{s3_bucket}/feed/.staging" in workers.log(0)
            covers = s3_server.client().list_objects_v2(Bucket=s3_bucket, Prefix="feed/.staging/covers/")
            assert [o["Size"] for o in covers["Contents"]] == [(tmp_path / "out" / "cover.jpg").stat().st_size]
            for i in range(3):  # each worker's own folders: scratch emptied after every job
                assert not list((tmp_path / f"w{i}" / "scratch").iterdir())
            assert workers.stop() == [0, 0, 0]


@pytest.mark.distributed
@pytest.mark.slow
def test_killed_worker_leaves_no_half_object_and_no_duplicate(tmp_path, s3_server, s3_env, s3_bucket, pg_url):
    """SIGKILL a worker (and its pool) mid-job: its job is redone elsewhere, the run completes, the
    bucket holds one whole episode per article and nothing staged."""
    with NewsSite(tmp_path / "out", per_feed=4) as site:
        cfg, args = _setup(site, tmp_path, s3_server, s3_bucket)
        env = queue_env(unique_name(), tmp_path, VNREADER_TONE_DELAY="0.08", **s3_env)
        with _own_folder_workers(env, tmp_path) as workers:
            local = subprocess.run(vnreader("run", "--config", str(cfg), "--out", str(tmp_path / "local"),
                                            "--base-url", f"{s3_server.endpoint}/{s3_bucket}/feed/"),
                                   env=queue_env(unique_name(), tmp_path / "solo"), capture_output=True, text=True,
                                   timeout=120)
            assert local.returncode == 0, local.stderr
            workers.wait_ready()
            run = subprocess.Popen(vnreader("run", "--config", str(cfg), "--out", str(tmp_path / "out"),
                                            "--state", pg_url, *args),
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            start = time.monotonic()
            while "event=job-start" not in workers.log(0):
                assert time.monotonic() - start < 60, "worker 0 started no job"
                time.sleep(0.05)
            taken = re.findall(r"event=job-start key=(\w{10})", workers.log(0))[-1]
            workers.kill(0)
            out, err = run.communicate(timeout=90)
            assert run.returncode == 0, err
            assert out.startswith("new 12, skipped 0, failed 0")
            _assert_published(s3_server, s3_bucket, "feed", site.titles(), tmp_path / "local")
            assert taken not in _done_jobs(workers)[0]
            assert taken in [k for keys in _done_jobs(workers)[1:] for k in keys]  # redone elsewhere
            assert workers.stop()[1:] == [0, 0]
