"""The engine interface every speech engine implements.

An engine turns one piece of spoken text into a :class:`~reader.models.Clip` of 16-bit mono
PCM. Engines are thin adapters: they import their library lazily (so ``vnreader engines``
can say what is missing instead of crashing), translate the library's errors into
``EngineUnavailable`` / ``EngineTimeout`` / ``EngineError`` naming the engine, and keep no
state beyond what the library itself needs.

The registry of engines (``ENGINES``) and ``get_engine`` live in ``reader/tts/__init__.py``.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from reader.errors import EngineError, UsageError
from reader.models import Clip

#: Speaking-rate bounds shared by every engine (1.0 = the engine's normal speed).
MIN_RATE = 0.5
MAX_RATE = 3.0


@runtime_checkable
class Engine(Protocol):
    """What ``render`` and the pipeline need from a speech engine."""

    name: str  #: registry name ("espeak"); goes into Clip.engine and cache keys
    version: str  #: engine library version; part of the clip cache key
    default_voice: str  #: voice used when a call passes ``voice=None``
    max_chars: int | None  #: longest text one request may carry (None = no limit)
    sample_rate: int  #: sample rate of the PCM ``synthesize`` returns

    def check(self) -> str | None:
        """None when the engine can run here, else one line saying why not and how to fix it.

        Never touches the network.
        """

    def synthesize(self, text: str, *, voice: str | None = None, rate: float = 1.0,
                   pitch: float | None = None) -> Clip:
        """Speak ``text`` (at most ``max_chars`` characters) into a Clip."""


def check_rate(engine: str, rate: float) -> float:
    """Refuse speaking rates outside [MIN_RATE, MAX_RATE]."""
    try:
        rate = float(rate)
    except (TypeError, ValueError) as e:
        raise UsageError(engine, f"rate {rate!r} is not a number", fix="give a rate like 1.0 or 1.25") from e
    if not MIN_RATE <= rate <= MAX_RATE:
        raise UsageError(engine, f"rate {rate} is out of range",
                         fix=f"give a rate between {MIN_RATE} and {MAX_RATE} (1.0 = normal)")
    return rate


def check_text(engine: str, text: str, max_chars: int | None) -> str:
    """Refuse empty text and text longer than the engine's request limit."""
    if not isinstance(text, str) or not text.strip():
        raise EngineError(engine, "nothing to say (empty text)", fix="give some text to speak")
    if max_chars is not None and len(text) > max_chars:
        raise EngineError(engine, f"text of {len(text)} characters is over the {max_chars}-character limit",
                          fix="split it with reader.tts.chunk.chunk_text first")
    return text
