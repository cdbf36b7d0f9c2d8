"""A full or closed standard output: one line on stderr and exit 1, or a quiet exit 141 for a closed pipe."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = str(Path(__file__).resolve().parents[1] / "reader" / "samples" / "tienphong-2.html")

COMMANDS = [
    ["--help"],
    ["--version"],
    ["speak", "--help"],
    ["sentences", PAGE],
    ["normalize", PAGE],
    ["extract", PAGE],
    ["extract", "--json", PAGE],
    ["engines"],
    ["read", PAGE, "-o", "-"],
]
IDS = ["help", "version", "command-help", "sentences", "normalize", "extract", "extract-json", "engines",
       "read-to-stdout"]


def _run(args, stdout, tmp_path) -> subprocess.CompletedProcess:
    env = dict(os.environ, VNREADER_CACHE=str(tmp_path / "clips"))
    return subprocess.run([sys.executable, "-m", "reader", *args], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, cwd=tmp_path, env=env, timeout=300)


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", COMMANDS, ids=IDS)
def test_full_stdout_is_one_line_and_exit_1(args, tmp_path):
    with open("/dev/full", "w") as full:
        p = _run(args, full, tmp_path)
    assert p.returncode == 1, p.stderr
    assert p.stderr.strip().splitlines() == ["vnreader: standard output: write failed (no space left on device)"]


@pytest.mark.slow
@pytest.mark.parametrize("args", COMMANDS, ids=IDS)
def test_closed_pipe_is_a_quiet_exit_141(args, tmp_path):
    r, w = os.pipe()
    os.close(r)  # nobody reads: every write gets EPIPE
    try:
        p = _run(args, w, tmp_path)
    finally:
        os.close(w)
    assert (p.returncode, p.stderr) == (141, "")
