"""Operator files: the systemd unit pair and the cron line in docs/ are valid; `run --help` works."""
from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys

import pytest

CHECKOUT = "/opt/vnreader"  # the install path the shipped files assume


def _unit(path) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    cp.optionxform = str
    cp.read_string(path.read_text(encoding="utf-8"))
    return cp


def test_service_and_timer_fields(repo_root):
    service = _unit(repo_root / "docs/systemd/vnreader.service")
    timer = _unit(repo_root / "docs/systemd/vnreader.timer")
    assert service["Service"]["Type"] == "oneshot"
    cmd = service["Service"]["ExecStart"].split()
    assert cmd[0] == f"{CHECKOUT}/.venv/bin/vnreader" and cmd[1] == "run" and "--quiet" in cmd
    out = cmd[cmd.index("--out") + 1]
    assert service["Service"]["ReadWritePaths"] in out  # the hardened unit may write its output
    assert timer["Timer"]["OnCalendar"].startswith("*-*-* 06:00:00")
    assert timer["Install"]["WantedBy"] == "timers.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify(repo_root, tmp_path):
    # point the unit at this checkout so verify can check that ExecStart is executable
    vnreader = repo_root / ".venv" / "bin" / "vnreader"
    if not vnreader.is_file():
        vnreader = shutil.which("vnreader")
        if vnreader is None:
            pytest.skip("no vnreader executable to point the unit at")
    for name in ("vnreader.service", "vnreader.timer"):
        text = (repo_root / "docs/systemd" / name).read_text(encoding="utf-8")
        text = text.replace(f"{CHECKOUT}/.venv/bin/vnreader", str(vnreader)).replace(CHECKOUT, str(repo_root))
        (tmp_path / name).write_text(text, encoding="utf-8")
    r = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "vnreader.service"),
                        str(tmp_path / "vnreader.timer")], capture_output=True, text=True, timeout=60)
    problems = [line for line in (r.stdout + r.stderr).splitlines() if "vnreader" in line]
    assert r.returncode == 0 and problems == [], r.stdout + r.stderr
    cal = _unit(tmp_path / "vnreader.timer")["Timer"]["OnCalendar"]
    r = subprocess.run(["systemd-analyze", "calendar", cal], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


_FIELD = {  # cron field: (lowest, highest)
    "minute": (0, 59), "hour": (0, 23), "day": (1, 31), "month": (1, 12), "weekday": (0, 7),
}


def _cron_field_ok(text: str, lo: int, hi: int) -> bool:
    for part in text.split(","):
        m = re.fullmatch(r"(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?", part)
        if not m:
            return False
        for n in (m.group(2), m.group(3)):
            if n is not None and not lo <= int(n) <= hi:
                return False
        if m.group(4) is not None and int(m.group(4)) == 0:
            return False
    return True


CRON_CASES = [("good", "0 6 * * *", True), ("hourly", "0 * * * *", True), ("steps", "*/15 6-22 * * 1-5", True),
              ("hour-24", "0 24 * * *", False), ("four-fields", "0 6 * *", False), ("word", "0 six * * *", False)]


@pytest.mark.parametrize("spec, ok", [c[1:] for c in CRON_CASES], ids=[c[0] for c in CRON_CASES])
def test_cron_checker(spec, ok):
    fields = spec.split()
    assert (len(fields) == 5 and all(_cron_field_ok(f, *_FIELD[k]) for f, k in zip(fields, _FIELD))) is ok


def test_cron_line_in_operations_doc(repo_root):
    doc = (repo_root / "docs/operations.md").read_text(encoding="utf-8")
    block = re.search(r"```cron\n(.*?)```", doc, re.S).group(1)
    jobs = [line for line in block.splitlines() if line.strip() and not line.startswith("#") and "=" not in line.split()[0]]
    assert len(jobs) == 1
    fields = jobs[0].split(None, 5)
    assert all(_cron_field_ok(f, *_FIELD[k]) for f, k in zip(fields[:5], _FIELD))
    command = fields[5]
    assert "vnreader run" in command and "--quiet" in command
    assert re.search(r"^CRON_TZ=Asia/Ho_Chi_Minh$", block, re.M)


def test_run_help():
    r = subprocess.run([sys.executable, "-m", "reader", "run", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    for opt in ("--config", "--out", "--state", "--base-url", "--rerender", "--quiet", "--verbose", "--log-json"):
        assert opt in r.stdout
