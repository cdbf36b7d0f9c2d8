"""Split spoken text to an engine's request limit.

Cut at sentence ends first, then at clause breaks (commas, semicolons, colons, dashes, or
the offsets ``text.sentences`` found), then between words; only a single word longer than the
limit is cut inside. Every piece is stripped and non-empty, and the pieces joined by spaces
give back the text's words in order.
"""
from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+|\s+(?=[–—-]\s)")


def chunk_text(text: str, limit: int | None, breaks: tuple[int, ...] = ()) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters (None = one piece)."""
    flat = " ".join(text.split())
    if flat != text:
        breaks = ()  # offsets were for the text as given
    text = flat
    if not text:
        return []
    if limit is None or len(text) <= limit:
        return [text]
    if limit < 1:
        raise ValueError(f"limit must be positive, not {limit}")
    pieces: list[str] = []
    for sentence in _split(text, _SENTENCE_END):
        if len(sentence) <= limit:
            pieces.append(sentence)
            continue
        clauses = _split_at(sentence, breaks) if breaks and sentence == text else _split(sentence, _CLAUSE_END)
        pieces.extend(_pack(clauses, limit, _by_words))
    return _merge(pieces, limit)


def _split(text: str, pattern: re.Pattern) -> list[str]:
    return [p.strip() for p in pattern.split(text) if p.strip()]


def _split_at(text: str, offsets: tuple[int, ...]) -> list[str]:
    cuts = [0, *sorted(o for o in set(offsets) if 0 < o < len(text)), len(text)]
    return [text[a:b].strip() for a, b in zip(cuts, cuts[1:]) if text[a:b].strip()]


def _by_words(clause: str, limit: int) -> list[str]:
    words: list[str] = []
    for word in clause.split():
        while len(word) > limit:  # one word longer than the limit: cut it
            words.append(word[:limit])
            word = word[limit:]
        words.append(word)
    return _merge(words, limit)


def _pack(parts: list[str], limit: int, finer) -> list[str]:
    out: list[str] = []
    for part in parts:
        out.extend([part] if len(part) <= limit else finer(part, limit))
    return out


def _merge(parts: list[str], limit: int) -> list[str]:
    """Join neighbouring pieces while they fit, so there are as few requests as possible."""
    out: list[str] = []
    for part in parts:
        if out and len(out[-1]) + 1 + len(part) <= limit:
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out
