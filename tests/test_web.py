"""`vnreader serve`, driven over real HTTP on 127.0.0.1: ranges, HEAD, 304, 416, traversal, token."""
from __future__ import annotations

import errno
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from email.utils import formatdate
import signal
from pathlib import Path
from urllib.parse import unquote

import feedparser
import pytest

from podcast_fixtures import make_channel, make_episode
from reader.errors import UsageError
from reader.podcast import write_feed
from reader.web import bind_error, make_server, parse_range, serve_in_thread

TOKEN = "s3cr3t-T0ken_abc"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(directory: Path, *extra: str):
    """A real `vnreader serve` subprocess; returns (process, port) once it accepts connections."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "reader", "serve", "--dir", str(directory), "--host", "127.0.0.1",
                             "--port", str(port), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited {proc.returncode}: {proc.stderr.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("serve did not start")


def stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def request(port: int, path: str, method: str = "GET", headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


def build_site(root: Path) -> Path:
    """An output folder: two episodes with sidecars, cover, feed — plus things that must stay hidden."""
    out = root / "audio_out"
    out.mkdir()
    eps = [make_episode(out, "ban-tin-sang", title="Bản tin sáng", seconds=2.0),
           make_episode(out, "bản tin tối", title="Bản tin tối", guid="toi", seconds=1.0)]
    write_feed(eps, out, channel=make_channel(out), base_url="http://127.0.0.1:8000/")
    (out / "sub").mkdir()
    (out / "sub" / "inside.mp3").write_bytes(b"ID3inside")
    (out / ".feed.xml.tmp123.part").write_text("half a feed")
    (out / "state.sqlite").write_bytes(b"SQLite format 3\x00")
    (out / "ban-tin-sang.episode.json").write_text("{}")
    (out / "notes.txt").write_text("operator notes")
    secret = root / "secret.xml"
    secret.write_text("<secret/>")
    (out / "escape.xml").symlink_to(secret)
    (out / "escape-dir").symlink_to(root)
    (out / "alias.mp3").symlink_to(out / "ban-tin-sang.mp3")
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = build_site(tmp_path_factory.mktemp("web"))
    proc, port = start_serve(out)
    yield out, port
    stop(proc)


@pytest.fixture(scope="module")
def private_site(tmp_path_factory):
    out = build_site(tmp_path_factory.mktemp("private"))
    proc, port = start_serve(out, "--token", TOKEN)
    yield out, port
    stop(proc)


TYPES = [
    ("mp3", "/ban-tin-sang.mp3", "audio/mpeg"),
    ("feed", "/feed.xml", "application/rss+xml; charset=utf-8"),
    ("vtt", "/ban-tin-sang.vtt", "text/vtt; charset=utf-8"),
    ("srt", "/ban-tin-sang.srt", "application/x-subrip; charset=utf-8"),
    ("chapters", "/ban-tin-sang.chapters.json", "application/json; charset=utf-8"),
    ("png", "/cover.png", "image/png"),
    ("quoted-name", "/b%E1%BA%A3n%20tin%20t%E1%BB%91i.mp3", "audio/mpeg"),
    ("subfolder", "/sub/inside.mp3", "audio/mpeg"),
    ("symlink-inside", "/alias.mp3", "audio/mpeg"),
]


@pytest.mark.parametrize("path, ctype", [t[1:] for t in TYPES], ids=[t[0] for t in TYPES])
def test_get_serves_whole_file_with_type(site, path, ctype):
    out, port = site
    status, h, body = request(port, path)
    assert status == 200
    assert h["content-type"] == ctype
    local = out.joinpath(*[p for p in unquote(path).split("/") if p])
    assert body == local.read_bytes()
    assert int(h["content-length"]) == len(body)
    assert h["accept-ranges"] == "bytes" and h["etag"] and h["last-modified"]
    assert h["server"] == "vnreader" and h["x-content-type-options"] == "nosniff"


def test_head_has_headers_and_no_body(site):
    out, port = site
    status, h, body = request(port, "/ban-tin-sang.mp3", "HEAD")
    assert status == 200 and body == b""
    assert int(h["content-length"]) == (out / "ban-tin-sang.mp3").stat().st_size
    assert h["content-type"] == "audio/mpeg"


RANGES = [
    ("first-bytes", "bytes=0-99", 0, 99),
    ("middle", "bytes=100-199", 100, 199),
    ("open-end", "bytes=500-", 500, None),
    ("suffix", "bytes=-300", -300, None),
    ("end-past-size", "bytes=10-99999999", 10, None),
    ("single-byte", "bytes=0-0", 0, 0),
]


@pytest.mark.parametrize("header, first, last", [r[1:] for r in RANGES], ids=[r[0] for r in RANGES])
def test_byte_ranges(site, header, first, last):
    out, port = site
    data = (out / "ban-tin-sang.mp3").read_bytes()
    size = len(data)
    start = size + first if first < 0 else first
    end = size - 1 if last is None else last
    status, h, body = request(port, "/ban-tin-sang.mp3", headers={"Range": header})
    assert status == 206
    assert h["content-range"] == f"bytes {start}-{end}/{size}"
    assert body == data[start:end + 1]
    assert int(h["content-length"]) == end - start + 1


def test_head_with_range(site):
    out, port = site
    size = (out / "ban-tin-sang.mp3").stat().st_size
    status, h, body = request(port, "/ban-tin-sang.mp3", "HEAD", {"Range": "bytes=0-9"})
    assert (status, body, h["content-range"], h["content-length"]) == (206, b"", f"bytes 0-9/{size}", "10")


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=999999999-1000000000", "bytes=-0"],
                         ids=["start-past-end", "both-past-end", "empty-suffix"])
def test_range_past_the_end_is_416(site, header):
    out, port = site
    size = (out / "ban-tin-sang.mp3").stat().st_size
    status, h, body = request(port, "/ban-tin-sang.mp3", headers={"Range": header})
    assert status == 416
    assert h["content-range"] == f"bytes */{size}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-9", "items=0-5", "bytes=9-1", "bytes=abc"],
                         ids=["multiple", "other-unit", "reversed", "garbage"])
def test_unusable_ranges_get_the_whole_file(site, header):
    out, port = site
    status, h, body = request(port, "/ban-tin-sang.mp3", headers={"Range": header})
    assert status == 200 and body == (out / "ban-tin-sang.mp3").read_bytes()


def test_etag_and_last_modified_give_304(site):
    out, port = site
    _, h, _ = request(port, "/feed.xml")
    status, h2, body = request(port, "/feed.xml", headers={"If-None-Match": h["etag"]})
    assert (status, body, h2["etag"]) == (304, b"", h["etag"])
    status, _, _ = request(port, "/feed.xml", headers={"If-None-Match": '"other", ' + h["etag"]})
    assert status == 304
    status, _, _ = request(port, "/feed.xml", headers={"If-Modified-Since": h["last-modified"]})
    assert status == 304
    status, _, _ = request(port, "/feed.xml", headers={"If-None-Match": '"stale"'})
    assert status == 200
    mtime = (out / "feed.xml").stat().st_mtime
    status, _, _ = request(port, "/feed.xml", headers={"If-Modified-Since": formatdate(mtime - 3600, usegmt=True)})
    assert status == 200
    # If-None-Match wins over If-Modified-Since
    status, _, _ = request(port, "/feed.xml", headers={"If-None-Match": '"stale"',
                                                       "If-Modified-Since": h["last-modified"]})
    assert status == 200


def test_if_range(site):
    out, port = site
    _, h, _ = request(port, "/ban-tin-sang.mp3", "HEAD")
    status, _, body = request(port, "/ban-tin-sang.mp3", headers={"Range": "bytes=0-9", "If-Range": h["etag"]})
    assert status == 206 and len(body) == 10
    status, _, body = request(port, "/ban-tin-sang.mp3", headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert status == 200 and body == (out / "ban-tin-sang.mp3").read_bytes()


def test_replaced_file_gets_a_new_etag(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "feed.xml").write_text("<rss/>")
    server = make_server(out, "127.0.0.1", 0, quiet=True)
    serve_in_thread(server)
    try:
        port = server.server_address[1]
        _, h1, _ = request(port, "/feed.xml")
        (out / "feed.xml").write_text("<rss version='2.0'/>")
        os.utime(out / "feed.xml", ns=(1_700_000_000_000_000_000,) * 2)
        status, h2, body = request(port, "/feed.xml", headers={"If-None-Match": h1["etag"]})
        assert status == 200 and h2["etag"] != h1["etag"] and body == b"<rss version='2.0'/>"
    finally:
        server.shutdown()
        server.server_close()


NOT_FOUND = [
    ("root", "/"),
    ("directory", "/sub/"),
    ("directory-no-slash", "/sub"),
    ("missing", "/nope.mp3"),
    ("dotdot", "/../secret.xml"),
    ("dotdot-inside", "/sub/../../secret.xml"),
    ("encoded-dotdot", "/%2e%2e/secret.xml"),
    ("encoded-upper", "/%2E%2E%2Fsecret.xml"),
    ("encoded-slash", "/..%2fsecret.xml"),
    ("double-encoded", "/%252e%252e/secret.xml"),
    ("backslash", "/..%5csecret.xml"),
    ("nul", "/feed.xml%00.mp3"),
    ("bad-utf8", "/%ff.mp3"),
    ("absolute", "//etc/passwd"),
    ("symlink-out-file", "/escape.xml"),
    ("symlink-out-dir", "/escape-dir/secret.xml"),
    ("temp-file", "/.feed.xml.tmp123.part"),
    ("state-db", "/state.sqlite"),
    ("episode-record", "/ban-tin-sang.episode.json"),
    ("unknown-type", "/notes.txt"),
    ("token-without-token", f"/{TOKEN}/feed.xml"),
]


@pytest.mark.parametrize("path", [n[1] for n in NOT_FOUND], ids=[n[0] for n in NOT_FOUND])
def test_not_found(site, path):
    _, port = site
    status, _, body = request(port, path)
    assert status == 404
    assert b"secret" not in body and b"SQLite" not in body


PRIVATE = [
    ("feed", f"/{TOKEN}/feed.xml", 200),
    ("episode", f"/{TOKEN}/ban-tin-sang.mp3", 200),
    ("no-token", "/feed.xml", 404),
    ("wrong-token", "/s3cr3t-T0ken_abd/feed.xml", 404),
    ("token-prefix", f"/{TOKEN[:-1]}/feed.xml", 404),
    ("token-only", f"/{TOKEN}/", 404),
    ("token-escape", f"/{TOKEN}/../feed.xml", 404),
]


@pytest.mark.parametrize("path, status", [p[1:] for p in PRIVATE], ids=[p[0] for p in PRIVATE])
def test_private_feed(private_site, path, status):
    _, port = private_site
    assert request(port, path)[0] == status


def test_private_feed_urls_carry_the_token(private_site):
    """Published with base_url .../TOKEN/, every URL in the feed works against the private server."""
    out, port = private_site
    base = f"http://127.0.0.1:{port}/{TOKEN}/"
    eps = [make_episode(out, "ban-tin-sang", title="Bản tin sáng", seconds=2.0)]
    write_feed(eps, out, channel=make_channel(out), base_url=base, feed_name="private.xml")
    status, _, body = request(port, f"/{TOKEN}/private.xml")
    assert status == 200
    fp = feedparser.parse(body)
    urls = [fp.feed.image.href] + [e.enclosures[0].href for e in fp.entries]
    for url in urls:
        assert url.startswith(base)
        st, h, data = request(port, url[len(f"http://127.0.0.1:{port}"):], "HEAD")
        assert st == 200
    enc = fp.entries[0].enclosures[0]
    assert int(enc.length) == int(request(port, enc.href[len(f"http://127.0.0.1:{port}"):], "HEAD")[1]["content-length"])


@pytest.mark.slow
def test_ctrl_c_stops_cleanly(tmp_path):
    proc, port = start_serve(tmp_path, "--token", TOKEN)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert f"http://127.0.0.1:{port}/{TOKEN}/feed.xml" in out


@pytest.mark.slow
def test_bad_arguments_exit_2(tmp_path):
    for extra in (["--dir", str(tmp_path / "missing")], ["--dir", str(tmp_path), "--token", "a b"]):
        r = subprocess.run([sys.executable, "-m", "reader", "serve", "--port", str(free_port()), *extra],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, r.stderr
        assert "Traceback" not in r.stderr and "vnreader serve: error" in r.stderr


def test_port_in_use_says_so(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        with pytest.raises(UsageError) as ei:
            make_server(tmp_path, "127.0.0.1", port)
    finally:
        taken.close()
    assert f"port {port} is in use, choose another with --port" in str(ei.value)
    assert ei.value.exit_code == 2


@pytest.mark.parametrize("host", ["999.1.1.1", "192.0.2.1"], ids=["not-an-ip", "not-this-machine"])
def test_host_that_is_not_this_machine_says_so(tmp_path, host):
    with pytest.raises(UsageError) as ei:
        make_server(tmp_path, host, 0)
    text = str(ei.value)
    assert f"--host {host} is not a valid address of this machine" in text
    assert "--port" not in text  # the port is not the problem


BIND_ERRORS = [
    ("in-use", OSError(errno.EADDRINUSE, "Address already in use"), 8000, "port 8000 is in use, choose another with --port"),
    ("privileged-port", PermissionError(errno.EACCES, "Permission denied"), 80,
     "permission denied to listen on port 80 (ports below 1024 need root)"),
    ("not-available", OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address"), 8000,
     "is not a valid address of this machine"),
    ("unresolvable", socket.gaierror(socket.EAI_NONAME, "Name or service not known"), 8000,
     "is not a valid address of this machine"),
    ("other", OSError(errno.EMFILE, "Too many open files"), 8000, "cannot listen there: Too many open files"),
]


@pytest.mark.parametrize("err, port, words", [b[1:] for b in BIND_ERRORS], ids=[b[0] for b in BIND_ERRORS])
def test_bind_errors_in_words(err, port, words):
    e = bind_error("192.0.2.7", port, err)
    assert words in str(e) and e.exit_code == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root may listen on any port")
def test_privileged_port_as_non_root_says_permission_denied(tmp_path):
    with pytest.raises(UsageError, match="permission denied to listen on port 80"):
        make_server(tmp_path, "127.0.0.1", 80)


@pytest.mark.slow
def test_serve_cli_prints_the_port_message(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        r = subprocess.run([sys.executable, "-m", "reader", "serve", "--dir", str(tmp_path), "--port",
                            str(taken.getsockname()[1])], capture_output=True, text=True, timeout=30)
    finally:
        taken.close()
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "is in use, choose another with --port" in r.stderr


PARSE = [
    ("whole", "bytes=0-", 10, (0, 9)),
    ("suffix-larger-than-file", "bytes=-50", 10, (0, 9)),
    ("empty-file", "bytes=0-", 0, "416"),
    ("no-numbers", "bytes=-", 10, None),
    ("spaces", " bytes = 2 - 4 ", 10, (2, 4)),
]


@pytest.mark.parametrize("header, size, expected", [p[1:] for p in PARSE], ids=[p[0] for p in PARSE])
def test_parse_range(header, size, expected):
    assert parse_range(header, size) == expected


def test_serve_help(capsys):
    from reader.cli import main

    with pytest.raises(SystemExit) as e:
        main(["serve", "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    assert "--token" in text and "--dir" in text and "--port" in text


def test_ipv6_loopback(tmp_path):
    (tmp_path / "feed.xml").write_text("<rss/>")
    try:
        server = make_server(tmp_path, "::1", 0, quiet=True)
    except UsageError:
        pytest.skip("no IPv6 loopback here")
    serve_in_thread(server)
    try:
        assert server.url().startswith("http://[::1]:")
        conn = http.client.HTTPConnection("::1", server.server_address[1], timeout=5)
        conn.request("GET", "/feed.xml")
        assert conn.getresponse().read() == b"<rss/>"
        conn.close()
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- slow clients and the connection bound
@pytest.fixture
def limited(tmp_path):
    """A server in this process with test-small limits: 0.3 s for a head, 0.3 s idle, 3 connections."""
    (tmp_path / "feed.xml").write_text("<rss/>")
    server = make_server(tmp_path, "127.0.0.1", 0, quiet=True, header_timeout=0.3, idle_timeout=0.3,
                         max_connections=3)
    serve_in_thread(server)
    yield server
    server.shutdown()
    server.server_close()


def _connect(server, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=timeout)


def _closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (raises socket.timeout if it never does)."""
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def test_half_sent_request_is_closed_after_the_header_timeout(limited):
    with _connect(limited) as s:
        s.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: x\r\n")  # no blank line: the head never ends
        assert _closed(s) == b""  # closed, within the 10 s client timeout, without an answer


