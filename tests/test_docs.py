"""The README's commands use only what a clone has (no ../shared, no files that are not shipped)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _commands(doc: Path) -> list[str]:
    return [line[2:] for line in doc.read_text(encoding="utf-8").splitlines() if line.startswith("$ ")]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_commands_name_only_files_a_clone_has(doc):
    for cmd in _commands(doc):
        assert "../shared" not in cmd, cmd
        for path in re.findall(r"(?:^|\s)((?:tools|bench|tests/data)/[\w./-]+)", cmd):
            assert (ROOT / path).exists(), f"{doc.name}: {cmd!r} names {path}, which is not in the repository"
