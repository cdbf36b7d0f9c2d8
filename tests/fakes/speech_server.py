"""A fake OpenAI-compatible speech server: ``POST /v1/audio/speech`` and ``GET /v1/models``.

A real HTTP server on 127.0.0.1 (port 0, so tests and benches never collide) answering the
JSON body ``{"model", "voice", "input", "response_format", "speed"}`` with real audio: a sine
lasting 20 ms per character of ``input`` (``audio.seconds_for``), as ``wav`` (16-bit mono
24 kHz with its header), ``pcm`` (the same samples, no header) or ``mp3``.

Behaviour per request comes from ``script`` (consumed in order), else ``mode``:

* ``ok``: audio, after ``delay`` seconds (a fixed cost per request, like a GPU model);
* ``429`` / ``503``: that status with ``Retry-After: retry_after`` (``"429"`` repeated N
  times in ``script`` = fail N times, then answer);
* ``401`` / ``403`` / ``500`` / ``400``: that status with an OpenAI-style JSON error body;
* ``slow``: answer after ``slow`` seconds (longer than a client's timeout);
* ``drop``: close the connection without answering.

``api_key`` set: requests without ``Authorization: Bearer <api_key>`` get 401.
Every request is recorded (:class:`Request`: arrival time, parsed body, headers, behaviour).

For a bench script::

    from tests.fakes.speech_server import serve
    with serve(delay=0.2) as url:       # http://127.0.0.1:PORT
        ...
"""
from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import threading
import time
import wave
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

from .audio import SAMPLE_RATE, seconds_for, sine_mp3


@dataclass(frozen=True)
class Request:
    at: float  #: time.monotonic() when the request arrived
    path: str
    body: dict  #: the parsed JSON body ({} for GET)
    headers: dict  #: request headers, names lower-cased
    behaviour: str  #: what the fake did: "ok", "429", "slow", …

    @property
    def text(self) -> str:
        return str(self.body.get("input", ""))


@functools.lru_cache(maxsize=512)
def sine_pcm(seconds: float, freq: float = 440.0, sample_rate: int = SAMPLE_RATE) -> bytes:
    """16-bit mono little-endian PCM of a sine (numpy, cached: the fake must not be the bottleneck)."""
    import numpy as np

    n = int(seconds * sample_rate)
    return (8000 * np.sin(2 * math.pi * freq / sample_rate * np.arange(n))).astype("<i2").tobytes()


@functools.lru_cache(maxsize=512)
def wav_bytes(pcm: bytes, sample_rate: int = SAMPLE_RATE) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm)
    return buf.getvalue()


class FakeSpeechServer:
    def __init__(self, *, delay: float = 0.0, mode: str = "ok", retry_after: float | str | None = 1,
                 slow: float = 5.0, api_key: str | None = None, models: tuple[str, ...] = ("tts-1",)):
        self.delay, self.mode, self.retry_after, self.slow = delay, mode, retry_after, slow
        self.api_key, self.models = api_key, models
        self.script: list[str] = []
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._active = self._peak = 0  # speech requests being answered now / at most

    # ------------------------------------------------------------------ control
    def start(self) -> "FakeSpeechServer":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like a real server behind a proxy

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                fake._handle(self)

            def do_GET(self):
                fake._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.request_queue_size = 64
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def speech(self) -> list[Request]:
        """The speech requests, in arrival order."""
        return [r for r in self.requests if r.path.endswith("/audio/speech")]

    def texts(self, behaviour: str | None = "ok") -> list[str]:
        return [r.text for r in self.speech() if behaviour is None or r.behaviour == behaviour]

    def max_rate(self, window: float = 1.0) -> int:
        """Most speech-request arrivals seen in any window of ``window`` seconds."""
        return busiest(sorted(r.at for r in self.speech()), window)

    def max_in_flight(self) -> int:
        """Most speech requests being answered at once (from arrival to answer), as recorded."""
        with self._lock:
            return self._peak

    # ------------------------------------------------------------------ serving
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        arrived = time.monotonic()
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        headers = {k.lower(): v for k, v in h.headers.items()}
        path = h.path.split("?", 1)[0]
        with self._lock:
            speech = h.command == "POST" and path == "/v1/audio/speech"
            behaviour = (self.script.pop(0) if self.script else self.mode) if speech else "ok"
            if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
                behaviour = "401"
            self.requests.append(Request(arrived, path, body if isinstance(body, dict) else {}, headers, behaviour))
            self._active += 1
            self._peak = max(self._peak, self._active)
        try:
            self._answer(h, path, body, behaviour)
        finally:
            with self._lock:
                self._active -= 1

    def _answer(self, h: BaseHTTPRequestHandler, path: str, body, behaviour: str) -> None:
        if behaviour == "drop":
            h.close_connection = True
            return
        if behaviour == "slow":
            self._stopping.wait(self.slow)
        if behaviour.isdigit():
            status = int(behaviour)
            extra = {"Retry-After": str(self.retry_after)} if status in (429, 503) and self.retry_after is not None else {}
            return _send(h, status, json.dumps({"error": {"message": f"fake error {status}", "type": "fake"}}).encode(),
                         "application/json", extra)
        if h.command == "GET" and path == "/v1/models":
            data = {"object": "list", "data": [{"id": m, "object": "model"} for m in self.models]}
            return _send(h, 200, json.dumps(data).encode(), "application/json")
        if h.command != "POST" or path != "/v1/audio/speech":
            return _send(h, 404, b'{"error": {"message": "not found"}}', "application/json")
        if not isinstance(body, dict) or not str(body.get("input", "")).strip():
            return _send(h, 400, b'{"error": {"message": "input is required"}}', "application/json")
        if self.delay:
            time.sleep(self.delay)
        seconds = round(seconds_for(str(body["input"])), 3)
        fmt = body.get("response_format", "mp3")
        if fmt == "wav":
            _send(h, 200, wav_bytes(sine_pcm(seconds)), "audio/wav")
        elif fmt == "pcm":
            _send(h, 200, sine_pcm(seconds), "audio/pcm")
        elif fmt == "mp3":
            _send(h, 200, sine_mp3(seconds), "audio/mpeg")
        else:
            _send(h, 400, json.dumps({"error": {"message": f"unsupported response_format {fmt!r}"}}).encode(),
                  "application/json")


def _send(h: BaseHTTPRequestHandler, status: int, payload: bytes, content_type: str,
          headers: dict | None = None) -> None:
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(payload)))
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(payload)


def busiest(times: list[float], window: float = 1.0) -> int:
    """Most of the sorted ``times`` inside any half-open window of ``window`` seconds."""
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


@contextlib.contextmanager
def serve(**knobs) -> Iterator[str]:
    """A running fake (``delay=``, ``mode=``, … as for :class:`FakeSpeechServer`); yields its base URL."""
    with FakeSpeechServer(**knobs) as fake:
        yield fake.base_url
