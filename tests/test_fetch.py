"""Fetch stage: load(), fetch_url(), get_bytes(), decode_html() — offline (MockTransport, 127.0.0.1)."""
from __future__ import annotations

import io
import socket
import socketserver
import threading
import time
import unicodedata
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from reader.errors import FetchError, HTTPStatusError, TooLargeError
from reader.fetch import (USER_AGENT, Deadline, decode_html, fetch_url, get_bytes, load, looks_like_html,
                          make_client)

VIET = "Tiếng Việt có dấu: Đà Nẵng, Nghệ An, thuỷ điện, người dân"
TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def cp1258(text: str) -> bytes:
    """Windows-1258 bytes: base letters precomposed, tone marks as combining characters."""
    out = []
    for ch in text:
        d = unicodedata.normalize("NFD", ch)
        out.append(unicodedata.normalize("NFC", "".join(c for c in d if c not in TONES))
                   + "".join(c for c in d if c in TONES))
    return "".join(out).encode("cp1258")


def page(body: str) -> str:
    return f"<html><head><title>t</title></head><body><p>{body}</p></body></html>"


# ---------------------------------------------------------------- decode_html
DECODE_CASES = [
    ("utf8-header", page(VIET).encode(), "text/html; charset=utf-8"),
    ("utf8-no-declaration", page(VIET).encode(), None),
    ("utf8-bom", b"\xef\xbb\xbf" + page(VIET).encode(), None),
    ("utf8-under-wrong-latin1-header", page(VIET).encode(), "text/html; charset=ISO-8859-1"),
    ("utf8-under-wrong-latin1-meta", ('<meta charset="iso-8859-1">' + page(VIET)).encode(), None),
    ("cp1258-header", cp1258(page(VIET)), "text/html; charset=windows-1258"),
    ("cp1258-meta", b'<meta http-equiv="Content-Type" content="text/html; charset=windows-1258">' + cp1258(page(VIET)),
     None),
    ("cp1258-under-wrong-utf8-header", cp1258(page(VIET)), "text/html; charset=utf-8"),
    ("cp1258-undeclared", cp1258(page(VIET)), None),
    ("utf16-bom", "\ufeff".encode("utf-16-le") + page(VIET).encode("utf-16-le"), None),
    ("decomposed-unicode", unicodedata.normalize("NFD", page(VIET)).encode(), "text/html; charset=utf-8"),
    ("unknown-charset-label", page(VIET).encode(), "text/html; charset=x-no-such-charset"),
]


@pytest.mark.parametrize("raw, ctype", [c[1:] for c in DECODE_CASES], ids=[c[0] for c in DECODE_CASES])
def test_decode_html_never_mojibake(raw, ctype):
    text = decode_html(raw, ctype)
    assert VIET in text
    assert text == unicodedata.normalize("NFC", text)


SNIFF_CASES = [
    ("doctype", b"<!DOCTYPE html><html><body>x</body></html>", True),
    ("bare-p", b"<p>Xin chao</p>", True),
    ("body-later", b"some preamble\n<html><body>x</body></html>", True),
    ("plain-text", "Quảng Ninh\n\nGiữ vững địa bàn".encode(), False),
    ("text-with-angle", b"a < b and c > d", False),
]


@pytest.mark.parametrize("raw, expected", [c[1:] for c in SNIFF_CASES], ids=[c[0] for c in SNIFF_CASES])
def test_looks_like_html(raw, expected):
    assert looks_like_html(raw) is expected


# ---------------------------------------------------------------- MockTransport
def mock_client(handler) -> httpx.Client:
    return make_client(transport=httpx.MockTransport(handler), timeout=2)


def test_user_agent_and_redirect_final_url():
    seen = {}

    def handler(req: httpx.Request):
        if req.url.path == "/old":
            return httpx.Response(301, headers={"Location": "https://news.example/new"})
        seen["ua"] = req.headers["user-agent"]
        return httpx.Response(200, headers={"Content-Type": "text/html; charset=utf-8"}, content=page(VIET).encode())

    with mock_client(handler) as c:
        art = fetch_url("https://news.example/old", client=c)
    assert seen["ua"] == USER_AGENT and "vnreader" in USER_AGENT
    assert art.url == "https://news.example/new"
    assert VIET in art.html and art.text is None


