"""The remote engine against a local OpenAI-compatible speech server (tests/fakes/speech_server.py)."""
from __future__ import annotations

import io
import json
import socket
import struct
import subprocess
import sys
import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from reader.config import SpeechSettings
from reader.errors import EngineBusy, EngineError, EngineTimeout, EngineUnavailable, UsageError
from reader.models import Clip, Sentence
from reader.tts import ENGINES, get_engine
from reader.tts import render as render_mod
from reader.tts.remote import API_KEY_ENV, RemoteEngine, decode_wav, retry_after
from tests.fakes import clear_proxies, without_proxies
from tests.fakes.audio import SECONDS_PER_CHAR
from tests.fakes.speech_server import FakeSpeechServer

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-test-0123456789abcdef"


@pytest.fixture
def fake(monkeypatch):
    clear_proxies(monkeypatch)
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    with FakeSpeechServer() as server:
        yield server


def engine(fake, **settings) -> RemoteEngine:
    return get_engine("remote", speech=SpeechSettings(url=fake.base_url, **settings))


def sentences(*texts: str) -> list[Sentence]:
    return [Sentence(t, t, 1) for t in texts]


# ---------------------------------------------------------------- the registry and check()
def test_registered_last_and_not_configured_by_default():
    assert list(ENGINES)[-1] == "remote"
    why = get_engine("remote").check()
    assert why.startswith("not configured") and "--speech-url" in why and "[speech]" in why


def test_check_makes_no_request(fake):
    assert engine(fake).check() is None
    assert fake.requests == []


# ---------------------------------------------------------------- speaking
def test_speaks_one_sentence_into_pcm(fake):
    text = "Sáng 9.1, tại TP Hạ Long, hội nghị tổng kết công tác năm."
    clip = engine(fake).synthesize(text)
    assert (clip.engine, clip.voice, clip.sample_rate) == ("remote", "alloy", 24000)
    assert clip.duration == pytest.approx(len(text) * SECONDS_PER_CHAR, abs=0.001)
    samples = np.frombuffer(clip.pcm, "<i2")
    assert samples.max() > 7000  # the fake's sine, not silence
    [req] = fake.speech()
    assert req.body == {"model": "tts-1", "voice": "alloy", "input": text, "response_format": "wav", "speed": 1.0}
    assert req.headers["content-type"] == "application/json"
    assert "authorization" not in req.headers  # no key in the environment: none sent


@pytest.mark.parametrize("settings, call, body", [
    ({"model": "vi-neural", "voice": "hoai-my"}, {}, {"model": "vi-neural", "voice": "hoai-my", "speed": 1.0}),
    ({}, {"voice": "nam-minh", "rate": 1.25}, {"model": "tts-1", "voice": "nam-minh", "speed": 1.25}),
    ({}, {"rate": 0.5, "pitch": 30}, {"model": "tts-1", "voice": "alloy", "speed": 0.5}),
], ids=["model-and-voice-from-settings", "voice-and-rate-per-call", "pitch-ignored"])
def test_settings_and_call_reach_the_body(fake, settings, call, body):
    engine(fake, **settings).synthesize("Xin chào.", **call)
    got = fake.speech()[0].body
    assert {k: got[k] for k in body} == body


def test_api_key_from_the_environment_is_sent_as_bearer(fake, monkeypatch):
    fake.api_key = KEY
    monkeypatch.setenv(API_KEY_ENV, KEY)
    engine(fake).synthesize("Xin chào.")
    assert fake.speech()[0].headers["authorization"] == f"Bearer {KEY}"


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("mode, error, words", [
    ("429", EngineBusy, "answered 429"),
    ("503", EngineBusy, "answered 503"),
    ("500", EngineBusy, "answered 500"),
    ("drop", EngineBusy, "connection dropped"),
    ("400", EngineError, "fake error 400"),
], ids=["429", "503", "500", "drop", "400"])
def test_errors_are_translated(fake, mode, error, words):
    fake.mode = mode
    with pytest.raises(error) as e:
        engine(fake).synthesize("Xin chào.")
    assert type(e.value) is error and words in str(e.value)


@pytest.mark.parametrize("mode", ["429", "503"])
def test_busy_carries_the_servers_retry_after(fake, mode):
    fake.mode, fake.retry_after = mode, 7
    with pytest.raises(EngineBusy) as e:
        engine(fake).synthesize("Xin chào.")
    assert e.value.retry_after == 7.0


