"""The reading form of `vnreader serve`: POST /read → a progressive MP3, then a saved, seekable episode.

Every test drives a real uvicorn server on 127.0.0.1 (port 0) in this process; articles come
from the local news site of tests/daily_support.py (also on 127.0.0.1), or from
``httpx.MockTransport`` behind the address guard, so nothing leaves the machine.
"""
from __future__ import annotations

import http.client
import json
import socket
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from daily_support import Site
from reader.errors import BlockedAddressError
from reader.fetch import fetch_url, make_client
from reader.netguard import GuardedTransport, blocked_reason, check_host
from reader.tts.cache import ClipCache
from reader.web import BUSY, FORM_OFF, form_allowed, make_server, serve_in_thread
from reader.webread import ReadSettings

LONG_PAGE = "/kinhdoanh.vnexpress.net/tin-tuc/doanh-nghiep/thu-truong-giao-thong-noi-ve-de-xuat-nha-dau-tu-trung-quoc-xay-san-bay-long-thanh-3635044.html"
SHORT_PAGE = "/suckhoe.vnexpress.net/tin-tuc/suc-khoe/mot-tuan-ha-noi-co-1-400-nguoi-benh-sot-xuat-huyet-vao-vien-3618863.html"
PASTED = ("Hà Nội mưa lớn chiều nay.\n\nNhiều tuyến phố ngập sâu, giao thông ùn tắc kéo dài. "
          "Lực lượng chức năng đã có mặt để phân luồng.")
JSON = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def site():
    with Site() as s:
        yield s


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return ClipCache(tmp_path_factory.mktemp("clips"))


class Server:
    """A served folder with the form on; ``request`` speaks HTTP/1.1 to it."""

    def __init__(self, out: Path, **settings):
        self.out = out
        self.server = make_server(out, "127.0.0.1", 0, quiet=True, reading=ReadSettings(out_dir=out, **settings))
        self.port = self.server.server_address[1]
        serve_in_thread(self.server)

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def read(self, headers=JSON, **fields):
        status, h, body = self.request("POST", "/read", urlencode(fields), headers)
        return status, (json.loads(body) if "json" in h.get("content-type", "") else body.decode())

    def wait(self, job: dict) -> dict:
        """The job's status once it is no longer rendering (bounded: 600 polls)."""
        for _ in range(600):
            state = json.loads(self.request("GET", job["status_url"])[2])
            if state["state"] != "rendering":
                return state
            time.sleep(0.1)
        raise AssertionError(f"still rendering: {state}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server(tmp_path, clips):
    s = Server(tmp_path, cache=clips, allow_private_fetch=True)
    yield s
    s.close()


@pytest.fixture
def guarded(tmp_path, clips):
    """The form as a stranger meets it: private addresses refused."""
    s = Server(tmp_path, cache=clips)
    yield s
    s.close()


def mp3_frames(data: bytes) -> int:
    """How many whole MPEG audio Layer III frames follow each other from the start of ``data``."""
    bitrates = {1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
                2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)}
    rates = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
    pos = n = 0
    while pos + 4 <= len(data):
        b1, b2 = data[pos + 1], data[pos + 2]
        version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
        if data[pos] != 0xFF or b1 & 0xE0 != 0xE0 or version == 1 or layer != 1:
            break
        br, sr = (b2 >> 4) & 15, (b2 >> 2) & 3
        if br in (0, 15) or sr == 3:
            break
        kbps = bitrates[1 if version == 3 else 2][br]
        size = (144 if version == 3 else 72) * kbps * 1000 // rates[version][sr] + ((b2 >> 1) & 1)
        if pos + size > len(data):
            break
        pos, n = pos + size, n + 1
    return n


