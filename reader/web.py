"""A small HTTP server for the output folder: feed, episodes, transcripts, chapters, art.

Only what podcast apps need: GET and HEAD, byte ranges (206 / 416), ETag and
Last-Modified with 304, the right MIME types; ``/`` answers with the listening page
``index.html`` when there is one. Nothing else is exposed: no directory
listing, no file types outside ``MIME_TYPES``, no hidden or temp files, no episode
records, no path that leaves the folder (``..``, ``%2e%2e``, symlinks out) — all 404.

Private feeds: with ``token`` every URL lives under ``/TOKEN/`` and anything else is
404 (podcast apps cannot log in, so the secret is in the URL). Publish the feed with
``base_url`` ending in ``/TOKEN/`` so its enclosure URLs carry the token too.
"""
from __future__ import annotations

import hmac
import os
import re
import socket
import sys
import threading
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


class Handler(BaseHTTPRequestHandler):
    """Serves ``server.root``; see the module docstring for the rules."""

    protocol_version = "HTTP/1.1"

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
        sys.stderr.write(f"{self.address_string()} {line}\n")


class ReaderServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its folder and token."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, root: Path, token: str | None, quiet: bool = False):
        self.root = root
        self.token = token
        self.quiet = quiet
        super().__init__(address, Handler)

    def url(self) -> str:
        """Base URL of the served folder (with the token path when private)."""
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}/" + (f"{self.token}/" if self.token else "")


class ReaderServer6(ReaderServer):
    """The same on IPv6 (``--host ::1``)."""

    address_family = socket.AF_INET6


def make_server(directory: Path, host: str = "127.0.0.1", port: int = 8000, token: str | None = None, *,
                quiet: bool = False) -> ReaderServer:
    """A bound, not yet running server (port 0 picks a free port; see ``server_address``)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise UsageError(str(directory), "no such folder to serve",
                         fix="give --dir the output folder (run `vnreader demo` or `vnreader run` first)")
    if token is not None and not TOKEN_RE.fullmatch(token):
        raise UsageError("--token", "must be 8–128 letters, digits, - or _",
                         fix='make one with: python -c "import secrets; print(secrets.token_urlsafe(24))"')
    cls = ReaderServer6 if ":" in host else ReaderServer
    try:
        return cls((host, port), Path(os.path.realpath(directory)), token, quiet)
    except OSError as e:
        raise UsageError(f"{host}:{port}", f"cannot listen there: {e.strerror or e}",
                         fix="pick another --port, or stop what is using it") from e


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
