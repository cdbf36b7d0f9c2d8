"""The espeak-ng worker process: ``python -m reader.tts.espeak_worker``.

Started by :class:`reader.tts.espeak._Worker`. It loads the library once, then answers one
request per line on standard input, so a crash inside the C library ends this process and
never the caller's.

Protocol (every header is one JSON line; audio follows its header as raw bytes):

    worker → {"ok": true, "sample_rate": 22050, "version": "1.52", "voices": [[name, lang], …]}
    caller → {"text": "…", "voice": "vi", "wpm": 175, "pitch": 50}
    worker → {"ok": true, "bytes": N} then N bytes of 16-bit mono PCM
           | {"ok": false, "kind": "engine" | "unavailable", "detail": "…", "fix": "…"}

The worker ignores SIGINT (Ctrl-C is the caller's to handle: it kills the worker) and
exits when its standard input closes.
"""
from __future__ import annotations

import json
import signal
import sys


def _reply(out, header: dict, payload: bytes = b"") -> None:
    out.write(json.dumps(header).encode() + b"\n")
    if payload:
        out.write(payload)
    out.flush()


def _failure(e: Exception) -> dict:
    from reader.errors import EngineUnavailable

    kind = "unavailable" if isinstance(e, EngineUnavailable) else "engine"
    return {"ok": False, "kind": kind, "detail": getattr(e, "detail", None) or str(e),
            "fix": getattr(e, "fix", None)}


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = sys.stdout.buffer
    from reader.errors import ReaderError
    from reader.tts.espeak import _Runtime

    try:
        rt = _Runtime()
    except ImportError:
        _reply(out, {"ok": False, "kind": "unavailable", "detail": "the espeakng-loader package is not installed",
                     "fix": "pip install espeakng-loader"})
        return 1
    except ReaderError as e:
        _reply(out, _failure(e))
        return 1
    _reply(out, {"ok": True, "sample_rate": rt.sample_rate, "version": rt.version, "voices": rt.voices()})
    for line in sys.stdin.buffer:
        try:
            req = json.loads(line)
            pcm = rt.speak(req["text"], req["voice"], int(req["wpm"]), int(req["pitch"]))
        except ReaderError as e:
            _reply(out, _failure(e))
            continue
        except (ValueError, KeyError, TypeError) as e:
            _reply(out, {"ok": False, "kind": "engine", "detail": f"bad request to the espeak worker: {e}"})
            continue
        _reply(out, {"ok": True, "bytes": len(pcm)}, pcm)
    return 0


if __name__ == "__main__":
    sys.exit(main())