def test_plain_text_response_is_text():
    def handler(req):
        return httpx.Response(200, headers={"Content-Type": "text/plain; charset=utf-8"}, content=VIET.encode())

    with mock_client(handler) as c:
        art = fetch_url("https://news.example/a.txt", client=c)
    assert art.text == VIET and art.html is None


STATUS_CASES = [(404, "removed"), (403, "login"), (410, "removed"), (429, "rate-limits")]


@pytest.mark.parametrize("status, hint", STATUS_CASES, ids=[str(s) for s, _ in STATUS_CASES])
def test_http_errors_name_url_and_status(status, hint):
    calls = []

    def handler(req):
        calls.append(1)
        return httpx.Response(status)

    with mock_client(handler) as c, pytest.raises(HTTPStatusError) as ei:
        fetch_url("https://news.example/x", client=c, backoff=0)
    assert ei.value.status == status
    assert "https://news.example/x" in str(ei.value) and hint in str(ei.value)
    assert len(calls) == 1  # 4xx is not retried


def test_5xx_is_retried_then_succeeds():
    calls = []

    def handler(req):
        calls.append(1)
        if len(calls) < 3:
            return httpx.Response(503)
        return httpx.Response(200, headers={"Content-Type": "text/html"}, content=page("ok").encode())

    with mock_client(handler) as c:
        art = fetch_url("https://news.example/x", client=c, retries=3, backoff=0)
    assert len(calls) == 3 and "ok" in art.html


def test_5xx_gives_up_after_retries():
    calls = []

    def handler(req):
        calls.append(1)
        return httpx.Response(502)

    with mock_client(handler) as c, pytest.raises(HTTPStatusError) as ei:
        fetch_url("https://news.example/x", client=c, retries=2, backoff=0)
    assert len(calls) == 3 and ei.value.status == 502


def test_size_cap_from_content_length():
    def handler(req):
        return httpx.Response(200, headers={"Content-Length": "5000000"}, content=b"x" * 10)

    with mock_client(handler) as c, pytest.raises(TooLargeError, match="5000000"):
        fetch_url("https://news.example/big", client=c, max_bytes=1000)


def test_size_cap_while_streaming():
    produced = []

    def chunks():
        for _ in range(100):
            produced.append(1)
            yield b"<p>" + b"x" * 1000

    def handler(req):
        return httpx.Response(200, headers={"Content-Type": "text/html"}, content=chunks())

    with mock_client(handler) as c, pytest.raises(TooLargeError, match="news.example/stream"):
        fetch_url("https://news.example/stream", client=c, max_bytes=5000)
    assert len(produced) < 100  # stopped reading once past the cap


def test_not_a_web_page():
    def handler(req):
        return httpx.Response(200, headers={"Content-Type": "image/jpeg"}, content=b"\xff\xd8\xff\xe0")

    with mock_client(handler) as c, pytest.raises(FetchError, match="not a web page"):
        fetch_url("https://news.example/a.jpg", client=c)


def test_get_bytes_returns_304_and_sends_conditional_headers():
    seen = {}

    def handler(req):
        seen.update(req.headers)
        if req.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304, headers={"ETag": '"v1"'})
        return httpx.Response(200, headers={"ETag": '"v1"'}, content=b"<rss/>")

    with mock_client(handler) as c:
        first = get_bytes("https://news.example/rss", client=c)
        again = get_bytes("https://news.example/rss", client=c, headers={"If-None-Match": '"v1"'})
    assert (first.status, first.body, first.headers["etag"]) == (200, b"<rss/>", '"v1"')
    status, headers, body = again
    assert (status, body) == (304, b"") and headers["etag"] == '"v1"'
    assert seen["if-none-match"] == '"v1"'


