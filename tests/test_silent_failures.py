"""What used to be lost in silence now says so, once: in the run's log and summary during a
daily run, as a ``logging`` warning otherwise."""
from __future__ import annotations

import io
import logging
from datetime import datetime, timezone

import pytest

from daily_support import FakeRenderer, Site, fake_stages, write_config
from reader import daily, pipeline
from reader import episodes as records
from reader.cli import run_summary
from reader.config import load_sources
from reader.logs import RunLog

NOW = datetime(2017, 9, 1, 8, 0, tzinfo=timezone.utc)
SOURCES = [{"name": "VnExpress", "url": "/feeds/vnexpress-2.xml", "limit": 2}]


def damaged_record(tmp_path, monkeypatch):
    (tmp_path / "bad.mp3").write_bytes(b"ID3")
    (tmp_path / f"bad{records.SUFFIX}").write_text("{not json", encoding="utf-8")
    assert records.load_all(tmp_path) == []


def unusable_cache(tmp_path, monkeypatch):
    from reader.tts import cache

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "clips"))

    monkeypatch.setattr(cache, "ClipCache", refused)
    assert pipeline.default_cache() is None


def profiles_fail(tmp_path, monkeypatch):
    import reader.extract
    from reader import config
    from reader.errors import ConfigError

    def broken():
        raise ConfigError("feeds/sites/x.toml", "not valid TOML")

    monkeypatch.setattr(reader.extract, "load_profiles", broken)
    assert config._known_sites() is None


def trafilatura_fails(tmp_path, monkeypatch):
    import trafilatura

    from reader.extract.generic import trafilatura_paragraphs

    def boom(*args, **kwargs):
        raise ValueError("odd page")

    monkeypatch.setattr(trafilatura, "extract", boom)
    assert trafilatura_paragraphs("<html><body><p>x</p></body></html>") == []


def piper_config_unreadable(tmp_path, monkeypatch):
    from reader.tts.piper import PiperEngine

    engine = PiperEngine(voice=str(tmp_path / "vi_VN-x.onnx"))
    assert engine.sample_rate == 22050 and engine.sample_rate == 22050  # told once, not per call


# (what loses something, the warning's words)
SILENT = [
    (damaged_record, "bad.episode.json: damaged episode record"),
    (unusable_cache, "clip cache unusable"),
    (profiles_fail, "site profiles could not be loaded"),
    (trafilatura_fails, "trafilatura failed on a page"),
    (piper_config_unreadable, "vi_VN-x.onnx.json unreadable, 22050 Hz assumed"),
]


@pytest.mark.parametrize("lose, words", SILENT,
                         ids=["damaged-record", "unusable-clip-cache", "site-profiles-fail", "trafilatura-error",
                              "piper-voice-config"])
def test_a_silent_loss_logs_once(lose, words, tmp_path, monkeypatch, caplog):
    with caplog.at_level(logging.WARNING, logger="reader"):
        lose(tmp_path, monkeypatch)
    said = [r.getMessage() for r in caplog.records if words in r.getMessage()]
    assert len(said) == 1, caplog.text


@pytest.fixture
def site():
    with Site() as s:
        yield s


def test_a_damaged_record_in_a_run_is_one_warning_in_the_summary(site, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.mp3").write_bytes(b"ID3")
    (out / f"old{records.SUFFIX}").write_text("{not json", encoding="utf-8")
    stream = io.StringIO()
    cfg = write_config(tmp_path / "s.toml", site, SOURCES)
    rep = daily.run(load_sources(cfg), out_dir=out, base_url="http://127.0.0.1:8000/",
                    stages=fake_stages(FakeRenderer()), log=RunLog(stream=stream), now=NOW)
    assert rep.warnings == [w for w in rep.warnings if w.startswith("old.episode.json: damaged episode record")]
    assert len(rep.warnings) == 1
    assert stream.getvalue().count("event=damaged-record") == 1  # load_all runs more than once a run
    assert "  1 warning: old.episode.json: damaged episode record" in "\n".join(run_summary(rep))


def test_a_logging_warning_during_a_run_goes_to_the_run_log(site, tmp_path, monkeypatch):
    def warn_and_extract(article, **kw):
        logging.getLogger("reader.extract.generic").warning("trafilatura failed on a page, its fallback text is lost")
        from daily_support import fake_extract

        return fake_extract(article)

    stages = daily.Stages(extract=warn_and_extract, render=FakeRenderer().render,
                          render_digest=FakeRenderer().render_digest)
    stream = io.StringIO()
    cfg = write_config(tmp_path / "s.toml", site, SOURCES)
    rep = daily.run(load_sources(cfg), out_dir=tmp_path / "out", base_url="http://127.0.0.1:8000/",
                    stages=stages, log=RunLog(stream=stream), now=NOW)
    assert rep.warnings == ["trafilatura failed on a page, its fallback text is lost"]
    assert stream.getvalue().count("event=generic") == 1
    assert logging.getLogger("reader").propagate and not logging.getLogger("reader").handlers  # put back after
