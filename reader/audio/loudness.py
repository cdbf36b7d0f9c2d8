"""Loudness (ITU-R BS.1770-4) measured block by block, true peak, and a look-ahead limiter.

``LoudnessMeter`` gives the same integrated loudness as ``pyloudnorm.Meter`` (whose
K-weighting filter coefficients it reuses) but keeps only one number per 100 ms, so a
two-hour episode is measured in a few hundred kilobytes instead of a float64 copy.
``Limiter`` keeps the true peak (4× oversampled) under a ceiling with a smooth gain dip
around each over; on speech normalised to −16 LUFS it acts only on rare peaks.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

ABSOLUTE_GATE = -70.0  #: LUFS
RELATIVE_GATE = -10.0  #: LU below the absolute-gated loudness
OVERSAMPLE = 4  #: true-peak oversampling factor (BS.1770-4 annex 2)


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def gain_to_db(gain: float) -> float:
    return float(20.0 * np.log10(gain)) if gain > 0 else float("-inf")


def k_weighting(rate: int) -> np.ndarray:
    """The BS.1770 K-weighting pre-filter at ``rate`` as second-order sections."""
    import pyloudnorm

    f = pyloudnorm.Meter(rate)._filters
    return np.array([np.concatenate([f[k].b, f[k].a]) for k in ("high_shelf", "high_pass")])


class LoudnessMeter:
    """Integrated loudness of a mono signal fed in blocks of any size."""

    def __init__(self, rate: int) -> None:
        from scipy.signal import sosfilt_zi

        self.rate = rate
        self._sos = k_weighting(rate)
        self._zi = sosfilt_zi(self._sos) * 0.0  # start at rest, as pyloudnorm does
        self._sums: list[float] = []  # K-weighted energy of each 100 ms sub-block
        self._acc = 0.0
        self._pos = 0
        self.peak = 0.0  #: highest absolute sample seen

    def _boundary(self, k: int) -> int:
        return round(k * self.rate / 10)

    def add(self, x: np.ndarray) -> None:
        from scipy.signal import sosfilt

        if not len(x):
            return
        self.peak = max(self.peak, float(np.max(np.abs(x))))
        y, self._zi = sosfilt(self._sos, x.astype(np.float64), zi=self._zi)
        cs = np.concatenate(([0.0], np.cumsum(y * y)))
        start, end = self._pos, self._pos + len(x)
        taken = 0
        while (b := self._boundary(len(self._sums) + 1)) <= end:
            i = b - start
            self._sums.append(self._acc + float(cs[i] - cs[taken]))
            self._acc, taken = 0.0, i
        self._acc += float(cs[-1] - cs[taken])
        self._pos = end

    def integrated(self) -> float:
        """Gated integrated loudness in LUFS (−inf for silence)."""
        sums = np.array(self._sums + ([self._acc] if len(self._sums) < 4 else []))
        bounds = np.array([self._boundary(k) for k in range(len(self._sums) + 1)] + ([self._pos] if len(self._sums) < 4 else []))
        if len(self._sums) >= 4:  # 400 ms blocks every 100 ms
            energy = sums[:-3] + sums[1:-2] + sums[2:-1] + sums[3:]
            length = bounds[4:] - bounds[:-4]
        else:  # shorter than one block: the whole signal is one block
            energy = np.array([sums.sum()])
            length = np.array([max(self._pos, 1)])
        z = energy / length
        with np.errstate(divide="ignore"):
            lk = -0.691 + 10 * np.log10(z)
        gated = z[lk >= ABSOLUTE_GATE]
        if not len(gated):
            return float("-inf")
        relative = -0.691 + 10 * np.log10(gated.mean()) + RELATIVE_GATE
        final = z[(lk > relative) & (lk >= ABSOLUTE_GATE)]
        return float(-0.691 + 10 * np.log10(final.mean()))


def peak_envelope(x: np.ndarray) -> np.ndarray:
    """Per sample, the highest absolute value of the 4× oversampled signal around it."""
    from scipy.signal import resample_poly

    up = np.abs(resample_poly(x.astype(np.float64), OVERSAMPLE, 1))[: len(x) * OVERSAMPLE]
    up = up.reshape(len(x), OVERSAMPLE).max(axis=1)
    return np.maximum(up, np.abs(x))


def true_peak(x: np.ndarray) -> float:
    """True peak of a whole (short) signal in dBTP."""
    if not len(x):
        return float("-inf")
    return gain_to_db(float(peak_envelope(x).max()))


class Limiter:
    """Keep the 4× oversampled peak under ``ceiling_db`` dBTP, one block at a time.

    The gain needed at each sample is held for ``hold`` seconds either side (a running
    minimum) and smoothed with a Hann window half as wide, so the gain is already down
    when the peak arrives and comes back up gently. Blocks whose sample peak is well below
    the ceiling pass untouched and cost nothing.
    """

    def __init__(self, rate: int, ceiling_db: float, *, hold: float = 0.010) -> None:
        self.ceiling = db_to_gain(ceiling_db)
        self.hold = max(1, round(hold * rate))
        self.smooth = max(1, self.hold // 2)
        self.margin = self.hold + self.smooth + 16
        self.limited = 0  #: samples whose gain was reduced
        self.min_gain = 1.0  #: deepest gain reduction applied

    def _gain(self, ext: np.ndarray) -> np.ndarray:
        from scipy.ndimage import minimum_filter1d

        need = np.minimum(1.0, self.ceiling / np.maximum(peak_envelope(ext), 1e-12))
        held = minimum_filter1d(need, size=2 * self.hold + 1, mode="nearest")
        win = np.hanning(2 * self.smooth + 3)[1:-1]
        return np.convolve(held, win / win.sum(), mode="same")

    def process(self, stream: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        """The same blocks, limited (one block of delay for the look-ahead)."""
        m = self.margin
        prev = np.zeros(m, dtype=np.float32)
        cur = None
        for nxt in stream:
            if cur is not None:
                yield self._block(prev, cur, nxt)
                prev = np.concatenate([prev, cur])[-m:]
            cur = nxt
        if cur is not None:
            yield self._block(prev, cur, np.zeros(0, dtype=np.float32))

    def _block(self, prev: np.ndarray, cur: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        m = self.margin
        ahead = nxt[:m]
        if len(ahead) < m:
            ahead = np.concatenate([ahead, np.zeros(m - len(ahead), dtype=np.float32)])
        ext = np.concatenate([prev[-m:], cur, ahead])
        if float(np.max(np.abs(ext))) * 1.5 < self.ceiling:
            return cur
        g = self._gain(ext)[m:m + len(cur)]
        low = g < 0.9999
        if low.any():
            self.limited += int(low.sum())
            self.min_gain = min(self.min_gain, float(g.min()))
            return (cur * g).astype(np.float32)
        return cur
