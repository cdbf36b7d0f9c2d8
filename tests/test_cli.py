"""The command line: help for every command, exit codes, errors without tracebacks."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reader.cli import build_parser, main

COMMANDS = ["extract", "sentences", "normalize", "speak", "read", "demo", "engines", "run", "publish", "serve"]
SAMPLES = Path(__file__).resolve().parents[1] / "reader" / "samples"


@pytest.mark.parametrize("command", COMMANDS, ids=COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: vnreader {command}")


def test_top_level_help_lists_every_command():
    text = build_parser().format_help()
    assert all(c in text for c in COMMANDS)


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: vnreader" in capsys.readouterr().out


def cli(*args, stdin: str | None = None, tmp: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if tmp is not None:
        env["VNREADER_CACHE"] = str(tmp / "clips")
    return subprocess.run([sys.executable, "-m", "reader", *args], input=stdin, capture_output=True,
                          text=True, timeout=300, env=env)


CASES = [
    # (args, exit code, words the one-line error must contain)
    (["read", "/nonexistent/bai.html", "-o", "x.mp3"], 2, ["/nonexistent/bai.html"]),
    (["speak", "xin chào", "--engine", "nope", "-o", "x.mp3"], 2, ["nope", "espeak"]),
    (["speak", "xin chào", "--rate", "9", "-o", "x.mp3"], 2, ["9"]),
    (["sentences", "/nonexistent.txt"], 2, ["/nonexistent.txt"]),
    (["extract", "SAMPLES/../../tests/data"], 2, ["data"]),
]


@pytest.mark.parametrize("args, code, words", CASES, ids=["missing-file", "unknown-engine", "bad-rate",
                                                          "missing-text-file", "directory-not-page"])
def test_expected_failures_are_one_line_with_exit_code(args, code, words, tmp_path):
    args = [a.replace("SAMPLES", str(SAMPLES)).replace("x.mp3", str(tmp_path / "x.mp3")) for a in args]
    p = cli(*args, tmp=tmp_path)
    assert p.returncode == code, p.stderr
    assert "Traceback" not in p.stderr
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "error" in lines[0]
    assert all(w in lines[0] for w in words), lines[0]
    assert not (tmp_path / "x.mp3").exists()


@pytest.mark.slow
def test_error_page_is_not_read_aloud(tmp_path):
    page = tmp_path / "404.html"
    page.write_text("<html><head><title>Error 404</title></head><body><h2>HTTP ERROR 404</h2>"
                    "<p>Problem accessing /rss/bong-da.rss. Reason: Not Found</p></body></html>", encoding="utf-8")
    p = cli("read", str(page), "-o", str(tmp_path / "x.mp3"), tmp=tmp_path)
    assert p.returncode == 1
    assert str(page) in p.stderr and "no article body" in p.stderr
    assert not (tmp_path / "x.mp3").exists()


@pytest.mark.slow
def test_speak_writes_an_mp3_from_stdin(tmp_path):
    import soundfile

    out = tmp_path / "cau.mp3"
    p = cli("speak", "--file", "-", "-o", str(out), stdin="Sáng 9.1, tại TP Hạ Long.\nHội nghị có 221 điểm cầu.",
            tmp=tmp_path)
    assert p.returncode == 0, p.stderr
    info = soundfile.info(str(out))
    assert 3.0 < info.duration < 20.0
    assert str(out) in p.stdout


@pytest.mark.slow
def test_read_one_article_writes_mp3_and_transcripts(tmp_path):
    out = tmp_path / "bai.mp3"
    p = cli("read", str(SAMPLES / "tienphong-2.html"), "-o", str(out), "--rate", "1.5", tmp=tmp_path)
    assert p.returncode == 0, p.stderr
    assert out.stat().st_size > 10_000
    vtt = out.with_suffix(".vtt").read_text(encoding="utf-8")
    assert "PNJ sẽ thuê đơn vị quốc tế kiểm định độc lập về kim cương" in vtt
    assert "Chia sẻ" not in vtt


@pytest.mark.slow
def test_faster_rate_gives_shorter_audio(tmp_path):
    import soundfile

    text = "Tốc độ tăng trưởng đạt 10%, tổng vốn đầu tư xã hội tăng trên 10%."
    durations = []
    for rate in ("1.0", "2.0"):
        out = tmp_path / f"r{rate}.mp3"
        assert cli("speak", text, "--rate", rate, "-o", str(out), tmp=tmp_path).returncode == 0
        durations.append(soundfile.info(str(out)).duration)
    assert durations[1] < 0.7 * durations[0]


@pytest.mark.slow
def test_sentences_and_normalize_plain_mode():
    p = cli("sentences", stdin="Sáng 9.1, tại TP. Hạ Long có mưa. Ông T. nói vậy.\n")
    assert p.stdout.splitlines() == ["Sáng 9.1, tại TP. Hạ Long có mưa.", "Ông T. nói vậy."]
    p = cli("normalize", stdin="Tăng 10%\n")
    assert p.stdout.strip() == "Tăng mười phần trăm"
