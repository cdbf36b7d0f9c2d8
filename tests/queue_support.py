"""Helpers for the distributed tests (``tests/test_queue.py``) and ``bench/scale.py``.

* ``NewsSite``: a local news site on 127.0.0.1 with ``feeds × per_feed`` generated Vietnamese
  articles (RSS 2.0 feeds, plain article pages), which also serves the output folder under
  ``/audio/`` so every enclosure of the feed can be downloaded.
* ``tone`` and ``broken`` engines for worker processes: deterministic PCM, a fixed delay per
  sentence (``$VNREADER_TONE_DELAY`` seconds); ``tone`` fails while the file named by
  ``$VNREADER_TONE_FAIL_FILE`` exists (a speech service that is down, then back).
  They are registered only in processes started through this file (never in the product's
  ``ENGINES``): ``python tests/queue_support.py ARGS`` is ``vnreader ARGS`` with them.
* ``Workers``: ``vnreader worker`` subprocesses (each in its own process group, so a SIGKILL
  takes its pool children too), with a log file each.
* ``RedisServer``: a private ``redis-server`` on an ephemeral port, to kill and restart.

Every test gets its own queue name (``$VNREADER_QUEUE_NAME``, also the Redis key prefix).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT, ROOT / "tests"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

SCRIPT = Path(__file__).resolve()
REDIS_URL = "redis://127.0.0.1:6379/0"

TOPICS = ("giao thông", "giáo dục", "y tế", "kinh tế", "thời tiết", "văn hoá", "thể thao", "môi trường")
PLACES = ("Hà Nội", "Hải Phòng", "Đà Nẵng", "Huế", "Cần Thơ", "Quảng Ninh", "Nghệ An", "Lâm Đồng")


# ---------------------------------------------------------------- engines for worker processes
def register_engines() -> None:
    """Add ``tone`` and ``broken`` to this process's engine registry (children forked later inherit it)."""
    from fakes.engines import ToneEngine
    from reader.errors import EngineError
    from reader.tts import ENGINES

    delay = float(os.environ.get("VNREADER_TONE_DELAY") or 0)
    fail_file = os.environ.get("VNREADER_TONE_FAIL_FILE")

    class Tone(ToneEngine):
        """``ToneEngine``; while ``$VNREADER_TONE_FAIL_FILE`` exists, every sentence fails (an outage)."""

        def synthesize(self, text, **kw):
            if fail_file and os.path.exists(fail_file):
                raise EngineError(self.name, "scripted failure (the speech service is down)")
            return super().synthesize(text, **kw)

    ENGINES["tone"] = lambda **kw: Tone("tone", delay=delay)
    ENGINES["broken"] = lambda **kw: ToneEngine("broken", fail_always=EngineError)


def vnreader(*args: str) -> list[str]:
    """The command line of ``vnreader ARGS`` with the test engines registered."""
    return [sys.executable, str(SCRIPT), *args]


# ---------------------------------------------------------------- the site
def article_text(feed: int, n: int) -> tuple[str, list[str]]:
    """A title and paragraphs, different for every (feed, n)."""
    topic, place = TOPICS[(feed + n) % len(TOPICS)], PLACES[(feed * 3 + n) % len(PLACES)]
    title = f"Tin {topic} số {n + 1} từ {place}, chuyên mục {feed + 1}"
    paras = [
        f"Sáng nay tại {place}, chính quyền thành phố đã họp bàn về vấn đề {topic} với nhiều đại biểu tham dự. "
        f"Đây là bài viết số {n + 1} của chuyên mục thứ {feed + 1} trong ngày.",
        f"Theo báo cáo, trong năm qua ngành {topic} của {place} đã có {12 + n} dự án mới được triển khai. "
        f"Nhiều người dân bày tỏ sự đồng tình với các chính sách này.",
        f"Ông Nguyễn Văn {chr(65 + n % 26)} cho biết địa phương sẽ tiếp tục đầu tư cho lĩnh vực {topic}. "
        "Các chuyên gia cho rằng cần có thêm thời gian để đánh giá kết quả.",
        f"Dự kiến đến cuối năm, {place} sẽ hoàn thành {3 + feed} công trình trọng điểm. "
        "Người dân hy vọng cuộc sống sẽ ngày càng tốt đẹp hơn.",
    ]
    return title, paras