# ---------------------------------------------------------------- listen now
@pytest.mark.slow
def test_url_streams_while_rendering_then_the_episode_is_saved_and_seekable(tmp_path):
    """A long article with a cold clip cache: the first MP3 frames come while the job still renders."""
    with Site() as site:
        (tmp_path / "out").mkdir()
        s = Server(tmp_path / "out", cache=ClipCache(tmp_path / "cold"), allow_private_fetch=True)
        try:
            status, job = s.read(url=site.url(LONG_PAGE))
            assert status == 201 and job["state"] == "rendering", job
            assert job["title"] == "Vì sao Apple bất ngờ cắt quà tặng sinh viên?"
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
            conn.request("GET", job["stream_url"])
            r = conn.getresponse()
            assert r.status == 200 and r.getheader("Content-Type") == "audio/mpeg"
            assert r.getheader("Content-Length") is None  # progressive: the length is not known yet
            first = r.read1(65536)
            during = json.loads(s.request("GET", job["status_url"])[2])
            assert during["state"] == "rendering" and during["episode_url"] is None
            stream = first + r.read()  # to the end of the stream
            conn.close()
            assert mp3_frames(first) >= 2
            assert mp3_frames(stream) > 100
            done = s.wait(job)
            assert done["state"] == "done" and done["error"] is None, done
            status, h, episode = s.request("GET", done["episode_url"])
            assert status == 200 and h["content-type"] == "audio/mpeg" and int(h["content-length"]) == len(episode)
            saved = next((tmp_path / "out").glob("*.mp3"))
            assert episode == saved.read_bytes()
            status, h, part = s.request("GET", done["episode_url"], headers={"Range": "bytes=100-199"})
            assert status == 206 and part == episode[100:200]
            assert h["content-range"] == f"bytes 100-199/{len(episode)}"
            from mutagen.mp3 import MP3

            assert MP3(saved).info.length > 10
            record = json.loads(next((tmp_path / "out").glob("*.episode.json")).read_text(encoding="utf-8"))
            assert record["made_by"] == "serve"
            status, h, _ = s.request("GET", job["stream_url"])  # the stream's URL now leads to the episode
            assert status == 307 and h["location"] == done["episode_url"]
        finally:
            s.close()


def test_pasted_text_without_javascript(server):
    status, page = server.read(headers=FORM, text=PASTED)
    assert status == 201
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "lxml")
    src = soup.find("audio")["src"]
    assert src.startswith("/read/") and src.endswith(".mp3")
    assert "Tải bài đã đọc" in soup.get_text()
    status, h, audio = server.request("GET", src)
    assert status == 200 and mp3_frames(audio) > 10
    job_id = src[len("/read/"):-len(".mp3")]
    done = server.wait({"status_url": f"/read/{job_id}"})
    assert done["state"] == "done" and server.request("HEAD", done["episode_url"])[0] == 200


@pytest.mark.slow
def test_page_title_with_script_is_escaped(server, site):
    site.overrides["/xss.html"] = (
        "<html><head><title>x</title></head><body><article><h1>&lt;script&gt;alert(1)&lt;/script&gt; Cháy rừng</h1>"
        + "".join(f"<p>Đoạn thứ {i}: lửa cháy lan rộng trên sườn đồi, hàng trăm người được huy động.</p>"
                  for i in range(1, 6))
        + "</article></body></html>").encode("utf-8")
    status, page = server.read(headers=FORM, url=site.url("/xss.html"))
    assert status == 201, page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; Cháy rừng" in page
    from bs4 import BeautifulSoup

    job_id = BeautifulSoup(page, "lxml").find("audio")["src"][len("/read/"):-len(".mp3")]
    server.wait({"status_url": f"/read/{job_id}"})


FORM_ERRORS = [
    ("nothing", {}, 400, "Hãy nhập địa chỉ bài báo"),
    ("blank", {"url": "  ", "text": " "}, 400, "Hãy nhập địa chỉ bài báo"),
    ("not-http", {"url": "file:///etc/passwd"}, 400, "http://"),
    ("relative", {"url": "/missing"}, 400, "http://"),
    ("page-404", {"url": "SITE/khong-co.html"}, 502, "HTTP 404"),
    ("a-feed", {"url": "SITE/feeds/vnexpress-2.xml"}, 422, "không phải một trang báo"),
    ("no-article", {"url": "SITE/menu.html"}, 422, "Không tìm thấy nội dung"),
]


@pytest.mark.parametrize("fields, status, words", [f[1:] for f in FORM_ERRORS], ids=[f[0] for f in FORM_ERRORS])
def test_form_errors_are_short_vietnamese_messages(server, site, fields, status, words):
    site.overrides["/menu.html"] = b"<html><body><nav><a href='/'>Trang chu</a></nav></body></html>"
    fields = {k: v.replace("SITE", site.base) for k, v in fields.items()}
    got, answer = server.read(**fields)
    assert got == status and words in answer["error"]


def test_form_error_without_javascript_is_a_page(server):
    status, page = server.read(headers=FORM, url="ftp://x")
    assert status == 400 and 'role="alert"' in page and "Traceback" not in page


