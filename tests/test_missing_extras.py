"""An install without the optional extras (``pip install vnreader``, no ``[s3]``, ``[postgres]``, ``[queue]``):
each feature that needs one stops with a clear error naming the input and the extra to install,
before a run does any work. ``.ci/wheel-check`` checks the same on an installed wheel."""
from __future__ import annotations

import builtins
import sys

import pytest
from daily_support import Site, write_config

from reader import pipeline
from reader.errors import UsageError
from reader.storage import open_storage
from reader.store import open_store


@pytest.fixture
def no_boto3(monkeypatch):
    """``import boto3`` / ``import botocore…`` fail, as in an install without ``vnreader[s3]``."""
    real_import = builtins.__import__

    def blocked(name, *args, **kwargs):
        if name == "boto3" or name.startswith("botocore"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    for mod in [m for m in sys.modules if m == "boto3" or m.startswith(("boto3.", "botocore"))]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setattr(builtins, "__import__", blocked)


def test_s3_without_boto3_names_the_url_and_the_extra(no_boto3):
    with pytest.raises(UsageError) as e:
        open_storage("s3://podcast/tin")
    assert str(e.value) == ("s3://podcast/tin: S3 storage needs boto3, which is not installed "
                            "(pip install 'vnreader[s3]' (the S3 extra: boto3))")


def test_state_url_without_psycopg_names_the_url_not_a_flag(monkeypatch):
    """``[state] url`` in the sources file: the error names that URL (password hidden), not ``--state``."""
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg → ImportError
    with pytest.raises(UsageError) as e:
        open_store("postgresql://vn:s3cret@db.example:5432/vn")
    text = str(e.value)
    assert text.startswith("postgresql://vn:***@db.example:5432/vn: PostgreSQL state needs the psycopg package")
    assert "pip install 'vnreader[postgres]'" in text and "--state" not in text and "s3cret" not in text


def test_cache_url_without_boto3_names_the_variable(no_boto3, monkeypatch, tmp_path):
    monkeypatch.setenv("VNREADER_CACHE", str(tmp_path / "clips"))
    monkeypatch.setenv("VNREADER_CACHE_URL", "s3://podcast/clips")
    seen: list[Exception] = []
    assert pipeline.default_cache(warn=seen.append) is None
    assert str(seen[0]).startswith("VNREADER_CACHE_URL=s3://podcast/clips: S3 storage needs boto3")
    assert "vnreader[s3]" in str(seen[0])


@pytest.mark.parametrize("how", ["storage-url", "publish-flag"])
def test_run_publishing_to_s3_without_boto3_stops_before_anything_runs(no_boto3, tmp_path, capsys, monkeypatch, how):
    """Exit 2 with the fix before a feed is fetched (it used to render everything, then fail to publish)."""
    from reader.cli import main

    monkeypatch.setenv("VNREADER_CACHE", str(tmp_path / "clips"))
    with Site() as site:
        extra = '\n[storage]\nurl = "s3://podcast/tin"\n' if how == "storage-url" else ""
        config = write_config(tmp_path / "sources.toml", site, [{"name": "VnExpress", "url": "/feeds/vnexpress-2.xml"}],
                              extra=extra)
        argv = ["run", "--config", str(config), "--out", str(tmp_path / "out")]
        if how == "publish-flag":
            argv += ["--publish", "s3://podcast/tin"]
        assert main(argv) == 2
        assert site.hits == {}
    err = capsys.readouterr().err
    assert "s3://podcast/tin: S3 storage needs boto3, which is not installed" in err and "vnreader[s3]" in err
    assert not (tmp_path / "out" / "feed.xml").exists()


@pytest.fixture
def no_celery(monkeypatch):
    """``import celery`` fails, as in an install without ``vnreader[queue]``."""
    real_import = builtins.__import__

    def blocked(name, *args, **kwargs):
        if name == "celery" or name.startswith("celery."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", blocked)


@pytest.mark.parametrize("how", ["queue-url", "queue-flag"])
def test_queue_without_celery_names_the_url_not_a_flag(no_celery, tmp_path, capsys, monkeypatch, how):
    """``[queue] url`` in the sources file (or ``--queue``): exit 2 before a feed is fetched, the error
    naming that broker URL (password hidden) and the extra, as ``[state] url`` does."""
    from reader.cli import main

    monkeypatch.setenv("VNREADER_CACHE", str(tmp_path / "clips"))
    url = "redis://vn:s3cret@queue.example:6379/0"
    with Site() as site:
        extra = f'\n[queue]\nurl = "{url}"\n' if how == "queue-url" else ""
        config = write_config(tmp_path / "sources.toml", site, [{"name": "VnExpress", "url": "/feeds/vnexpress-2.xml"}],
                              extra=extra)
        argv = ["run", "--config", str(config), "--out", str(tmp_path / "out")]
        if how == "queue-flag":
            argv += ["--queue", url]
        assert main(argv) == 2
        assert site.hits == {}
    err = capsys.readouterr().err
    assert "redis://vn:***@queue.example:6379/0: the job queue needs Celery, which is not installed" in err
    assert "pip install 'vnreader[queue]'" in err and "--queue:" not in err and "s3cret" not in err
    assert not (tmp_path / "out" / "feed.xml").exists()


def test_missing_sources_file_names_the_shipped_example(tmp_path, monkeypatch):
    """An installed wheel has no feeds/ folder in the current one: the fix says where the example is."""
    from reader.config import ConfigError, example_sources, load_sources

    example = example_sources()
    assert example is not None and example.name == "sources.toml"
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as e:
        load_sources()
    assert str(e.value) == (f"feeds/sources.toml: no such sources file (give --config FILE, or start from the "
                            f"example: mkdir -p feeds && cp {example} feeds/sources.toml)")
    load_sources(example)  # the example itself is a valid sources file


@pytest.mark.parametrize("base_url, warned", [(None, True), ("https://podcast.example.vn/tin/", False)])
def test_publishing_to_s3_with_the_default_base_url_warns(tmp_path, monkeypatch, base_url, warned):
    """A feed in a bucket whose links point at 127.0.0.1:8000 reaches no listener: the run says so."""
    import argparse

    from reader import daily

    seen = {}

    def fake_run(config, *, log, **kw):
        seen["warnings"] = list(log.warnings)
        return daily.RunReport(warnings=list(log.warnings))

    monkeypatch.setattr(daily, "run", fake_run)
    monkeypatch.setattr(daily, "publish_after_run", lambda *a, **k: None)
    config = tmp_path / "s.toml"
    config.write_text('[[sources]]\nname = "A"\nurl = "http://127.0.0.1:9/feed.xml"\n', encoding="utf-8")
    args = argparse.Namespace(config=str(config), out=str(tmp_path / "out"), state=None, base_url=base_url,
                              rerender=False, quiet=True, verbose=False, log_json=False, timeout=None,
                              publish="s3://podcast/tin")
    daily.run_from_args(args)
    expected = ["the feed is published to s3://podcast/tin, but its links point at http://127.0.0.1:8000/ "
                "(set base_url in [run], or --base-url, to the public URL of that prefix)"]
    assert seen["warnings"] == (expected if warned else [])
