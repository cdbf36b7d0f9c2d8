"""A small HTTP server for the output folder: feed, episodes, transcripts, chapters, art — and the reading form.

Built on Starlette (routing, responses) and uvicorn (HTTP/1.1 with the pure-Python ``h11``
parser, ``asyncio`` loop): no compiler needed.

Only what podcast apps need: GET and HEAD, byte ranges (206 / 416), ETag and
Last-Modified with 304, the right MIME types; ``/`` answers with the listening page
``index.html`` when there is one. Nothing else is exposed: no directory
listing, no file types outside ``MIME_TYPES``, no hidden or temp files, no episode
records, no path that leaves the folder (``..``, ``%2e%2e``, symlinks out) — all 404.

Private feeds: with ``token`` every URL lives under ``/TOKEN/`` and anything else is
404 (podcast apps cannot log in, so the secret is in the URL). Publish the feed with
``base_url`` ending in ``/TOKEN/`` so its enclosure URLs carry the token too.

The reading form ("Đọc bài báo" on the listening page, ``reader/webread.py``): ``POST /read``
with ``url`` or ``text`` starts reading one article; ``GET /read/ID.mp3`` is its audio as it is
spoken (progressive MP3, no length), ``GET /read/ID`` its state as JSON. It is on when the
server listens on a loopback address, or with ``allow_form`` (``--allow-form``); it fetches
only public addresses unless ``allow_private_fetch`` (``reader/netguard.py``).

Slow and idle clients: a connection must deliver its whole request (request line, headers
and any body) within ``header_timeout`` seconds (10) of connecting, or of the first byte of a
later keep-alive request — uvicorn alone has no such deadline (its keep-alive timer restarts
on every byte), so ``LimitedH11Protocol`` arms one; a kept-alive connection waits
``idle_timeout`` seconds (15) for its next request (uvicorn's ``timeout_keep_alive``); a
client that stops reading may hold a write back ``send_timeout`` (60) seconds. Then the
connection is closed. At most ``max_connections`` (64) are served at once; one more gets
``503 Service Unavailable`` with ``Retry-After`` at once and is closed, so sockets do not
grow without bound.
"""
from __future__ import annotations

import asyncio
import errno
import hmac
import ipaddress
import os
import re
import socket
import sys
import threading
from email.utils import formatdate, parsedate_to_datetime
from html import escape
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote

import h11
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from reader.errors import (BlockedAddressError, EngineError, ExtractError, FetchError, HTTPStatusError,
                           LimitError, ReaderError, TooLargeError, UsageError)

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
CHUNK = 64 * 1024  #: bodies up to this are read at once
FILE_CHUNK = 512 * 1024  #: larger ones are sent in pieces of this size, each read in a worker thread
HEADER_TIMEOUT = 10.0  #: seconds to receive a whole request
IDLE_TIMEOUT = 15.0  #: seconds a kept-alive connection may wait for its next request
SEND_TIMEOUT = 60.0  #: seconds a write to a client that stopped reading may wait
MAX_CONNECTIONS = 64  #: connections served at once; more get 503
BUSY_ANSWER = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
               b"Content-Length: 22\r\nRetry-After: 5\r\nConnection: close\r\n\r\ntoo many connections\r\n")
FORM_BODY_LIMIT = 2_000_000  #: bytes of one form submission (200 000 characters, percent-encoded, fit)
JOB_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

# ---------------------------------------------------------------- messages (Vietnamese, for visitors)
BUSY = "Máy chủ đang bận, vui lòng thử lại sau."
FORM_OFF = "Máy chủ này không nhận bài để đọc (chủ máy chủ chưa bật biểu mẫu)."
NO_INPUT = "Hãy nhập địa chỉ bài báo hoặc dán nội dung bài."
BAD_URL = "Địa chỉ không hợp lệ: cần một địa chỉ bắt đầu bằng http:// hoặc https://."
TOO_BIG_FORM = "Nội dung gửi lên quá lớn."
NO_JOB = "Không có bài đọc này (có thể đã quá cũ)."
NOT_FOUND = "Không tìm thấy."
FOREIGN = "Biểu mẫu chỉ nhận bài gửi từ trang nghe của chính máy chủ này."


