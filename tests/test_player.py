"""The listening page (reader/player.py): structure, accessibility basics, escaping,
determinism, serving at ``/``, and the page script run in V8 against the real page."""
from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import socket
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from lxml import html as lxml_html

from podcast_fixtures import make_episode
from reader.errors import PublishError
from reader.models import Cue
from reader.player import (PALETTE, POSITION_KEY, SHORTCUTS, SHORTCUTS_KEY, SPEEDS, STORAGE_KEY, build_page, format_duration, iso_duration,
                           write_player)
from reader.web import make_server, serve_in_thread

FEED_URL = "http://127.0.0.1:8000/feed.xml"
TOKEN = "t0ken-for-the-page"
TRICKY = 'Giá "xăng" <b>giảm</b> & Bộ trưởng nói: \'đủ\''
SENTENCES = ("Giá xăng giảm mạnh.", "Bộ Công Thương công bố sáng nay.", "Giá dầu cũng giảm.",
             "Mức giảm có hiệu lực từ 15 giờ.")
DOM_JS = Path(__file__).with_name("player_dom.js")


#: The tricky episode's paragraphs: title, lead of two sentences, one body sentence.
PARAGRAPHS = (-1, 0, 0, 1)


def cues(texts, step=2.5, paragraphs=None):
    paragraphs = paragraphs or (0,) * len(texts)
    return tuple(Cue(t, round(i * step, 3), round((i + 1) * step, 3), para)
                 for i, (t, para) in enumerate(zip(texts, paragraphs)))


def episodes(out: Path):
    """Three episodes, given oldest first: a tricky title, a plain one, one without cues or sidecars."""
    base = datetime(2024, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=7)))
    old = make_episode(out, "cu", title=TRICKY, guid="cu", published=base, seconds=10.0)
    new = make_episode(out, "moi", title="Bản tin sáng", guid="moi", published=base + timedelta(days=1),
                       seconds=10.0, link="https://vnexpress.net/bai-moi.html")
    bare = make_episode(out, "khong-ban-ghi", title="Không có bản ghi", guid="bare",
                        published=base - timedelta(days=1), sidecars=False, link=None)
    return [replace(old, cues=cues(SENTENCES, paragraphs=PARAGRAPHS)), replace(new, cues=cues(SENTENCES[:3])), replace(bare, cues=())]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("player") / "audio_out"
    out.mkdir()
    eps = episodes(out)
    page = write_player(eps, out, channel_title="Tin & <Nghe>", feed_url=FEED_URL)
    return out, eps, page


@pytest.fixture(scope="module")
def soup(site):
    return BeautifulSoup(site[2].read_text(encoding="utf-8"), "lxml")


# ---------------------------------------------------------------- structure
def test_page_basics(soup):
    assert soup.html["lang"] == "vi"
    assert soup.find("meta", charset=True)["charset"] == "utf-8"
    assert soup.find("meta", attrs={"name": "viewport"}) is not None
    assert [h.get_text() for h in soup.find_all("h1")] == ["Tin & <Nghe>"]
    assert soup.title.get_text() == "Tin & <Nghe>"
    for landmark in ("header", "main", "nav", "footer"):
        assert soup.find(landmark) is not None, landmark
    assert len(soup.find_all("main")) == 1


def test_skip_link_is_first_and_targets_main(soup):
    first = soup.body.find(True)
    assert first.name == "a" and first["href"] == "#main"
    assert soup.find(id="main").name == "main"


def test_feed_link(soup):
    """The feed is linked beside the page (works from disk and served); its public URL is shown as text."""
    alt = soup.find("link", rel="alternate")
    assert alt["type"] == "application/rss+xml" and alt["href"] == "feed.xml"
    assert "feed.xml" in [a["href"] for a in soup.find_all("a")]
    assert FEED_URL not in [a.get("href") for a in soup.find_all(True)]
    assert FEED_URL in soup.find("footer").find("code").get_text()


def test_no_external_resources_and_no_autoplay(soup):
    assert soup.find("script", src=True) is None
    assert soup.find("link", rel="stylesheet") is None
    assert soup.find("img") is None
    assert soup.find(attrs={"autoplay": True}) is None
    assert soup.find("style") is not None and len(soup.find_all("script")) == 1


def test_content_security_policy_allows_exactly_the_inline_blocks(soup):
    policy = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
    rules = dict(r.strip().split(" ", 1) for r in policy.split(";"))
    for directive, tag in (("script-src", "script"), ("style-src", "style")):
        digest = base64.b64encode(hashlib.sha256(soup.find(tag).string.encode("utf-8")).digest()).decode()
        assert rules[directive] == f"'sha256-{digest}'"
    assert rules["object-src"] == "'none'" and "default-src" not in rules  # media stays allowed from file://
    assert soup.find(attrs={"style": True}) is None
    assert [e.name for e in soup.find_all(True) if any(a.startswith("on") for a in e.attrs)] == []


