"""The edge-tts engine against a local websocket fake of Edge's read-aloud service."""
from __future__ import annotations


import pytest

from reader.errors import EngineBusy, EngineError, EngineTimeout, EngineUnavailable
from reader.models import Sentence
from reader.tts import get_engine
from reader.tts.edge import VOICES, EdgeEngine
from reader.tts.render import render
from fakes import clear_proxies
from fakes.audio import seconds_for
from fakes.edge_tts_server import FakeEdgeTTS


@pytest.fixture(scope="module")
def server():
    fake = FakeEdgeTTS().start()
    yield fake
    fake.stop()


@pytest.fixture
def edge(server, monkeypatch):
    clear_proxies(monkeypatch)
    server.mode, server.script, server.delay = "ok", [], 0.0
    server.requests.clear()
    monkeypatch.setattr("edge_tts.communicate.WSS_URL", server.wss_url)
    return server


def test_check_is_offline_and_ok():
    assert EdgeEngine().check() is None


@pytest.mark.parametrize("voice", [None, *VOICES], ids=["default", "hoaimy", "namminh"])
def test_speaks_through_the_websocket(edge, voice):
    text = "Xin chào các bạn & quý vị <thân mến>."
    clip = get_engine("edge", timeout=5).synthesize(text, voice=voice)
    assert edge.texts() == [text]  # XML-escaped on the wire, unescaped by the fake
    expected = voice or "vi-VN-HoaiMyNeural"
    assert clip.voice == expected and expected.split("-")[-1] in edge.requests[0].voice
    assert clip.engine == "edge" and clip.sample_rate == 24000
    assert seconds_for(text) <= clip.duration <= seconds_for(text) + 0.15


@pytest.mark.parametrize("rate, pitch, wire", [(1.0, None, ("+0%", "+0Hz")), (1.25, -10, ("+25%", "-10Hz")),
                                               (0.5, 5, ("-50%", "+5Hz"))], ids=["normal", "faster-lower", "slower"])
def test_rate_and_pitch_reach_the_service(edge, rate, pitch, wire):
    EdgeEngine(timeout=5).synthesize("Xin chào.", rate=rate, pitch=pitch)
    assert (edge.requests[-1].rate, edge.requests[-1].pitch) == wire


@pytest.mark.parametrize("mode, error", [("429", EngineBusy), ("503", EngineBusy), ("drop", EngineBusy),
                                         ("403", EngineError)], ids=["429", "503", "dropped", "403"])
def test_errors_are_translated(edge, mode, error):
    edge.mode = mode
    with pytest.raises(error) as e:
        EdgeEngine(timeout=5).synthesize("Xin chào.")
    assert type(e.value) is error and str(e.value).startswith("edge:")
    assert e.value.__cause__ is not None


@pytest.mark.slow
def test_server_that_never_answers_fails_within_the_timeout(edge):
    edge.mode = "hang"  # the fake holds the request for 60 s, then closes with no audio (that would be EngineBusy)
    with pytest.raises(EngineTimeout):
        EdgeEngine(timeout=1).synthesize("Xin chào.")
    assert len(edge.requests) == 1  # one request, given up on by the client's own timeout


def test_bad_voice_name_is_refused_before_any_request(edge):
    with pytest.raises(EngineUnavailable):
        EdgeEngine().synthesize("Xin chào.", voice="not a voice")
    assert edge.requests == []


def test_render_retries_refusals_and_drops(edge):
    edge.script = ["429", "drop", "503"]
    texts = ["Một hai ba.", "Bốn năm sáu.", "Bảy tám chín mười."]
    result = render([Sentence(t, t) for t in texts], EdgeEngine(timeout=5), backoff=0.01)
    assert sorted(edge.texts()) == sorted(texts)
    assert [round(c.duration, 1) >= round(seconds_for(t), 1) for c, t in zip(result.clips, texts)] == [True] * 3
    assert result.requests == 6 and result.voice == "vi-VN-HoaiMyNeural"


def test_unreachable_service_says_connection_refused(edge, monkeypatch):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    monkeypatch.setattr("edge_tts.communicate.WSS_URL", f"wss://127.0.0.1:{port}/edge/v1")
    with pytest.raises(EngineUnavailable) as ei:
        EdgeEngine(timeout=5).synthesize("Xin chào.")
    text = str(ei.value)
    assert "cannot reach the service: connection refused" in text
    assert "SSLContext" not in text and "object at 0x" not in text
