"""Repeated, interleaved measurement for the benches: figures that hold on a noisy machine.

A bench names its contenders (the baseline first) as callables that each make one
measurement and return it (seconds, a rate, MiB…), or a mapping of several named figures
taken in the same call. :func:`interleave` runs them in turn, ``runs`` times, rotating which
goes first so that a slow spell of the machine (another test suite on the other core) falls
on all of them alike. Every figure is then a :class:`Spread`: median and min–max over the
runs. :func:`ratio` pairs two figures run by run: the ratio of their medians, and the spread
of the per-run ratios (each run's pair was measured seconds apart, so that spread shows how
far one reading can be trusted).

    figures = interleave({"baseline": lambda: timed(old), "candidate": lambda: timed(new)}, runs=5)
    print(figures["candidate"].show("s"))
    print(ratio(figures["candidate"], figures["baseline"]).show())

At least :data:`MIN_RUNS` runs: fewer give no spread worth printing (``--quick`` flags make
each run smaller, never fewer).
"""
from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Union

MIN_RUNS = 5

#: one run of one contender: a figure, or several named figures from the same call
Reading = Union[float, Mapping[str, float]]


@dataclass(frozen=True)
class Spread:
    """One figure over the runs, in run order."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def max(self) -> float:
        return max(self.values)

    def show(self, unit: str = "", digits: int = 3) -> str:
        """``median 1.234 s (min 1.100, max 1.500, n=5)``."""
        u = f" {unit}" if unit else ""
        return (f"median {self.median:.{digits}f}{u} (min {self.min:.{digits}f}, max {self.max:.{digits}f}, "
                f"n={len(self.values)})")


@dataclass(frozen=True)
class Ratio:
    """``candidate / baseline``: the ratio of the medians and the per-run ratios."""

    of_medians: float
    per_run: Spread

    def show(self, digits: int = 2) -> str:
        """``ratio of medians 0.95x (per run: median 0.96x, min 0.90x, max 1.02x, n=5)``."""
        r = self.per_run
        return (f"ratio of medians {self.of_medians:.{digits}f}x (per run: median {r.median:.{digits}f}x, "
                f"min {r.min:.{digits}f}x, max {r.max:.{digits}f}x, n={len(r.values)})")


def ratio(candidate: Spread, baseline: Spread) -> Ratio:
    """``candidate / baseline``, pairing the two figures run by run (both from one :func:`interleave`)."""
    if len(candidate.values) != len(baseline.values):
        raise ValueError("ratio() pairs figures of the same runs")
    per_run = tuple(c / b if b else float("inf") for c, b in zip(candidate.values, baseline.values))
    return Ratio(candidate.median / baseline.median if baseline.median else float("inf"), Spread(per_run))


def interleave(contenders: Mapping[str, Callable[[], Reading]], runs: int = MIN_RUNS) -> dict[str, Spread]:
    """Run every contender once per run, in rotating order; each figure as a Spread.

    A contender returning a mapping contributes one figure per key (named by the key);
    one returning a number, a figure named like the contender.
    """
    if runs < MIN_RUNS:
        raise ValueError(f"at least {MIN_RUNS} runs (got {runs}): fewer give no spread")
    names = list(contenders)
    seen: dict[str, list[float]] = {}
    for run in range(runs):
        k = run % len(names)
        for name in names[k:] + names[:k]:
            reading = contenders[name]()
            figures = reading if isinstance(reading, Mapping) else {name: reading}
            for key, value in figures.items():
                seen.setdefault(key, []).append(float(value))
    return {key: Spread(tuple(values)) for key, values in seen.items()}


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes (``time.perf_counter``)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def runs_arg(ap: argparse.ArgumentParser, default: int = MIN_RUNS) -> None:
    """``--runs N``: interleaved runs of every contender (at least MIN_RUNS)."""
    def runs(text: str) -> int:
        n = int(text)
        if n < MIN_RUNS:
            raise argparse.ArgumentTypeError(f"at least {MIN_RUNS} runs (a spread needs them)")
        return n

    ap.add_argument("--runs", type=runs, default=default, metavar="N",
                    help=f"interleaved runs of every contender, at least {MIN_RUNS} (default {default})")
