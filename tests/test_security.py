"""Security: what `serve` refuses over HTTP, the private token, markup injection, no shell.

The server is tested only through HTTP (``start_serve``/``request`` from ``test_web``), so the
tests hold whatever the server is built on. Each output format is parsed back with its own
parser and a hostile string must come back as the same text, never as markup.
"""
from __future__ import annotations

import ast
import io
import json
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote

import pytest
from lxml import etree, html as lxml_html

from podcast_fixtures import make_channel, make_episode
from reader.models import Chapter, Cue
from reader.player import build_page
from reader.podcast import build_feed, clean_text
from reader.transcripts import format_chapters, format_srt, format_vtt, parse_srt, parse_vtt
from test_web import TOKEN, build_site, request, start_serve, stop

ROOT = Path(__file__).resolve().parents[1]
READER = ROOT / "reader"
BASE = "https://example.vn/podcast/"


# ---------------------------------------------------------------- serve: escapes
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    out = build_site(tmp_path_factory.mktemp("sec"))
    proc, port = start_serve(out)
    yield out, port
    stop(proc)


@pytest.fixture(scope="module")
def private(tmp_path_factory):
    out = build_site(tmp_path_factory.mktemp("secpriv"))
    proc, port = start_serve(out, "--token", TOKEN)
    yield out, port, proc
    stop(proc)


#: paths that must not reach ../secret.xml (beside the folder), /etc/passwd or a hidden file
ESCAPES = [
    ("dotdot", "/../secret.xml"),
    ("dotdot-deep", "/sub/../../secret.xml"),
    ("pct-dotdot", "/%2e%2e/secret.xml"),
    ("pct-upper", "/%2E%2E/secret.xml"),
    ("pct-slash", "/..%2fsecret.xml"),
    ("pct-all", "/%2e%2e%2fsecret.xml"),
    ("double-pct", "/%252e%252e/secret.xml"),
    ("backslash", "/..\\secret.xml"),
    ("pct-backslash", "/..%5csecret.xml"),
    ("overlong-utf8", "/%c0%ae%c0%ae/secret.xml"),
    ("nul", "/secret.xml%00.mp3"),
    ("etc-passwd", "/../../../../../../etc/passwd"),
    ("pct-etc-passwd", "/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd"),
    ("absolute-form", "http://127.0.0.1/../secret.xml"),
    ("double-slash-abs", "//etc/passwd"),
    ("symlink-file-out", "/escape.xml"),
    ("symlink-dir-out", "/escape-dir/secret.xml"),
    ("symlink-dir-pct", "/escape%2ddir/secret.xml"),
    ("hidden-part", "/.feed.xml.tmp123.part"),
    ("hidden-pct-dot", "/%2efeed.xml.tmp123.part"),
    ("state-db", "/state.sqlite"),
    ("record", "/ban-tin-sang.episode.json"),
    ("dot-segment", "/./state.sqlite"),
    ("lock", "/.vnreader.lock"),
]


@pytest.mark.parametrize("path", [p for _, p in ESCAPES], ids=[n for n, _ in ESCAPES])
def test_serve_refuses_escapes(served, path):
    status, _, body = request(served[1], path)
    assert status in (400, 403, 404), (status, body[:80])
    assert b"<secret/>" not in body and b"root:" not in body and b"SQLite" not in body


# ---------------------------------------------------------------- private token
WRONG_TOKENS = [
    ("none", "/feed.xml"),
    ("prefix", "/" + TOKEN[:-1] + "/feed.xml"),
    ("longer", "/" + TOKEN + "x/feed.xml"),
    ("case", "/" + TOKEN.upper() + "/feed.xml"),
    ("pct-encoded-wrong", "/%73" + TOKEN[2:] + "/feed.xml"),
    ("token-then-dotdot", "/" + TOKEN + "/../feed.xml"),
    ("token-later", "/sub/" + TOKEN + "/feed.xml"),
]