def test_a_500_has_no_retry_after(fake):
    fake.mode = "500"
    with pytest.raises(EngineBusy) as e:
        engine(fake).synthesize("Xin chào.")
    assert e.value.retry_after is None


@pytest.mark.parametrize("header, seconds", [
    ("120", 120.0), ("0", 0.0), ("1.5", 1.5), ("-3", 0.0),
    ("Fri, 04 Dec 2026 12:00:30 GMT", 30.0), ("Fri, 04 Dec 2026 11:59:00 GMT", 0.0),
    ("soon", None), ("", None),
], ids=["seconds", "zero", "fraction", "negative", "http-date", "date-past", "garbage", "empty"])
def test_retry_after_header(header, seconds):
    from datetime import datetime, timezone

    now = datetime(2026, 12, 4, 12, 0, 0, tzinfo=timezone.utc)
    assert retry_after({"retry-after": header} if header else {}, now=now) == seconds


@pytest.mark.parametrize("with_key", [False, True], ids=["no-key", "wrong-key"])
def test_401_names_the_environment_variable_and_never_the_key(fake, monkeypatch, caplog, with_key):
    fake.api_key = "the-right-one"
    if with_key:
        monkeypatch.setenv(API_KEY_ENV, KEY)
    caplog.set_level("DEBUG")
    with pytest.raises(EngineUnavailable) as e:
        engine(fake).synthesize("Xin chào.")
    text = str(e.value)
    assert API_KEY_ENV in text and ("refused the API key" if with_key else "wants an API key") in text
    assert KEY not in text and KEY not in caplog.text


def test_403_is_unavailable_too(fake, monkeypatch):
    fake.mode = "403"
    with pytest.raises(EngineUnavailable, match=API_KEY_ENV):
        engine(fake).synthesize("Xin chào.")


def test_connection_refused_names_the_url(monkeypatch):
    clear_proxies(monkeypatch)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(EngineUnavailable) as e:
        get_engine("remote", speech=SpeechSettings(url=url)).synthesize("Xin chào.")
    assert url in str(e.value) and "connection refused" in str(e.value)


def test_a_server_slower_than_the_timeout_is_a_timeout(fake):
    fake.mode, fake.slow = "slow", 5.0
    with pytest.raises(EngineTimeout) as e:
        engine(fake, timeout=0.2).synthesize("Xin chào.")
    assert fake.base_url in str(e.value)


def test_unconfigured_engine_refuses_to_speak():
    with pytest.raises(UsageError, match="no speech server configured"):
        get_engine("remote").synthesize("Xin chào.")


def test_probe_says_whether_the_server_answers(fake, monkeypatch):
    assert engine(fake).probe() is None
    assert fake.requests[-1].path == "/v1/models"
    fake.api_key = "other"
    assert API_KEY_ENV in engine(fake).probe()


# ---------------------------------------------------------------- render: retries, order, concurrency
def test_render_waits_retry_after_capped_then_succeeds(fake, monkeypatch):
    fake.script = ["429", "429"]
    fake.retry_after = 3600  # an hour: the cap makes it a short wait
    monkeypatch.setattr(render_mod, "MAX_RETRY_AFTER", 0.01)
    result = render_mod.render(sentences("Một câu."), engine(fake))
    assert [r.behaviour for r in fake.speech()] == ["429", "429", "ok"]
    assert result.requests == 3 and result.clips[0].nbytes > 0


class _Waits:
    """A stand-in for render's cancel event that records the waits instead of sleeping."""

    def __init__(self):
        self.waits: list[float] = []

    def is_set(self) -> bool:
        return False

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        return False


class _BusyOnce:
    name, version, default_voice, max_chars, sample_rate = "busy", "1", "v", None, 24000

    def __init__(self, retry_after):
        self.calls, self.retry_after = 0, retry_after

    def synthesize(self, text, *, voice=None, rate=1.0, pitch=None):
        self.calls += 1
        if self.calls == 1:
            raise EngineBusy("busy", "answered 429", retry_after=self.retry_after)
        return Clip(pcm=b"\0\0" * 240, sample_rate=24000, engine="busy", voice="v")


@pytest.mark.parametrize("asked, waited", [(7.0, [7.0]), (3600.0, [render_mod.MAX_RETRY_AFTER]), (0.0, [0.0])],
                         ids=["as-asked", "capped", "at-once"])
def test_render_waits_what_the_server_asked(asked, waited):
    waits = _Waits()
    job = render_mod._Job(_BusyOnce(asked), None, 1.0, None, render_mod.RateLimiter(None), 3, 0.5, waits)
    job.call("x")
    assert waits.waits == waited