def test_episodes_newest_first_as_h2(soup):
    titles = [a.find("h2").get_text() for a in soup.find_all("article")]
    assert titles == ["Bản tin sáng", TRICKY, "Không có bản ghi"]
    for art in soup.find_all("article"):
        assert art["aria-labelledby"] == art.find("h2")["id"]


def test_episode_meta(soup):
    art = soup.find("article")
    meta = art.find(class_="meta")
    times = meta.find_all("time")
    assert times[0]["datetime"] == "2024-03-02T08:00:00+07:00" and times[0].get_text() == "02/03/2024, 08:00"
    assert times[1]["datetime"] == "PT10S" and times[1].get_text() == "10 giây"
    assert "Nguồn: vnexpress.net" in meta.get_text() and "Tác giả: LÊ HÀ" in meta.get_text()
    bare = soup.find_all("article")[2].find(class_="meta").get_text()
    assert "Nguồn" not in bare and "Tác giả: LÊ HÀ" in bare


def test_audio_players(site, soup):
    out, eps, _ = site
    audios = soup.find_all("audio")
    assert [a["src"] for a in audios] == ["moi.mp3", "cu.mp3", "khong-ban-ghi.mp3"]
    for a in audios:
        assert a.has_attr("controls") and a["preload"] == "none"
        assert (out / a["src"]).is_file()
    tracks = [a.find("track") for a in audios]
    assert [t["src"] if t else None for t in tracks] == ["moi.vtt", "cu.vtt", None]
    for t in tracks[:2]:
        assert t["kind"] == "captions" and t["srclang"] == "vi" and t["label"]


def test_file_and_article_links(site, soup):
    out = site[0]
    art = soup.find("article")
    hrefs = [a["href"] for a in art.find(class_="links").find_all("a")]
    assert hrefs == ["moi.mp3", "moi.vtt", "moi.srt", "https://vnexpress.net/bai-moi.html"]
    for h in hrefs[:3]:
        assert (out / h).is_file()
    bare = soup.find_all("article")[2]
    assert [a["href"] for a in bare.find(class_="links").find_all("a")] == ["khong-ban-ghi.mp3"]


def test_sentence_buttons_carry_cue_starts(site, soup):
    eps = {e.title: e for e in site[1]}
    for art in soup.find_all("article"):
        ep = eps[art.find("h2").get_text()]
        buttons = art.select("ol.transcript button")
        assert [float(b["data-start"]) for b in buttons] == [c.start for c in ep.cues]
        assert [int(b["data-paragraph"]) for b in buttons] == [c.paragraph for c in ep.cues]
        texts = [b.get_text() for b in buttons]
        for b, c in zip(buttons, ep.cues):
            hidden = "".join(s.get_text() for s in b.find_all(attrs={"aria-hidden": "true"}))
            assert b.get_text().replace(hidden, "", 1) == c.text
        assert len(texts) == len(ep.cues)
        steps = art.select("button[data-step]")
        assert [b["data-step"] for b in steps] == (["-1", "1"] if ep.cues else [])
        paras = art.select("button[data-para-step]")
        assert [(b["data-para-step"], b.get_text()) for b in paras] == \
            ([("-1", "Đoạn trước"), ("1", "Đoạn sau")] if ep.cues else [])


def test_speed_select(soup):
    sel = soup.find("select")
    assert soup.find("label", attrs={"for": sel["id"]}).get_text().strip()
    values = [float(o["value"]) for o in sel.find_all("option")]
    assert values == [s for s, _ in SPEEDS] and min(values) == 0.75 and max(values) == 3.0
    assert [o["value"] for o in sel.find_all("option") if o.has_attr("selected")] == ["1"]


def test_live_region_and_shortcuts_documented(soup):
    live = soup.find_all(attrs={"aria-live": True})
    assert len(live) == 1 and live[0]["aria-live"] == "polite" and live[0].get_text() == ""
    help_text = soup.find(id="help").get_text()
    for key, what in SHORTCUTS:
        assert key in help_text and what in help_text
    assert "Nghe tiếp từ" in help_text and "3×" in help_text and "Phím tắt một phím" in help_text


