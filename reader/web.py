"""A small HTTP server for the output folder: feed, episodes, transcripts, chapters, art.

Only what podcast apps need: GET and HEAD, byte ranges (206 / 416), ETag and
Last-Modified with 304, the right MIME types; ``/`` answers with the listening page
``index.html`` when there is one. Nothing else is exposed: no directory
listing, no file types outside ``MIME_TYPES``, no hidden or temp files, no episode
records, no path that leaves the folder (``..``, ``%2e%2e``, symlinks out) — all 404.

Private feeds: with ``token`` every URL lives under ``/TOKEN/`` and anything else is
404 (podcast apps cannot log in, so the secret is in the URL). Publish the feed with
``base_url`` ending in ``/TOKEN/`` so its enclosure URLs carry the token too.

Slow and idle clients: a connection must deliver its whole request head (request line and
headers) within ``header_timeout`` seconds (10) of connecting, or of the first byte of a
later keep-alive request; a kept-alive connection waits ``idle_timeout`` seconds (15) for
its next request; a write to a client that stops reading waits ``send_timeout`` (60) per
send. Then the connection is closed. At most ``max_connections`` (64) are served at once;
one more gets ``503 Service Unavailable`` with ``Retry-After`` and is closed at once, so
neither threads nor sockets grow without bound.
"""
from __future__ import annotations

import errno
import hmac
import io
import os
import re
import socket
import sys
import threading
import time
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from reader.errors import UsageError

#: file suffix → Content-Type; only these are served (first match wins, longest first)
MIME_TYPES: dict[str, str] = {
    ".mp3": "audio/mpeg",
    ".xml": "application/rss+xml; charset=utf-8",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".html": "text/html; charset=utf-8",
}
#: the only HTML file served: the listening page (reader/player.py), also the answer for ``/``
INDEX_PAGE = "index.html"
#: suffixes never served although their type is known: internal records
HIDDEN_SUFFIXES = (".episode.json",)
#: Cache-Control per suffix; the feed changes, rendered files do not (a re-render gets a new name)
CACHE_CONTROL = {".xml": "no-cache", ".html": "no-cache"}
DEFAULT_CACHE = "public, max-age=3600"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
CHUNK = 64 * 1024
HEADER_TIMEOUT = 10.0  #: seconds to receive a whole request head
IDLE_TIMEOUT = 15.0  #: seconds a kept-alive connection may wait for its next request
SEND_TIMEOUT = 60.0  #: seconds one write to the client may block
MAX_CONNECTIONS = 64  #: connections served at once; more get 503
BUSY_ANSWER = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
               b"Content-Length: 22\r\nRetry-After: 5\r\nConnection: close\r\n\r\ntoo many connections\r\n")


#: the first folder of the path in a logged request line (with a token, where the token goes)
_FIRST_SEGMENT = re.compile(r'^("[A-Z]+ /)[^/ "]+(?=/)')


def _etag(st: os.stat_result) -> str:
    return f'"{st.st_size:x}-{st.st_mtime_ns:x}"'


def parse_range(header: str, size: int) -> tuple[int, int] | None | str:
    """One ``bytes=`` range → (first, last) inclusive; None = serve the whole file; "416" = unsatisfiable.

    Malformed headers and multiple ranges are ignored (a full 200 is always allowed).
    """
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header or "")
    if not m or (not m.group(1) and not m.group(2)):
        return None
    first, last = m.group(1), m.group(2)
    if not first:  # suffix: the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            return "416"
        return max(0, size - n), size - 1
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        return "416"
    end = int(last) if last else size - 1
    return start, min(end, size - 1)


class _TimedInput(io.RawIOBase):
    """A connection's input where every ``recv`` waits at most until a deadline.

    ``expect(idle, head)``: wait up to ``idle`` s for the first byte (None: it is part of the
    head), then up to ``head`` s from there for the rest; ``expect(None, None)``: no deadline.
    A socket timeout alone is per ``recv``: a client trickling a byte at a time never trips it.
    """

    def __init__(self, sock: socket.socket, clock=time.monotonic):
        self.sock, self.clock = sock, clock
        self.deadline: float | None = None
        self.head: float | None = None  #: seconds for the head once the first byte comes (idle phase only)
        self.idle = False

    def readable(self) -> bool:
        return True

    def expect(self, idle: float | None, head: float | None) -> None:
        self.idle = idle is not None
        if self.idle:
            self.deadline, self.head = self.clock() + idle, head
        else:
            self.deadline, self.head = (None if head is None else self.clock() + head), None

    def readinto(self, b) -> int:
        if self.deadline is not None:
            left = self.deadline - self.clock()
            if left <= 0:
                return self._expired()
            self.sock.settimeout(left)
        try:
            n = self.sock.recv_into(b)
        except TimeoutError:
            return self._expired()
        if n and self.idle:  # the next request has begun: its head gets the header timeout
            self.idle = False
            self.deadline = None if self.head is None else self.clock() + self.head
        return n

    def _expired(self) -> int:
        if self.idle:
            return 0  # an idle keep-alive connection: end it quietly, like a client that hung up
        raise TimeoutError("no complete request head in time")


