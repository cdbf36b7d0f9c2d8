"""`vnreader engines`: every registered engine, usable or not here, and why."""
from __future__ import annotations

import pytest

from reader.cli import main
from reader.tts import ENGINES
from reader.tts.piper import VOICE_ENV


@pytest.mark.parametrize("piper_voice, piper_line", [
    (None, "piper    unavailable: no voice file configured"),
    ("voices/tiny.onnx", "piper    available"),
], ids=["no-piper-voice", "piper-voice-from-env"])
def test_engines_command(monkeypatch, capsys, data_dir, piper_voice, piper_line):
    monkeypatch.delenv(VOICE_ENV, raising=False)
    if piper_voice:
        monkeypatch.setenv(VOICE_ENV, str(data_dir / piper_voice))
    assert main(["engines"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(ENGINES) == ["espeak", "gtts", "edge", "piper", "remote"]
    assert lines[:3] == ["espeak   available", "gtts     installed, needs the internet (not checked)",
                         "edge     installed, needs the internet (not checked)"]
    assert lines[3].startswith(piper_line)
    if not piper_voice:
        assert VOICE_ENV in lines[3]  # and how to fix it
    assert lines[4].startswith("remote   unavailable: not configured: give --speech-url URL")


def test_engines_lists_the_espeak_voices_vietnamese_first(capsys):
    assert main(["engines", "--voices"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["vi", "vi-VN-x-central", "vi-VN-x-south"]
    assert len(lines) > 50


def test_an_unknown_voice_is_a_usage_error_naming_the_voices(tmp_path, capsys):
    out = tmp_path / "x.mp3"
    assert main(["speak", "Xin chào.", "--voice", "elvish", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "'elvish'" in err and "vi-VN-x-south" in err and "engines --voices" in err
    assert not out.exists()


@pytest.mark.slow
def test_a_voice_of_another_language_speaks_with_a_warning(tmp_path, caplog):
    out = tmp_path / "x.mp3"
    assert main(["speak", "Xin chào.", "--voice", "en", "-o", str(out)]) == 0
    assert out.is_file()
    assert any("not a Vietnamese voice" in r.getMessage() for r in caplog.records)
