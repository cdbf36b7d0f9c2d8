"""Every command against the one exit-code table in reader/cli.py (and README "Exit codes").

0 ok, 1 items failed at run time, 2 usage/configuration (found before any work), 3 locked,
70 a bug, 130 interrupted. Bad options are refused while parsing: nothing is created in the folder.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from reader import tts
from reader.cli import main
from reader.errors import EngineUnavailable, UnknownVoice
from tests.fakes.engines import ToneEngine

SAMPLES = Path(__file__).resolve().parents[1] / "reader" / "samples"
PAGE = str(SAMPLES / "tienphong-2.html")
NO_BODY = "<html><head><title>Error 404</title></head><body><h2>HTTP ERROR 404</h2></body></html>"

FAKES = {
    "tone": lambda **kw: ToneEngine(),
    "down": lambda **kw: ToneEngine(name="down", fail_always=EngineUnavailable),  # cannot reach the service
    "novoice": lambda **kw: ToneEngine(name="novoice", fail_always=UnknownVoice),
    "ctrlc": lambda **kw: ToneEngine(name="ctrlc", fail_always=KeyboardInterrupt),
}

# (arguments, exit code); OUT is an output folder or file inside tmp_path, NOBODY a page with no article
CASES = [
    # 0: done
    (["sentences", PAGE], 0),
    (["normalize", PAGE], 0),
    (["extract", PAGE], 0),
    (["engines"], 0),
    (["speak", "--file", PAGE, "--engine", "tone", "-o", "OUT.mp3"], 0),
    (["read", PAGE, "--engine", "tone", "-o", "OUT.mp3"], 0),
    # 1: failed at run time
    (["extract", "NOBODY"], 1),
    (["read", "NOBODY", "--engine", "tone", "-o", "OUT.mp3"], 1),
    (["read", PAGE, "--engine", "down", "-o", "OUT.mp3"], 1),
    (["speak", "xin chào", "--engine", "down", "-o", "OUT.mp3"], 1),
    # 2: usage — missing input file
    (["extract", "MISSING"], 2),
    (["read", "MISSING", "-o", "OUT.mp3"], 2),
    (["sentences", "MISSING"], 2),
    (["normalize", "MISSING"], 2),
    (["speak", "--file", "MISSING", "-o", "OUT.mp3"], 2),
    (["run", "--config", "MISSING", "--out", "OUT"], 2),
    # 2: usage — bad option
    (["speak", "xin chào", "--rate", "9", "-o", "OUT.mp3"], 2),
    (["read", PAGE, "--rate", "0.1", "-o", "OUT.mp3"], 2),
    (["speak", "xin chào", "--pitch", "200", "-o", "OUT.mp3"], 2),
    (["speak", "xin chào", "--pitch", "inf", "-o", "OUT.mp3"], 2),
    (["speak", "xin chào", "--engine", "nope", "-o", "OUT.mp3"], 2),
    (["read", PAGE, "--fallback", "nope", "-o", "OUT.mp3"], 2),
    (["extract", PAGE, "--max-bytes", "0"], 2),
    (["demo", "--base-url", "ftp://x", "--out", "OUT"], 2),
    (["run", "--base-url", "not-a-url", "--out", "OUT"], 2),
    (["serve", "--port", "99999", "--dir", "DIR"], 2),  # an existing folder: only the port is wrong
    (["serve", "--port", "0", "--dir", "OUT"], 2),
    # 2: usage — unknown voice
    (["speak", "xin chào", "--engine", "novoice", "-o", "OUT.mp3"], 2),
    (["read", PAGE, "--engine", "novoice", "-o", "OUT.mp3"], 2),
    # 3: locked
    (["run", "--config", "CONFIG", "--out", "LOCKED"], 3),
    # 130: interrupted
    (["speak", "xin chào", "--engine", "ctrlc", "-o", "OUT.mp3"], 130),
]
IDS = ["sentences-ok", "normalize-ok", "extract-ok", "engines-ok", "speak-ok", "read-ok",
       "extract-no-body", "read-no-body", "read-engine-unreachable", "speak-engine-unreachable",
       "extract-missing-file", "read-missing-file", "sentences-missing-file", "normalize-missing-file",
       "speak-missing-file", "run-missing-config",
       "speak-bad-rate", "read-bad-rate", "speak-bad-pitch", "speak-infinite-pitch", "speak-unknown-engine",
       "read-unknown-fallback", "extract-bad-max-bytes", "demo-bad-base-url", "run-bad-base-url",
       "serve-port-too-big", "serve-port-zero",
       "speak-unknown-voice", "read-unknown-voice", "run-locked", "speak-interrupted"]


def _exit(argv) -> int:
    try:
        return main(argv)
    except SystemExit as e:  # argparse refusing an option
        return e.code


@pytest.mark.slow
@pytest.mark.parametrize("args, code", CASES, ids=IDS)
def test_exit_code_table(args, code, tmp_path, monkeypatch, capsys):
    from reader.daily import run_lock

    for name, factory in FAKES.items():
        monkeypatch.setitem(tts.ENGINES, name, factory)
    monkeypatch.setenv("VNREADER_CACHE", str(tmp_path / "clips"))
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "nobody.html").write_text(NO_BODY, encoding="utf-8")
    (tmp_path / "sources.toml").write_text('[[sources]]\nname = "a"\nurl = "http://127.0.0.1:9/rss"\n')
    subs = {"OUT.mp3": str(work / "out.mp3"), "OUT": str(work / "out"), "NOBODY": str(tmp_path / "nobody.html"),
            "MISSING": str(tmp_path / "missing.txt"), "CONFIG": str(tmp_path / "sources.toml"),
            "LOCKED": str(tmp_path / "locked"), "DIR": str(tmp_path)}
    argv = [subs.get(a, a) for a in args]
    if "LOCKED" in args:
        with run_lock(tmp_path / "locked"):
            got = _exit(argv)
    else:
        got = _exit(argv)
    err = capsys.readouterr().err
    assert got == code, err
    assert "Traceback" not in err
    if code == 2:
        assert list(work.iterdir()) == [], "a refused command created files"
    if code in (1, 2, 3):
        assert err.strip(), "a failure says why on stderr"


def _file(d: Path) -> str:
    (d / "file.txt").write_text("not a folder")
    return str(d / "file.txt")


def _under_file(d: Path) -> str:
    return str(Path(_file(d)) / "out")


def _read_only(d: Path) -> str:
    import os

    if os.geteuid() == 0:
        pytest.skip("root can write to a 0500 folder (the under-file cases cover root)")
    ro = d / "ro"
    ro.mkdir(mode=0o500)
    return str(ro / "out")


OUT_DIRS = [("run", _file), ("demo", _file), ("run", _under_file), ("demo", _under_file),
            ("run", _read_only), ("demo", _read_only), ("run-config", _under_file)]


@pytest.mark.parametrize("command, make_out", OUT_DIRS,
                         ids=["run-out-file", "demo-out-file", "run-out-under-file", "demo-out-under-file",
                              "run-out-read-only", "demo-out-read-only", "run-config-out-under-file"])
def test_unusable_output_folder_is_one_line_exit_2(command, make_out, tmp_path, capsys):
    out = make_out(tmp_path)
    config = tmp_path / "sources.toml"
    body = '[[sources]]\nname = "a"\nurl = "http://127.0.0.1:9/rss"\n'
    if command == "run-config":
        config.write_text(f'[run]\nout = "{out}"\n' + body)
        argv = ["run", "--config", str(config)]
    else:
        config.write_text(body)
        argv = [command, "--out", out] + (["--config", str(config)] if command == "run" else [])
    assert _exit(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "error" in lines[0] and "file.txt" in lines[0], err


@pytest.mark.parametrize("command", ["read", "extract"])
def test_too_large_fix_names_an_option_the_command_takes(command, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(tts.ENGINES, "tone", FAKES["tone"])
    monkeypatch.setenv("VNREADER_CACHE", str(tmp_path / "clips"))
    out = ["--engine", "tone", "-o", str(tmp_path / "out.mp3")] if command == "read" else []
    assert _exit([command, PAGE, "--max-bytes", "1000", *out]) == 1
    assert "--max-bytes" in capsys.readouterr().err
    assert _exit([command, PAGE, "--max-bytes", "1000000", *out]) == 0


def _raise_runtime(*args, **kwargs):
    raise RuntimeError("boom in a stage")


def _raise_bug_error(*args, **kwargs):
    from reader.errors import ReaderError

    err = ReaderError("stage", "inconsistent state")
    err.expected = False
    raise err


# (stage raising, environment, traceback shown)
BUGS = [
    (_raise_runtime, {}, False),
    (_raise_runtime, {"VNREADER_DEBUG": "1"}, True),
    (_raise_bug_error, {}, False),
    (_raise_bug_error, {"VNREADER_DEBUG": "1"}, True),
]


@pytest.mark.parametrize("stage, env, traced", BUGS,
                         ids=["runtime-error", "runtime-error-debug", "unexpected-reader-error",
                              "unexpected-reader-error-debug"])
def test_a_bug_exits_70_with_one_line(stage, env, traced, monkeypatch, capsys):
    import reader.text

    monkeypatch.delenv("VNREADER_DEBUG", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(reader.text, "normalize", stage)
    assert main(["normalize", PAGE]) == 70
    err = capsys.readouterr().err
    assert "vnreader normalize: internal error:" in err and "please report this" in err
    assert ("Traceback (most recent call last)" in err) == traced


def test_a_bug_in_a_run_shows_its_traceback_with_verbose(tmp_path, monkeypatch, capsys):
    from reader import daily

    monkeypatch.delenv("VNREADER_DEBUG", raising=False)
    monkeypatch.setattr(daily, "run_from_args", _raise_runtime)
    assert main(["run", "--out", str(tmp_path / "out")]) == 70
    assert "Traceback" not in capsys.readouterr().err
    assert main(["run", "--out", str(tmp_path / "out"), "--verbose"]) == 70
    err = capsys.readouterr().err
    assert "internal error: unexpected RuntimeError: boom in a stage" in err and "Traceback" in err


def _bug(item: str):
    from reader.daily import _unexpected

    return item, _unexpected(item, RuntimeError("boom"))


def _failure(item: str):
    from reader.errors import ExtractError

    return item, ExtractError(item)


RUN_CODES = [
    ([], 0),
    ([_failure("a")], 1),
    ([_failure("a"), _bug("b")], 70),
]


@pytest.mark.parametrize("failed, code", RUN_CODES, ids=["all-done", "items-failed", "a-failed-item-is-a-bug"])
def test_run_exit_code(failed, code):
    from reader.cli import run_exit_code
    from reader.daily import RunReport

    assert run_exit_code(RunReport(failed=failed)) == code