# ---------------------------------------------------------------- what strangers may not fetch
PRIVATE_URLS = [
    ("loopback", "http://127.0.0.1:{port}/"),
    ("rfc1918", "http://10.0.0.1/"),
    ("metadata", "http://169.254.169.254/latest/meta-data/"),
    ("ipv6-loopback", "http://[::1]:{port}/"),
    ("ipv6-metadata", "http://[fd00:ec2::254]/"),
    ("cgnat", "http://100.64.0.1/"),
    ("unspecified", "http://0.0.0.0/"),
    ("mapped-ipv4", "http://[::ffff:127.0.0.1]/"),
]


@pytest.mark.parametrize("url", [p[1] for p in PRIVATE_URLS], ids=[p[0] for p in PRIVATE_URLS])
def test_private_addresses_are_refused(guarded, site, url):
    before = sum(site.hits.values())
    status, answer = guarded.read(url=url.format(port=site.server.server_address[1]))
    assert status == 403 and "địa chỉ nội bộ" in answer["error"]
    assert sum(site.hits.values()) == before  # nothing was fetched


def test_localhost_by_name_is_refused(guarded):
    status, answer = guarded.read(url="http://localhost/")
    assert status == 403


REASONS = [
    ("loopback", "127.0.0.1", "loopback"),
    ("loopback-8", "127.8.9.10", "loopback"),
    ("ten", "10.1.2.3", "private network"),
    ("172-16", "172.16.5.4", "private network"),
    ("192-168", "192.168.1.1", "private network"),
    ("link-local", "169.254.1.1", "link-local"),
    ("metadata", "169.254.169.254", "cloud metadata"),
    ("metadata-v6", "fd00:ec2::254", "cloud metadata"),
    ("cgnat", "100.64.0.1", "carrier-grade NAT"),
    ("multicast", "224.0.0.251", "multicast"),
    ("unspecified", "0.0.0.0", "unspecified"),
    ("v6-loopback", "::1", "loopback"),
    ("v6-ula", "fc00::1", "private network"),
    ("v6-link-local", "fe80::1", "link-local"),
    ("v6-unspecified", "::", "unspecified"),
    ("mapped", "::ffff:10.0.0.1", "private network"),
    ("public", "93.184.216.34", None),
    ("public-v6", "2606:4700::1111", None),
]


@pytest.mark.parametrize("ip, reason", [r[1:] for r in REASONS], ids=[r[0] for r in REASONS])
def test_blocked_reason(ip, reason):
    assert blocked_reason(ip) == reason


def fake_resolver(table: dict[str, list[str]]):
    """``socket.getaddrinfo`` over a fixed table (names not in it do not resolve)."""
    def resolve(host, port, type=0, **kw):
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
                for ip in table[host]]
    return resolve


NAMES = {"bao.example": ["93.184.216.34"], "noi-bo.example": ["10.0.0.5"],
         "hai-mat.example": ["93.184.216.34", "192.168.0.9"], "meta.example": ["169.254.169.254"]}
HOSTS = [
    ("public", "bao.example", None),
    ("private", "noi-bo.example", "private network"),
    ("one-of-two-private", "hai-mat.example", "private network"),
    ("metadata", "meta.example", "cloud metadata"),
    ("unresolved", "khong-co.example", "unresolved"),
]


@pytest.mark.parametrize("host, reason", [h[1:] for h in HOSTS], ids=[h[0] for h in HOSTS])
def test_check_host_checks_every_resolved_address(host, reason):
    resolver = fake_resolver(NAMES)
    if reason is None:
        assert [str(ip) for ip in check_host(host, 80, resolver)] == NAMES[host]
        return
    with pytest.raises(BlockedAddressError) as ei:
        check_host(host, 80, resolver)
    assert ei.value.reason == reason


def redirecting_site(sent: list):
    """A public page that redirects to a name resolving to a private address."""
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append((str(request.url), request.headers["host"]))
        return httpx.Response(302, headers={"Location": "http://noi-bo.example/admin"})
    return httpx.MockTransport(handler)


def test_guard_connects_to_the_checked_address_and_checks_redirects():
    sent: list = []
    transport = GuardedTransport(resolver=fake_resolver(NAMES), inner=redirecting_site(sent))
    with make_client(transport=transport) as client, pytest.raises(BlockedAddressError) as ei:
        fetch_url("http://bao.example/bai.html", client=client, retries=0)
    assert sent == [("http://93.184.216.34/bai.html", "bao.example")]  # pinned; the private hop never sent
    assert ei.value.reason == "private network"