def visitor_message(e: ReaderError) -> tuple[int, str]:
    """An error of the reading form → (HTTP status, a short Vietnamese message for the visitor).

    The web seam's counterpart of ``cli.py``: the message says what to do, never a traceback.
    """
    if isinstance(e, BlockedAddressError):
        if e.reason == "unresolved":
            return 400, "Không tìm thấy tên miền này."
        if e.reason == "scheme":
            return 400, BAD_URL
        return 403, "Máy chủ không tải trang từ địa chỉ nội bộ hay riêng tư; hãy dùng địa chỉ một trang báo công khai."
    if isinstance(e, TooLargeError):
        return 413, "Trang quá lớn để đọc."
    if isinstance(e, HTTPStatusError):
        return 502, f"Trang báo trả lời lỗi HTTP {e.status}."
    if isinstance(e, FetchError):
        if (e.detail or "").startswith(("not a web page", "not text")):
            return 422, "Địa chỉ này không phải một trang báo."
        if "within" in str(e):
            return 504, "Trang báo không trả lời kịp."
        return 502, "Không tải được trang báo."
    if isinstance(e, ExtractError):
        return 422, "Không tìm thấy nội dung bài báo trên trang này."
    if isinstance(e, LimitError):
        return 413, "Bài quá dài để đọc trên máy chủ này."
    if isinstance(e, UsageError):
        if "URL" in str(e):
            return 400, BAD_URL
        return 400, "Không có chữ nào đọc được trong nội dung gửi lên."
    if isinstance(e, EngineError):
        return 500, "Bộ đọc giọng nói bị lỗi."
    return 500, "Có lỗi khi đọc bài."


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


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``: only this machine can reach the server."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def form_allowed(host: str, allow_form: bool) -> bool:
    """The reading form fetches pages for whoever reaches the server: on by itself only when that is
    this machine alone (a loopback ``--host``); elsewhere only with ``--allow-form``."""
    return allow_form or is_loopback(host)


