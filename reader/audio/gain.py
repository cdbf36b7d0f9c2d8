"""Which gain, and which limiter timing, bring an episode to the loudness target.

Without limiting, loudness moves dB for dB with gain and the answer is exact. When the peaks
need limiting, trial passes over a sample of the episode (no encoding) find the gain by the
secant method: limiting flattens the curve, more so the harder it works.
"""
from __future__ import annotations

from dataclasses import dataclass

from reader.audio.encode import trial
from reader.audio.loudness import db_to_gain
from reader.audio.timeline import Timeline

#: Loudness error (LU) after which the encode pass is redone with a corrected gain.
LOUDNESS_TOLERANCE = 0.3
#: Gain step (dB) between the two trial levels used to find the gain under limiting.
TRIAL_STEP_DB = 2.0
#: Most secant steps of the gain trial.
TRIAL_ROUNDS = 4
#: Limiter (attack, release) times in seconds, tried slowest (most transparent) first; the last
#: one nearly follows the waveform and is for voices whose peaks nothing gentler can tame.
LIMITER_TIMES = ((0.005, 0.050), (0.003, 0.015), (0.001, 0.003))
#: Loudness difference (LU) below which two trial levels count as equally close to the target.
LEVEL_TIE = 0.01
#: Most gain (dB) added beyond what the loudness alone asks for, to be taken back by the limiter.
MAX_LIMITING_DB = 15.0


@dataclass(frozen=True)
class GainPlan:
    """What the encode pass applies."""

    gain: float  #: dB applied before the limiter
    slope: float  #: LU of loudness per dB of gain around ``gain``
    times: tuple[float, float]  #: limiter (attack, release) in seconds


def choose_gain(timeline: Timeline, loudness: float, peak: float, target: float, ceiling: float) -> GainPlan:
    """The gain (and limiter timing) that brings the limited signal to ``target``.

    The slowest release that can reach the target wins (slow release is the transparent one);
    a voice whose own peaks are too sharp for it gets a faster one. Gain never goes more than
    MAX_LIMITING_DB past the unlimited gain, so a signal that cannot get there is not blown up
    trying.
    """
    gain = target - loudness
    if peak * db_to_gain(gain) < db_to_gain(ceiling) / 1.5:  # the limiter cannot engage
        return GainPlan(gain, 1.0, LIMITER_TIMES[0])
    best: tuple[GainPlan, float] | None = None
    for times in LIMITER_TIMES:
        plan, level = _search(timeline, loudness, gain, target, ceiling, times)
        if best is None or abs(level - target) < best[1]:
            best = (plan, abs(level - target))
        if abs(level - target) <= LOUDNESS_TOLERANCE:
            break
    assert best is not None  # LIMITER_TIMES is not empty
    return best[0]


def _search(timeline: Timeline, loudness: float, start: float, target: float, ceiling: float,
            times: tuple[float, float]) -> tuple[GainPlan, float]:
    """Secant search for the gain with one limiter timing; returns the plan and its predicted level."""
    top = start + MAX_LIMITING_DB
    raw, (low, high) = trial(timeline, (start, start + TRIAL_STEP_DB), ceiling, times=times)
    # loudness of the whole episode at a gain, from the sample: full = sample + (loudness - raw)
    points = [(start, loudness + low - raw), (start + TRIAL_STEP_DB, loudness + high - raw)]
    slope = 1.0
    for _ in range(TRIAL_ROUNDS):
        (g0, l0), (g1, l1) = points[-2:]
        slope = min(1.0, max(0.05, (l1 - l0) / (g1 - g0))) if g1 != g0 else 1.0
        gain = min(top, g1 + (target - l1) / slope)
        if gain == g1:
            break
        _, (level,) = trial(timeline, (gain,), ceiling, times=times)
        points.append((gain, loudness + level - raw))
        if abs(points[-1][1] - target) <= LOUDNESS_TOLERANCE / 3:
            break
    # the closest level wins; among levels equally close (within LEVEL_TIE, as when the limiter
    # pins every peak and more gain changes nothing) the lowest gain: no pointless boost
    closest = min(abs(level - target) for _, level in points)
    gain, level = min((p for p in points if abs(p[1] - target) <= closest + LEVEL_TIE), key=lambda p: p[0])
    return GainPlan(gain, slope, times), level
