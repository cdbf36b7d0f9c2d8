"""The reading form in a real browser: Debian's Chromium, headless, driven by Playwright.

Type a local article's URL, press Enter, and the page's own audio element plays the stream
while the server is still speaking it. Never skipped: without /usr/bin/chromium or playwright it fails
and says how to get them (`.ci/run` installs Chromium), like tests/test_browser.py.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from daily_support import Site
from reader.player import write_player
from reader.tts.cache import ClipCache
from reader.web import make_server, serve_in_thread
from reader.webread import ReadSettings

pytestmark = pytest.mark.slow  # the whole module: see README, "Development"

CHROMIUM = "/usr/bin/chromium"
PAGE = "/vnexpress.net/tin-tuc/the-gioi/pho-tong-tu-lenh-quan-doi-australia-tham-viet-nam-3618888.html"



def _playwright():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's Chromium; `.ci/run` installs it "
                    "(apt-get install -y chromium)")
    try:
        from playwright import sync_api
    except ImportError:
        pytest.fail("playwright is missing: `make dev` installs requirements-dev.txt")
    return sync_api


@pytest.fixture
def served(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    write_player([], out, channel_title="vnreader", feed_url="http://127.0.0.1/feed.xml")
    server = make_server(out, "127.0.0.1", 0, quiet=True,
                         reading=ReadSettings(out_dir=out, cache=ClipCache(tmp_path / "clips"),
                                              allow_private_fetch=True))
    serve_in_thread(server)
    yield server
    server.shutdown()
    server.server_close()


def test_form_plays_the_stream_on_the_page(served):
    sync_api = _playwright()
    with Site() as site, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        try:
            page = browser.new_page()
            page.goto(served.url())
            field = page.get_by_label("Địa chỉ bài báo")
            field.fill(site.url(PAGE))
            field.press("Enter")  # submitted with the keyboard
            page.wait_for_function(
                "() => { const a = document.querySelector('#read-result audio');"
                " return a && !a.paused && a.currentTime > 0.5; }", timeout=30_000)
            assert page.locator("#read-title").inner_text() == "Cháy bãi rác lớn nhất Nghệ An, lửa lan sang rừng phòng hộ"
            saved = page.get_by_role("link", name="Tải bài đã đọc")
            saved.wait_for(state="visible", timeout=60_000)
            assert saved.get_attribute("href").endswith(".mp3")
            assert "Đã đọc xong" in page.locator("#status").inner_text()
        finally:
            browser.close()