def test_redirect_to_a_private_address_is_refused_end_to_end(tmp_path, clips):
    sent: list = []
    s = Server(tmp_path, cache=clips, resolver=fake_resolver(NAMES), transport=redirecting_site(sent))
    try:
        status, answer = s.read(url="http://bao.example/bai.html")
    finally:
        s.close()
    assert status == 403 and "địa chỉ nội bộ" in answer["error"]
    assert len(sent) == 1


# ---------------------------------------------------------------- bounds and switches
@pytest.mark.slow
def test_renders_beyond_the_limit_get_503(tmp_path, clips):
    s = Server(tmp_path, cache=clips, allow_private_fetch=True, max_renders=2)
    long_text = "\n\n".join(f"Đoạn {i}: giá xăng dầu hôm nay tiếp tục tăng, người dân lo lắng về chi phí đi lại."
                            for i in range(1, 40))
    try:
        jobs = [s.read(text=long_text + f"\n\nBản {i}.")[1] for i in range(2)]
        assert all("id" in j for j in jobs), jobs
        status, answer = s.read(text=PASTED)
        assert status == 503 and answer["error"] == BUSY
        status, page = s.read(headers=FORM, text=PASTED)
        assert status == 503 and BUSY in page
        for j in jobs:
            assert s.wait(j)["state"] == "done"
        status, job = s.read(text=PASTED)  # slots free again
        assert status == 201
        s.wait(job)
    finally:
        s.close()


def test_form_off_refuses_posts(tmp_path):
    server = make_server(tmp_path, "127.0.0.1", 0, quiet=True)  # no reading settings: no form
    serve_in_thread(server)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        conn.request("POST", "/read", body="url=http%3A%2F%2Fx", headers=JSON)
        r = conn.getresponse()
        assert r.status == 403 and json.loads(r.read())["error"] == FORM_OFF
        conn.request("GET", "/read")
        assert conn.getresponse().status == 404  # the page script hides the form
        conn.close()
    finally:
        server.shutdown()
        server.server_close()


FORM_SWITCH = [
    ("ipv4-loopback", "127.0.0.1", False, True),
    ("loopback-range", "127.0.0.2", False, True),
    ("ipv6-loopback", "::1", False, True),
    ("localhost", "localhost", False, True),
    ("all-networks", "0.0.0.0", False, False),
    ("lan-address", "192.168.1.10", False, False),
    ("all-networks-allowed", "0.0.0.0", True, True),
]


@pytest.mark.parametrize("host, allow, on", [f[1:] for f in FORM_SWITCH], ids=[f[0] for f in FORM_SWITCH])
def test_form_is_on_only_for_loopback_unless_allowed(host, allow, on):
    assert form_allowed(host, allow) is on


def test_slow_form_body_is_closed_after_the_receipt_deadline(tmp_path):
    server = make_server(tmp_path, "127.0.0.1", 0, quiet=True, header_timeout=0.3,
                         reading=ReadSettings(out_dir=tmp_path))
    serve_in_thread(server)
    try:
        with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10) as s:
            s.sendall(b"POST /read HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                      b"Content-Length: 100\r\n\r\nurl=http")  # 8 of 100 body bytes, then nothing
            data = b""
            while chunk := s.recv(4096):
                data += chunk
        assert data == b""  # closed without an answer, well within the 10 s client timeout
    finally:
        server.shutdown()
        server.server_close()


def test_serve_help_lists_the_form_switches(capsys):
    from reader.cli import main

    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = capsys.readouterr().out
    for option in ("--allow-form", "--no-form", "--allow-private-fetch", "--max-renders", "--engine"):
        assert option in text


PASTES = [
    ("one-paragraph", "Xin chào các bạn. Hôm nay trời đẹp.", "Xin chào các bạn.", ("Hôm nay trời đẹp.",)),
    ("one-sentence", "Một câu thôi", "Một câu thôi", ()),
    ("title-and-body", "Mưa lớn ở Hà Nội\n\nNhiều phố ngập. Xe chết máy.", "Mưa lớn ở Hà Nội",
     ("Nhiều phố ngập. Xe chết máy.",)),
]


@pytest.mark.parametrize("text, title, paragraphs", [p[1:] for p in PASTES], ids=[p[0] for p in PASTES])
def test_pasted_document(text, title, paragraphs):
    from reader.webread import pasted_document

    doc = pasted_document(text)
    assert (doc.title, doc.paragraphs) == (title, paragraphs)


def test_one_pasted_paragraph_is_read(server):
    status, job = server.read(text="Xin chào các bạn. Hôm nay trời đẹp.")
    assert status == 201, job
    assert server.wait(job)["state"] == "done"


def test_https_is_pinned_with_the_name_kept_for_tls():
    seen: list = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers["host"], request.extensions.get("sni_hostname")))
        return httpx.Response(200, text="<html><body><p>x</p></body></html>",
                              headers={"Content-Type": "text/html; charset=utf-8"})

    transport = GuardedTransport(resolver=fake_resolver(NAMES), inner=httpx.MockTransport(handler))
    with make_client(transport=transport) as client:
        fetch_url("https://bao.example/bai.html", client=client, retries=0)
    assert seen == [("https://93.184.216.34/bai.html", "bao.example", "bao.example")]


