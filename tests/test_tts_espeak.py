"""espeak-ng engine and the engine registry (real library, offline)."""
from __future__ import annotations

import array
import threading

import pytest

from reader.errors import EngineError, UnknownVoice, UsageError
from reader.tts import ENGINES, get_engine
from reader.tts.base import Engine
from reader.tts.espeak import EspeakEngine, rate_to_wpm


def rms(pcm: bytes) -> float:
    samples = array.array("h", pcm)
    return (sum(s * s for s in samples[::7]) / max(1, len(samples[::7]))) ** 0.5


@pytest.fixture(scope="module")
def espeak() -> EspeakEngine:
    engine = get_engine("espeak")
    assert engine.check() is None
    return engine


def test_registry_order_and_default():
    assert list(ENGINES)[0] == "espeak"
    assert isinstance(get_engine(), EspeakEngine)
    assert isinstance(get_engine(None), Engine)


def test_unknown_engine_names_the_choices():
    with pytest.raises(UsageError) as e:
        get_engine("festival")
    assert "festival" in str(e.value) and "espeak" in str(e.value)


@pytest.mark.parametrize("text", [
    "Xin chào.",
    "Sáng ngày chín tháng một, Tỉnh ủy Quảng Ninh tổ chức hội nghị.",
    "hai mươi bốn nghìn năm trăm",
], ids=["short", "sentence", "numbers-spoken"])
def test_speaks_vietnamese(espeak, text):
    clip = espeak.synthesize(text)
    assert clip.engine == "espeak" and clip.voice == "vi"
    assert clip.sample_rate == espeak.sample_rate == 22050
    assert len(clip.pcm) % 2 == 0
    # about 0.05–0.6 s per syllable at the normal rate, and not silence
    syllables = len(text.split())
    assert 0.05 * syllables < clip.duration < 0.6 * syllables + 0.5
    assert rms(clip.pcm) > 300


@pytest.mark.parametrize("rate, wpm", [(1.0, 175), (2.0, 350), (0.5, 88), (3.0, 450)],
                         ids=["normal", "double", "half", "clamped"])
def test_rate_to_wpm(rate, wpm):
    assert rate_to_wpm(rate) == wpm


def test_faster_rate_is_shorter(espeak):
    text = "Tỉnh ủy Quảng Ninh tổ chức hội nghị tổng kết công tác năm."
    slow, fast = espeak.synthesize(text, rate=0.75), espeak.synthesize(text, rate=1.5)
    assert fast.duration < slow.duration * 0.75


def test_pitch_changes_the_sound(espeak):
    low = espeak.synthesize("Xin chào các bạn.", pitch=10)
    high = espeak.synthesize("Xin chào các bạn.", pitch=90)
    assert low.pcm != high.pcm


@pytest.mark.parametrize("kwargs, error", [
    ({"text": ""}, EngineError),
    ({"text": "   "}, EngineError),
    ({"text": "Xin chào.", "pitch": 120}, UsageError),
    ({"text": "Xin chào.", "rate": 9}, UsageError),
    ({"text": "Xin chào.", "voice": "no-such-voice"}, UnknownVoice),
], ids=["empty", "blank", "pitch-range", "rate-range", "unknown-voice"])
def test_bad_input(espeak, kwargs, error):
    text = kwargs.pop("text")
    with pytest.raises(error) as e:
        espeak.synthesize(text, **kwargs)
    assert "espeak" in str(e.value)


def test_voice_recovers_after_a_bad_voice(espeak):
    with pytest.raises(UnknownVoice):
        espeak.synthesize("Xin chào.", voice="no-such-voice")
    assert espeak.synthesize("Xin chào.").duration > 0.3


def test_threads_share_the_library_safely(espeak):
    text = "Hội nghị tổng kết công tác năm."
    expected = espeak.synthesize(text).duration
    durations: list[float] = []

    def work():
        for _ in range(3):
            durations.append(espeak.synthesize(text).duration)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(durations) == 12
    assert all(abs(d - expected) < 0.05 * expected for d in durations)


def test_version_is_the_library_version(espeak):
    assert espeak.version[0].isdigit() and "." in espeak.version