def accessible_name(el, soup) -> str:
    """Enough of the accessible-name computation for this page's controls."""
    if el.get("aria-labelledby"):
        return " ".join(soup.find(id=i).get_text() for i in el["aria-labelledby"].split()).strip()
    if el.get("aria-label"):
        return el["aria-label"].strip()
    if el.get("id") and soup.find("label", attrs={"for": el["id"]}):
        return soup.find("label", attrs={"for": el["id"]}).get_text().strip()
    if el.name in ("button", "a", "summary"):
        parts = [s for s in el.find_all(string=True)
                 if not any(p.get("aria-hidden") == "true" for p in s.parents if p.name)]
        return "".join(parts).strip()
    return ""


@pytest.mark.parametrize("tag", ["audio", "select", "button", "a", "summary"])
def test_every_control_has_a_name(soup, tag):
    elements = soup.find_all(tag)
    assert elements
    assert [str(e)[:80] for e in elements if not accessible_name(e, soup)] == []


def test_each_player_control_is_named_with_its_article(soup):
    """Audio and step buttons say which article they play, so a list of controls is not ten "Câu sau"."""
    for art in soup.find_all("article"):
        title = art.find("h2").get_text()
        assert art.find("audio")["aria-label"] == f"Nghe bài: {title}"
        for b in art.select("button[data-step]"):
            name = accessible_name(b, soup)
            assert name.startswith(b.get_text()) and name.endswith(title), name  # visible text first (2.5.3)


def test_ids_unique_and_references_resolve(soup):
    ids = [e["id"] for e in soup.find_all(id=True)]
    assert len(ids) == len(set(ids))
    for e in soup.find_all(attrs={"aria-labelledby": True}):
        assert all(soup.find(id=i) for i in e["aria-labelledby"].split())
    for a in soup.find_all("a", href=re.compile("^#")):
        assert soup.find(id=a["href"][1:]) is not None


def test_css_respects_user_preferences(site):
    text = site[2].read_text(encoding="utf-8")
    assert "prefers-reduced-motion" in text and "prefers-color-scheme:dark" in text
    assert ":focus-visible{outline:3px solid" in text
    assert "[aria-current]" in text  # the current sentence is styled (border and weight, not colour alone)


# ---------------------------------------------------------------- contrast
def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(fg: str, bg: str) -> float:
    a, b = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


@pytest.mark.parametrize("scheme, role", [(s, r) for s in PALETTE for r in PALETTE[s]],
                         ids=[f"{s}-{r}" for s in PALETTE for r in PALETTE[s]])
def test_colour_contrast(site, scheme, role):
    fg, bg = PALETTE[scheme][role]
    assert contrast(fg, bg) >= (3.0 if role == "focus" else 4.5)
    assert fg in site[2].read_text(encoding="utf-8") and bg in site[2].read_text(encoding="utf-8")


@pytest.mark.parametrize("fg, bg, expected", [("#000000", "#ffffff", 21.0), ("#777777", "#ffffff", 4.48)],
                         ids=["black-white", "grey-below-aa"])
def test_contrast_formula(fg, bg, expected):
    assert round(contrast(fg, bg), 2) == expected


# ---------------------------------------------------------------- escaping, determinism, errors
def test_titles_are_escaped(site):
    raw = site[2].read_text(encoding="utf-8")
    assert "<b>giảm</b>" not in raw and "<Nghe>" not in raw
    tree = lxml_html.fromstring(raw)
    assert tree.xpath("//article//b") == []
    assert tree.xpath("//article[2]//h2")[0].text_content() == TRICKY
    assert tree.xpath("//article[2]//audio/@aria-label") == ["Nghe bài: " + TRICKY]
    assert tree.xpath("//link[@rel='alternate']/@title") == ["Tin & <Nghe>"]


def test_deterministic_and_not_rewritten(site, tmp_path):
    out, eps, page = site
    before = page.read_bytes()
    mtime = page.stat().st_mtime_ns
    again = write_player(list(reversed(eps)), out, channel_title="Tin & <Nghe>", feed_url=FEED_URL)
    assert again == page and page.read_bytes() == before and page.stat().st_mtime_ns == mtime
    other = build_page(eps, out, channel_title="Tin & <Nghe>", feed_url=FEED_URL)
    assert other.encode("utf-8") == before
    assert [p.name for p in out.iterdir() if p.name.endswith(".part")] == []


def test_changed_episodes_change_the_page(site):
    out, eps, page = site
    text = build_page(eps[:1], out, channel_title="Tin & <Nghe>", feed_url=FEED_URL)
    assert text.encode("utf-8") != page.read_bytes() and text.count("<article") == 1


def test_empty_page(tmp_path):
    page = write_player([], tmp_path, channel_title="vnreader", feed_url=FEED_URL)
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
    assert soup.find("article") is None and soup.find("h1").get_text() == "vnreader"
    assert "vnreader run" in soup.find("main").get_text()