class Handler(BaseHTTPRequestHandler):
    """Serves ``server.root``; see the module docstring for the rules."""

    protocol_version = "HTTP/1.1"

    # ------------------------------------------------------------ time limits
    def setup(self) -> None:
        super().setup()
        self.rfile.close()
        self._input = _TimedInput(self.connection)
        self._input.expect(None, self.server.header_timeout)
        self._requests = 0
        self.rfile = io.BufferedReader(self._input)

    def handle_one_request(self) -> None:
        if self._requests:
            self._input.expect(self.server.idle_timeout, self.server.header_timeout)
        self._requests += 1
        super().handle_one_request()

    def parse_request(self) -> bool:
        ok = super().parse_request()
        self._input.expect(None, None)  # the head is in: GET and HEAD have no body to wait for
        self.connection.settimeout(self.server.send_timeout)
        return ok

    def version_string(self) -> str:
        return "vnreader"

    # ------------------------------------------------------------ routing
    def _target(self) -> Path | None:
        """The file a request path names, or None (→ 404)."""
        raw = urlsplit(self.path).path
        try:
            path = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            return None
        if "\x00" in path or "\\" in path:
            return None
        parts = [p for p in path.split("/") if p]
        token = self.server.token
        if token is not None:
            if not parts or not hmac.compare_digest(parts[0].encode(), token.encode()):
                return None
            parts = parts[1:]
        if not parts and path == "/" + (f"{token}/" if token is not None else ""):
            parts = [INDEX_PAGE]  # the folder itself (only the root: other folders stay 404)
        if not parts or any(p in (".", "..") or p.startswith(".") for p in parts):
            return None
        name = parts[-1].lower()
        if name.endswith(HIDDEN_SUFFIXES) or os.path.splitext(name)[1] not in MIME_TYPES:
            return None
        if name.endswith(".html") and parts != [INDEX_PAGE]:
            return None
        root = self.server.root
        real = Path(os.path.realpath(root.joinpath(*parts)))
        if real != root and root not in real.parents:
            return None  # a symlink that leads out of the folder
        if not real.is_file():
            return None
        return real

    # ------------------------------------------------------------ methods
    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, body: bool) -> None:
        target = self._target()
        if target is None:
            return self._plain(HTTPStatus.NOT_FOUND, "not found\n", body)
        try:
            f = open(target, "rb")
        except OSError:
            return self._plain(HTTPStatus.NOT_FOUND, "not found\n", body)
        with f:
            st = os.fstat(f.fileno())
            etag, modified = _etag(st), formatdate(int(st.st_mtime), usegmt=True)
            suffix = os.path.splitext(target.name)[1].lower()
            common = {"ETag": etag, "Last-Modified": modified, "Accept-Ranges": "bytes",
                      "Cache-Control": CACHE_CONTROL.get(suffix, DEFAULT_CACHE)}
            if self._not_modified(etag, st):
                return self._head(HTTPStatus.NOT_MODIFIED, common)
            size = st.st_size
            rng = None
            if self.headers.get("Range") and self._if_range_ok(etag, modified):
                rng = parse_range(self.headers["Range"], size)
            if rng == "416":
                return self._head(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                                  {**common, "Content-Range": f"bytes */{size}", "Content-Length": "0"})
            headers = {**common, "Content-Type": MIME_TYPES[suffix], "X-Content-Type-Options": "nosniff"}
            if rng is None:
                start, length, status = 0, size, HTTPStatus.OK
            else:
                start, last = rng
                length, status = last - start + 1, HTTPStatus.PARTIAL_CONTENT
                headers["Content-Range"] = f"bytes {start}-{last}/{size}"
            headers["Content-Length"] = str(length)
            self._head(status, headers)
            if body:
                self._copy(f, start, length)

    def _not_modified(self, etag: str, st: os.stat_result) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:  # takes precedence over If-Modified-Since (RFC 9110 13.2.2)
            tags = [t.strip() for t in inm.split(",")]
            return "*" in tags or etag in tags or f"W/{etag}" in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
            return int(st.st_mtime) <= since
        return False

    def _if_range_ok(self, etag: str, modified: str) -> bool:
        cond = self.headers.get("If-Range")
        return cond is None or cond.strip() in (etag, modified)

    # ------------------------------------------------------------ output
    def _head(self, status: HTTPStatus, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()

    def _plain(self, status: HTTPStatus, text: str, body: bool) -> None:
        data = text.encode()
        self._head(status, {"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(data)),
                            "X-Content-Type-Options": "nosniff"})
        if body:
            self.wfile.write(data)

    def _copy(self, f, start: int, length: int) -> None:
        f.seek(start)
        try:
            while length > 0:
                chunk = f.read(min(CHUNK, length))
                if not chunk:
                    break
                self.wfile.write(chunk)
                length -= len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
        if self.server.quiet:
            return
        line = format % args
        if self.server.token:
            line = line.replace(self.server.token, "TOKEN")
            line = _FIRST_SEGMENT.sub(r"\1TOKEN", line)  # an encoded token or a near miss is the secret too
        sys.stderr.write(f"{self.address_string()} {line}\n")


class ReaderServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its folder and token, with time and connection limits."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  #: listen backlog: a burst of podcast-app connections is not dropped (SYN retried 1 s later)

    def __init__(self, address, root: Path, token: str | None, quiet: bool = False, *,
                 header_timeout: float = HEADER_TIMEOUT, idle_timeout: float = IDLE_TIMEOUT,
                 send_timeout: float = SEND_TIMEOUT, max_connections: int = MAX_CONNECTIONS):
        self.root = root
        self.token = token
        self.quiet = quiet
        self.header_timeout, self.idle_timeout, self.send_timeout = header_timeout, idle_timeout, send_timeout
        self.max_connections = max_connections
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, Handler)

    def process_request(self, request, client_address) -> None:
        if not self._slots.acquire(blocking=False):
            return self._refuse(request)
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request: socket.socket) -> None:
        """Answer 503 and close, from the accepting thread (no new thread for it)."""
        try:
            request.setblocking(False)
            try:
                request.recv(65536)  # what the client sent already: closing with unread data would reset
            except (BlockingIOError, OSError):
                pass
            request.settimeout(1.0)
            request.sendall(BUSY_ANSWER)
        except OSError:
            pass
        if not self.quiet:
            sys.stderr.write(f"refused a connection: {self.max_connections} already open\n")
        self.shutdown_request(request)

    def url(self) -> str:
        """Base URL of the served folder (with the token path when private)."""
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}/" + (f"{self.token}/" if self.token else "")


