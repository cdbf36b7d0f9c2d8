"""Listen now: `vnreader read SOURCE --stdout | --play` streams sentence by sentence."""
from __future__ import annotations

import io
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from reader.audio.loudness import LoudnessMeter
from reader.errors import UsageError
from reader.models import Clip, Sentence
from reader.stream import find_player, stream

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "reader" / "samples" / "quang-ninh-2021-01-09.txt"
PAGE = ROOT / "reader" / "samples" / "vnexpress-1.html"


def _env(tmp_path: Path, **extra) -> dict:
    return dict(os.environ, VNREADER_CACHE=str(tmp_path / "cache"), PYTHONPATH=str(ROOT), **extra)


def _cmd(*args) -> list[str]:
    return [sys.executable, "-m", "reader", *args]


def _decode(data: bytes) -> tuple[np.ndarray, int]:
    x, rate = soundfile.read(io.BytesIO(data), dtype="float32")
    return x, rate


def _lufs(x: np.ndarray, rate: int) -> float:
    m = LoudnessMeter(rate)
    m.add(x)
    return m.integrated()


@pytest.mark.slow
@pytest.mark.parametrize("source", [SEED, PAGE], ids=["seed-text", "vnexpress-page"])
def test_stdout_streams_the_whole_article_at_the_target_loudness(tmp_path, source):
    streamed = subprocess.run(_cmd("read", str(source), "--stdout"), env=_env(tmp_path), capture_output=True,
                              check=True)
    assert b"streamed" in streamed.stderr and streamed.stdout[:3] != b"RIF"
    x, rate = _decode(streamed.stdout)
    out = tmp_path / "whole.mp3"
    subprocess.run(_cmd("read", str(source), "-o", str(out)), env=_env(tmp_path), check=True, capture_output=True)
    y, _ = _decode(out.read_bytes())
    # the same sentences as the episode; the episode adds a lead pause and longer pauses between chapters
    assert 0.95 * len(y) < len(x) <= len(y)
    assert abs(_lufs(x, rate) + 16) <= 1.5
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.slow
def test_wav_stream(tmp_path):
    r = subprocess.run(_cmd("read", str(SEED), "--stdout", "--format", "wav"), env=_env(tmp_path),
                       capture_output=True, check=True)
    assert r.stdout[:4] == b"RIFF" and r.stdout[8:12] == b"WAVE"
    pcm = np.frombuffer(r.stdout[44:], dtype="<i2")
    assert len(pcm) / 22050 > 60 and np.abs(pcm).max() > 1000


@pytest.mark.slow
def test_first_audio_arrives_while_the_rest_is_still_being_spoken(tmp_path):
    long = tmp_path / "long.txt"
    long.write_text(SEED.read_text(encoding="utf-8") * 6, encoding="utf-8")
    proc = subprocess.Popen(_cmd("read", str(long), "--stdout"), env=_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    first = proc.stdout.read(4096)
    still_running = proc.poll() is None
    rest = proc.stdout.read()
    proc.wait()
    assert first[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2") and still_running
    assert len(rest) > 50 * len(first) and proc.returncode == 0


@pytest.mark.slow
def test_ctrl_c_stops_the_stream(tmp_path):
    long = tmp_path / "long.txt"
    long.write_text(SEED.read_text(encoding="utf-8") * 6, encoding="utf-8")
    proc = subprocess.Popen(_cmd("read", str(long), "--stdout"), env=_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout.read(4096)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and b"interrupted" in err and b"Traceback" not in err


def _fake_player(folder: Path, name: str) -> Path:
    """A program named like a real player that saves what it is fed (a real process reading a pipe)."""
    folder.mkdir(exist_ok=True)
    exe = folder / name
    exe.write_text(f"#!{sys.executable}\nimport sys\nopen({str(folder / 'heard')!r}, 'wb').write(sys.stdin.buffer.read())\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return exe


@pytest.mark.slow
@pytest.mark.parametrize("name, head", [("mpv", b"\xff"), ("ffplay", b"\xff"), ("aplay", b"RIFF")],
                         ids=["mpv-mp3", "ffplay-mp3", "aplay-wav"])
def test_play_feeds_the_first_player_found(tmp_path, name, head):
    bin_dir = tmp_path / "bin"
    _fake_player(bin_dir, name)
    r = subprocess.run(_cmd("read", str(PAGE), "--play"), env=_env(tmp_path, PATH=str(bin_dir)),
                       capture_output=True)
    assert r.returncode == 0, r.stderr
    assert f"played through {name}".encode() in r.stderr
    heard = (bin_dir / "heard").read_bytes()
    assert heard[:len(head)] == head and len(heard) > 10_000


def test_play_without_a_player_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(UsageError) as e:
        find_player(path=str(tmp_path))
    assert "apt install mpv" in str(e.value) and "sounddevice" in str(e.value) and "--stdout | mpv" in str(e.value)


class _QuietEngine:
    """An engine with no gain plan: a sine at a fixed level (the stream measures its first sentence)."""

    name, version, default_voice, max_chars, sample_rate = "quiet", "1", "x", None, 16000

    def synthesize(self, text, *, voice=None, rate=1.0, pitch=None):
        t = np.arange(int(0.08 * len(text) * self.sample_rate)) / self.sample_rate
        x = (0.02 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2")
        return Clip(pcm=x.tobytes(), sample_rate=self.sample_rate, engine=self.name, voice="x")


def test_an_engine_without_a_plan_is_measured_on_its_first_sentence():
    sents = [Sentence("Một câu khá dài để đo.", "một câu khá dài để đo", 0),
             Sentence("Câu thứ hai.", "câu thứ hai", 1)]
    buf = io.BytesIO()
    rep = stream(sents, _QuietEngine(), buf, fmt="wav")
    assert not rep.planned and rep.gain_db > 10 and rep.sentences == 2
    pcm = np.frombuffer(buf.getvalue()[44:], dtype="<i2").astype(np.float32) / 32768
    assert abs(_lufs(pcm, 16000) + 16) < 1.5