def test_file_outside_the_folder_is_refused(tmp_path):
    ep = make_episode(tmp_path / "elsewhere", "x", title="X")
    with pytest.raises(PublishError, match="not inside the output folder"):
        write_player([ep], tmp_path / "out", channel_title="t", feed_url=FEED_URL)


def test_non_web_article_links_are_dropped(tmp_path):
    ep = make_episode(tmp_path, "x", title="X", link="javascript:alert(1)")
    text = build_page([ep], tmp_path, channel_title="t", feed_url=FEED_URL)
    assert "javascript:" not in text


@pytest.mark.parametrize("seconds, words, iso", [
    (0.4, "0 giây", "PT0S"), (45.2, "45 giây", "PT45S"), (60, "1 phút", "PT1M0S"),
    (200, "3 phút 20 giây", "PT3M20S"), (3600, "1 giờ", "PT1H0S"), (3900, "1 giờ 5 phút", "PT1H5M0S"),
], ids=["zero", "seconds", "minute", "minutes-seconds", "hour", "hour-minutes"])
def test_durations(seconds, words, iso):
    assert format_duration(seconds) == words and iso_duration(seconds) == iso


# ---------------------------------------------------------------- serving
def get(port: int, path: str):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def served(site):
    out = site[0]
    (out / "sub").mkdir(exist_ok=True)
    (out / "sub" / "index.html").write_text("<p>not the page</p>", encoding="utf-8")
    (out / "other.html").write_text("<p>other</p>", encoding="utf-8")
    servers = {}
    for name, token in (("open", None), ("private", TOKEN)):
        server = make_server(out, port=0, token=token, quiet=True)
        serve_in_thread(server)
        servers[name] = server
    yield site, {k: s.server_address[1] for k, s in servers.items()}
    for s in servers.values():
        s.shutdown()
        s.server_close()


ROUTES = [
    ("root", "open", "/", 200),
    ("index-by-name", "open", "/index.html", 200),
    ("directory", "open", "/sub/", 404),
    ("directory-no-slash", "open", "/sub", 404),
    ("index-in-subfolder", "open", "/sub/index.html", 404),
    ("other-html", "open", "/other.html", 404),
    ("token-root", "private", f"/{TOKEN}/", 200),
    ("token-no-slash", "private", f"/{TOKEN}", 404),
    ("token-missing", "private", "/", 404),
    ("token-directory", "private", f"/{TOKEN}/sub/", 404),
]


@pytest.mark.parametrize("server, path, status", [r[1:] for r in ROUTES], ids=[r[0] for r in ROUTES])
def test_routes(served, server, path, status):
    (_, _, page), ports = served
    got, ctype, body = get(ports[server], path)
    assert got == status
    if status == 200:
        assert ctype == "text/html; charset=utf-8" and body == page.read_bytes()


def test_relative_links_resolve_on_the_server(served):
    (_, _, page), ports = served
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
    srcs = [a["src"] for a in soup.find_all("audio")] + [t["src"] for t in soup.find_all("track")]
    for src in srcs:
        assert get(ports["private"], f"/{TOKEN}/{src}")[0] == 200


def test_no_page_still_404(tmp_path):
    server = make_server(tmp_path, port=0, quiet=True)
    serve_in_thread(server)
    try:
        assert get(server.server_address[1], "/")[0] == 404
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_vnreader_serve_answers_root(site):
    """The real command, as an operator starts it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "reader", "serve", "--dir", str(site[0]), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                status, ctype, body = get(port, "/")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
        assert status == 200 and body == site[2].read_bytes()
        assert get(port, "/sub/")[0] == 404
    finally:
        proc.terminate()
        proc.wait(timeout=5)


# ---------------------------------------------------------------- the script, run in V8
def _tree(el) -> dict:
    return {"tag": el.tag, "attrs": dict(el.attrib), "text": el.text or "", "tail": el.tail or "",
            "children": [_tree(c) for c in el if isinstance(c.tag, str)]}


class Page:
    """The generated page's own script running in V8 over a small model of its DOM."""

    def __init__(self, html_text: str, stored: dict | None = None, media: tuple[str, ...] = ()):
        from py_mini_racer import MiniRacer

        tree = lxml_html.fromstring(html_text)
        script = tree.xpath("//script")[0].text
        self.ctx = MiniRacer()
        self.ctx.eval(DOM_JS.read_text(encoding="utf-8"))
        self.ctx.eval(f"buildDocument({json.dumps(_tree(tree))}, {json.dumps(stored or {})}, {json.dumps(list(media))});")
        self.ctx.eval("var $ = function (s) { return document.querySelectorAll(s); };")
        self.ctx.eval(script)

    def js(self, expr: str):
        """Evaluate ``expr`` in the page; its value as JSON (None for undefined, events and elements)."""
        return json.loads(self.ctx.eval(f"(function (v) {{ return v === undefined || (v && v.target) || "
                                        f"(v && v.tagName) ? 'null' : JSON.stringify(v); }})({expr})"))

    def current(self, ep: int):
        """Index of the sentence marked aria-current in episode ``ep`` (or None)."""
        return self.js(f"$('[data-episode]')[{ep}].querySelectorAll('button[data-start]')"
                       ".map(function (b) { return b.getAttribute('aria-current'); })")

    def time(self, ep: int) -> float:
        return self.js(f"$('audio')[{ep}].currentTime")

    def status(self) -> str:
        return self.js("document.getElementById('status').textContent")

    def key(self, key: str, target: str = "document", **mods):
        return self.js(f"dispatch({target}, 'keydown', {json.dumps({'key': key, **mods})}).defaultPrevented")