# ---------------------------------------------------------------- the connection: time and count limits
class LimitedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request-receipt deadline, a send deadline and an immediate 503.

    The deadline is armed when the connection is made and at the first byte of each later
    request, and disarmed when the whole request (head and body) is in; on expiry the transport
    is closed without an answer (the Slowloris mitigation uvicorn lacks: its keep-alive timer is
    reset by every byte). Subclassed per server by ``make_server`` with its numbers.
    """

    header_timeout = HEADER_TIMEOUT
    send_timeout = SEND_TIMEOUT
    max_connections = MAX_CONNECTIONS
    quiet = False

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self._receipt: asyncio.TimerHandle | None = None
        self._sending: asyncio.TimerHandle | None = None
        self._refused = False
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            return self._refuse()
        self._arm_receipt()

    def _refuse(self) -> None:
        self._refused = True
        self.transport.write(BUSY_ANSWER)
        self.transport.close()
        if not self.quiet:
            sys.stderr.write(f"refused a connection: {self.max_connections} already open\n")

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._receipt is None and self.conn.their_state is h11.IDLE:
            self._arm_receipt()  # the first byte of the next request
        super().data_received(data)
        if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
            self._disarm_receipt()  # the request is complete (or broken and answered)

    def connection_lost(self, exc) -> None:
        self._disarm_receipt()
        self._disarm_send()
        super().connection_lost(exc)

    def _arm_receipt(self) -> None:
        self._disarm_receipt()
        self._receipt = self.loop.call_later(self.header_timeout, self._receipt_expired)

    def _disarm_receipt(self) -> None:
        if self._receipt is not None:
            self._receipt.cancel()
            self._receipt = None

    def _receipt_expired(self) -> None:
        self._receipt = None
        if not self.transport.is_closing():
            self.transport.close()

    def pause_writing(self) -> None:
        super().pause_writing()
        self._disarm_send()
        self._sending = self.loop.call_later(self.send_timeout, self._send_expired)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._disarm_send()

    def _disarm_send(self) -> None:
        if self._sending is not None:
            self._sending.cancel()
            self._sending = None

    def _send_expired(self) -> None:
        self._sending = None
        self.transport.abort()


# ---------------------------------------------------------------- the application
class ReaderApp:
    """The served folder (and the reading form, when ``reads`` is given) as a Starlette app."""

    def __init__(self, root: Path, token: str | None, *, quiet: bool = False, reads=None,
                 loopback_only: bool = False):
        self.root, self.token, self.quiet, self.reads = root, token, quiet, reads
        self.loopback_only = loopback_only  #: the form answers only requests addressed to a loopback name
        self.prefix = "/" + (f"{token}/" if token else "")
        self.app = Starlette(routes=[Route("/{path:path}", self.dispatch, methods=["GET", "HEAD", "POST"])])

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = []

        async def logged(message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, logged)
        self._log(scope, status[0] if status else 0)

    def _log(self, scope, status: int) -> None:
        if self.quiet:
            return
        target = scope["raw_path"].decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        line = f'"{scope["method"]} {target} HTTP/{scope.get("http_version", "1.1")}" {status}'
        if self.token:
            line = line.replace(self.token, "TOKEN")
            line = _FIRST_SEGMENT.sub(r"\1TOKEN", line)  # an encoded token or a near miss is the secret too
        client = scope.get("client") or ("-", 0)
        sys.stderr.write(f"{client[0]} {line}\n")

    # ------------------------------------------------------------ routing
    def _parts(self, raw: str) -> list[str] | None:
        """The path's segments inside the folder (token removed), or None (→ 404)."""
        try:
            path = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            return None
        if "\x00" in path or "\\" in path:
            return None
        parts = [p for p in path.split("/") if p]
        if self.token is not None:
            if not parts or not hmac.compare_digest(parts[0].encode(), self.token.encode()):
                return None
            parts = parts[1:]
        if not parts and path == self.prefix:
            return [INDEX_PAGE]  # the folder itself (only the root: other folders stay 404)
        return parts

    async def dispatch(self, request: Request) -> Response:
        parts = self._parts(request.scope["raw_path"].decode("latin-1"))
        if parts and parts[0] == "read" and len(parts) <= 2:
            return await self._read_route(request, parts[1:])
        if request.method == "POST":
            return _plain(405, "method not allowed\n")
        target = self._target(parts)
        if target is None:
            return _plain(404, "not found\n", body=request.method != "HEAD")
        return _file(request, target)

    def _target(self, parts: list[str] | None) -> Path | None:
        """The file a request path names, or None (→ 404)."""
        if not parts or any(p in (".", "..") or p.startswith(".") for p in parts):
            return None
        name = parts[-1].lower()
        if name.endswith(HIDDEN_SUFFIXES) or os.path.splitext(name)[1] not in MIME_TYPES:
            return None
        if name.endswith(".html") and parts != [INDEX_PAGE]:
            return None
        real = Path(os.path.realpath(self.root.joinpath(*parts)))
        if real != self.root and self.root not in real.parents:
            return None  # a symlink that leads out of the folder
        if not real.is_file():
            return None
        return real

    # ------------------------------------------------------------ the reading form
    async def _read_route(self, request: Request, rest: list[str]) -> Response:
        wants_json = "application/json" in request.headers.get("accept", "")
        if self.reads is None:
            if request.method == "POST":
                return _refusal(403, FORM_OFF, wants_json)
            return _plain(404, "not found\n")
        if not self._same_site(request):
            return _refusal(403, FOREIGN, wants_json)
        if not rest:
            if request.method == "POST":
                return await self._read_post(request, wants_json)
            return JSONResponse({"form": True})
        if request.method == "POST":
            return _plain(405, "method not allowed\n")
        name = rest[0]
        audio = name.endswith(".mp3")
        job_id = name[:-4] if audio else name
        job = self.reads.get(job_id) if JOB_ID_RE.fullmatch(job_id) else None
        if job is None:
            return _refusal(404, NO_JOB, not audio)
        if not audio:
            return JSONResponse(self._status(job), headers={"Cache-Control": "no-store"})
        if job.buffer is None and (url := self._episode_url(job)) is not None:
            return RedirectResponse(url, status_code=307)
        if job.buffer is None:
            return _refusal(410, visitor_message(job.error)[1] if job.error else NO_JOB, False)
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        if request.method == "HEAD":
            return Response(b"", media_type="audio/mpeg", headers=headers)
        return StreamingResponse(job.audio(), media_type="audio/mpeg", headers=headers)

    async def _read_post(self, request: Request, wants_json: bool) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > FORM_BODY_LIMIT:
                return _refusal(413, TOO_BIG_FORM, wants_json)
        fields = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=10)
        url = (fields.get("url") or [""])[0].strip()
        text = (fields.get("text") or [""])[0].strip()
        if not url and not text:
            return _refusal(400, NO_INPUT, wants_json)
        if url and not re.match(r"^https?://[^/\s]", url, re.I):
            return _refusal(400, BAD_URL, wants_json)
        if not self.reads.acquire():
            return _refusal(503, BUSY, wants_json, headers={"Retry-After": "10"})
        try:
            doc, sents = await run_in_threadpool(self.reads.prepare, url, text)
        except ReaderError as e:
            self.reads.release()
            return _refusal(*visitor_message(e), wants_json)
        except BaseException:
            self.reads.release()
            raise
        job = self.reads.start(doc, sents, asyncio.get_running_loop())
        status = self._status(job)
        if wants_json:
            return JSONResponse(status, status_code=201, headers={"Cache-Control": "no-store"})
        return _html(201, result_page(job.doc.title, status["stream_url"]))

    def _same_site(self, request: Request) -> bool:
        """Refuse what a browser sends on behalf of another site.

        A POST from another site's page carries its ``Origin``: it must name this server (the
        ``Host`` the browser asked). On a loopback server the ``Host`` itself must be a loopback
        name, or a page of a domain that resolves to 127.0.0.1 (DNS rebinding) could use the form.
        """
        host = request.headers.get("host", "")
        if self.loopback_only and not is_loopback(_hostname(host)):
            return False
        origin = request.headers.get("origin")
        if origin is None or request.method in ("GET", "HEAD"):
            return True
        return origin.lower() in (f"http://{host}".lower(), f"https://{host}".lower())

    def _episode_url(self, job) -> str | None:
        if job.episode is None:
            return None
        try:
            rel = Path(os.path.realpath(job.episode)).relative_to(self.root)
        except ValueError:
            return None
        return self.prefix + quote(rel.as_posix(), safe="/")

    def _status(self, job) -> dict:
        return {"id": job.id, "state": job.state, "title": job.doc.title,
                "stream_url": f"{self.prefix}read/{job.id}.mp3", "status_url": f"{self.prefix}read/{job.id}",
                "episode_url": self._episode_url(job),
                "error": visitor_message(job.error)[1] if job.error else None}


