"""The [speech] table of the sources file: the remote engine's server, checked with file:line errors."""
from __future__ import annotations

import pytest

from reader.cli import main
from reader.config import SpeechSettings, parse_sources
from reader.errors import ConfigError
from reader.pipeline import RenderOptions
from tests.fakes import clear_proxies
from tests.fakes.speech_server import FakeSpeechServer

SOURCES = '''
[[sources]]
name = "VnExpress"
url = "https://vnexpress.net/rss/tin-moi-nhat.rss"
'''


def parse(speech: str):
    return parse_sources("[speech]\n" + speech + "\n" + SOURCES, "s.toml")


def test_no_speech_table_means_the_defaults():
    cfg = parse_sources(SOURCES, "s.toml")
    assert cfg.speech == SpeechSettings()
    assert cfg.speech.url is None and (cfg.speech.model, cfg.speech.voice) == ("tts-1", "alloy")


def test_every_key():
    cfg = parse('url = "http://gpu-box:8000/"\nmodel = "vi-neural"\nvoice = "hoai-my"\nconcurrency = 8\n'
                'rate = 12.5\nrate_url = "redis://queue-box:6379/0"\ntimeout = 90')
    assert cfg.speech == SpeechSettings(url="http://gpu-box:8000", model="vi-neural", voice="hoai-my", concurrency=8,
                                        rate=12.5, rate_url="redis://queue-box:6379/0", timeout=90.0)


def test_the_run_options_carry_it():
    cfg = parse('url = "http://gpu-box:8000"\nrate = 3')
    options = RenderOptions.from_config(cfg, cache=False)
    assert options.speech == cfg.speech
    assert options.speech_limit.rate == 3  # one bucket for the whole run
    eng = options.make_engine("remote")
    assert eng.settings.url == "http://gpu-box:8000" and eng._bucket() is options.speech_limit


def test_a_source_can_use_the_remote_engine():
    cfg = parse_sources('[run]\nengine = "remote"\n[speech]\nurl = "http://gpu-box:8000"\n' + SOURCES, "s.toml")
    assert cfg.engine == "remote"


@pytest.mark.parametrize("speech, line, words", [
    ('url = "http://gpu-box:8000"\nmodle = "x"', 3, "unknown key 'modle' in [speech] (did you mean 'model'?)"),
    ('url = "gpu-box:8000"', 2, "is not an http(s) URL"),
    ('url = "http://gpu-box:8000/v1/audio/speech"', 2, "is the endpoint, not the server's base URL"),
    ('url = "http://x"\nconcurrency = 0', 3, "concurrency must be at least 1"),
    ('url = "http://x"\nconcurrency = "4"', 3, "concurrency in [speech] must be an integer"),
    ('url = "http://x"\nrate = -1', 3, "rate must be 0 (no limit) or more"),
    ('url = "http://x"\nrate = 5\nrate_url = "http://queue:6379"', 4, "is not a Redis URL"),
    ('url = "http://x"\nrate_url = "redis://queue:6379/0"', 3, "rate_url is set but there is no rate to share"),
    ('url = "http://x"\ntimeout = 0', 3, "timeout must be more than 0 seconds"),
    ('url = "http://x"\nvoice = " "', 3, "voice is empty"),
], ids=["unknown-key", "not-a-url", "endpoint-not-base", "concurrency-0", "concurrency-type", "rate-negative",
        "rate-url-not-redis", "rate-url-without-rate", "timeout-0", "empty-voice"])
def test_mistakes_name_the_line_and_the_fix(speech, line, words):
    with pytest.raises(ConfigError) as e:
        parse(speech)
    assert e.value.line == line and str(e.value).startswith(f"s.toml:{line}: ") and words in str(e.value)
    assert "(" in str(e.value) and str(e.value).endswith(")")  # a fix


# ---------------------------------------------------------------- vnreader engines --config
def test_engines_asks_the_configured_server(tmp_path, capsys, monkeypatch):
    clear_proxies(monkeypatch)
    with FakeSpeechServer() as fake:
        cfg = tmp_path / "s.toml"
        cfg.write_text(f'[speech]\nurl = "{fake.base_url}"\nmodel = "vi-neural"\n' + SOURCES, encoding="utf-8")
        assert main(["engines", "--config", str(cfg)]) == 0
        line = capsys.readouterr().out.splitlines()[-1]
        assert line == f"remote   available: {fake.base_url} answers (model vi-neural, voice alloy)"
        assert main(["engines", "--config", str(cfg), "--speech-voice", "nam-minh"]) == 0
        assert capsys.readouterr().out.splitlines()[-1].endswith("(model vi-neural, voice nam-minh)")
    assert [r.path for r in fake.requests] == ["/v1/models", "/v1/models"]


def test_engines_says_when_the_server_is_down(capsys, monkeypatch):
    import socket

    clear_proxies(monkeypatch)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    assert main(["engines", "--speech-url", url]) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    assert line.startswith("remote   unavailable: ") and url in line and "connection refused" in line


@pytest.mark.parametrize("url", ["gpu-box:8000", "http://gpu-box:8000/v1/audio/speech"], ids=["no-scheme", "endpoint"])
def test_a_bad_speech_url_option_is_refused(url, capsys):
    with pytest.raises(SystemExit) as e:
        main(["read", "x.html", "-o", "x.mp3", "--engine", "remote", "--speech-url", url])
    assert e.value.code == 2 and "--speech-url" in capsys.readouterr().err
