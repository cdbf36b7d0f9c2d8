"""Loudness (ITU-R BS.1770-4) measured block by block, true peak, and a look-ahead limiter.

``LoudnessMeter`` applies the K-weighting filter (the same RBJ biquads pyloudnorm uses, run
with scipy's compiled ``sosfilt`` kernel carrying its state from block to block) and keeps one
number per 100 ms, so a two-hour episode is measured in a few hundred kilobytes.
``Limiter`` keeps the 4× oversampled (true) peak under a ceiling with a smooth gain dip
around each over; blocks with no sample near the ceiling pass untouched.
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

ABSOLUTE_GATE = -70.0  #: LUFS
RELATIVE_GATE = -10.0  #: LU below the absolute-gated loudness
OVERSAMPLE = 4  #: true-peak oversampling factor (BS.1770-4 annex 2)
PHASE_TAPS = 12  #: taps per phase of the oversampling filter (48 in all, as in annex 2)


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


Kernel = Callable[[np.ndarray, np.ndarray, np.ndarray], None]


@lru_cache(maxsize=1)
def _sos_kernel() -> Kernel:
    """scipy's compiled second-order-section filter, ``kernel(sos, x, zi)``, filtering ``x``
    (shape (1, n), float64) and ``zi`` (shape (1, sections, 2)) in place.

    ``import scipy.signal`` costs 1.3 s of CPU (5 s of wall time on a busy machine) and holds
    the GIL while the engine is speaking, for the one function the meter uses; so the compiled
    module ``scipy/signal/_sosfilt`` is loaded on its own (it needs only numpy). Should a scipy
    release move it, the public ``scipy.signal.sosfilt`` does the same work.
    """
    try:
        import scipy

        folder = Path(scipy.__file__).parent / "signal"
        path = next(iter(sorted(folder.glob("_sosfilt.*"))), None)
        spec = importlib.util.spec_from_file_location("scipy.signal._sosfilt", path) if path else None
        if spec is not None and spec.loader is not None:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            kernel: Kernel = module._sosfilt
            return kernel
    except (ImportError, OSError, AttributeError):
        pass
    from scipy.signal import sosfilt

    def public(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> None:
        x[0], zi[0] = sosfilt(sos, x[0], zi=zi[0])

    return public


class LoudnessMeter:
    """Integrated loudness of a mono signal fed in blocks of any size."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._sos = np.array([np.concatenate([b, a]) for b, a in k_weighting(rate)])
        self._zi = np.zeros((1, len(self._sos), 2))  # start at rest, as pyloudnorm does
        self._sums: list[float] = []  # K-weighted energy of each 100 ms sub-block
        self._acc = 0.0
        self._pos = 0
        self.peak = 0.0  #: highest absolute sample seen

    def _boundary(self, k: int) -> int:
        return round(k * self.rate / 10)

    def add(self, x: np.ndarray) -> None:
        """Feed the next samples (any block size)."""
        if not len(x):
            return
        self.peak = max(self.peak, float(x.max()), -float(x.min()))
        y = np.array(x, dtype=np.float64, ndmin=2)  # a copy: the kernel filters in place
        _sos_kernel()(self._sos, y, self._zi)
        y = y[0]
        np.square(y, out=y)
        start, end = self._pos, self._pos + len(y)
        cuts: list[int] = []
        while (b := self._boundary(len(self._sums) + len(cuts) + 1)) <= end:
            cuts.append(b - start)
        if cuts:
            parts = np.add.reduceat(y[:cuts[-1]], np.array([0, *cuts[:-1]]))
            parts[0] += self._acc
            self._sums.extend(parts.tolist())
            self._acc = float(y[cuts[-1]:].sum())
        else:
            self._acc += float(y.sum())
        self._pos = end

    def integrated(self) -> float:
        """Gated integrated loudness in LUFS (−inf for silence) of everything fed so far."""
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