@pytest.fixture
def page(site):
    pytest.importorskip("py_mini_racer")
    return Page(site[2].read_text(encoding="utf-8"))


def test_script_starts_quietly_at_normal_speed(page):
    assert page.js("$('audio').map(function (a) { return [a.playbackRate, a.defaultPlaybackRate, a.paused]; })") \
        == [[1, 1, True]] * 3
    assert page.status() == "" and page.current(0) == [None] * 3


@pytest.mark.parametrize("stored, rate", [("1.5", 1.5), ("9", 1.0), ("abc", 1.0)],
                         ids=["remembered", "out-of-range", "garbage"])
def test_script_restores_the_stored_speed(site, stored, rate):
    pytest.importorskip("py_mini_racer")
    p = Page(site[2].read_text(encoding="utf-8"), {STORAGE_KEY: stored})
    assert p.js("$('audio').map(function (a) { return a.playbackRate; })") == [rate] * 3
    assert p.js("document.getElementById('speed').value") == f"{rate:g}"
    assert p.status() == ""


def test_script_speed_change_applies_saves_and_announces(page):
    page.js("(function () { var s = document.getElementById('speed'); s.value = '1.25';"
            " dispatch(s, 'change', {}); })()")
    assert page.js("$('audio').map(function (a) { return [a.playbackRate, a.defaultPlaybackRate]; })") \
        == [[1.25, 1.25]] * 3
    assert page.js(f"localStorage.getItem({json.dumps(STORAGE_KEY)})") == "1.25"
    assert page.status() == "Tốc độ đọc: 1,25×"


def test_script_speed_keys_step_through_the_choices(page):
    assert page.key(">", target="$('audio')[0]") is True
    assert page.js("document.getElementById('speed').value") == "1.25"
    for _ in range(10):
        page.key(">", target="$('audio')[0]")
    assert page.js("$('audio')[0].playbackRate") == 3.0 and page.status() == "Tốc độ đọc: 3×"
    for _ in range(10):
        page.key("<", target="$('audio')[0]")
    assert page.js("$('audio')[1].playbackRate") == 0.75


def test_script_follows_playback_without_announcing(page):
    page.js("(function () { var a = $('audio')[0]; a.currentTime = 5.2; dispatch(a, 'timeupdate', {}); })()")
    assert page.current(0) == [None, None, "true"]
    page.js("(function () { var a = $('audio')[0]; a.currentTime = 1.0; dispatch(a, 'timeupdate', {}); })()")
    assert page.current(0) == ["true", None, None]
    assert page.status() == ""  # playback never talks over the audio


SCROLLS = "scrolls.map(function (s) { return [s[0].getAttribute('data-start'), s[1].block, s[1].behavior]; })"


@pytest.mark.parametrize("media, behavior", [((), "smooth"), (("(prefers-reduced-motion: reduce)",), "auto")],
                         ids=["motion-ok", "reduced-motion"])
def test_script_keeps_the_current_sentence_in_view_while_playing(site, media, behavior):
    pytest.importorskip("py_mini_racer")
    p = Page(site[2].read_text(encoding="utf-8"), media=media)
    p.js("$('audio')[1].play()")
    _at(p, 1, 5.2)
    _at(p, 1, 5.6)  # same sentence: no second scroll
    _at(p, 1, 8.0)
    assert p.js(SCROLLS) == [["5.000", "nearest", behavior], ["7.500", "nearest", behavior]]


def test_script_does_not_scroll_while_paused(page):
    _at(page, 1, 5.2)
    page.js("dispatch($('[data-episode]')[1].querySelectorAll('button[data-step]')[1], 'click', {})")
    assert page.current(1) == [None, None, None, "true"] and page.js(SCROLLS) == []


