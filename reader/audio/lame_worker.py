"""The MP3 encoder process: ``python -m reader.audio.lame_worker RATE BITRATE``.

Started by :class:`reader.audio.ahead.EncodeAhead`. lameenc holds the GIL while it encodes,
so in our own process it would take turns with the loudness meter and the limiter; in this
process it has a core of its own. It reads 16-bit mono PCM on standard input until it
closes, and writes the MP3 frames (no tag: the caller adds the ID3 tag and the Info frame)
to standard output, with the encoder settings of :func:`reader.audio.encode.make_encoder`.
A failure is one line on standard error and exit status 1. SIGINT is ignored: Ctrl-C is
the caller's to handle (it kills this process).
"""
from __future__ import annotations

import signal
import sys

#: bytes read from the pipe per encoder call (one block of the encode pass)
CHUNK = 1 << 16


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from reader.audio.encode import make_encoder
    from reader.errors import ReaderError

    try:
        rate, bitrate = int(argv[0]), int(argv[1])
        enc = make_encoder(rate, bitrate)
        src, out = sys.stdin.buffer, sys.stdout.buffer
        while chunk := src.read(CHUNK):
            out.write(enc.encode(chunk))
        out.write(enc.flush())
        out.flush()
    except (ReaderError, RuntimeError, ValueError, IndexError, OSError) as e:
        print(f"MP3 encoder: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