class NewsSite:
    """``feeds`` RSS feeds of ``per_feed`` articles each, and ``/audio/`` = ``audio_dir``; a context manager."""

    def __init__(self, audio_dir: Path, *, feeds: int = 3, per_feed: int = 11):
        self.audio_dir = Path(audio_dir)
        self.n_feeds, self.per_feed = feeds, per_feed
        self.hits: dict[str, int] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def __enter__(self) -> NewsSite:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def audio_url(self) -> str:
        return self.base + "/audio/"

    def feed_path(self, feed: int) -> str:
        return f"/feeds/chuyen-muc-{feed + 1}.xml"

    def page_path(self, feed: int, n: int) -> str:
        return f"/bai/{feed + 1}/tin-{n + 1}.html"

    def articles(self) -> list[str]:
        """Every article's URL."""
        return [self.base + self.page_path(f, n) for f in range(self.n_feeds) for n in range(self.per_feed)]

    def titles(self) -> set[str]:
        return {article_text(f, n)[0] for f in range(self.n_feeds) for n in range(self.per_feed)}

    def feed_xml(self, feed: int) -> str:
        start = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
        items = []
        for n in range(self.per_feed):
            title, paras = article_text(feed, n)
            when = format_datetime(start + timedelta(minutes=feed * 60 + n))
            items.append(f"<item><title>{escape(title)}</title><link>{self.base}{self.page_path(feed, n)}</link>"
                         f"<guid>{self.base}{self.page_path(feed, n)}</guid><pubDate>{when}</pubDate>"
                         f"<description>{escape(paras[0])}</description></item>")
        return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
                f"<title>Chuyên mục {feed + 1}</title><link>{self.base}/</link><description>Tin thử</description>"
                + "".join(items) + "</channel></rss>")

    def page_html(self, feed: int, n: int) -> str:
        title, paras = article_text(feed, n)
        body = "".join(f"<p>{escape(p)}</p>" for p in paras)
        return (f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{escape(title)}</title>'
                f'<link rel="canonical" href="{self.base}{self.page_path(feed, n)}"></head>'
                f'<body><article><h1>{escape(title)}</h1>{body}</article></body></html>')

    def body(self, path: str) -> tuple[bytes, str] | None:
        for f in range(self.n_feeds):
            if path == self.feed_path(f):
                return self.feed_xml(f).encode(), "application/rss+xml; charset=utf-8"
            for n in range(self.per_feed):
                if path == self.page_path(f, n):
                    return self.page_html(f, n).encode(), "text/html; charset=utf-8"
        return None

    def _handler(self):
        site = self

        class Handler(SimpleHTTPRequestHandler):
            """The feeds and pages; ``/audio/NAME`` from the output folder (sizes, ranges as the stdlib does)."""

            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(site.audio_dir), **kwargs)

            def log_message(self, *args):
                pass

            def do_GET(self):
                site.hits[self.path] = site.hits.get(self.path, 0) + 1
                if self.path.startswith("/audio/"):
                    self.path = self.path[len("/audio"):]
                    super().do_GET()
                    return
                found = site.body(self.path)
                if found is None:
                    self.send_error(404)
                    return
                body, kind = found
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def write_config(self, path: Path, *, limit: int | None = None, engine: str = "tone",
                     sources: list[dict] | None = None, extra: str = "") -> Path:
        """A sources file for the site: one source per feed (``sources`` overrides each one's keys)."""
        lines = ["[run]", f'engine = "{engine}"', "source_budget = 0", "",
                 "[channel]", 'title = "Tin thử hàng đợi"', "", "[retention]", "days = 0", "max_episodes = 0", ""]
        for f in range(self.n_feeds):
            s = {"name": f"Chuyên mục {f + 1}", "url": self.base + self.feed_path(f),
                 "limit": limit or self.per_feed}
            s.update((sources or [{}] * self.n_feeds)[f])
            lines += ["[[sources]]"] + [f"{k} = {_toml(v)}" for k, v in s.items()] + [""]
        path.write_text("\n".join(lines) + extra, encoding="utf-8")
        return path


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------- processes
def queue_env(name: str, tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of a run or worker: its own queue name, clip cache and short redelivery."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update({"VNREADER_QUEUE_NAME": name, "VNREADER_CACHE": str(tmp / "clips"), "VNREADER_QUEUE_VISIBILITY": "6",
                "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]), "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def unique_name(prefix: str = "vnreader-test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Workers:
    """``n`` ``vnreader worker --queue URL`` processes; a context manager that stops them (SIGTERM, then SIGKILL)."""

    def __init__(self, url: str, env: dict[str, str], logs: Path, n: int = 3, concurrency: int = 1):
        self.url, self.env, self.logs, self.concurrency = url, env, Path(logs), concurrency
        self.logs.mkdir(parents=True, exist_ok=True)
        self.procs: list[subprocess.Popen] = []
        for _ in range(n):
            self.add()

    def add(self, **env: str) -> subprocess.Popen:
        i = len(self.procs)
        log = open(self.logs / f"worker-{i}.log", "wb")
        proc = subprocess.Popen(vnreader("worker", "--queue", self.url, "--concurrency", str(self.concurrency)),
                                env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        log.close()
        self.procs.append(proc)
        return proc

    def log(self, i: int) -> str:
        return (self.logs / f"worker-{i}.log").read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for i, proc in enumerate(self.procs):
            while "event=worker-ready" not in self.log(i):
                if proc.poll() is not None:
                    raise RuntimeError(f"worker {i} exited {proc.returncode}:\n{self.log(i)}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"worker {i} not ready:\n{self.log(i)}")
                time.sleep(0.1)

    def kill(self, i: int) -> None:
        """SIGKILL worker ``i`` and its pool children (its process group)."""
        with _gone():
            os.killpg(self.procs[i].pid, signal.SIGKILL)
        self.procs[i].wait(10)

    def stop(self, timeout: float = 30) -> list[int | None]:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        codes = []
        for p in self.procs:
            try:
                codes.append(p.wait(timeout))
            except subprocess.TimeoutExpired:
                codes.append(None)
            with _gone():
                os.killpg(p.pid, signal.SIGKILL)  # pool children a killed parent left behind
        return codes

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class _gone:
    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        return kind is not None and issubclass(kind, ProcessLookupError)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A private ``redis-server`` (no persistence) on ``port``; ``kill()`` and ``start()`` at will."""

    def __init__(self, tmp: Path, port: int | None = None):
        self.binary = shutil.which("redis-server")
        self.port = port or free_port()
        self.dir = Path(tmp)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.binary, "redis-server is not installed (.ci/services installs it)"
        self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.kill()


def main(argv: list[str]) -> int:
    register_engines()
    from reader.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
