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
    assert [line.split()[0] for line in lines] == list(ENGINES) == ["espeak", "gtts", "edge", "piper"]
    assert lines[:3] == ["espeak   available", "gtts     available", "edge     available"]
    assert lines[3].startswith(piper_line)
    if not piper_voice:
        assert VOICE_ENV in lines[3]  # and how to fix it
