"""Loudness (ITU-R BS.1770-4) measured block by block, true peak, and a look-ahead limiter.

Everything here is plain numpy, so the common case (one engine, one sample rate) never
imports scipy.signal. ``LoudnessMeter`` applies the K-weighting filter (the same RBJ
biquads pyloudnorm uses, run as a long FIR through the FFT, overlap-save) and keeps one
number per 100 ms, so a two-hour episode is measured in a few hundred kilobytes.
``Limiter`` keeps the 4× oversampled (true) peak under a ceiling with a smooth gain dip
around each over; blocks with no sample near the ceiling pass untouched.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterator

import numpy as np

ABSOLUTE_GATE = -70.0  #: LUFS
RELATIVE_GATE = -10.0  #: LU below the absolute-gated loudness
OVERSAMPLE = 4  #: true-peak oversampling factor (BS.1770-4 annex 2)
PHASE_TAPS = 12  #: taps per phase of the oversampling filter (48 in all, as in annex 2)
FFT_SIZE = 1 << 15  #: overlap-save FFT length of the K-weighting filter


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def gain_to_db(gain: float) -> float:
    return float(20.0 * np.log10(gain)) if gain > 0 else float("-inf")


def _biquad(kind: str, gain_db: float, q: float, fc: float, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """RBJ cookbook biquad (as pyloudnorm's IIRfilter), normalised so a0 = 1."""
    a_ = 10 ** (gain_db / 40.0)
    w0 = 2.0 * np.pi * fc / rate
    alpha = np.sin(w0) / (2.0 * q)
    cw, sa = np.cos(w0), 2 * np.sqrt(a_) * alpha
    if kind == "high_shelf":
        b = [a_ * ((a_ + 1) + (a_ - 1) * cw + sa), -2 * a_ * ((a_ - 1) + (a_ + 1) * cw),
             a_ * ((a_ + 1) + (a_ - 1) * cw - sa)]
        a = [(a_ + 1) - (a_ - 1) * cw + sa, 2 * ((a_ - 1) - (a_ + 1) * cw), (a_ + 1) - (a_ - 1) * cw - sa]
    else:  # high_pass
        b = [(1 + cw) / 2, -(1 + cw), (1 + cw) / 2]
        a = [1 + alpha, -2 * cw, 1 - alpha]
    return np.array(b) / a[0], np.array(a) / a[0]


def k_weighting(rate: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The two K-weighting stages (shelf, then high-pass) as (b, a) pairs."""
    return (_biquad("high_shelf", 4.0, 1 / np.sqrt(2), 1500.0, rate), _biquad("high_pass", 0.0, 0.5, 38.0, rate))


@lru_cache(maxsize=16)
def k_weighting_fir(rate: int) -> np.ndarray:
    """Impulse response of the K-weighting cascade, cut where it has decayed below 1e-10."""
    n = int(rate * 0.25)
    y = np.zeros(n)
    y[0] = 1.0
    for b, a in k_weighting(rate):
        x, y = y, np.zeros(n)
        x1 = x2 = y1 = y2 = 0.0
        b0, b1, b2 = (float(v) for v in b)
        a1, a2 = float(a[1]), float(a[2])
        for i in range(n):  # a few thousand steps, once per rate
            xi = x[i]
            yi = b0 * xi + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
            y[i] = yi
            x2, x1, y2, y1 = x1, xi, y1, yi
    big = np.flatnonzero(np.abs(y) > 1e-10)
    return y[: big[-1] + 1]


class LoudnessMeter:
    """Integrated loudness of a mono signal fed in blocks of any size."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._h = k_weighting_fir(rate)
        self._tail = np.zeros(len(self._h) - 1)
        self._spectrum = np.fft.rfft(self._h, FFT_SIZE)
        self._pending: list[np.ndarray] = []
        self._npending = 0
        self._sums: list[float] = []  # K-weighted energy of each 100 ms sub-block
        self._acc = 0.0
        self._pos = 0
        self.peak = 0.0  #: highest absolute sample seen

    def _boundary(self, k: int) -> int:
        return round(k * self.rate / 10)

    def _filter(self, x: np.ndarray) -> np.ndarray:
        """Overlap-save FFT convolution with the K-weighting impulse response (len(x) ≤ step)."""
        keep = len(self._tail)
        seg = np.concatenate([self._tail, x])
        y = np.fft.irfft(np.fft.rfft(seg, FFT_SIZE) * self._spectrum, FFT_SIZE)[keep:len(seg)]
        self._tail = seg[len(seg) - keep:]
        return y

    def add(self, x: np.ndarray) -> None:
        """Feed the next samples (any block size; filtered in FFT-sized steps)."""
        if not len(x):
            return
        self.peak = max(self.peak, float(np.max(np.abs(x))))
        self._pending.append(x.astype(np.float64))
        self._npending += len(x)
        step = FFT_SIZE - len(self._tail)
        if self._npending >= step:
            data = np.concatenate(self._pending)
            cut = len(data) - len(data) % step
            for i in range(0, cut, step):
                self._energy(self._filter(data[i:i + step]))
            self._pending = [data[cut:]]
            self._npending = len(data) - cut

    def _flush(self) -> None:
        if self._npending:
            self._energy(self._filter(np.concatenate(self._pending)))
            self._pending, self._npending = [], 0

    def _energy(self, y: np.ndarray) -> None:
        cs = np.concatenate(([0.0], np.cumsum(y * y)))
        start, end = self._pos, self._pos + len(y)
        taken = 0
        while (b := self._boundary(len(self._sums) + 1)) <= end:
            i = b - start
            self._sums.append(self._acc + float(cs[i] - cs[taken]))
            self._acc, taken = 0.0, i
        self._acc += float(cs[-1] - cs[taken])
        self._pos = end

    def integrated(self) -> float:
        """Gated integrated loudness in LUFS (−inf for silence) of everything fed so far."""
        self._flush()
        sums = np.array(self._sums)
        if len(sums) >= 4:  # 400 ms blocks every 100 ms
            bounds = np.array([self._boundary(k) for k in range(len(sums) + 1)])
            z = (sums[:-3] + sums[1:-2] + sums[2:-1] + sums[3:]) / (bounds[4:] - bounds[:-4])
        else:  # shorter than one block: the whole signal is one block
            z = np.array([(sums.sum() + self._acc) / max(self._pos, 1)])
        with np.errstate(divide="ignore"):
            lk = -0.691 + 10 * np.log10(z)
        gated = z[lk >= ABSOLUTE_GATE]
        if not len(gated):
            return float("-inf")
        relative = -0.691 + 10 * np.log10(gated.mean()) + RELATIVE_GATE
        final = z[(lk > relative) & (lk >= ABSOLUTE_GATE)]
        return float(-0.691 + 10 * np.log10(final.mean()))


@lru_cache(maxsize=1)
def _phases() -> np.ndarray:
    """(12, 3) matrix: column k-1 interpolates the point k/4 of the way to the next sample."""
    half = OVERSAMPLE * PHASE_TAPS // 2
    t = np.arange(-half, half + 1)
    h = np.sinc(t / OVERSAMPLE) * np.kaiser(len(t), 8.0)
    j = np.arange(-PHASE_TAPS // 2, PHASE_TAPS // 2)
    cols = []
    for k in range(1, OVERSAMPLE):
        taps = h[OVERSAMPLE * j + k + half]
        cols.append(taps / taps.sum())
    return np.array(cols).T


def peak_envelope(x: np.ndarray) -> np.ndarray:
    """Per sample n, the highest absolute value of the 4× oversampled signal on [n, n+1)."""
    x = x.astype(np.float64)
    p = PHASE_TAPS // 2
    out = np.abs(x)
    for taps in _phases().T:  # phase k/4: sum_j taps[j] * x[n - (j - p)]
        np.maximum(out, np.abs(np.convolve(x, taps)[p:p + len(x)]), out=out)
    return out


def true_peak(x: np.ndarray) -> float:
    """True peak of a whole signal in dBTP (4× oversampled)."""
    if not len(x):
        return float("-inf")
    return gain_to_db(float(peak_envelope(x).max()))


def running_min(a: np.ndarray, w: int) -> np.ndarray:
    """``out[i] = min(a[i:i+w])`` for every full window (van Herk / Gil-Werman)."""
    n = len(a)
    k = -(-n // w)
    pad = np.ones(k * w)
    pad[:n] = a
    rows = pad.reshape(k, w)
    pre = np.minimum.accumulate(rows, axis=1).ravel()
    suf = np.minimum.accumulate(rows[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.minimum(suf[: n - w + 1], pre[w - 1: n])


def box(a: np.ndarray, half: int) -> np.ndarray:
    """Moving average over 2·half+1 samples (valid part only)."""
    c = np.concatenate(([0.0], np.cumsum(a)))
    w = 2 * half + 1
    return (c[w:] - c[:-w]) / w


class Limiter:
    """Keep the 4× oversampled peak under ``ceiling_db`` dBTP, one block at a time.

    The gain each over needs takes effect ``attack`` seconds before it (look-ahead) and is held
    ``release`` seconds after it (a running minimum over that window), then smoothed by two
    moving averages (a triangle ``attack`` wide each side). The gain never rises above what a
    peak needs at the peak itself, and it does not follow the pitch period of a voice (which
    would distort it): it moves at the pace of syllables. Blocks with no sample within 3.5 dB of
    the ceiling pass untouched without being oversampled.
    """

    def __init__(self, rate: int, ceiling_db: float, *, attack: float = 0.005, release: float = 0.050) -> None:
        self.ceiling = db_to_gain(ceiling_db)
        self.threshold = self.ceiling / 1.5
        self.attack = max(2, round(attack * rate))
        self.release = max(self.attack, round(release * rate))
        self.smooth = self.attack // 2
        self.margin = self.release + self.attack + 8
        self.limited = 0  #: samples whose gain was reduced
        self.min_gain = 1.0  #: deepest gain reduction applied
        self._prev = np.zeros(self.margin, dtype=np.float32)
        self._cur: np.ndarray | None = None

    def push(self, block: np.ndarray) -> np.ndarray | None:
        """Take the next block; give back the previous one, limited (None for the first)."""
        out = None
        if self._cur is not None:
            out = self._block(self._prev, self._cur, block)
            self._prev = np.concatenate([self._prev, self._cur])[-self.margin:]
        self._cur = block
        return out

    def finish(self) -> np.ndarray | None:
        """The last block, limited."""
        if self._cur is None:
            return None
        out, self._cur = self._block(self._prev, self._cur, np.zeros(0, dtype=np.float32)), None
        return out

    def process(self, stream: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        """The same blocks, limited (one block of delay for the look-ahead)."""
        for block in stream:
            if (out := self.push(block)) is not None:
                yield out
        if (out := self.finish()) is not None:
            yield out

    def _block(self, prev: np.ndarray, cur: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        m = self.margin
        ahead = nxt[:m]
        if len(ahead) < m:
            ahead = np.concatenate([ahead, np.zeros(m - len(ahead), dtype=np.float32)])
        ext = np.concatenate([prev[-m:], cur, ahead])
        if float(np.abs(ext).max()) <= self.threshold:
            return cur
        env = peak_envelope(ext)
        over = env > self.ceiling
        if not over.any():
            return cur
        need = np.ones(len(ext))
        need[over] = self.ceiling / env[over]
        held = running_min(need, self.release + self.attack + 1)  # index i: min of need[i-R .. i+A] shifted by R
        g = box(box(held, self.smooth), self.smooth)  # index j: sample j + 2s + R
        start = m - self.release - 2 * self.smooth
        g = g[start:start + len(cur)]
        self.limited += int(np.count_nonzero(g < 0.9999))
        self.min_gain = min(self.min_gain, float(g.min()))
        return (cur * g).astype(np.float32)
