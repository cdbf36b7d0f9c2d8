"""Stream a timeline through gain, limiter and loudness meter into lameenc, block by block."""
from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Sequence

import numpy as np

from reader.audio.loudness import Limiter, LoudnessMeter, db_to_gain
from reader.audio.timeline import Timeline, blocks
from reader.errors import AudioError
from reader.lame_worker import QUALITY, make_encoder  # noqa: F401  (QUALITY: re-exported for bench/render.py)

#: Bitrates (kbps) layer III allows: MPEG-1 for 32–48 kHz, MPEG-2/2.5 below.
MPEG1_BITRATES = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
MPEG2_BITRATES = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
#: lameenc's encoder scales its input by 0.95 (−0.45 dB: a 0.5 sine decodes at 0.475 with both
#: libsndfile and miniaudio). The encode pass divides by it, so the decoded MP3 has the
#: loudness and peak the meter measured.
ENCODER_SCALE = 0.95
#: Samples per block streamed through meter, limiter and encoder.
BLOCK = 1 << 15
#: Most blocks the gain trial looks at (about 48 s of audio at 22 kHz).
TRIAL_BLOCKS = 32


def allowed_bitrates(rate: int) -> tuple[int, ...]:
    return MPEG1_BITRATES if rate >= 32000 else MPEG2_BITRATES


def check_bitrate(bitrate: int, rate: int, subject: object = None) -> int:
    allowed = allowed_bitrates(rate)
    if bitrate not in allowed:
        raise AudioError(subject, f"{bitrate} kbps is not an MP3 bitrate at {rate} Hz",
                         fix="choose one of " + ", ".join(map(str, allowed)) + " kbps")
    return bitrate


def to_pcm16(x: np.ndarray, scale: float = 1.0) -> bytes:
    """Float samples (×``scale``) as little-endian int16, rounded and clipped."""
    y = x * np.float32(32768.0 * scale)
    np.rint(y, out=y)
    np.clip(y, -32768, 32767, out=y)
    return y.astype("<i2").tobytes()


@dataclass(frozen=True)
class PassResult:
    lufs: float  #: integrated loudness of what went into the encoder
    sample_peak: float  #: highest absolute sample that went into the encoder (linear)
    limited: int  #: samples the limiter turned down
    min_gain: float  #: deepest limiter gain (linear, 1.0 = never engaged)
    frames_bytes: int  #: MP3 bytes written


def measure(timeline: Timeline) -> LoudnessMeter:
    """First pass: loudness and sample peak of the joined clips, nothing kept but the meter."""
    meter = LoudnessMeter(timeline.rate)
    for b in blocks(timeline, BLOCK):
        meter.add(b)
    return meter


def trial(timeline: Timeline, gains_db: Sequence[float], ceiling_db: float, *,
          times: tuple[float, float] = (0.005, 0.050),
          max_blocks: int = TRIAL_BLOCKS) -> tuple[float, list[float]]:
    """Loudness of a sample of the episode with gain only, and with gain and limiter for each of
    ``gains_db``, encoding nothing.

    Long episodes are sampled (runs of 4 blocks spread evenly, at most ``max_blocks``): what
    the limiter takes off is a property of the voice, the same all through an episode.
    """
    total = -(-timeline.samples // BLOCK)
    stride = max(1, -(-total // max_blocks))
    raw = LoudnessMeter(timeline.rate)
    runs = [(np.float32(db_to_gain(g)), Limiter(timeline.rate, ceiling_db, attack=times[0], release=times[1]),
             LoudnessMeter(timeline.rate))
            for g in gains_db]
    for i, b in enumerate(blocks(timeline, BLOCK)):
        if (i // 4) % stride:
            continue
        raw.add(b)
        for gain, limiter, meter in runs:
            if (y := limiter.push(b * gain)) is not None:
                meter.add(y)
    for _, limiter, meter in runs:
        if (y := limiter.finish()) is not None:
            meter.add(y)
    return raw.integrated(), [meter.integrated() for _, _, meter in runs]


def encode_pass(timeline: Timeline, out: BinaryIO, *, gain_db: float, ceiling_db: float, bitrate: int,
                times: tuple[float, float] = (0.005, 0.050),
                subject: object = None) -> PassResult:
    """Second pass: gain, limit, meter and encode every block, writing MP3 frames to ``out``."""
    enc = make_encoder(timeline.rate, bitrate, subject)
    gain = np.float32(db_to_gain(gain_db))
    limiter = Limiter(timeline.rate, ceiling_db, attack=times[0], release=times[1])
    meter = LoudnessMeter(timeline.rate)
    written = 0
    try:
        for b in limiter.process(b * gain for b in blocks(timeline, BLOCK)):
            meter.add(b)
            written += out.write(enc.encode(to_pcm16(b, 1.0 / ENCODER_SCALE)))
        written += out.write(enc.flush())
    except (RuntimeError, ValueError) as e:
        raise AudioError(subject, f"MP3 encoding failed: {e}") from e
    except OSError as e:
        raise AudioError(subject, f"could not write the MP3: {e.strerror or e}",
                         fix="check free disk space and that the output folder is writable") from e
    return PassResult(meter.integrated(), meter.peak, limiter.limited, limiter.min_gain, written)
