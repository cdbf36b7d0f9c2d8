"""No function in reader/ past a cyclomatic complexity of 25 (ruff's C901): split it into named steps."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_COMPLEXITY = 25


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed (requirements-dev.txt)")
def test_no_function_past_the_complexity_limit():
    p = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--select", "C901", "--line-length", "120",
                        "--config", f"lint.mccabe.max-complexity={MAX_COMPLEXITY}", "--output-format", "concise",
                        str(ROOT / "reader")], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
