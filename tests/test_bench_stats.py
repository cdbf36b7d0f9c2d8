"""bench/_stats.py: the interleaving and the figures every bench prints (no timing is asserted)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from _stats import MIN_RUNS, Spread, interleave, ratio  # noqa: E402


def test_contenders_take_turns_in_rotating_order():
    calls: list[str] = []

    def contender(name: str):
        def one() -> float:
            calls.append(name)
            return float(len(calls))
        return one

    interleave({"a": contender("a"), "b": contender("b"), "c": contender("c")}, runs=5)
    assert calls == list("abc" "bca" "cab" "abc" "bca")


def test_a_mapping_reading_gives_one_figure_per_key():
    figures = interleave({"stream": lambda: {"first": 1.0, "last": 3.0}, "whole": lambda: 4.0}, runs=MIN_RUNS)
    assert sorted(figures) == ["first", "last", "whole"]
    assert figures["first"].values == (1.0,) * MIN_RUNS


@pytest.mark.parametrize("values, median, lo, hi", [
    ((1.0, 2.0, 3.0, 4.0, 100.0), 3.0, 1.0, 100.0),
    ((5.0, 5.0, 5.0, 5.0, 5.0), 5.0, 5.0, 5.0),
    ((4.0, 1.0, 3.0, 2.0), 2.5, 1.0, 4.0),
], ids=["outlier", "flat", "even-count"])
def test_spread(values, median, lo, hi):
    s = Spread(values)
    assert (s.median, s.min, s.max) == (median, lo, hi)


def test_ratio_of_medians_and_per_run_ratios():
    r = ratio(Spread((2.0, 4.0, 6.0, 8.0, 10.0)), Spread((1.0, 1.0, 2.0, 2.0, 5.0)))
    assert r.of_medians == 6.0 / 2.0
    assert r.per_run.values == (2.0, 4.0, 3.0, 4.0, 2.0)
    assert "ratio of medians 3.00x" in r.show() and "min 2.00x, max 4.00x, n=5" in r.show()


def test_fewer_than_five_runs_are_refused():
    with pytest.raises(ValueError, match="at least 5 runs"):
        interleave({"a": lambda: 1.0}, runs=3)
