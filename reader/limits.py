"""Caps on how much one input may ask for: characters, sentences, minutes of audio.

    Limits(max_chars=200_000, max_sentences=3_000, max_minutes=180)

A 20 MB text file is hours of speech that nobody will listen to, and rendering it would
take hours and gigabytes of disk. Characters are checked right after extraction (or
after reading the file), sentences right after splitting — both before any synthesis —
and minutes while the clips are rendered: the sum of the clip durations is kept and
rendering stops as soon as it passes the cap. Each check raises
:class:`~reader.errors.LimitError` naming the input, the count, the cap and the option.

Set them with ``--max-chars``, ``--max-sentences`` and ``--max-minutes`` (read, speak,
demo) or in the ``[limits]`` table of the sources file (daily run).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reader.errors import LimitError
from reader.models import Clip, Document

DEFAULT_MAX_CHARS = 200_000  #: about 4 hours of speech, ten times the longest article we have seen
DEFAULT_MAX_SENTENCES = 3_000
DEFAULT_MAX_MINUTES = 180.0


@dataclass(frozen=True)
class Limits:
    """Caps for one input (article, text) and the episode made of it."""

    max_chars: int = DEFAULT_MAX_CHARS  #: cli / config; characters of title, lead, paragraphs (and captions)
    max_sentences: int = DEFAULT_MAX_SENTENCES  #: cli / config; sentences after splitting
    max_minutes: float = DEFAULT_MAX_MINUTES  #: cli / config; minutes of speech (clip durations summed)

    def check_chars(self, count: int, subject: object) -> None:
        if count > self.max_chars:
            raise LimitError(subject, count=count, limit=self.max_chars, unit="characters", option="chars")

    def check_sentences(self, count: int, subject: object) -> None:
        if count > self.max_sentences:
            raise LimitError(subject, count=count, limit=self.max_sentences, unit="sentences", option="sentences")

    def check_seconds(self, seconds: float, subject: object) -> None:
        if seconds > self.max_minutes * 60:
            raise LimitError(subject, count=round(seconds / 60, 1), limit=self.max_minutes,
                             unit="minutes of audio", option="minutes", more=True)

    def check_document(self, doc: Document, subject: object, *, captions: bool = False) -> None:
        self.check_chars(document_chars(doc, captions=captions), subject)

    def minutes_meter(self, subject: object) -> Callable[[int, Clip], None]:
        """An ``on_clip(index, clip)`` callback for ``render`` that stops it once the clips pass the cap."""
        seconds: dict[int, float] = {}  # by sentence: a fallback engine's clips replace the first engine's
        total = 0.0

        def on_clip(i: int, clip: Clip) -> None:
            nonlocal total
            total += clip.duration - seconds.get(i, 0.0)
            seconds[i] = clip.duration
            self.check_seconds(total, subject)

        return on_clip


DEFAULT_LIMITS = Limits()


def document_chars(doc: Document, *, captions: bool = False) -> int:
    """Characters a listener would hear: title, lead, body paragraphs (and captions when read)."""
    n = len(doc.title) + len(doc.lead or "") + sum(len(p) for p in doc.paragraphs)
    if captions:
        n += sum(len(c.text) for c in doc.captions)
    return n