def test_forced_colours_mark_the_current_sentence_with_a_border(site):
    text = site[2].read_text(encoding="utf-8")
    rule = re.search(r"@media \(forced-colors:active\)\{(.*?)\}\}", text).group(1)
    assert rule.startswith(".transcript button[aria-current]{") and "border:3px solid Highlight" in rule


def test_script_sentence_click_seeks_and_plays(page):
    page.js("dispatch($('[data-episode]')[1].querySelectorAll('button[data-start]')[3], 'click', {})")
    assert page.time(1) == 7.5 and page.js("$('audio')[1].paused") is False
    assert page.current(1) == [None, None, None, "true"]


def test_script_click_inside_a_sentence_span(page):
    page.js("dispatch($('[data-episode]')[1].querySelectorAll('button[data-start]')[2].children[0], 'click', {})")
    assert page.time(1) == 5.0


def test_script_step_buttons(page):
    step = "dispatch($('[data-episode]')[1].querySelectorAll('button[data-step]')[{}], 'click', {{}})"
    page.js(step.format(1))
    assert page.time(1) == 2.5 and page.status() == "Câu 2/4" and page.js("$('audio')[1].paused") is True
    page.js(step.format(1))
    page.js(step.format(1))
    page.js(step.format(1))
    assert page.time(1) == 7.5 and page.status() == "Câu 4/4"  # stops at the last sentence
    page.js(step.format(0))
    assert page.time(1) == 5.0 and page.current(1) == [None, None, "true", None]


IN_EP = "$('[data-episode]')[{}].querySelectorAll('button')[0]"


PARA_STEP = "dispatch($('[data-episode]')[1].querySelectorAll('button[data-para-step]')[{}], 'click', {{}})"


def test_script_paragraph_buttons(page):
    """Title (sentence 1), lead (2-3), body (4): a paragraph step lands on the paragraph's first sentence."""
    page.js(PARA_STEP.format(1))
    assert page.time(1) == 2.5 and page.status() == "Đoạn 2/3" and page.js("$('audio')[1].paused") is True
    page.js(PARA_STEP.format(1))
    assert page.time(1) == 7.5 and page.status() == "Đoạn 3/3"
    page.js("$('audio')[1].currentTime = 8.0")  # inside the last paragraph
    page.js(PARA_STEP.format(1))
    assert page.time(1) == 8.0 and page.status() == "Đoạn 3/3"  # no next paragraph: stays, never jumps back
    page.js("$('audio')[1].currentTime = 6.0")  # inside the lead's second sentence
    page.js(PARA_STEP.format(0))
    assert page.time(1) == 0.0 and page.status() == "Đoạn 1/3" and page.current(1) == ["true", None, None, None]


def test_script_paragraph_keys(page):
    target = "$('audio')[1]"
    assert page.key("K", target=target, shiftKey=True) is True
    assert page.time(1) == 2.5 and page.status() == "Đoạn 2/3"
    page.key("K", target=target, shiftKey=True)
    assert page.time(1) == 7.5
    page.key("J", target=target, shiftKey=True)
    assert page.time(1) == 2.5 and page.status() == "Đoạn 2/3"
    page.key("K", target=target)  # caps lock, no shift: still a sentence step
    assert page.time(1) == 5.0 and page.status() == "Câu 3/4"


def test_script_one_paragraph_episode(page):
    page.js("$('audio')[0].currentTime = 6.0")
    page.key("K", target="$('audio')[0]", shiftKey=True)
    assert page.time(0) == 6.0 and page.status() == "Đoạn 1/1"
    page.key("J", target="$('audio')[0]", shiftKey=True)
    assert page.time(0) == 0.0 and page.status() == "Đoạn 1/1"


def test_resume_offer_markup(soup):
    for art, guid in zip(soup.find_all("article"), ("moi", "cu", "bare")):
        assert art["data-episode"] == guid
        offer = art.find(class_="resume")
        assert offer.has_attr("hidden") and offer.find_previous_sibling("audio") is not None
        assert offer.button["aria-describedby"] == art.find("h2")["id"]


def offers(page):
    """Each episode's resume offer: its button text when shown, else None."""
    return page.js("$('[data-episode]').map(function (a) { var b = a.querySelector('button[data-resume]');"
                   " return b.parentNode.hasAttribute('hidden') ? null : b.textContent; })")


def stored_position(page, guid):
    return page.js(f"localStorage.getItem({json.dumps(POSITION_KEY + guid)})")


def test_script_fresh_page_offers_no_resume(page):
    assert offers(page) == [None, None, None]


