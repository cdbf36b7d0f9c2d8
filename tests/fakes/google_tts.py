"""A fake of Google Translate's TTS endpoint (the ``batchexecute`` RPC gTTS posts to).

It decodes gTTS's ``f.req`` form field, records each request, and answers the way Google
does: an anti-XSSI prefix, then a line holding ``["wrb.fr","jQ1olc","[\\"<base64 MP3>\\"]",…]``.
The MP3 is a real sine lasting 20 ms per character of the text (``audio.seconds_for``).

Behaviour per request comes from ``script`` (consumed in order), else ``mode``:
``ok``; ``429`` / ``500`` / ``403`` (that status); ``drop`` (close without answering);
``hang`` (never answer until the server stops). ``delay`` slows every answer.
"""
from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .audio import seconds_for, sine_mp3


@dataclass(frozen=True)
class Request:
    at: float  #: time.monotonic() when the request arrived
    text: str
    lang: str
    speed: object
    behaviour: str


class FakeGoogleTTS:
    def __init__(self, *, delay: float = 0.0, mode: str = "ok"):
        self.delay = delay
        self.mode = mode
        self.script: list[str] = []
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ control
    def start(self) -> "FakeGoogleTTS":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                fake._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()
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

    def translate_url(self, tld: str = "com", path: str = "") -> str:
        """Drop-in for ``gtts.tts._translate_url``."""
        return f"{self.base_url}/{path}"

    def texts(self, behaviour: str | None = "ok") -> list[str]:
        return [r.text for r in self.requests if behaviour is None or r.behaviour == behaviour]

    def max_rate(self, window: float = 1.0) -> int:
        """Most request arrivals seen in any window of ``window`` seconds."""
        times = sorted(r.at for r in self.requests)
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= window:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    # ------------------------------------------------------------------ serving
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        arrived = time.monotonic()
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0)).decode()
        text, lang, speed = self._parse(body)
        with self._lock:
            behaviour = self.script.pop(0) if self.script else self.mode
            self.requests.append(Request(arrived, text, lang, speed, behaviour))
        if behaviour == "hang":
            self._stopping.wait(60)
            h.close_connection = True
            return
        if behaviour == "drop":
            h.close_connection = True
            return
        if behaviour.isdigit():
            h.send_response(int(behaviour))
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        if self.delay:
            time.sleep(self.delay)
        audio = base64.b64encode(sine_mp3(round(seconds_for(text), 3))).decode()
        line = '[["wrb.fr","jQ1olc","[\\"' + audio + '\\"]",null,null,null,"generic"]]'
        payload = f")]}}'\n\n{len(line)}\n{line}\n".encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)

    @staticmethod
    def _parse(body: str) -> tuple[str, str, object]:
        form = urllib.parse.parse_qs(body)
        rpc = json.loads(form["f.req"][0])
        text, lang, speed, _ = json.loads(rpc[0][0][1])
        return text, lang, speed
