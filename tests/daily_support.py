"""Helpers for the daily-run tests: a local news site on 127.0.0.1 and light stage fakes.

The site serves the real feeds and pages in ``tests/data/site`` (see its ``routes.toml``),
answers conditional GETs with 304, counts requests, and lets a test change a page or a feed.

The fakes stand in for extraction and rendering where a test checks the run's own logic
(dedupe, retention, locking, resuming): ``fake_extract`` reads ``<title>``/``<h1>``,
``<p>`` and the canonical link; ``fake_render`` writes a small MP3-named file through
``atomic_path`` and its episode record last, like ``pipeline.render_document``.
Run as a script it performs one daily run with the fakes (the killed-run test uses it).
"""
from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
import tomllib
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reader import episodes as records  # noqa: E402
from reader.errors import ExtractError  # noqa: E402
from reader.fsutil import atomic_path  # noqa: E402
from reader.models import Article, Chapter, Document, Episode  # noqa: E402

SITE = ROOT / "tests" / "data" / "site"
LAST_MODIFIED = "Wed, 26 Jul 2017 13:00:00 GMT"


class Site:
    """A threaded HTTP server for ``tests/data/site``; use as a context manager."""

    def __init__(self, root: Path = SITE):
        routes = tomllib.loads((root / "routes.toml").read_text(encoding="utf-8"))
        self.root = root
        self.feeds = dict(routes["feeds"])
        self.pages = dict(routes["pages"])
        self.overrides: dict[str, bytes] = {}  #: path → body served instead of the file
        self.hits: dict[str, int] = {}
        self.not_modified = 0
        self.conditional = True  #: answer If-None-Match with 304
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return self.base + path

    def body(self, path: str) -> tuple[bytes, str] | None:
        if path in self.overrides:
            kind = "application/rss+xml" if path in self.feeds else "text/html; charset=utf-8"
            return self.overrides[path], kind
        if path in self.feeds:
            text = (self.root / self.feeds[path]).read_text(encoding="utf-8").replace("{{BASE}}", self.base)
            kind = "text/html; charset=utf-8" if path.endswith(".rss") else "application/rss+xml; charset=utf-8"
            return text.encode("utf-8"), kind
        if path in self.pages:
            return (self.root / self.pages[path]).read_bytes(), "text/html; charset=utf-8"
        return None

    def feed_text(self, path: str) -> str:
        return self.body(path)[0].decode("utf-8")

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                site.hits[self.path] = site.hits.get(self.path, 0) + 1
                found = site.body(self.path)
                if found is None:
                    self.send_error(404)
                    return
                body, kind = found
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if site.conditional and self.headers.get("If-None-Match") == etag:
                    site.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", LAST_MODIFIED)
                self.end_headers()
                self.wfile.write(body)

        return Handler


def write_config(path: Path, site: Site, sources: list[dict], *, groups: list[dict] = (),
                 retention: dict | None = None, extra: str = "") -> Path:
    """A sources file pointing at the local site (``url`` may be a site path)."""
    lines = ['[channel]', 'title = "Tin thử & kiểm tra <vnreader>"', 'owner_email = "ops@example.invalid"', ""]
    r = retention or {"days": 0, "max_episodes": 0}
    lines += ["[retention]", *[f"{k} = {v}" for k, v in r.items()], ""]
    for g in groups:
        lines += ["[[groups]]", *[f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in g.items()], ""]
    for s in sources:
        s = dict(s)
        if s["url"].startswith("/"):
            s["url"] = site.url(s["url"])
        lines += ["[[sources]]", *[f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in s.items()], ""]
    path.write_text("\n".join(lines) + extra, encoding="utf-8")
    return path


