"""The gTTS engine against a local fake of Google's endpoint (nothing leaves 127.0.0.1)."""
from __future__ import annotations


import pytest

from reader.errors import EngineBusy, EngineError, EngineTimeout, EngineUnavailable
from reader.tts import get_engine
from reader.tts.gtts import GttsEngine
from fakes import clear_proxies
from fakes.audio import seconds_for
from fakes.google_tts import FakeGoogleTTS


@pytest.fixture
def google(monkeypatch):
    clear_proxies(monkeypatch)
    fake = FakeGoogleTTS().start()
    monkeypatch.setattr("gtts.tts._translate_url", fake.translate_url)
    yield fake
    fake.stop()


def test_check_is_offline_and_ok():
    assert GttsEngine().check() is None


@pytest.mark.parametrize("text", ["Xin chào.", "Hôm nay trời đẹp, chúng ta đi chơi nhé."], ids=["short", "clause"])
def test_speaks_through_the_endpoint(google, text):
    clip = get_engine("gtts", timeout=5).synthesize(text)
    assert google.texts() == [text]
    assert google.requests[0].lang == "vi"
    assert clip.engine == "gtts" and clip.voice == "vi" and clip.sample_rate == 24000
    # decoded MP3: the fake's length plus at most the encoder's padding
    assert seconds_for(text) <= clip.duration <= seconds_for(text) + 0.15
    assert max(abs(int.from_bytes(clip.pcm[i:i + 2], "little", signed=True))
               for i in range(0, len(clip.pcm), 200)) > 4000


@pytest.mark.parametrize("rate, slow", [(1.0, None), (0.7, True), (1.5, None)], ids=["normal", "slow", "fast"])
def test_rate_picks_googles_speed(google, rate, slow):
    get_engine("gtts").synthesize("Xin chào.", rate=rate)
    assert google.requests[-1].speed == slow


@pytest.mark.parametrize("mode, error", [
    ("429", EngineBusy), ("500", EngineBusy), ("503", EngineBusy), ("drop", EngineBusy),
    ("403", EngineError), ("404", EngineError),
], ids=["429", "500", "503", "dropped", "403", "404"])
def test_errors_are_translated(google, mode, error):
    google.mode = mode
    with pytest.raises(error) as e:
        GttsEngine(timeout=5).synthesize("Xin chào.")
    assert type(e.value) is error
    assert str(e.value).startswith("gtts:")
    assert e.value.__cause__ is not None


def test_server_that_never_answers_fails_within_the_timeout(google):
    google.mode = "hang"  # the fake holds the request for 60 s, then drops it (that would be EngineBusy)
    with pytest.raises(EngineTimeout) as e:
        GttsEngine(timeout=0.5).synthesize("Xin chào.")
    assert "gtts" in str(e.value)
    assert len(google.requests) == 1  # one request, given up on by the client's own timeout


def test_unreachable_host_is_unavailable(monkeypatch):
    clear_proxies(monkeypatch)
    with FakeGoogleTTS() as fake:
        url = fake.translate_url
    monkeypatch.setattr("gtts.tts._translate_url", url)  # the port is closed now
    with pytest.raises(EngineUnavailable) as ei:
        GttsEngine(timeout=2).synthesize("Xin chào.")
    text = str(ei.value)
    assert "cannot reach the service: connection refused" in text
    assert "object at 0x" not in text and "Errno" not in text


@pytest.mark.parametrize("text", ["", "x" * 101], ids=["empty", "over-limit"])
def test_refuses_what_it_cannot_send(google, text):
    with pytest.raises(EngineError):
        GttsEngine().synthesize(text)
    assert google.requests == []