def test_connect_error_names_url():
    def handler(req):
        raise httpx.ConnectError("refused", request=req)

    with mock_client(handler) as c, pytest.raises(FetchError, match="could not connect after 2 tries"):
        fetch_url("https://down.example/", client=c, retries=1, backoff=0)


# ---------------------------------------------------------------- real local server
class _Slow(BaseHTTPRequestHandler):
    hits: list  # set per server
    slow_first: int = 0

    def do_GET(self):  # noqa: N802
        self.hits.append(time.monotonic())
        if len(self.hits) <= self.slow_first:
            time.sleep(1.0)  # longer than the client's read timeout
            return
        body = page(VIET).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


@pytest.fixture
def slow_server():
    servers = []

    def start(slow_first: int):
        handler = type("H", (_Slow,), {"hits": [], "slow_first": slow_first})
        srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/a", handler.hits

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def test_timeout_is_retried_with_backoff(slow_server):
    url, hits = slow_server(slow_first=1)
    with make_client(timeout=0.3) as c:
        art = fetch_url(url, client=c, retries=2, backoff=0.05)
    assert VIET in art.html
    assert len(hits) == 2


def test_server_that_never_answers_fails_within_timeout(slow_server):
    url, hits = slow_server(slow_first=99)  # each answer stalls 1 s, then closes with no response
    with make_client(timeout=0.2) as c, pytest.raises(FetchError, match="timed out after 2 tries") as ei:
        fetch_url(url, client=c, retries=1, backoff=0.01)
    assert url in str(ei.value)
    assert len(hits) == 2


