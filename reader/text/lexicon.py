"""The operator pronunciation lexicon: ``feeds/lexicon.tsv`` (written form → spoken form).

Applied before every other rule, so an operator can fix any reading without code.
Found, in order: ``$VNREADER_LEXICON`` (must exist), ``feeds/lexicon.tsv`` beside the
package (a checkout or an editable install), ``feeds/lexicon.tsv`` in the current folder.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from reader.errors import ConfigError

ENV = "VNREADER_LEXICON"
_REPO_FILE = Path(__file__).resolve().parents[2] / "feeds" / "lexicon.tsv"


@dataclass(frozen=True)
class Lexicon:
    """Whole-word, case-sensitive replacements; the longest written form wins."""

    entries: tuple[tuple[str, str], ...] = ()
    path: str | None = None

    @property
    def pattern(self) -> re.Pattern | None:
        return _compile(self.entries)

    def apply(self, text: str) -> str:
        pat = self.pattern
        if pat is None:
            return text
        table = dict(self.entries)
        return pat.sub(lambda m: table[m.group(0)], text)


@lru_cache(maxsize=8)
def _compile(entries: tuple[tuple[str, str], ...]) -> re.Pattern | None:
    if not entries:
        return None
    keys = sorted({k for k, _ in entries}, key=len, reverse=True)
    return re.compile(r"(?<![\w])(?:" + "|".join(map(re.escape, keys)) + r")(?![\w])")


def parse(text: str, path: str = "lexicon") -> Lexicon:
    """Read TSV text: ``written<TAB>spoken`` per line; ``#`` starts a comment line."""
    entries = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise ConfigError(path, "expected 'written<TAB>spoken'", line=n,
                              fix="separate the written and spoken form with one tab")
        entries.append((parts[0].strip(), parts[1].strip()))
    return Lexicon(tuple(entries), path)


def find() -> Path | None:
    """The lexicon file in use, or None when there is none."""
    env = os.environ.get(ENV)
    if env:
        p = Path(env)
        if not p.is_file():
            raise ConfigError(env, f"{ENV} names no readable file",
                              fix=f"point {ENV} at a written<TAB>spoken .tsv file, or unset it")
        return p
    for p in (_REPO_FILE, Path.cwd() / "feeds" / "lexicon.tsv"):
        if p.is_file():
            return p
    return None


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> Lexicon:
    import unicodedata

    raw = Path(path).read_text(encoding="utf-8-sig")
    return parse(unicodedata.normalize("NFC", raw), path)


def load() -> Lexicon:
    """The current lexicon (re-read when the file changes)."""
    p = find()
    if p is None:
        return Lexicon()
    return _load(str(p), p.stat().st_mtime)