@pytest.mark.parametrize("path", [p for _, p in WRONG_TOKENS], ids=[n for n, _ in WRONG_TOKENS])
def test_private_feed_needs_the_exact_token(private, path):
    assert request(private[1], path)[0] in (400, 403, 404)


def test_private_feed_with_the_token_and_token_never_logged(private):
    out, port, proc = private
    assert request(port, f"/{TOKEN}/feed.xml")[0] == 200
    assert request(port, f"/{TOKEN}/nothing-here.mp3")[0] == 404
    encoded = "/%" + TOKEN[0].encode().hex() + TOKEN[1:] + "/feed.xml"  # the same token, one letter encoded
    assert request(port, encoded)[0] == 200
    stop(proc)
    logged = proc.stderr.read()
    assert '"GET /TOKEN/feed.xml HTTP/1.1" 200' in logged  # requests are logged ...
    assert TOKEN not in unquote(logged) and TOKEN[:-1] not in logged  # ... without the token, encoded or nearly


def _token_comparisons(tree: ast.AST) -> list[int]:
    """Lines comparing something named *token* with == or != (the time taken leaks the secret)."""
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq))
                                                 for op in node.ops):
            names = [n.id if isinstance(n, ast.Name) else n.attr for n in [node.left, *node.comparators]
                     if isinstance(n, (ast.Name, ast.Attribute))]
            consts = [n for n in [node.left, *node.comparators] if isinstance(n, ast.Constant) and n.value is None]
            if any("token" in x.lower() for x in names) and not consts:
                bad.append(node.lineno)
    return bad


def test_token_is_compared_in_constant_time():
    sources = {p: p.read_text(encoding="utf-8") for p in READER.rglob("*.py")}
    using = [p for p, s in sources.items() if "token" in s and ("serve" in p.name or "web" in p.name)]
    assert using, "no server module found"
    assert any("compare_digest" in sources[p] for p in using)
    bad = {str(p.relative_to(ROOT)): lines for p, s in sources.items() if (lines := _token_comparisons(ast.parse(s)))}
    assert bad == {}


# ---------------------------------------------------------------- no shell
def _shell_calls(tree: ast.AST) -> list[int]:
    bad = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        if name in ("system", "popen", "getoutput", "getstatusoutput"):
            bad.append(node.lineno)
        for kw in node.keywords:
            if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                bad.append(node.lineno)
    return bad


def test_no_shell_is_ever_invoked():
    bad = {str(p.relative_to(ROOT)): lines for p in READER.rglob("*.py")
           if (lines := _shell_calls(ast.parse(p.read_text(encoding="utf-8"))))}
    assert bad == {}


# ---------------------------------------------------------------- markup injection
HOSTILE = [
    ("script", "<script>alert('x')</script>"),
    ("img-onerror", '"><img src=x onerror=alert(1)>'),
    ("cdata-end", "]]><evil/>"),
    ("comment", "--><!--"),
    ("entity", "&amp;&lt;&#x3c;&xxe;"),
    ("doctype", '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'),
    ("vtt-tag", "<c.red>đỏ</c> <v Bob>ai</v> --> 00:00:01.000"),
    ("srt-tag", "<i>nghiêng</i> {\\an8}"),
    ("quotes", "'\"`</title></textarea>"),
    ("json", '"}, {"title": "x'),
    ("vietnamese", "Nguyễn Phú Trọng & Cộng sự <phóng viên>"),
]
IDS = [n for n, _ in HOSTILE]
TEXTS = [t for _, t in HOSTILE]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("inject")
    return out, make_episode(out, "bai", title="Tin"), make_channel(out)


def _hostile_episode(ep, text):
    return replace(ep, title=text, description=text, author=text, cues=(Cue(text, 0.0, 1.0),),
                   chapters=(Chapter(text, 0.0, 1.0),))