def test_render_without_retry_after_backs_off():
    waits = _Waits()
    job = render_mod._Job(_BusyOnce(None), None, 1.0, None, render_mod.RateLimiter(None), 3, 0.5, waits)
    job.call("x")
    assert len(waits.waits) == 1 and 0.25 <= waits.waits[0] <= 0.75  # backoff × jitter


TEXTS = tuple(f"Câu thứ {i} có {'chữ ' * i}." for i in range(1, 13))


def test_concurrent_requests_keep_the_clip_order(fake):
    fake.delay = 0.1
    result = render_mod.render(sentences(*TEXTS), engine(fake, concurrency=4))
    assert [c.sentence.text for c in result.clips] == list(TEXTS)
    assert [round(c.duration, 3) for c in result.clips] == [round(len(t) * SECONDS_PER_CHAR, 3) for t in TEXTS]
    assert sorted(fake.texts()) == sorted(TEXTS)
    assert 1 < fake.max_in_flight() <= 4


def test_concurrency_one_is_one_request_at_a_time_in_order(fake):
    render_mod.render(sentences(*TEXTS[:5]), engine(fake, concurrency=1))
    assert fake.texts() == list(TEXTS[:5]) and fake.max_in_flight() == 1


class _Recorder:
    """A limiter that counts acquisitions (the bucket itself is tested in test_ratelimit.py)."""

    def __init__(self):
        self.n = 0
        self.lock = threading.Lock()

    def acquire(self) -> float:
        with self.lock:
            self.n += 1
        return 0.0


def test_every_request_retries_included_passes_the_rate_limit(fake, monkeypatch):
    monkeypatch.setattr(render_mod, "MAX_RETRY_AFTER", 0.0)
    fake.script = ["429"]
    limiter = _Recorder()
    eng = get_engine("remote", speech=SpeechSettings(url=fake.base_url, rate=5), limiter=limiter)
    render_mod.render(sentences(*TEXTS[:6]), eng)
    assert limiter.n == len(fake.speech()) == 7


def test_the_settings_rate_makes_a_bucket(fake):
    from reader.ratelimit import TokenBucket

    eng = engine(fake, rate=50)
    eng.synthesize("Xin chào.")
    assert isinstance(eng._limiter, TokenBucket) and eng._limiter.rate == 50
    assert engine(fake)._bucket() is None  # rate 0: no limit


def test_render_options_share_one_limiter_between_engines(fake):
    from reader.pipeline import render_options

    options = render_options(engine="remote", cache=False, speech=SpeechSettings(url=fake.base_url, rate=10))
    a, b = options.make_engine(), options.make_engine()
    assert a._bucket() is b._bucket() is options.speech_limit


# ---------------------------------------------------------------- WAV decoding
def _wav(samples: np.ndarray, rate: int, width: int, channels: int, tag: int = 1, size: int | None = None) -> bytes:
    data = samples.tobytes()
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * width * channels, width * channels, width * 8)
    data_size = len(data) if size is None else size
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
            + b"LIST" + struct.pack("<I", 3) + b"abc\0" + b"data" + struct.pack("<I", data_size) + data)


@pytest.mark.parametrize("make, rate", [
    (lambda s: _wav(s.astype("<i2"), 22050, 2, 1), 22050),
    (lambda s: _wav(np.repeat(s.astype("<i2"), 2), 16000, 2, 2), 16000),
    (lambda s: _wav((s / 32768.0).astype("<f4"), 24000, 4, 1, tag=3), 24000),
    (lambda s: _wav((s.astype("<i4") << 16), 24000, 4, 1), 24000),
    (lambda s: _wav(np.frombuffer(b"".join(int(x * 256).to_bytes(3, "little", signed=True) for x in s), np.uint8),
                    48000, 3, 1), 48000),
    (lambda s: _wav(s.astype("<i2"), 24000, 2, 1, size=0xFFFFFFFF), 24000),
    (lambda s: _wav(s.astype("<i2"), 24000, 2, 1, size=0), 24000),
], ids=["16bit-22k", "stereo-16k", "float32", "int32", "int24", "streamed-size-ffffffff", "streamed-size-0"])
def test_decode_wav(make, rate):
    samples = np.array([0, 1000, -1000, 32767, -32768, 12345] * 10, dtype=np.int64)
    pcm, got_rate = decode_wav("remote", make(samples))
    assert got_rate == rate
    assert np.abs(np.frombuffer(pcm, "<i2").astype(int) - samples).max() <= 1


