"""Every link on the listening page resolves from the page's own folder: opened from disk and
served by ``vnreader serve`` (reader/web.py), with a relative or an absolute ``--out``."""
from __future__ import annotations

import http.client
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from reader.web import make_server, serve_in_thread

ROOT = Path(__file__).resolve().parents[1]


def local_links(page: Path) -> list[str]:
    """Every href/src on the page that points at a file (not an in-page anchor, not another site)."""
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
    links = [el.get(attr) for el in soup.find_all(True) for attr in ("href", "src") if el.get(attr)]
    return sorted({u for u in links if not u.startswith("#") and not urlsplit(u).scheme})


def missing_on_disk(page: Path) -> list[str]:
    return [u for u in local_links(page) if not (page.parent / unquote(urlsplit(u).path)).is_file()]


def status(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


def not_served(folder: Path, links: list[str]) -> list[tuple[str, int]]:
    """GET each link as a browser would resolve it from ``/`` on the project's own server."""
    server = make_server(folder, port=0, quiet=True)
    serve_in_thread(server)
    try:
        port = server.server_address[1]
        got = [(u, status(port, "/" + u)) for u in links]
    finally:
        server.shutdown()
        server.server_close()
    return [(u, s) for u, s in got if s != 200]


def check_page(page: Path) -> None:
    links = local_links(page)
    assert any(u.endswith(".mp3") for u in links) and any(u.endswith(".vtt") for u in links)
    assert "feed.xml" in links
    assert missing_on_disk(page) == []
    assert not_served(page.parent, links) == []


@pytest.fixture(scope="module", params=["relative", "absolute"])
def demo_page(request, tmp_path_factory) -> Path:
    """`python -m reader demo --out audio_out` run from a temp folder, as `make demo` runs it
    (and the same with the folder given as an absolute path)."""
    cwd = tmp_path_factory.mktemp(f"demo-{request.param}")
    out = "audio_out" if request.param == "relative" else str(cwd / "audio_out")
    env = dict(os.environ, VNREADER_CACHE=str(cwd / "clips"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    p = subprocess.run([sys.executable, "-m", "reader", "demo", "--out", out], cwd=cwd,
                       capture_output=True, text=True, timeout=600, env=env)
    assert p.returncode == 0, p.stderr
    return cwd / "audio_out" / "index.html"


@pytest.mark.slow
def test_demo_links_resolve_from_the_page(demo_page):
    check_page(demo_page)


@pytest.mark.slow
def test_demo_links_carry_no_out_prefix(demo_page):
    assert [u for u in local_links(demo_page) if "audio_out" in u] == []


@pytest.mark.slow
@pytest.mark.parametrize("relative", [True, False], ids=["relative-out", "absolute-out"])
def test_daily_run_links_resolve_from_the_page(tmp_path, monkeypatch, relative):
    from daily_support import FakeRenderer, Site, fake_stages, write_config
    from reader import daily
    from reader.config import load_sources
    from reader.logs import RunLog

    monkeypatch.chdir(tmp_path)
    out = Path("published") if relative else tmp_path / "published"
    with Site() as s:
        cfg = write_config(tmp_path / "s.toml", s, [{"name": "VnExpress", "url": "/feeds/vnexpress-2.xml", "limit": 2}])
        report = daily.run(load_sources(cfg), out_dir=out, base_url="http://127.0.0.1:8000/podcast/",
                           stages=fake_stages(FakeRenderer()), log=RunLog(quiet=True),
                           now=datetime(2017, 9, 1, 8, 0, tzinfo=timezone.utc))
    assert len(report.new) == 2 and not report.failed
    check_page(tmp_path / "published" / "index.html")