def test_script_offers_the_stored_position_without_playing(site):
    pytest.importorskip("py_mini_racer")
    p = Page(site[2].read_text(encoding="utf-8"), {POSITION_KEY + "cu": "83.4", POSITION_KEY + "bare": "3725"})
    assert offers(p) == [None, "Nghe tiếp từ 1:23", "Nghe tiếp từ 1:02:05"]
    assert p.js("$('audio').map(function (a) { return [a.paused, a.currentTime]; })") == [[True, 0]] * 3
    p.js("dispatch($('[data-episode]')[1].querySelector('button[data-resume]'), 'click', {})")
    assert p.time(1) == 83.4 and p.js("$('audio')[1].paused") is False
    assert offers(p) == [None, None, "Nghe tiếp từ 1:02:05"]


@pytest.mark.parametrize("value", ["abc", "-3", "0.5", "Infinity"], ids=["garbage", "negative", "start", "infinite"])
def test_script_ignores_a_useless_stored_position(site, value):
    pytest.importorskip("py_mini_racer")
    assert offers(Page(site[2].read_text(encoding="utf-8"), {POSITION_KEY + "cu": value})) == [None, None, None]


def _at(page, ep, t, event="timeupdate"):
    page.js(f"(function () {{ var a = $('audio')[{ep}]; a.currentTime = {t}; dispatch(a, '{event}', {{}}); }})()")


def test_script_saves_the_position_every_few_seconds_and_on_pause(page):
    page.js("$('audio')[0].play()")
    _at(page, 0, 3.0)
    assert stored_position(page, "moi") is None  # less than SAVE_EVERY seconds of playback
    _at(page, 0, 5.25)
    assert stored_position(page, "moi") == "5.2"
    _at(page, 0, 7.0)
    assert stored_position(page, "moi") == "5.2"
    _at(page, 0, 7.5, "pause")
    assert stored_position(page, "moi") == "7.5"
    _at(page, 0, 2.0, "seeked")
    assert stored_position(page, "moi") == "2"


def test_script_saves_started_players_on_pagehide(site):
    pytest.importorskip("py_mini_racer")
    p = Page(site[2].read_text(encoding="utf-8"), {POSITION_KEY + "cu": "83.4"})
    p.js("$('audio')[0].play()")
    p.js("$('audio')[0].currentTime = 2.5")
    p.js("dispatch(window, 'pagehide', {})")
    assert stored_position(p, "moi") == "2.5" and stored_position(p, "cu") == "83.4"
    assert stored_position(p, "bare") is None


def test_script_playing_hides_the_offer_and_ending_forgets_the_position(site):
    pytest.importorskip("py_mini_racer")
    p = Page(site[2].read_text(encoding="utf-8"), {POSITION_KEY + "cu": "83.4"})
    p.js("$('audio')[1].play()")
    assert offers(p) == [None, None, None]
    _at(p, 1, 10.0, "ended")
    assert stored_position(p, "cu") is None


def test_script_keys_act_on_the_focused_episode(page):
    page.js("$('audio')[0].play()")
    assert page.key("k", target=IN_EP.format(1)) is True
    assert page.time(1) == 2.5 and page.time(0) == 0 and page.status() == "Câu 2/4"
    page.key("K", target=IN_EP.format(1))
    page.key("j", target=IN_EP.format(1))
    assert page.time(1) == 2.5
    page.key("j", target="$('audio')[1]")
    page.key("J", target="$('audio')[1]")
    assert page.time(1) == 0.0 and page.status() == "Câu 1/4"


@pytest.mark.parametrize("target", ["document", "document.getElementById('help')", "$('h1')[0]",
                                    "$('nav')[0].querySelectorAll('a')[0]"],
                         ids=["page", "help-section", "heading", "toc-link"])
@pytest.mark.parametrize("key", ["k", "j", ">", "<"])
def test_script_keys_do_nothing_outside_a_player(page, target, key):
    """WCAG 2.1.4: a single-key shortcut acts only while focus is inside an episode's player."""
    page.js("$('audio')[1].play()")
    assert page.key(key, target=target) is False
    assert [page.time(i) for i in range(3)] == [0, 0, 0]
    assert page.js("document.getElementById('speed').value") == "1" and page.status() == ""


def _switch(page, on: bool):
    page.js(f"(function () {{ var c = document.getElementById('shortcuts'); c.checked = {json.dumps(on)};"
            " dispatch(c, 'change', {}); })()")


