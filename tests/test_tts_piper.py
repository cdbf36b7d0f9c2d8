"""Piper with a tiny generated ONNX voice: the real piper-tts loading and inference path."""
from __future__ import annotations

import shutil

import pytest

from reader.errors import EngineUnavailable
from reader.models import Sentence
from reader.tts import get_engine
from reader.tts.piper import VOICE_ENV, PiperEngine
from reader.tts.render import render

HOP = 256  # the tiny voice sings hop_length samples per phoneme id


@pytest.fixture(scope="module")
def voice(data_dir) -> str:
    return str(data_dir / "voices" / "tiny.onnx")


@pytest.fixture(scope="module")
def piper(voice) -> PiperEngine:
    engine = get_engine("piper", voice=voice)
    assert engine.check() is None
    return engine


def test_speaks_with_the_voice_file(piper):
    clip = piper.synthesize("Xin chào các bạn.")
    assert clip.engine == "piper" and clip.voice == "tiny" and clip.sample_rate == 16000
    samples = len(clip.pcm) // 2
    assert samples % HOP == 0 and samples // HOP > 10  # one hop per phoneme id from espeak's phonemes
    peak = max(abs(int.from_bytes(clip.pcm[i:i + 2], "little", signed=True)) for i in range(0, len(clip.pcm), 2))
    assert peak > 20000  # piper normalises each sentence to full scale


def test_longer_text_gives_longer_audio(piper):
    short = piper.synthesize("Xin chào.")
    long = piper.synthesize("Xin chào các bạn, hôm nay trời đẹp lắm.")
    assert long.duration > 2 * short.duration


@pytest.mark.parametrize("rate, factor", [(2.0, 0.5), (0.5, 2.0)], ids=["faster", "slower"])
def test_rate_scales_length(piper, rate, factor):
    normal = piper.synthesize("Hôm nay trời đẹp.")
    changed = piper.synthesize("Hôm nay trời đẹp.", rate=rate)
    assert abs(changed.duration - normal.duration * factor) <= HOP / normal.sample_rate


def test_voice_from_the_environment(monkeypatch, voice):
    monkeypatch.setenv(VOICE_ENV, voice)
    assert PiperEngine().check() is None
    assert PiperEngine().synthesize("Một.").voice == "tiny"


@pytest.mark.parametrize("setup, says", [
    ("none", "no voice file configured"),
    ("missing", "not found"),
    ("no-config", ".onnx.json not found"),
], ids=["no-voice", "missing-file", "missing-config"])
def test_check_says_what_is_missing(monkeypatch, tmp_path, voice, setup, says):
    monkeypatch.delenv(VOICE_ENV, raising=False)
    path = {"none": None, "missing": str(tmp_path / "gone.onnx"), "no-config": str(tmp_path / "lonely.onnx")}[setup]
    if setup == "no-config":
        shutil.copy(voice, path)
    engine = PiperEngine(voice=path)
    reason = engine.check()
    assert reason is not None and says in reason
    if setup != "no-config":
        assert VOICE_ENV in reason  # says how to configure one
    with pytest.raises(EngineUnavailable) as e:
        engine.synthesize("Xin chào.")
    assert says in str(e.value)


def test_broken_model_is_unavailable(tmp_path, voice):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx model")
    shutil.copy(f"{voice}.json", f"{bad}.json")
    with pytest.raises(EngineUnavailable) as e:
        PiperEngine(voice=str(bad)).synthesize("Xin chào.")
    assert "bad.onnx" in str(e.value)


def test_render_loads_the_model_once(piper, tmp_path):
    texts = ["Một hai ba.", "Bốn năm sáu.", "Bảy tám chín."]
    result = render([Sentence(t, t) for t in texts], piper)
    assert [c.sentence.text for c in result.clips] == texts
    assert len(piper._voices) == 1 and result.voice == "tiny"
