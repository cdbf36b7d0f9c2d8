"""LAME's settings, and the MP3 encoder process: ``python -m reader.lame_worker RATE BITRATE``.

:func:`make_encoder` is the one place the encoder is set up (``reader.audio.encode`` and
``reader.stream`` use it too). The process is started by :class:`reader.audio.ahead.EncodeAhead`:
lameenc holds the GIL while it encodes, so in our own process it would take turns with the
loudness meter and the limiter; in this one it has a core of its own. It reads 16-bit mono
PCM on standard input until it closes, and writes the MP3 frames (no tag: the caller adds the
ID3 tag and the Info frame) to standard output. A failure is one line on standard error and
exit status 1. SIGINT is ignored: Ctrl-C is the caller's to handle (it kills this process).

It lives outside ``reader/audio/`` so that starting it imports neither numpy nor scipy.
"""
from __future__ import annotations

import signal
import sys

from reader.errors import AudioError

#: LAME quality (0 best/slowest … 9 worst/fastest); 5 is LAME's own default.
QUALITY = 5
#: bytes read from the pipe per encoder call (one block of the encode pass)
CHUNK = 1 << 16


def make_encoder(rate: int, bitrate: int, subject: object = None):
    """A lameenc encoder for mono ``rate`` Hz at ``bitrate`` kbps, quality :data:`QUALITY`."""
    import lameenc

    try:
        enc = lameenc.Encoder()
        enc.set_bit_rate(bitrate)
        enc.set_in_sample_rate(rate)
        enc.set_out_sample_rate(rate)
        enc.set_channels(1)
        enc.set_quality(QUALITY)
        if hasattr(enc, "silence"):  # lameenc >= 1.8: keep LAME quiet on stdout
            enc.silence()
    except (RuntimeError, ValueError) as e:
        raise AudioError(subject, f"lameenc refused {rate} Hz at {bitrate} kbps: {e}") from e
    return enc


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        rate, bitrate = int(argv[0]), int(argv[1])
        enc = make_encoder(rate, bitrate)
        src, out = sys.stdin.buffer, sys.stdout.buffer
        fed = False
        while chunk := src.read(CHUNK):
            out.write(enc.encode(chunk))
            fed = True
        if fed:  # LAME refuses to flush what it never started
            out.write(enc.flush())
        out.flush()
    except (AudioError, RuntimeError, ValueError, IndexError, OSError) as e:
        print(f"MP3 encoder: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
