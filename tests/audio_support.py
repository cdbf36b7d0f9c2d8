"""Signals and helpers for the audio tests: speech-like synthetic clips, real espeak-ng clips,
and reading an MP3 back (decode with soundfile, measure with pyloudnorm)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from reader.models import Clip, Sentence


def pcm(x: np.ndarray) -> bytes:
    return np.clip(np.rint(x * 32767), -32768, 32767).astype("<i2").tobytes()


def burst(seconds: float, rate: int, level_db: float, seed: int = 0, tone: float | None = None) -> bytes:
    """A speech-like clip: syllable-rate bursts of a vowel (or a tone), peak at ``level_db`` dBFS."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    if tone:
        carrier = np.sin(2 * np.pi * tone * t)
    else:  # a voiced vowel: harmonics of a 110–200 Hz pitch falling off as 1/k, plus breath noise
        f0 = 110.0 + 15.0 * (seed % 7)
        ks = np.arange(1, int(rate / 2 / f0))
        phases = rng.uniform(0, 2 * np.pi, len(ks))
        carrier = sum(np.sin(2 * np.pi * k * f0 * t + p) / k for k, p in zip(ks, phases))
        carrier = carrier + 0.05 * rng.standard_normal(n)
    envelope = np.clip(np.sin(2 * np.pi * 4.0 * t + seed), 0, None) ** 2  # ~4 syllables a second
    x = carrier * envelope
    x = x / max(np.abs(x).max(), 1e-9) * 10 ** (level_db / 20)
    return pcm(x)


def clip(text: str, paragraph: int = 1, *, seconds: float = 1.0, rate: int = 24000, level_db: float = -6.0,
         seed: int = 0, tone: float | None = None) -> Clip:
    return Clip(burst(seconds, rate, level_db, seed, tone), rate, "fake", "v",
                Sentence(text, text.lower(), paragraph))


def espeak_clips(texts: list[tuple[int, str]]) -> list[Clip]:
    """Real espeak-ng speech for (paragraph, text) pairs."""
    from reader.tts import get_engine

    engine = get_engine("espeak")
    return [replace(engine.synthesize(t), sentence=Sentence(t, t, p)) for p, t in texts]


def decode(path) -> tuple[np.ndarray, int]:
    import soundfile

    data, rate = soundfile.read(str(path), dtype="float64")
    return data, rate


def loudness(x: np.ndarray, rate: int) -> float:
    import pyloudnorm

    return float(pyloudnorm.Meter(rate).integrated_loudness(x))