def _hostname(host_header: str) -> str:
    """The name in a ``Host`` header, without the port ("[::1]:8000" → "::1")."""
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


# ---------------------------------------------------------------- responses
def _plain(status: int, text: str, *, body: bool = True) -> Response:
    data = text.encode()
    headers = {"Content-Length": str(len(data)), "X-Content-Type-Options": "nosniff"}
    return Response(data if body else b"", status_code=status, media_type="text/plain; charset=utf-8",
                    headers=headers)


PAGE_POLICY = "default-src 'none'; media-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"


def _html(status: int, page: str) -> Response:
    return Response(page, status_code=status, media_type="text/html; charset=utf-8",
                    headers={"Content-Security-Policy": PAGE_POLICY, "X-Content-Type-Options": "nosniff",
                             "Cache-Control": "no-store"})


def _refusal(status: int, message: str, wants_json: bool, headers: dict | None = None) -> Response:
    """An error of the reading form: JSON ``{"error": ...}`` for the page script, else a small page."""
    if wants_json:
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    r = _html(status, message_page(message))
    if headers:
        r.headers.update(headers)
    return r


def _page(title: str, body: list[str]) -> str:
    return "\n".join(['<!DOCTYPE html>', '<html lang="vi">', "<head>", '<meta charset="utf-8">',
                      '<meta name="viewport" content="width=device-width, initial-scale=1">',
                      f"<title>{escape(title)}</title>", "</head>", "<body>", "<main>", *body, "</main>",
                      "</body>", "</html>"]) + "\n"


def message_page(message: str) -> str:
    """The no-JavaScript answer to a refused form: the message and a way back."""
    return _page("Không đọc được bài", ["<h1>Không đọc được bài</h1>", f'<p role="alert">{escape(message)}</p>',
                                        '<p><a href="./">Quay lại trang nghe</a></p>'])