@lru_cache(maxsize=1)
def _phases32() -> np.ndarray:
    """:func:`_phases` in float32, rows reversed to meet the limiter's windows."""
    return np.ascontiguousarray(_phases()[::-1], dtype=np.float32)


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
    would distort it): it moves at the pace of syllables. The gain curve is worked out on
    frames of ``FRAME`` samples (each frame keeps its lowest need) and interpolated back, which
    keeps the guarantee since the hold reaches one frame further each side. Blocks with no
    sample within 3.5 dB of the ceiling pass untouched without being oversampled.
    """

    FRAME = 32

    def __init__(self, rate: int, ceiling_db: float, *, attack: float = 0.005, release: float = 0.050) -> None:
        f = self.FRAME
        self.ceiling = db_to_gain(ceiling_db)
        self.threshold = self.ceiling / 1.5
        self.attack = max(1, -(-round(attack * rate) // f))  # in frames
        self.release = max(self.attack, -(-round(release * rate) // f))
        self.smooth = (self.attack - 1) // 2  # the triangle stays inside the hold, one frame to spare
        self.margin = f * (self.release + self.attack + 4)  # samples, whole frames
        self.limited = 0  #: samples whose gain was reduced
        self.min_gain = 1.0  #: deepest gain reduction applied
        self._prev = np.zeros(self.margin, dtype=np.float32)
        self._cur: np.ndarray | None = None

    def push(self, block: np.ndarray) -> np.ndarray | None:
        """Take the next block; give back the previous one, limited (None for the first)."""
        out = None
        if self._cur is not None:
            out = self._block(self._prev, self._cur, block)
            cur = self._cur
            self._prev = cur[-self.margin:] if len(cur) >= self.margin else \
                np.concatenate([self._prev, cur])[-self.margin:]
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

    def _frame_need(self, ext: np.ndarray) -> np.ndarray | None:
        """Per frame, the gain its highest true peak needs (None when nothing needs any).

        Only frames with a sample within 3.5 dB of the ceiling are oversampled: on speech
        that is one frame in five, and a peak between samples never rises that far above
        its neighbours. The work is float32 on whole blocks (a frame's 32×3 interpolated
        points are one matrix product); float32's 24 bits are far finer than the 16 bits
        the encoder is given.
        """
        f, p = self.FRAME, PHASE_TAPS // 2
        frames = ext.reshape(-1, f)
        tops = np.maximum(frames.max(axis=1), -frames.min(axis=1))  # no |x| copy of the block
        hot = np.flatnonzero(tops > self.threshold)
        if not len(hot):
            return None
        padded = np.zeros(len(ext) + 2 * p, dtype=np.float32)
        padded[p:p + len(ext)] = ext
        windows = sliding_window_view(padded, 2 * p)  # windows[n + 1] = x[n + p] … x[n - p + 1]
        rows = windows[(hot * f + 1)[:, None] + np.arange(f)[None, :]]  # (hot, f, 2p)
        inter = np.abs(rows @ _phases32()).max(axis=(1, 2))
        peaks = np.maximum(inter, tops[hot])
        if float(peaks.max()) <= self.ceiling:
            return None
        need = np.ones(len(frames))
        need[hot] = np.minimum(1.0, self.ceiling / peaks)
        return need

    def _block(self, prev: np.ndarray, cur: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        m, f = self.margin, self.FRAME
        tail = m + (-len(cur)) % f  # look-ahead, padded so ext is whole frames
        ext = np.zeros(m + len(cur) + tail, dtype=np.float32)
        ext[:m] = prev[-m:]
        ext[m:m + len(cur)] = cur
        ahead = nxt[:tail]
        ext[m + len(cur):m + len(cur) + len(ahead)] = ahead
        need = self._frame_need(ext)
        if need is None:
            return cur
        held = running_min(need, self.release + self.attack + 1)  # index i: frames i .. i+R+A → frame i+R
        g = box(box(held, self.smooth), self.smooth)  # index j: frame j + 2s + R
        low = np.flatnonzero(g < 0.9999)
        if not len(low):
            return cur
        lo = max(low[0] - 1, 0)
        hi = min(low[-1] + 2, len(g))
        first = (2 * self.smooth + self.release) * f + (f - 1) / 2  # sample position of g[0]'s centre
        start = max(m, int(np.floor(first + lo * f)))  # the samples g[lo:hi] reaches (clamped to cur)
        stop = min(m + len(cur), int(np.ceil(first + (hi - 1) * f)) + 1)
        if start >= stop:
            return cur
        gains = _interpolate(g[lo:hi].astype(np.float32), first + lo * f, f, start, stop)
        below = gains < 0.9999
        self.limited += int(np.count_nonzero(below))
        if not below.any():
            return cur
        self.min_gain = min(self.min_gain, float(gains.min()))
        out = cur.copy()
        out[start - m:stop - m] *= gains
        return out


def _interpolate(g: np.ndarray, first: float, f: int, start: int, stop: int) -> np.ndarray:
    """``np.interp(arange(start, stop), first + f * arange(len(g)), g)`` for a grid of step ``f``,
    as one broadcast: each interval between centres is ``f`` samples at the same fractions."""
    if len(g) == 1:
        return np.full(stop - start, g[0], dtype=np.float32)
    base = int(np.ceil(first))  # first whole sample at or after g[0]'s centre
    frac = ((base - first + np.arange(f)) / f).astype(np.float32)  # of each sample in its interval
    inner = (g[:-1, None] + (g[1:] - g[:-1])[:, None] * frac[None, :]).ravel()  # samples base …
    end = base + len(inner)  # past the last interval; the last centre and beyond hold g[-1]
    out = np.empty(stop - start, dtype=np.float32)
    a, b = max(start, base), min(stop, end)
    out[:max(0, min(a, stop) - start)] = g[0]
    if b > a:
        out[a - start:b - start] = inner[a - base:b - base]
    out[max(0, max(b, start) - start):] = g[-1]
    return out