def test_second_keep_alive_request_gets_the_receipt_deadline_not_the_idle_time(tmp_path):
    """Idle 30 s, receipt 0.3 s: a half-sent second request is closed long before the idle time."""
    (tmp_path / "feed.xml").write_text("<rss/>")
    server = make_server(tmp_path, "127.0.0.1", 0, quiet=True, header_timeout=0.3, idle_timeout=30)
    serve_in_thread(server)
    try:
        with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10) as s:
            s.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: x\r\n\r\n")
            first = b""
            while not first.endswith(b"<rss/>"):
                first += s.recv(4096)
            s.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: x\r\n")  # the second head never ends
            rest = b""
            while chunk := s.recv(4096):  # socket.timeout (10 s) if only the idle timer could close it
                rest += chunk
        assert first.startswith(b"HTTP/1.1 200 OK") and rest == b""
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_client_that_stops_reading_is_dropped_after_the_send_deadline(tmp_path):
    size = 32 * 2**20
    (tmp_path / "big.mp3").write_bytes(b"\xff" * size)
    server = make_server(tmp_path, "127.0.0.1", 0, quiet=True, send_timeout=0.3)
    serve_in_thread(server)
    try:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            s.settimeout(10)
            s.connect(("127.0.0.1", server.server_address[1]))
            s.sendall(b"GET /big.mp3 HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(1.5)  # not reading: the server's writes stall, its send deadline passes
            got = 0
            try:
                while chunk := s.recv(1 << 20):
                    got += len(chunk)
            except ConnectionResetError:
                pass
        assert got < size  # the connection was dropped, not the whole file sent
    finally:
        server.shutdown()
        server.server_close()


CROSS_SITE = [
    ("same-origin", {"Origin": "http://127.0.0.1:{port}"}, 201),
    ("no-origin", {}, 201),
    ("localhost-name", {"Host": "localhost:{port}", "Origin": "http://localhost:{port}"}, 201),
    ("other-site", {"Origin": "http://evil.example"}, 403),
    ("file-page", {"Origin": "null"}, 403),
    ("rebound-name", {"Host": "evil.example:{port}", "Origin": "http://evil.example:{port}"}, 403),
]


@pytest.mark.parametrize("extra, status", [c[1:] for c in CROSS_SITE], ids=[c[0] for c in CROSS_SITE])
def test_form_refuses_other_sites_and_rebound_names(server, extra, status):
    headers = {**JSON, **{k: v.format(port=server.port) for k, v in extra.items()}}
    got, answer = server.read(headers=headers, text=PASTED)
    assert got == status, answer
    if status == 201:
        server.wait(answer)
    else:
        assert "trang nghe của chính máy chủ này" in answer["error"]


def test_stream_past_the_minutes_cap_fails_the_job(tmp_path, clips):
    from reader.limits import Limits

    s = Server(tmp_path, cache=clips, limits=Limits(max_minutes=0.1))  # 6 s of the text's ~60 s
    text = "\n\n".join(f"Đoạn {i}: giá xăng dầu hôm nay tiếp tục tăng, người dân lo lắng về chi phí đi lại."
                       for i in range(1, 12))
    try:
        status, job = s.read(text=text)
        assert status == 201
        status, _, audio = s.request("GET", job["stream_url"])
        assert status == 200 and 0 < len(audio) < 16 * 64000 / 8  # cut after the sentence that passed 6 s
        failed = s.wait(job)
        assert failed["state"] == "failed" and failed["error"] == "Bài quá dài để đọc trên máy chủ này."
        status, _, page = s.request("GET", job["stream_url"])
        assert status == 410 and "Bài quá dài" in page.decode()
        assert list(tmp_path.glob("*.mp3")) == []
    finally:
        s.close()