@pytest.mark.parametrize("text", TEXTS, ids=IDS)
def test_feed_keeps_hostile_text_as_text(folder, text):
    out, ep, channel = folder
    channel = replace(channel, title=text, description=text, author=text, owner_name=text)
    data = build_feed([_hostile_episode(ep, text)], out, channel=channel, base_url=BASE)
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    item = root.find("channel/item")
    want = clean_text(text)
    assert root.findtext("channel/title") == want and root.findtext("channel/description") == want
    assert item.findtext("title") == want and item.findtext("description") == want
    it = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
    assert item.findtext(f"{it}author") == want and root.findtext(f"channel/{it}author") == want
    assert [e.tag for e in item if not isinstance(e.tag, str)] == []  # no comment or PI smuggled in
    assert "evil" not in {e.tag for e in root.iter()}
    html = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
    body = lxml_html.fragment_fromstring(html)
    assert body.tag == "p" and len(body) == 0 and body.text_content() == want  # one paragraph, text only


@pytest.mark.parametrize("text", TEXTS, ids=IDS)
def test_listening_page_keeps_hostile_text_as_text(folder, text):
    out, ep, _ = folder
    page = build_page([_hostile_episode(ep, text)], out, channel_title=text, feed_url=BASE + "feed.xml")
    doc = lxml_html.document_fromstring(page)
    want = clean_text(text)
    assert len(doc.findall(".//script")) == 1  # the page's own script only
    assert not [el for el in doc.iter() if isinstance(el.tag, str) and any(a.startswith("on") for a in el.attrib)]
    assert doc.findtext(".//title") == want and doc.find(".//h1").text_content() == want
    assert doc.find(".//article//h2").text_content() == want
    assert doc.find(".//audio").get("aria-label") == f"Nghe bài: {want}"
    assert want in [b.text_content()[len("0:00"):] for b in doc.iterfind(".//ol[@class='transcript']//button")]
    assert not doc.findall(".//img") and not doc.findall(".//evil")


@pytest.mark.parametrize("text", TEXTS, ids=IDS)
def test_captions_and_chapters_keep_hostile_text_as_text(text):
    cues = [Cue(text, 0.0, 1.0), Cue("sau", 1.0, 2.0)]
    vtt = format_vtt(cues, note=text)
    blocks = vtt.split("\n\n")
    assert blocks[0] == "WEBVTT" and blocks[1].startswith("NOTE ") and "-->" not in blocks[1]
    assert "<" not in vtt.split("\n\n", 2)[2].replace("&lt;", "")  # no VTT tag survives unescaped
    assert [c.text for c in parse_vtt(vtt)] == [" ".join(text.split()), "sau"]
    assert [(c.start, c.end) for c in parse_vtt(vtt)] == [(0.0, 1.0), (1.0, 2.0)]
    srt = parse_srt(format_srt(cues))
    assert [c.text for c in srt] == [" ".join(text.split()), "sau"] and srt[1].start == 1.0
    doc = json.loads(format_chapters([Chapter(text, 0.0, 1.0)]))
    assert doc["chapters"] == [{"startTime": 0.0, "endTime": 1.0, "title": text}]


@pytest.mark.parametrize("text", TEXTS + ["a\x00b"], ids=IDS + ["nul"])
def test_id3_tags_keep_hostile_text_as_one_value(text):
    from mutagen.id3 import ID3

    from reader.audio.tags import EpisodeMeta, id3_bytes

    meta = EpisodeMeta(title=text, artist=text, album=text, description=text, url="https://example.vn/a?b=<c>",
                       date=datetime(2021, 1, 9, tzinfo=timezone.utc))
    tags = ID3(io.BytesIO(id3_bytes(meta, [Chapter(text, 0.0, 1.0)])))
    want = [text.replace("\x00", "")]  # one value: ID3v2.4 splits values at NUL
    for frame in ("TIT2", "TPE1", "TALB"):
        assert tags[frame].text == want, frame
    assert tags.getall("COMM")[0].text == want
    (chap,) = tags.getall("CHAP")
    assert chap.sub_frames["TIT2"].text == want
