"""In-process engines for render and cache tests: deterministic PCM, counted calls, scripted failures."""
from __future__ import annotations

import threading
import time

from reader.errors import EngineBusy, EngineError
from reader.models import Clip


class ToneEngine:
    """Speaks each text as ``len(text)`` ms-ish samples whose values encode the text (so order is checkable)."""

    sample_rate = 8000
    max_chars: int | None = None
    concurrency = 1
    max_rate: float | None = None

    def __init__(self, name: str = "tone", voice: str = "a", version: str = "1", *, max_chars=None,
                 concurrency: int = 1, delay: float = 0.0, fail: dict[str, list[type]] | None = None,
                 fail_always: type | None = None):
        self.name, self.default_voice, self.version = name, voice, version
        self.max_chars, self.concurrency, self.delay = max_chars, concurrency, delay
        self.fail = {k: list(v) for k, v in (fail or {}).items()}  # text -> errors to raise, in order
        self.fail_always = fail_always
        self.calls: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    def check(self):
        return None

    def synthesize(self, text, *, voice=None, rate=1.0, pitch=None) -> Clip:
        with self._lock:
            self.calls.append(text)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            errors = self.fail.get(text)
            error = errors.pop(0) if errors else None
        try:
            if self.delay:
                time.sleep(self.delay)
            if self.fail_always is not None:
                raise self.fail_always(self.name, "scripted failure")
            if error is not None:
                raise error(self.name, f"scripted failure for {text!r}")
            return Clip(pcm=tone_pcm(text), sample_rate=self.sample_rate, engine=self.name,
                        voice=voice or self.default_voice)
        finally:
            with self._lock:
                self.in_flight -= 1


def tone_pcm(text: str) -> bytes:
    """Two bytes per character: the character's code point, low 15 bits."""
    return b"".join((ord(c) & 0x7FFF).to_bytes(2, "little") for c in text)


__all__ = ["ToneEngine", "tone_pcm", "EngineBusy", "EngineError"]
