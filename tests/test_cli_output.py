"""Output paths of `read` and `speak`: refused targets, symlinks, standard output, reuse."""
from __future__ import annotations

import os
import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from reader import tts
from reader.cli import main
from tests.fakes.engines import ToneEngine

SAMPLES = Path(__file__).resolve().parents[1] / "reader" / "samples"
PAGE = SAMPLES / "tienphong-2.html"


@pytest.fixture
def tone(monkeypatch, tmp_path):
    """A fast in-process engine registered as ``tone``; no clip cache."""
    monkeypatch.setitem(tts.ENGINES, "tone", lambda **kw: ToneEngine())
    monkeypatch.setenv("VNREADER_CACHE", str(tmp_path / "clips"))
    return "tone"


def _page(tmp_path: Path) -> Path:
    page = tmp_path / "in" / "page.html"
    page.parent.mkdir(exist_ok=True)
    page.write_bytes(PAGE.read_bytes())
    return page


def _fifo(d: Path) -> str:
    os.mkfifo(d / "fifo")
    return str(d / "fifo")


def _null_device(d: Path) -> str:
    """A character device: /dev/null itself, or as root (who could replace /dev/null) a copy in tmp_path."""
    if os.geteuid() != 0:
        return "/dev/null"
    os.mknod(d / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    return str(d / "null")


def _hardlink(d: Path) -> str:
    os.link(d / "in" / "page.html", d / "same.mp3")
    return str(d / "same.mp3")


# (how to build the output path from tmp_path, words the error must contain)
REFUSED = [
    (lambda d: str(d / "in" / "page.html"), "is the input file"),
    (lambda d: str(d / "in" / ".." / "in" / "page.html"), "is the input file"),
    (_hardlink, "is the input file"),
    (lambda d: str(d / "in"), "is a directory"),
    (lambda d: str(d / "in" / "page.html" / "out.mp3"), "is not a folder"),
    (_fifo, "not a regular file"),
    (_null_device, "not a regular file"),
]


@pytest.mark.parametrize("command", ["read", "speak"])
@pytest.mark.parametrize("make_out, words", REFUSED,
                         ids=["input-itself", "input-via-dotdot", "input-hardlink", "directory", "under-a-file", "fifo",
                              "char-device"])
def test_refused_outputs_are_usage_errors_and_nothing_is_written(command, make_out, words, tone, tmp_path, capsys):
    page = _page(tmp_path)
    out = make_out(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    args = ["read", str(page)] if command == "read" else ["speak", "--file", str(page)]
    assert main([*args, "-o", out, "--engine", tone]) == 2
    err = capsys.readouterr().err
    assert words in err and out in err and "(" in err  # names the path and the fix
    assert sorted(p.name for p in tmp_path.rglob("*") if p.name != "clips") == [n for n in before if n != "clips"]
    assert page.read_bytes() == PAGE.read_bytes()


@pytest.mark.slow
def test_symlink_output_writes_through_to_its_target(tone, tmp_path, capsys):
    page = _page(tmp_path)
    real = tmp_path / "store" / "bai.mp3"
    real.parent.mkdir()
    link = tmp_path / "bai.mp3"
    link.symlink_to(real)
    assert main(["read", str(page), "-o", str(link), "--engine", tone]) == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.is_file() and real.read_bytes()[:3] == b"ID3"
    assert (real.parent / "bai.vtt").is_file() and not (tmp_path / "bai.vtt").exists()
    assert f"{link} -> {real}" in capsys.readouterr().out


@pytest.mark.slow
def test_dash_writes_the_mp3_to_stdout_and_no_sidecars(tmp_path):
    page = _page(tmp_path)
    env = dict(os.environ, VNREADER_CACHE=str(tmp_path / "clips"))
    p = subprocess.run([sys.executable, "-m", "reader", "read", str(page), "-o", "-"], capture_output=True,
                       cwd=tmp_path, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout[:3] == b"ID3" and len(p.stdout) > 10_000
    assert b"wrote standard output" in p.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == ["clips", "in"]


def _read(tone, page, out, *extra) -> int:
    return main(["read", str(page), "-o", str(out), "--engine", tone, *extra])


# (second command's page, extra options, first word printed, title from the second page?)
REUSE = [
    ("same", [], "unchanged", False),
    ("other", [], "wrote", True),
    ("same", ["--rate", "1.5"], "wrote", False),
    ("same", ["--voice", "b"], "wrote", False),
    ("same", ["--captions"], "wrote", False),
]


@pytest.mark.parametrize("second, extra, verb, other_title", REUSE,
                         ids=["same-input-reused", "other-article", "other-rate", "other-voice", "with-captions"])
def test_named_output_is_reused_only_for_the_same_render_key(second, extra, verb, other_title, tone, tmp_path, capsys):
    from reader.episodes import load, record_path

    out = tmp_path / "bai.mp3"
    pages = {"same": SAMPLES / "tienphong-2.html", "other": SAMPLES / "vnexpress-1.html"}
    assert _read(tone, pages["same"], out) == 0
    first = load(record_path(out))
    capsys.readouterr()
    assert _read(tone, pages[second], out, *extra) == 0
    line = capsys.readouterr().out
    assert line.startswith(f"{verb} {out} ")
    now = load(record_path(out))
    assert (now.title != first.title) == other_title
    assert line.rstrip().endswith(now.title)
    assert (now.render_key == first.render_key) == (verb == "unchanged")
    assert not now.reused and "reused" not in json.loads(record_path(out).read_text(encoding="utf-8"))
