"""The BS.1770 meter, true peak and limiter against pyloudnorm and a 16× oversampled reference."""
import numpy as np
import pytest

from audio_support import burst
from reader.audio.loudness import Limiter, LoudnessMeter, box, running_min, true_peak


def speechy(rate: int, seconds: float = 6.0, seed: int = 1) -> np.ndarray:
    return np.frombuffer(burst(seconds, rate, -3.0, seed), dtype="<i2") / 32768.0


@pytest.mark.slow
@pytest.mark.parametrize("rate, block", [(8000, 1000), (16000, 4096), (22050, 7777), (24000, 32768),
                                         (44100, 100000), (48000, 513)],
                         ids=["8k", "16k", "22k", "24k", "44k-one-block", "48k-small-blocks"])
def test_meter_matches_pyloudnorm(rate, block):
    import pyloudnorm

    x = speechy(rate)
    m = LoudnessMeter(rate)
    for i in range(0, len(x), block):
        m.add(x[i:i + block])
    assert m.integrated() == pytest.approx(pyloudnorm.Meter(rate).integrated_loudness(x), abs=0.01)
    assert m.peak == pytest.approx(np.abs(x).max())


def test_meter_gates_silence_and_quiet_passages():
    rate = 24000
    x = speechy(rate, 4.0)
    m_loud, m_padded = LoudnessMeter(rate), LoudnessMeter(rate)
    m_loud.add(x)
    m_padded.add(np.concatenate([x, np.zeros(rate * 20)]))  # 20 s of silence is gated out
    assert m_padded.integrated() == pytest.approx(m_loud.integrated(), abs=0.3)  # only edge blocks differ
    silent = LoudnessMeter(rate)
    silent.add(np.zeros(rate * 2))
    assert silent.integrated() == float("-inf")


def test_true_peak_finds_the_peak_between_samples():
    n = np.arange(4000)
    x = np.sin(2 * np.pi * n / 4 + np.pi / 4)  # samples at ±0.707, crest at 1.0 between them
    assert 20 * np.log10(np.abs(x).max()) == pytest.approx(-3.01, abs=0.01)
    assert true_peak(x) == pytest.approx(0.0, abs=0.2)


@pytest.mark.parametrize("seed", [0, 1, 2], ids=["noise0", "noise1", "noise2"])
def test_true_peak_agrees_with_16x_reference(seed):
    from scipy.signal import resample_poly

    rate = 24000
    x = np.random.default_rng(seed).standard_normal(rate) * 0.2
    x = resample_poly(resample_poly(x, 1, 2), 2, 1)  # band-limit to half Nyquist, like speech
    ref = 20 * np.log10(np.abs(resample_poly(x, 16, 1))[2000:-2000].max())
    assert true_peak(x[200:-200]) == pytest.approx(ref, abs=0.3)


def test_running_min_and_box_match_naive():
    a = np.random.default_rng(3).uniform(0, 1, 1001)
    assert np.allclose(running_min(a, 9), [a[i:i + 9].min() for i in range(len(a) - 8)])
    assert np.allclose(box(a, 3), [a[i:i + 7].mean() for i in range(len(a) - 6)])


def test_limiter_caps_true_peak_and_leaves_quiet_blocks_alone():
    rate = 22050
    x = (speechy(rate, 5.0) * 2.0).astype(np.float32)  # peaks at +3 dBFS
    lim = Limiter(rate, -2.0)
    y = np.concatenate(list(lim.process(iter(np.array_split(x, 7)))))
    assert len(y) == len(x)
    assert true_peak(y) <= -2.0 + 0.1
    assert lim.limited > 0
    quiet = (x * 0.05).astype(np.float32)
    lim2 = Limiter(rate, -2.0)
    z = np.concatenate(list(lim2.process(iter(np.array_split(quiet, 5)))))
    assert np.array_equal(z, quiet) and lim2.limited == 0


def test_limiter_gain_does_not_follow_the_pitch_period():
    """A steady 150 Hz vowel over the ceiling gets a steady gain, not one that pumps each period."""
    rate = 24000
    t = np.arange(rate * 2) / rate
    x = (sum(np.sin(2 * np.pi * k * 150 * t) / k for k in range(1, 20)) * 1.2).astype(np.float32)
    lim = Limiter(rate, -2.0)
    y = np.concatenate(list(lim.process(iter(np.array_split(x, 4)))))
    middle = slice(rate // 2, rate + rate // 2)
    gain = y[middle] / np.where(np.abs(x[middle]) > 0.05, x[middle], np.nan)
    assert np.nanmax(gain) / np.nanmin(gain) < 1.01  # within 0.1 dB over a whole second
    assert true_peak(y[middle]) <= -2.0 + 0.1


def _timeline(pcm: bytes, rate: int = 24000):
    from reader.audio.timeline import Pauses, Segment, layout
    from reader.models import Clip

    return layout([Segment("A", (Clip(pcm, rate, "fake", "v"),))], pauses=Pauses(lead=0, tail=0))


def test_gain_is_exact_when_the_limiter_cannot_engage():
    from reader.audio.encode import measure
    from reader.audio.gain import choose_gain

    tl = _timeline(burst(3.0, 24000, -30.0, seed=2, tone=300.0))
    meter = measure(tl)
    plan = choose_gain(tl, meter.integrated(), meter.peak, -16.0, -2.5)
    assert plan.gain == pytest.approx(-16.0 - meter.integrated())
    assert plan.slope == 1.0


def test_gain_is_capped_for_a_signal_that_is_all_peaks():
    from reader.audio.encode import measure
    from reader.audio.gain import MAX_LIMITING_DB, choose_gain

    clicks = np.zeros(24000 * 3)
    clicks[::4800] = 0.5  # five clicks a second: very loud peaks, almost no loudness
    tl = _timeline((clicks * 32767).astype("<i2").tobytes())
    meter = measure(tl)
    plan = choose_gain(tl, meter.integrated(), meter.peak, -16.0, -2.5)
    assert plan.gain <= -16.0 - meter.integrated() + MAX_LIMITING_DB + 1e-9
    # louder input cannot make clicks pinned at the ceiling louder: no pointless boost either
    assert plan.gain == pytest.approx(-16.0 - meter.integrated(), abs=0.5)