def test_trickled_request_head_is_closed_after_the_header_timeout(limited):
    """One byte every 0.05 s never trips a per-read timeout; the head deadline still ends it."""
    head = b"GET /feed.xml HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
    with _connect(limited) as s:
        for i in range(len(head)):
            try:
                s.sendall(head[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the server read the whole trickled head")
        assert b"200 OK" not in _closed(s)


def test_idle_keep_alive_connection_is_closed(limited):
    with _connect(limited) as s:
        s.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: x\r\n\r\n")
        data = _closed(s)  # the answer, then the close once idle
    assert data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"<rss/>")


def test_keep_alive_still_serves_a_second_request(limited):
    conn = http.client.HTTPConnection("127.0.0.1", limited.server_address[1], timeout=5)
    for _ in range(2):
        conn.request("GET", "/feed.xml")
        assert conn.getresponse().read() == b"<rss/>"
    conn.close()


def test_connections_beyond_the_bound_get_503_and_threads_stay_bounded(tmp_path):
    (tmp_path / "feed.xml").write_text("<rss/>")
    server = make_server(tmp_path, "127.0.0.1", 0, quiet=True, header_timeout=30, max_connections=3)
    serve_in_thread(server)
    held, extra = [], []
    try:
        before = threading.active_count()
        held = [_connect(server) for _ in range(3)]
        for s in held:
            s.sendall(b"GET /feed.xml HTTP/1.1\r\n")  # half a request: each holds a slot
        extra = [_connect(server) for _ in range(10)]
        answers = [_closed(s) for s in extra]
        assert all(a.startswith(b"HTTP/1.1 503 Service Unavailable") for a in answers), answers
        assert threading.active_count() <= before + 3  # one thread per served connection, none for refused
        for s in held:
            s.close()  # their threads end and free the slots
        for _ in range(100):
            with _connect(server) as s:
                s.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                answer = _closed(s)
            if not answer.startswith(b"HTTP/1.1 503"):
                break
            time.sleep(0.05)
        assert answer.startswith(b"HTTP/1.1 200 OK")
    finally:
        for s in held + extra:
            s.close()
        server.shutdown()
        server.server_close()