# ---------------------------------------------------------------- total deadline
class FakeClock:
    """Seconds that pass only when a test says so (``advance``) or a fake ``sleep`` waits."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class _SlowBody(httpx.SyncByteStream):
    """A body whose every chunk takes ``per_chunk`` seconds of the fake clock."""

    def __init__(self, clock: FakeClock, chunks: int, per_chunk: float):
        self.clock, self.chunks, self.per_chunk = clock, chunks, per_chunk

    def __iter__(self):
        for _ in range(self.chunks):
            self.clock.advance(self.per_chunk)
            yield b"x" * 10


def test_deadline_is_checked_between_body_chunks():
    clock = FakeClock()

    def handler(req):
        return httpx.Response(200, headers={"Content-Type": "text/html"}, stream=_SlowBody(clock, 100, 1.0))

    with mock_client(handler) as c, pytest.raises(FetchError, match=r"no complete answer within 5 s") as ei:
        fetch_url("https://slow.example/a", client=c, deadline=Deadline(5, clock=clock))
    assert "https://slow.example/a" in str(ei.value)
    assert clock.now <= 6.0  # stopped at the first chunk past the deadline, not after all 100


def test_deadline_covers_retries_and_their_waits():
    clock = FakeClock()
    calls = []

    def handler(req):
        calls.append(clock.now)
        clock.advance(10.0)  # each try spends its whole read timeout
        raise httpx.ReadTimeout("timed out", request=req)

    with mock_client(handler) as c, pytest.raises(FetchError, match="no complete answer within 25 s"):
        fetch_url("https://never.example/", client=c, retries=3, backoff=0.5,
                  deadline=Deadline(25, clock=clock), sleep=clock.advance)
    assert calls == [0.0, 10.5, 21.5]  # the fourth try would start past the deadline


def test_deadline_that_passes_during_the_backoff_wait_stops_before_sleeping():
    clock = FakeClock()
    slept = []

    def handler(req):
        clock.advance(4.0)
        return httpx.Response(503)

    with mock_client(handler) as c, pytest.raises(FetchError, match="no complete answer within 5 s"):
        get_bytes("https://busy.example/", client=c, retries=3, backoff=2.0, deadline=Deadline(5, clock=clock),
                  sleep=slept.append)
    assert slept == []  # a 2 s wait would end past the deadline: fail now instead


class _Trickle(socketserver.BaseRequestHandler):
    """Answers 200 with a long Content-Length, then one byte every 0.05 s."""

    stop: threading.Event

    def handle(self):
        head = b""
        while b"\r\n\r\n" not in head:
            data = self.request.recv(4096)
            if not data:
                return
            head += data
        try:
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
            for _ in range(2000):
                if self.stop.wait(0.05):
                    return
                self.request.sendall(b"x")
        except OSError:
            return  # the client gave up


@pytest.fixture
def trickle_url():
    stop = threading.Event()
    handler = type("H", (_Trickle,), {"stop": stop})
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/slow"
    stop.set()
    srv.shutdown()
    srv.server_close()


def test_trickling_server_is_cut_off_at_the_deadline(trickle_url):
    # every byte comes well inside the read timeout, so only the total deadline can stop this
    with make_client(timeout=5) as c, pytest.raises(FetchError, match=r"no complete answer within 0\.5 s") as ei:
        fetch_url(trickle_url, client=c, deadline=0.5)
    assert trickle_url in str(ei.value)


def test_each_try_waits_no_longer_than_the_time_left(slow_server):
    url, hits = slow_server(slow_first=99)  # holds every request 1 s, then hangs up without an answer
    with make_client() as c, pytest.raises(FetchError, match=r"no complete answer within 0\.3 s"):
        fetch_url(url, client=c, retries=3, backoff=0.01, deadline=0.3)  # the client's own timeouts are 10-20 s
    assert len(hits) <= 1  # no retry started after the deadline


def test_load_passes_the_deadline_on(trickle_url):
    with pytest.raises(FetchError, match="no complete answer within 0.4 s"):
        load(trickle_url, deadline=0.4)


# ---------------------------------------------------------------- load()
def test_load_saved_page_and_text_file(tmp_path, data_dir):
    art = load(str(data_dir / "pages" / "vnexpress" / "vnexpress-1.html"))
    assert art.html and art.url is None and "Cháy bãi rác lớn nhất Nghệ An" in art.html
    txt = load(str(data_dir / "pages" / "text" / "quang-ninh-2021-01-09.txt"))
    assert txt.html is None and txt.text.startswith("Quảng Ninh")
    odd = tmp_path / "page.dat"
    odd.write_bytes(cp1258(page(VIET)))
    assert VIET in load(str(odd)).html  # sniffed as HTML, charset guessed


STDIN_CASES = [
    ("html", page(VIET).encode(), "html"),
    ("text", VIET.encode(), "text"),
    ("text-cp1258", cp1258(VIET + "\n" + VIET), "text"),
]


@pytest.mark.parametrize("raw, kind", [c[1:] for c in STDIN_CASES], ids=[c[0] for c in STDIN_CASES])
def test_load_stdin_sniffs(raw, kind):
    art = load("-", stdin=io.BytesIO(raw))
    got = art.html if kind == "html" else art.text
    assert got is not None and VIET in got


LOAD_ERRORS = [
    ("missing-file", "/no/such/file.html", FetchError, "no such file"),
    ("unsupported-scheme", "ftp://example.org/a.html", FetchError, "only http"),
]


@pytest.mark.parametrize("source, exc, words", [c[1:] for c in LOAD_ERRORS], ids=[c[0] for c in LOAD_ERRORS])
def test_load_errors_name_the_input(source, exc, words):
    with pytest.raises(exc, match=words) as ei:
        load(source)
    assert source in str(ei.value)


def test_load_directory_empty_and_too_large(tmp_path):
    with pytest.raises(FetchError, match="not a file"):
        load(str(tmp_path))
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"  \n")
    with pytest.raises(FetchError, match="empty"):
        load(str(empty))
    big = tmp_path / "big.html"
    big.write_bytes(b"<p>" + b"x" * 2000)
    with pytest.raises(TooLargeError, match="big.html"):
        load(str(big), max_bytes=1000)
    with pytest.raises(TooLargeError, match="stdin"):
        load("-", stdin=io.BytesIO(b"x" * 2000), max_bytes=1000)


@pytest.mark.parametrize("raw, kind", [
    (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "ELF executable"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF document"),
    (b"PK\x03\x04\x14\x00\x06\x00" + bytes(64), "ZIP archive"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
    (b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(100), "MP3 file"),
    (bytes([7, 200, 3, 99, 0, 1, 250, 17]) * 200, "binary data"),
], ids=["elf", "pdf", "zip", "png", "mp3", "random"])
def test_binary_input_is_refused_before_extraction(tmp_path, raw, kind):
    for name in ("input.html", "input.txt", "input"):
        p = tmp_path / name
        p.write_bytes(raw)
        with pytest.raises(FetchError) as e:
            load(str(p))
        assert str(p) in str(e.value) and kind in str(e.value) and "text" in str(e.value)


@pytest.mark.parametrize("raw", [
    "Trời đẹp. Hà Nội hôm nay nắng.\n".encode(),
    "\ufeffTrời đẹp.\r\n\tTab và xuống dòng.\f".encode(),
    "Trời đẹp.".encode("utf-16"),
    "<html><body><p>ID3 là một định dạng.</p></body></html>".encode(),
    "MZ là tên viết tắt.".encode(),
], ids=["utf8", "bom-controls", "utf16-bom", "html", "text-starting-like-magic"])
def test_text_is_not_mistaken_for_binary(tmp_path, raw):
    p = tmp_path / "a.txt"
    p.write_bytes(raw)
    article = load(str(p))
    expected = raw.decode("utf-16") if raw.startswith(b"\xff\xfe") else raw.decode("utf-8-sig")
    assert (article.text or article.html).split()[:2] == expected.split()[:2]


# ---------------------------------------------------------------- --timeout on the commands that fetch
@pytest.mark.parametrize("command", ["extract", "read", "run"])
def test_timeout_option_in_help(command, capsys):
    from reader.cli import main

    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    assert e.value.code == 0
    assert "--timeout" in capsys.readouterr().out


def test_extract_timeout_option_bounds_the_fetch(trickle_url, capsys):
    from reader.cli import main

    assert main(["extract", trickle_url, "--timeout", "0.4"]) == 1
    err = capsys.readouterr().err
    assert "no complete answer within 0.4 s" in err and trickle_url in err and "Traceback" not in err


@pytest.mark.parametrize("value", ["0", "-1", "abc"], ids=["zero", "negative", "text"])
def test_timeout_option_must_be_positive_seconds(value, capsys):
    from reader.cli import main

    with pytest.raises(SystemExit) as e:
        main(["extract", "x.html", "--timeout", value])
    assert e.value.code == 2
    assert "--timeout" in capsys.readouterr().err


# ---------------------------------------------------------------- network failures in words
RAW_TEXT = ("object at 0x", "Errno", "_ssl.c", "SSLContext", "ConnectError")


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_connection_refused_in_words():
    url = f"http://127.0.0.1:{_closed_port()}/bai.html"
    with pytest.raises(FetchError) as ei:
        fetch_url(url, retries=0)
    text = str(ei.value)
    assert text.startswith(f"{url}: could not connect after 1 try: connection refused")
    assert [w for w in RAW_TEXT if w in text] == []


@pytest.fixture
def plain_tcp_port():
    """A server that answers plain HTTP to whatever it gets (so a TLS handshake fails)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    srv.settimeout(0.1)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            with c:
                c.settimeout(2)
                try:
                    c.recv(4096)
                    c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(2)
    srv.close()


def test_tls_to_a_plain_tcp_server_in_words(plain_tcp_port):
    url = f"https://127.0.0.1:{plain_tcp_port}/bai.html"
    with pytest.raises(FetchError) as ei:
        fetch_url(url, retries=0)
    text = str(ei.value)
    assert f"{url}: could not connect after 1 try: TLS handshake failed" in text
    assert [w for w in RAW_TEXT if w in text] == []


def test_timeout_names_the_phase_not_the_class(slow_server):
    url, _ = slow_server(slow_first=99)
    with make_client(timeout=0.2) as c, pytest.raises(FetchError) as ei:
        fetch_url(url, client=c, retries=0)
    assert "timed out after 1 try (waiting for the answer)" in str(ei.value)
