"""The operator pronunciation lexicon: ``feeds/lexicon.tsv`` (written form → spoken form).

Applied before every other rule, so an operator can fix any reading without code.
Found, in order: ``$VNREADER_LEXICON`` (must exist), ``feeds/lexicon.tsv`` beside the
package (a checkout or an editable install), ``feeds/lexicon.tsv`` in the current folder,
then the copy installed with the package (``reader/feeds/lexicon.tsv`` in a wheel: the
build maps ``feeds/`` to the ``reader.feeds`` package, see ``pyproject.toml``).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from reader.errors import ConfigError

ENV = "VNREADER_LEXICON"
_REPO_FILE = Path(__file__).resolve().parents[2] / "feeds" / "lexicon.tsv"
_PACKAGED_FILE = Path(__file__).resolve().parents[1] / "feeds" / "lexicon.tsv"


@dataclass(frozen=True)
class Lexicon:
    """Whole-word, case-sensitive replacements; the longest written form wins."""

    entries: tuple[tuple[str, str], ...] = ()
    path: str | None = None
    _table: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _pattern: list = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self):
        self._table.update(self.entries)
        if self.entries:
            keys = sorted(self._table, key=len, reverse=True)
            self._pattern.append(re.compile(r"(?:" + "|".join(map(re.escape, keys)) + r")(?![\w])"))

    def apply(self, text: str) -> str:
        if not self._pattern:
            return text
        table = self._table

        def one(m: re.Match) -> str:  # whole words: nothing word-like right before
            i = m.start()
            if i and (text[i - 1].isalnum() or text[i - 1] == "_"):
                return m.group(0)
            return table[m.group(0)]
        return self._pattern[0].sub(one, text)


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
    p = _find()
    return Path(p) if p else None


def _find() -> str | None:
    env = os.environ.get(ENV)
    if env:
        if not os.path.isfile(env):
            raise ConfigError(env, f"{ENV} names no readable file",
                              fix=f"point {ENV} at a written<TAB>spoken .tsv file, or unset it")
        return env
    if os.path.isfile(_REPO_PATH):
        return _REPO_PATH
    local = os.path.join("feeds", "lexicon.tsv")
    if os.path.isfile(local):
        return os.path.abspath(local)
    return str(_PACKAGED_FILE) if _PACKAGED_FILE.is_file() else None


_REPO_PATH = str(_REPO_FILE)


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> Lexicon:
    import unicodedata

    raw = Path(path).read_text(encoding="utf-8-sig")
    return parse(unicodedata.normalize("NFC", raw), path)


def load() -> Lexicon:
    """The current lexicon (re-read when the file changes)."""
    env = os.environ.get(ENV)
    if not env:  # the common case: one stat of the repo file
        try:
            return _load(_REPO_PATH, os.stat(_REPO_PATH).st_mtime)
        except OSError:
            pass
    p = _find()
    if p is None:
        return _EMPTY
    return _load(p, os.stat(p).st_mtime)


_EMPTY = Lexicon()