def test_script_shortcuts_switch_turns_keys_off_and_is_remembered(site, page):
    assert page.js("document.getElementById('shortcuts').checked") is True
    _switch(page, False)
    assert page.status() == "Đã tắt phím tắt một phím"
    assert page.js(f"localStorage.getItem({json.dumps(SHORTCUTS_KEY)})") == "off"
    for key in ("k", "j", ">", "<"):
        assert page.key(key, target=IN_EP.format(0)) is False
    assert page.time(0) == 0 and page.js("document.getElementById('speed').value") == "1"
    again = Page(site[2].read_text(encoding="utf-8"), {SHORTCUTS_KEY: "off"})
    assert again.js("document.getElementById('shortcuts').checked") is False
    assert again.key("k", target=IN_EP.format(0)) is False and again.time(0) == 0
    _switch(again, True)
    assert again.status() == "Đã bật phím tắt một phím"
    assert again.key("k", target=IN_EP.format(0)) is True and again.time(0) == 2.5


def test_shortcuts_switch_is_a_labelled_checkbox(soup):
    box = soup.find(id="shortcuts")
    assert box.name == "input" and box["type"] == "checkbox" and box.has_attr("checked")
    assert soup.find("label", attrs={"for": "shortcuts"}).get_text() == "Phím tắt một phím"
    assert box.find_parent(class_="settings") is not None
    assert soup.find(id="help").find("a", href="#shortcuts") is not None


@pytest.mark.parametrize("target, mods", [
    ("document.getElementById('speed')", {}),
    ("$('audio')[0]", {"altKey": True}),
    ("$('audio')[0]", {"ctrlKey": True}),
    ("$('audio')[0]", {"metaKey": True}),
    ("$('audio')[0]", {"defaultPrevented": True}),
], ids=["in-select", "alt", "ctrl", "meta", "already-handled"])
def test_script_keys_leave_form_fields_and_modifiers_alone(page, target, mods):
    prevented = page.key("k", target=target, **mods)
    assert page.time(0) == 0 and page.status() == ""
    assert prevented is mods.get("defaultPrevented", False)


def test_script_other_keys_pass_through(page):
    assert page.key("h", target="$('audio')[0]") is False and page.key(" ", target="$('audio')[0]") is False
    assert page.status() == ""


def test_script_one_player_at_a_time(page):
    page.js("$('audio')[0].play()")
    page.js("$('audio')[2].play()")
    assert page.js("$('audio').map(function (a) { return a.paused; })") == [True, True, False]


def test_script_episode_without_cues(page):
    page.js("$('audio')[2].play()")
    assert page.key("k", target="$('audio')[2]") is True
    assert page.time(2) == 0 and page.status() == ""


# ---------------------------------------------------------------- written by the daily run
def test_daily_run_writes_the_page_beside_the_feed(tmp_path):
    """`vnreader run` (with light stage fakes) leaves index.html listing exactly the feed's episodes."""
    import feedparser

    from daily_support import FakeRenderer, Site, fake_stages, write_config
    from reader import daily
    from reader.config import load_sources
    from reader.logs import RunLog

    out = tmp_path / "out"
    with Site() as s:
        cfg = write_config(tmp_path / "s.toml", s, [{"name": "VnExpress", "url": "/feeds/vnexpress-2.xml", "limit": 2}])
        daily.run(load_sources(cfg), out_dir=out, base_url="http://127.0.0.1:8000/podcast/",
                  stages=fake_stages(FakeRenderer()), log=RunLog(quiet=True),
                  now=datetime(2017, 9, 1, 8, 0, tzinfo=timezone.utc))
    soup = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "lxml")
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert len(feed.entries) == 2
    assert [a.find("h2").get_text() for a in soup.find_all("article")] == [e.title for e in feed.entries]
    assert soup.find("h1").get_text() == "Tin thử & kiểm tra <vnreader>"
    assert soup.find("link", rel="alternate")["href"] == "feed.xml"
    assert "http://127.0.0.1:8000/podcast/feed.xml" in soup.find("footer").get_text()
    assert [a["src"] for a in soup.find_all("audio")] == [e.enclosures[0].href.rsplit("/", 1)[-1]
                                                          for e in feed.entries]


def test_file_names_with_spaces_and_accents_are_linked_encoded(tmp_path):
    ep = make_episode(tmp_path, "bản tin tối", title="Bản tin tối")
    page = write_player([ep], tmp_path, channel_title="t", feed_url=FEED_URL)
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
    src = soup.find("audio")["src"]
    assert src == "b%E1%BA%A3n%20tin%20t%E1%BB%91i.mp3"
    server = make_server(tmp_path, port=0, quiet=True)
    serve_in_thread(server)
    try:
        port = server.server_address[1]
        assert get(port, "/" + src)[0] == 200 and get(port, "/" + soup.find("track")["src"])[0] == 200
    finally:
        server.shutdown()
        server.server_close()