def result_page(title: str, stream_url: str) -> str:
    """The no-JavaScript answer to the form: a player for the stream, every article string escaped."""
    t = escape(title, quote=True)
    src = escape(stream_url, quote=True)
    return _page(f"Đang đọc: {title}", [
        f"<h1>Đang đọc: {t}</h1>",
        f'<audio controls preload="auto" src="{src}" aria-label="Nghe bài: {t}">'
        f'<a href="{src}">Nghe tệp MP3</a></audio>',
        "<p>Bài được đọc dần trong khi bạn nghe. Khi đọc xong, bài được lưu trên máy chủ và liên kết dưới "
        "đây tải bản đầy đủ (tua được).</p>",
        f'<p><a href="{src}" download>Tải bài đã đọc</a></p>',
        '<p><a href="./">Quay lại trang nghe</a></p>'])


def _not_modified(headers, etag: str, st: os.stat_result) -> bool:
    inm = headers.get("if-none-match")
    if inm is not None:  # takes precedence over If-Modified-Since (RFC 9110 13.2.2)
        tags = [t.strip() for t in inm.split(",")]
        return "*" in tags or etag in tags or f"W/{etag}" in tags
    ims = headers.get("if-modified-since")
    if ims:
        try:
            since = parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        return int(st.st_mtime) <= since
    return False


def _file(request: Request, target: Path) -> Response:
    """GET or HEAD of one file: 200, 206, 304 or 416."""
    body = request.method != "HEAD"
    try:
        f = open(target, "rb")
    except OSError:
        return _plain(404, "not found\n", body=body)
    try:
        st = os.fstat(f.fileno())
        etag, modified = _etag(st), formatdate(int(st.st_mtime), usegmt=True)
        suffix = os.path.splitext(target.name)[1].lower()
        common = {"ETag": etag, "Last-Modified": modified, "Accept-Ranges": "bytes",
                  "Cache-Control": CACHE_CONTROL.get(suffix, DEFAULT_CACHE)}
        if _not_modified(request.headers, etag, st):
            f.close()
            return Response(status_code=304, headers=common)
        size = st.st_size
        rng = None
        cond = request.headers.get("if-range")
        if request.headers.get("range") and (cond is None or cond.strip() in (etag, modified)):
            rng = parse_range(request.headers["range"], size)
        if isinstance(rng, str):  # "416"
            f.close()
            return Response(b"", status_code=416, headers={**common, "Content-Range": f"bytes */{size}",
                                                           "Content-Length": "0"})
        headers = {**common, "Content-Type": MIME_TYPES[suffix], "X-Content-Type-Options": "nosniff"}
        if rng is None:
            start, length, status = 0, size, 200
        else:
            start, last = rng
            length, status = last - start + 1, 206
            headers["Content-Range"] = f"bytes {start}-{last}/{size}"
        headers["Content-Length"] = str(length)
        if not body:
            f.close()
            return Response(b"", status_code=status, headers=headers)
        if length <= CHUNK:  # a small file or range: one read, no worker thread
            with f:
                f.seek(start)
                return Response(f.read(length), status_code=status, headers=headers)
        return StreamingResponse(_chunks(f, start, length), status_code=status, headers=headers)
    except BaseException:
        f.close()
        raise