class ReaderServer6(ReaderServer):
    """The same on IPv6 (``--host ::1``)."""

    address_family = socket.AF_INET6


def make_server(directory: Path, host: str = "127.0.0.1", port: int = 8000, token: str | None = None, *,
                quiet: bool = False, header_timeout: float = HEADER_TIMEOUT, idle_timeout: float = IDLE_TIMEOUT,
                send_timeout: float = SEND_TIMEOUT, max_connections: int = MAX_CONNECTIONS) -> ReaderServer:
    """A bound, not yet running server (port 0 picks a free port; see ``server_address``).

    The time and connection limits are described in the module docstring.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise UsageError(str(directory), "no such folder to serve",
                         fix="give --dir the output folder (run `vnreader demo` or `vnreader run` first)")
    if token is not None and not TOKEN_RE.fullmatch(token):
        raise UsageError("--token", "must be 8–128 letters, digits, - or _",
                         fix='make one with: python -c "import secrets; print(secrets.token_urlsafe(24))"')
    cls = ReaderServer6 if ":" in host else ReaderServer
    try:
        return cls((host, port), Path(os.path.realpath(directory)), token, quiet, header_timeout=header_timeout,
                   idle_timeout=idle_timeout, send_timeout=send_timeout, max_connections=max_connections)
    except OSError as e:
        raise bind_error(host, port, e) from e


def bind_error(host: str, port: int, e: OSError) -> UsageError:
    """Why ``host:port`` cannot be listened on, in words that say what to change."""
    where = f"{host}:{port}"
    if isinstance(e, socket.gaierror) or e.errno in (errno.EADDRNOTAVAIL, errno.EINVAL, errno.EAFNOSUPPORT):
        return UsageError(where, f"--host {host} is not a valid address of this machine",
                          fix="use 127.0.0.1 for this machine only, 0.0.0.0 for all its networks, "
                              "or one of its own addresses from `ip addr`")
    if e.errno == errno.EADDRINUSE:
        return UsageError(where, f"port {port} is in use, choose another with --port",
                          fix="or stop the program that is using it")
    if e.errno in (errno.EACCES, errno.EPERM):
        why = " (ports below 1024 need root)" if 0 < port < 1024 else ""
        return UsageError(where, f"permission denied to listen on port {port}{why}",
                          fix="choose --port 1024 or above, e.g. 8000, and put a web server in front for port 80")
    return UsageError(where, f"cannot listen there: {e.strerror or e}",
                      fix="check --host and --port")


def serve(directory: Path, *, host: str = "127.0.0.1", port: int = 8000, token: str | None = None) -> None:
    """Serve ``directory`` until Ctrl-C."""
    server = make_server(directory, host, port, token)
    print(f"serving {directory} at {server.url()}feed.xml (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def serve_in_thread(server: ReaderServer) -> threading.Thread:
    """Run ``server`` in a daemon thread (tests, embedding); stop with server.shutdown()."""
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="vnreader-web",
                         daemon=True)
    t.start()
    return t