def test_decode_wav_from_the_stdlib_writer():
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(24000)
        w.writeframes(b"\x01\x00" * 100)
    assert decode_wav("remote", buf.getvalue()) == (b"\x01\x00" * 100, 24000)


@pytest.mark.parametrize("data, words", [
    (b"", "sent no audio"),
    (b"ID3\x04\x00\x00\x00\x00\x00\x00mp3 bytes", "did not send WAV"),
    (b'{"error": "x"}', "did not send WAV"),
    (b"RIFF\0\0\0\0WAVE", "no format chunk"),
    (_wav(np.zeros(4, "<i2"), 24000, 2, 1, tag=6), "unsupported WAV"),
], ids=["empty", "mp3", "json", "no-chunks", "alaw"])
def test_decode_wav_refuses(data, words):
    with pytest.raises(EngineError, match=words):
        decode_wav("remote", data)


# ---------------------------------------------------------------- end to end: vnreader read --engine remote
@pytest.mark.slow
def test_vnreader_read_with_the_remote_engine(tmp_path, monkeypatch):
    from reader.extract import extract
    from reader.fetch import load
    from reader.text import sentences as split_document

    clear_proxies(monkeypatch)
    sample = ROOT / "reader" / "samples" / "vnexpress-1.html"
    sents = split_document(extract(load(str(sample))))
    expected = [s.spoken for s in sents]
    out = tmp_path / "bai.mp3"
    env = {**without_proxies(), "PYTHONPATH": str(ROOT), API_KEY_ENV: KEY, "VNREADER_CACHE": str(tmp_path / "cache")}
    with FakeSpeechServer(api_key=KEY) as fake:
        proc = subprocess.run([sys.executable, "-m", "reader", "read", str(sample), "--engine", "remote",
                               "--speech-url", fake.base_url, "--speech-model", "vi-neural", "--speech-voice", "hoai-my",
                               "-o", str(out)], capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert sorted(fake.texts()) == sorted(expected)  # every sentence once, nothing else
        assert {(r.body["model"], r.body["voice"]) for r in fake.speech()} == {("vi-neural", "hoai-my")}
    assert out.read_bytes()[:3] == b"ID3" and KEY not in proc.stdout + proc.stderr
    cues = [block.split("\n", 2)[2].strip() for block in out.with_suffix(".vtt").read_text(encoding="utf-8").split("\n\n")[1:]
            if block.strip()]
    assert cues == [s.text for s in sents]  # one cue per sentence, in the article's order
    record = json.loads(out.with_suffix(".episode.json").read_text(encoding="utf-8"))
    assert record["engine"] == "remote" and record["voice"] == "hoai-my"


@pytest.mark.slow
def test_speak_with_no_server_configured_is_a_usage_error(tmp_path, capsys):
    from reader.cli import main

    out = tmp_path / "x.mp3"
    assert main(["speak", "Xin chào.", "--engine", "remote", "--no-cache", "-o", str(out)]) == 2
    assert "no speech server configured" in capsys.readouterr().err and not out.exists()


@pytest.mark.slow
def test_speak_through_the_server_named_on_the_command_line(fake, tmp_path):
    from reader.cli import main

    out = tmp_path / "x.mp3"
    assert main(["speak", "Xin chào các bạn.", "--engine", "remote", "--no-cache", "--speech-url", fake.base_url,
                 "--speech-voice", "hoai-my", "-o", str(out)]) == 0
    assert out.is_file() and [r.body["voice"] for r in fake.speech()] == ["hoai-my"]


@pytest.mark.parametrize("command", [["read", "x.html"], ["speak", "x", "-o", "x.mp3"], ["serve"], ["engines"]],
                         ids=["read", "speak", "serve", "engines"])
def test_every_speaking_command_takes_the_speech_options(command):
    from reader.cli import _speech, build_parser

    a = build_parser().parse_args([*command, "--speech-url", "http://gpu-box:8000/", "--speech-model", "vi-neural"])
    assert _speech(a) == SpeechSettings(url="http://gpu-box:8000", model="vi-neural")


def test_the_reading_form_builds_the_remote_engine_from_its_settings(fake, tmp_path):
    from reader.webread import ReadService, ReadSettings

    service = ReadService(ReadSettings(out_dir=tmp_path, engine="remote",
                                       speech=SpeechSettings(url=fake.base_url, rate=5)))
    assert service.speech_limit.rate == 5  # one bucket for every reading the server does