def _chunks(f, start: int, length: int):
    """The bytes ``start`` … ``start+length-1`` of ``f`` in FILE_CHUNK pieces; closes ``f``."""
    with f:
        f.seek(start)
        while length > 0:
            chunk = f.read(min(FILE_CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk


# ---------------------------------------------------------------- the server
class ReaderServer:
    """A bound socket and a uvicorn server for it: ``serve_forever`` runs it, ``shutdown`` stops it."""

    def __init__(self, sock: socket.socket, app: ReaderApp, *, header_timeout: float, idle_timeout: float,
                 send_timeout: float, max_connections: int, quiet: bool):
        import uvicorn

        self.socket = sock
        self.server_address = sock.getsockname()
        self.app = app
        self.root, self.token, self.quiet = app.root, app.token, quiet
        self.header_timeout, self.idle_timeout, self.send_timeout = header_timeout, idle_timeout, send_timeout
        self.max_connections = max_connections
        protocol = type("ServerH11Protocol", (LimitedH11Protocol,),
                        {"header_timeout": header_timeout, "send_timeout": send_timeout,
                         "max_connections": max_connections, "quiet": quiet})
        config = uvicorn.Config(
            app, http=protocol, loop="asyncio", lifespan="off", ws="none", interface="asgi3",
            timeout_keep_alive=idle_timeout,  # type: ignore[arg-type]  # a float works (call_later)
            # uvicorn counts the connection asking too; ours are refused at connect beyond max_connections
            limit_concurrency=max_connections + 1,
            backlog=128,  # a burst of podcast-app connections is not dropped
            server_header=False, date_header=True, headers=[("server", "vnreader")],
            access_log=False, log_config=None, log_level="critical" if quiet else "warning",
            timeout_graceful_shutdown=2)
        self._uvicorn = uvicorn.Server(config)
        self._stopped = threading.Event()
        self._stopped.set()

    def serve_forever(self, poll_interval: float | None = None) -> None:
        """Serve until ``shutdown`` (or Ctrl-C in the main thread: then KeyboardInterrupt)."""
        self._stopped.clear()
        try:
            asyncio.run(self._uvicorn.serve(sockets=[self.socket]))
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop ``serve_forever`` running in another thread, and wait for it."""
        self._uvicorn.should_exit = True
        self._stopped.wait(10)

    def server_close(self) -> None:
        self.socket.close()

    def url(self) -> str:
        """Base URL of the served folder (with the token path when private)."""
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}/" + (f"{self.token}/" if self.token else "")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def make_server(directory: Path, host: str = "127.0.0.1", port: int = 8000, token: str | None = None, *,
                quiet: bool = False, header_timeout: float = HEADER_TIMEOUT, idle_timeout: float = IDLE_TIMEOUT,
                send_timeout: float = SEND_TIMEOUT, max_connections: int = MAX_CONNECTIONS,
                allow_form: bool = False, reading=None) -> ReaderServer:
    """A bound, not yet running server (port 0 picks a free port; see ``server_address``).

    The time and connection limits are described in the module docstring. ``reading`` (a
    ``webread.ReadSettings``) turns the reading form on — on a loopback host, or anywhere with
    ``allow_form``; ``reading`` None (or a non-loopback host without ``allow_form``) leaves it off.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise UsageError(str(directory), "no such folder to serve",
                         fix="give --dir the output folder (run `vnreader demo` or `vnreader run` first)")
    if token is not None and not TOKEN_RE.fullmatch(token):
        raise UsageError("--token", "must be 8–128 letters, digits, - or _",
                         fix='make one with: python -c "import secrets; print(secrets.token_urlsafe(24))"')
    root = Path(os.path.realpath(directory))
    reads = None
    if reading is not None and form_allowed(host, allow_form):
        from reader.webread import ReadService

        reads = ReadService(reading)
    try:
        sock = _bind(host, port)
    except OSError as e:
        raise bind_error(host, port, e) from e
    app = ReaderApp(root, token, quiet=quiet, reads=reads, loopback_only=not allow_form)
    return ReaderServer(sock, app, header_timeout=header_timeout, idle_timeout=idle_timeout,
                        send_timeout=send_timeout, max_connections=max_connections, quiet=quiet)


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


def serve(directory: Path, *, host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
          allow_form: bool = False, reading=None) -> None:
    """Serve ``directory`` until Ctrl-C."""
    server = make_server(directory, host, port, token, allow_form=allow_form, reading=reading)
    print(f"serving {directory} at {server.url()}feed.xml (Ctrl-C stops)", flush=True)
    if server.app.reads is not None:
        print(f"reading form on at {server.url()} (POST read)", flush=True)
    elif reading is not None:
        print("reading form off: --host is not a loopback address (add --allow-form to turn it on)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def serve_in_thread(server: ReaderServer) -> threading.Thread:
    """Run ``server`` in a daemon thread (tests, embedding); stop with server.shutdown()."""
    server._stopped.clear()  # a shutdown() right after this waits for the thread
    t = threading.Thread(target=server.serve_forever, name="vnreader-web", daemon=True)
    t.start()
    return t