# ---------------------------------------------------------------- stage fakes
def fake_extract(article: Article, **_) -> Document:
    """Title, paragraphs and canonical URL straight from the HTML (no cleaning)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(article.html or "", "lxml")
    h1 = soup.find("h1")
    title = (h1.get_text(" ", strip=True) if h1 else None) or article.title
    paras = tuple(t for t in (p.get_text(" ", strip=True) for p in soup.find_all("p")) if len(t) > 40)[:6]
    if not title or not paras:
        raise ExtractError(article.url, "no title or paragraphs")
    canon = soup.find("link", rel="canonical")
    return Document(title=title, paragraphs=paras, url=canon["href"] if canon else article.url, site="fake",
                    published=article.published)


class FakeRenderer:
    """Writes ``<slug>-<hash>.mp3`` (bytes derived from the text) and its record; counts calls."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.calls = 0
        self.digest_calls = 0

    def _write(self, out_dir: Path, key: str, text: str, *, title: str, guid: str, link, published,
               description: str, chapters=()) -> Episode:
        from reader.pipeline import slugify

        out = Path(out_dir) / f"{slugify(title, 40)}-{key[:10]}.mp3"
        rec = records.record_path(out)
        if out.is_file() and rec.is_file():
            return records.load(rec)
        data = (b"ID3" + text.encode("utf-8")) * 4
        with atomic_path(out) as tmp:
            with open(tmp, "wb") as f:
                for i in range(0, len(data), 1024):
                    f.write(data[i:i + 1024])
                    f.flush()
                    if self.delay:
                        time.sleep(self.delay / max(1, len(data) // 1024))
        out.with_suffix(".vtt").write_text("WEBVTT\n\n", encoding="utf-8")
        ep = Episode(path=str(out), title=title, guid=guid, duration=len(text) / 15.0, size=out.stat().st_size,
                     description=description, link=link, published=published, engine="fake", voice="fake",
                     chapters=tuple(chapters), transcript_vtt=str(out.with_suffix(".vtt")))
        records.save(ep)
        return ep

    def render(self, doc: Document, out_dir: Path, *, guid=None, published=None, **kw) -> Episode:
        from reader.pipeline import article_guid

        self.calls += 1
        text = "\n".join([doc.title, *doc.paragraphs])
        key = hashlib.sha256(text.encode()).hexdigest()
        return self._write(out_dir, key, text, title=doc.title, guid=guid or article_guid(doc), link=doc.url,
                           published=published or doc.published or datetime(2017, 7, 26, tzinfo=timezone.utc),
                           description=doc.paragraphs[0])

    def render_digest(self, docs, out_dir: Path, *, title: str, guid: str, published: datetime, intro=None,
                      outro=None, **kw) -> Episode:
        self.digest_calls += 1
        text = "\n".join([title, intro or "", *[d.title for d in docs], *[p for d in docs for p in d.paragraphs],
                          outro or ""])
        key = hashlib.sha256(text.encode()).hexdigest()
        chapters = [Chapter("Giới thiệu", 0.0, 1.0)] + [Chapter(d.title, 1.0 + i, 2.0 + i) for i, d in enumerate(docs)]
        return self._write(out_dir, key, text, title=title, guid=guid, link=None, published=published,
                           description="; ".join(d.title for d in docs), chapters=chapters)


def fake_stages(renderer: FakeRenderer):
    from reader.daily import Stages

    return Stages(extract=fake_extract, render=renderer.render, render_digest=renderer.render_digest)


def fetch_page(url: str, *, client=None) -> Article:
    """The real fetch (``reader.fetch.fetch_url``); named here so tests read clearly."""
    from reader.fetch import fetch_url

    return fetch_url(url, client=client)


def main(argv: list[str]) -> int:
    """``python tests/daily_support.py CONFIG OUT DELAY``: one run with the fakes (slow writes)."""
    from reader.config import load_sources
    from reader.daily import run
    from reader.logs import RunLog

    config, out, delay = argv[0], argv[1], float(argv[2])
    renderer = FakeRenderer(delay=delay)
    report = run(load_sources(config), out_dir=Path(out), base_url="http://127.0.0.1:8000/",
                 stages=fake_stages(renderer), log=RunLog(verbose=True),
                 now=datetime(2017, 9, 1, tzinfo=timezone.utc))
    print(json.dumps({"new": len(report.new), "failed": len(report.failed)}))
    from reader.cli import run_exit_code

    return run_exit_code(report)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
