"""Real MP3 bytes for the fakes: a sine whose length follows the text, encoded with lameenc."""
from __future__ import annotations

import functools
import math
from array import array

SECONDS_PER_CHAR = 0.02
SAMPLE_RATE = 24000


def seconds_for(text: str) -> float:
    """How long the fakes' answer for ``text`` lasts: 20 ms per character."""
    return SECONDS_PER_CHAR * len(text)


@functools.lru_cache(maxsize=256)
def sine_mp3(seconds: float, freq: float = 440.0, sample_rate: int = SAMPLE_RATE, bitrate: int = 48) -> bytes:
    import lameenc

    n = int(seconds * sample_rate)
    step = 2 * math.pi * freq / sample_rate
    pcm = array("h", (int(8000 * math.sin(step * i)) for i in range(n))).tobytes()
    enc = lameenc.Encoder()
    enc.set_bit_rate(bitrate)
    enc.set_in_sample_rate(sample_rate)
    enc.set_channels(1)
    enc.set_quality(7)
    return bytes(enc.encode(pcm) + enc.flush())
