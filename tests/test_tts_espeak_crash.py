"""espeak-ng crashes on some inputs; no input may take our process down.

The crashers below were found by ``bench/fuzz_espeak.py --raw`` and by users (dialogue
written with a dash after the opening quote is ordinary Vietnamese news text).
"""
from __future__ import annotations

import os
import signal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from reader.errors import EngineError, UnknownVoice
from reader.tts.espeak import _WORKER, EspeakEngine, clean_text

CRASHERS = [
    pytest.param("Trời đẹp. `", id="backtick-after-sentence"),
    pytest.param("`", id="backtick-alone"),
    pytest.param('"-Dạ, cháu chào bác."', id="quote-dash-dialogue"),
    pytest.param("Ông nói: “-Bộ Y tế cho biết.”", id="curly-quote-dash"),
    pytest.param("\ufeff“-a |, Việtbiết\x1c   ", id="bom-quote-dash-control"),
    pytest.param("\xad`\x01Việt/ tế\x05̀ Nam người ", id="soft-hyphen-backtick-controls"),
    pytest.param("?-nói", id="question-hyphen"),
    pytest.param(",-a", id="comma-hyphen"),
    pytest.param("«-a", id="guillemet-hyphen"),
    pytest.param("…-a", id="ellipsis-hyphen"),
    pytest.param(":-a", id="colon-hyphen"),
    pytest.param("―-ạ", id="dash-hyphen"),
    pytest.param("9.1   ,`  ", id="comma-backtick"),
]


def _raw(text: str) -> bytes:
    """Speak ``text`` with no cleaning: straight to the library in the worker."""
    with _WORKER.lock:
        return _WORKER.speak(text, "vi", 175, 50)


@pytest.fixture(scope="module")
def espeak() -> EspeakEngine:
    engine = EspeakEngine()
    assert engine.check() is None
    return engine


@pytest.mark.parametrize("text", CRASHERS)
def test_the_library_itself_crashes_on_these(text):
    """The inputs really crash espeak-ng; the worker turns that into an error naming the sentence."""
    before = _WORKER.crashes
    with pytest.raises(EngineError) as e:
        _raw(text)
    assert _WORKER.crashes == before + 1
    assert "crashed on" in str(e.value) and repr(text[:80]) in str(e.value)
    assert "SIGSEGV" in str(e.value) or "signal" in str(e.value) or "status" in str(e.value)


@pytest.mark.parametrize("text", CRASHERS)
def test_the_engine_cleans_them_and_speaks(espeak, text):
    before = _WORKER.crashes
    words = [w for w in clean_text(text).split() if any(ch.isalnum() for ch in w)]
    if not words:
        with pytest.raises(EngineError):
            espeak.synthesize(text)
    else:
        assert espeak.synthesize(text).duration > 0.2
    assert _WORKER.crashes == before


def test_a_crash_costs_one_sentence_and_the_next_is_spoken(espeak):
    with pytest.raises(EngineError):
        _raw("`")
    assert espeak.synthesize("Xin chào các bạn.").duration > 0.3


def test_a_killed_worker_is_restarted(espeak):
    espeak.synthesize("Xin chào.")
    os.kill(_WORKER._proc.pid, signal.SIGKILL)
    _WORKER._proc.wait()
    assert espeak.synthesize("Xin chào.").duration > 0.3


@pytest.mark.parametrize("text, clean", [
    ("Trời đẹp. `", "Trời đẹp."),
    ('"-Dạ, cháu chào bác."', '" Dạ, cháu chào bác."'),
    ("(-Ông ấy) nói", "( Ông ấy) nói"),
    ("Ai?-nói", "Ai? nói"),
    ("(-5 độ)", "(-5 độ)"),
    ("a\x00b\x1fc\x7fd\x85e", "a b c d e"),
    ("xin\u200bchào\ufeff", "xinchào"),
    ("Tie\u0302\u0301ng Vie\u0323\u0302t", "Tiếng Việt"),
    ("giá 10 - 20 nghìn", "giá 10 - 20 nghìn"),
    ("Ông nói - rồi đi", "Ông nói - rồi đi"),
], ids=["backtick", "quote-dash", "bracket-dash", "question-dash", "negative-kept", "controls", "zero-width", "nfd", "range-dash-kept", "dash-kept"])
def test_clean_text(text, clean):
    assert clean_text(text) == clean


def test_an_unknown_voice_names_the_voices_there_are(espeak):
    with pytest.raises(UnknownVoice) as e:
        espeak.synthesize("Xin chào.", voice="elvish")
    assert "'elvish'" in str(e.value) and "vi-VN-x-south" in str(e.value)


@pytest.mark.parametrize("voice", ["vi", "vi-VN-x-south", "vi-vn-x-central", "aav/vi", "vi+f3", "Vietnamese (Northern)"])
def test_known_voices(espeak, voice):
    assert espeak.check_voice(voice) == voice


_marks = st.sampled_from(list(".,;:!?…\"'“”‘’«»()[]{}<>-–—−`´^~*#/\\|_") +
                         [chr(c) for c in range(32)] + ["\x7f", "\x85", "\u00ad", "\u200b", "\ufeff", "\u0300"])
_words = st.sampled_from(["Dạ", "cháu", "chào", "Bộ", "Y", "tế", "Trời", "đẹp", "2025", "9.1", "ạ", "x"])


@pytest.mark.slow
@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_words, _marks, st.just(" ")), min_size=1, max_size=12).map("".join))
def test_no_generated_sentence_crashes_the_engine(espeak, text):
    before = _WORKER.crashes
    try:
        espeak.synthesize(text)
    except EngineError as e:
        assert "crashed" not in str(e)
    assert _WORKER.crashes == before
