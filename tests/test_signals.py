"""Ctrl-C and SIGTERM stop a long render at once: exit 130 / 143, no output, no temp file,
and only clips whose synthesis completed are in the clip cache.

Before the espeak worker process, Ctrl-C was swallowed inside the library's callback
("Exception ignored … KeyboardInterrupt"), and a sentence cut short went into the cache.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reader.tts.espeak import EspeakEngine

pytestmark = pytest.mark.slow  # the whole module: see README, "Development"

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "reader" / "samples" / "quang-ninh-2021-01-09.txt"


def _clips(cache: Path) -> list[Path]:
    return sorted(cache.rglob("*.clip"))


def _start(cmd: list[str], tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    cache = tmp_path / "cache"
    env = dict(os.environ, VNREADER_CACHE=str(cache), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "reader", *cmd], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # wait until synthesis is under way: a few clips cached (a bound on the wait, not on speed)
    for _ in range(600):
        if len(_clips(cache)) >= 3 or proc.poll() is not None:
            break
        time.sleep(0.05)
    return proc, cache


@pytest.mark.parametrize("sig, code, word", [
    (signal.SIGINT, 130, "interrupted"),
    (signal.SIGTERM, 143, "terminated"),
], ids=["sigint", "sigterm"])
@pytest.mark.parametrize("command", ["speak", "read"])
def test_a_signal_stops_the_render_and_leaves_nothing(tmp_path, sig, code, word, command):
    text = tmp_path / "long.txt"
    text.write_text(SAMPLE.read_text(encoding="utf-8") * 8, encoding="utf-8")
    args = ["speak", "--file", str(text)] if command == "speak" else ["read", str(text)]
    out = tmp_path / "out" / "long.mp3"
    proc, cache = _start([*args, "-o", str(out)], tmp_path)
    assert proc.poll() is None, proc.stderr.read().decode()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    err = err.decode()
    assert proc.returncode == code, err
    assert word in err and "Traceback" not in err and "Exception ignored" not in err
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir()] == [] if out.parent.exists() else True
    assert list(tmp_path.rglob("*.part")) == []


def test_only_whole_clips_are_cached_after_an_interrupt(tmp_path):
    text = tmp_path / "long.txt"
    text.write_text(SAMPLE.read_text(encoding="utf-8") * 8, encoding="utf-8")
    proc, cache = _start(["speak", "--file", str(text), "-o", str(tmp_path / "x.mp3")], tmp_path)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    clips = _clips(cache)
    assert clips
    engine = EspeakEngine()
    for path in clips:
        data = path.read_bytes()
        head_end = data.index(b"\n", data.index(b"\n") + 1)
        head = json.loads(data[data.index(b"\n") + 1:head_end])
        fresh = engine.synthesize(head["text"], voice=head["voice"])
        # espeak-ng carries a little state from call to call, so equal lengths (±1 %), not equal bytes;
        # a sentence cut short is missing seconds
        assert abs(len(data) - head_end - 1 - len(fresh.pcm)) <= 0.01 * len(fresh.pcm), head["text"]
