"""A fault-injecting version of the daily-run test site (``daily_support.Site``) on 127.0.0.1.

``site.fail(path, FAULT, times=None)`` makes ``path`` misbehave: every request (``times=None``)
or only the first ``times`` ones, after which it answers normally (a fault that recovers).
``site.clear()`` removes every fault. ``site.alias(path, feed_path)`` serves a feed under a
second path (so several sources can each have their own faulty feed).

Faults (what a real news site or its CDN does on a bad day):

    timeout        accept, read the request, answer nothing until the client gives up
    reset          close the connection with a TCP reset before answering
    500 503 429    that status (with ``Retry-After: 1``)
    truncate       announce the whole body, send half of it, close
    long-length    Content-Length larger than the body, then close (a lie)
    short-length   Content-Length smaller than the body (a lie: the client sees a cut page)
    charset-lie    UTF-8 bytes labelled ``charset=iso-8859-1``
    redirect-loop  302 to itself, for ever
    gzip-bomb      ``Content-Encoding: gzip``: 120 kB that inflate to 64 MB of zeros
    slow           200, then one byte every 50 ms, for ever
    not-a-feed     an HTML error page with status 200
"""
from __future__ import annotations

import gzip
import socket
import struct
import threading
from functools import lru_cache

from daily_support import SITE, Site

FAULTS = ("timeout", "reset", "500", "503", "429", "truncate", "long-length", "short-length", "charset-lie",
          "redirect-loop", "gzip-bomb", "slow", "not-a-feed")
BOMB_SIZE = 64 * 1024 * 1024


@lru_cache(maxsize=1)
def gzip_bomb() -> bytes:
    return gzip.compress(b"\0" * BOMB_SIZE, compresslevel=9)


class FaultSite(Site):
    """``Site`` plus per-path faults; counts every request (``hits``) as ``Site`` does."""

    def __init__(self, root=SITE):
        self.faults: dict[str, tuple[str, int | None]] = {}  #: path → (fault, times left or None)
        self.faulted: dict[str, int] = {}  #: path → requests answered with a fault
        self.closing = threading.Event()
        self._lock = threading.Lock()
        super().__init__(root)

    def __exit__(self, *exc) -> None:
        self.closing.set()  # ends held and trickling answers
        super().__exit__(*exc)

    def fail(self, path: str, fault: str, times: int | None = None) -> None:
        assert fault in FAULTS, fault
        self.faults[path] = (fault, times)

    def clear(self) -> None:
        self.faults.clear()

    def alias(self, path: str, feed_path: str) -> str:
        self.feeds[path] = self.feeds[feed_path]
        return path

    def _take(self, path: str) -> str | None:
        """The fault to apply to this request of ``path`` (and count it), or None."""
        with self._lock:
            fault, times = self.faults.get(path, (None, None))
            if fault is None:
                return None
            if times is not None:
                if times <= 0:
                    return None
                self.faults[path] = (fault, times - 1)
            self.faulted[path] = self.faulted.get(path, 0) + 1
            return fault

    def _handler(self):
        site = self
        base = super()._handler()

        class FaultHandler(base):
            def do_GET(self):
                fault = site._take(self.path)
                if fault is None:
                    return super().do_GET()
                site.hits[self.path] = site.hits.get(self.path, 0) + 1
                if not fault.isdigit():
                    getattr(self, "_" + fault.replace("-", "_"))()
                else:
                    self._status(int(fault))

            # -------------------------------------------------------- the faults
            def _body(self) -> tuple[bytes, str]:
                found = site.body(self.path)
                return found if found else (b"<html><body>404</body></html>", "text/html")

            def _timeout(self):
                site.closing.wait(30)
                self.close_connection = True

            def _reset(self):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True

            def _status(self, code: int):
                self.send_response(code)
                self.send_header("Retry-After", "1")
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "4")
                self.end_headers()
                self.wfile.write(b"busy")

            def _head(self, kind: str, length: int, **extra: str):
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(length))
                for k, v in extra.items():
                    self.send_header(k.replace("_", "-"), v)
                self.end_headers()

            def _truncate(self):
                body, kind = self._body()
                self._head(kind, len(body))
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True

            def _long_length(self):
                body, kind = self._body()
                self._head(kind, len(body) + 5000)
                self.wfile.write(body)
                self.close_connection = True

            def _short_length(self):
                body, kind = self._body()
                self._head(kind, len(body) // 2)
                self.wfile.write(body)
                self.close_connection = True

            def _charset_lie(self):
                body, _ = self._body()
                self._head("text/html; charset=iso-8859-1", len(body))
                self.wfile.write(body)

            def _redirect_loop(self):
                self.send_response(302)
                self.send_header("Location", self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _gzip_bomb(self):
                bomb = gzip_bomb()
                self._head("text/html; charset=utf-8", len(bomb), Content_Encoding="gzip")
                try:
                    self.wfile.write(bomb)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

            def _slow(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                try:
                    self.wfile.write(b"<html><body><p>")
                    while not site.closing.wait(0.05):
                        self.wfile.write(b"a")
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

            def _not_a_feed(self):
                page = b"<!DOCTYPE html><html><body><h1>503 Service Unavailable</h1></body></html>"
                self._head("text/html; charset=utf-8", len(page))
                self.wfile.write(page)

        return FaultHandler

