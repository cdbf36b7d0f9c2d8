"""Fetch: a URL, a saved page, a plain-text file or stdin → ``Article``.

    load(source)                  URL, path or "-"; HTML vs text is sniffed
    fetch_url(url, client=None)   GET with retries on timeouts and 5xx, size cap while streaming
    get_bytes(url, client=...)    the low-level GET the feed reader shares (304 comes back, not raised)
    Deadline(seconds)             the total time one fetch may take: connect, every read, every retry
    make_client()                 httpx.Client: vnreader User-Agent, timeouts, redirects
    decode_html(raw, ctype)       charset from header, then <meta>, then the bytes; NFC, never mojibake

Every failure is a ``FetchError`` (or ``HTTPStatusError`` / ``TooLargeError``) naming the input.

Time limits: httpx's timeouts bound one connect and one read, so a server that trickles a
byte a second, or retries against one that never answers, could run for minutes. Every
fetch therefore also has a total ``deadline`` (``DEFAULT_DEADLINE`` seconds): each attempt's
httpx timeouts are cut to the time left, the deadline is checked between body chunks and
before each retry, and when it passes the fetch fails with "no complete answer within N s".
"""
from __future__ import annotations

import codecs
import re
import sys
import time
import unicodedata
from pathlib import Path
from typing import NamedTuple

import httpx

from reader import __version__
from reader.errors import FetchError, HTTPStatusError, TooLargeError
from reader.models import Article
from reader.neterrors import describe

USER_AGENT = f"vnreader/{__version__} (Vietnamese news reader; +https://github.com/vnreader)"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
MAX_BYTES = 10_000_000
RETRY_STATUSES = frozenset({500, 502, 503, 504})
#: seconds one fetch may take in total (connect + all reads + retries and their waits)
DEFAULT_DEADLINE = 30.0

#: WHATWG-style label fixes: what pages declare → the Python codec that decodes it right.
CHARSET_ALIASES = {
    "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252",
    "windows-1258": "cp1258", "x-cp1258": "cp1258", "cp-1258": "cp1258",
    "utf8": "utf-8", "unicode": "utf-8", "x-user-defined": "cp1252",
}

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_CT_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HTML_SNIFF = re.compile(
    rb"<\s*(!doctype\s+html|html[\s>]|head[\s>]|body[\s>]|meta\s|article[\s>]|div[\s>]|p[\s>])", re.I)


class Response(NamedTuple):
    """What ``get_bytes`` hands back: the status (200, 304, …), lower-cased headers, the body."""

    status: int
    headers: dict
    body: bytes


class Deadline:
    """The end of one fetch's time: ``seconds`` from now on ``clock`` (tests inject a fake clock)."""

    def __init__(self, seconds: float, clock=time.monotonic):
        self.seconds = float(seconds)
        self._clock = clock
        self._end = clock() + self.seconds

    def left(self) -> float:
        """Seconds left (0 when passed)."""
        return max(0.0, self._end - self._clock())

    def passed(self) -> bool:
        return self._clock() >= self._end

    def error(self, url: str, last: str | None = None) -> FetchError:
        """The deadline passed; ``last``: what the last try met (a reset, HTTP 503), said after it."""
        detail = f"no complete answer within {self.seconds:g} s" + (f"; last try: {last}" if last else "")
        return FetchError(url, detail,
                          fix="the server is too slow or not answering; try again later, or raise --timeout")


def _capped(timeout: httpx.Timeout, left: float) -> httpx.Timeout:
    """``timeout`` with every phase cut to ``left`` seconds."""
    def cap(value: float | None) -> float:
        return left if value is None else min(value, left)

    return httpx.Timeout(connect=cap(timeout.connect), read=cap(timeout.read), write=cap(timeout.write),
                         pool=cap(timeout.pool))


# ---------------------------------------------------------------- client
def make_client(*, timeout: float | httpx.Timeout | None = None,
                transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """An ``httpx.Client`` with the vnreader User-Agent, connect/read timeouts and redirects on.

    ``timeout`` in seconds (or an ``httpx.Timeout``); ``transport`` lets tests inject
    ``httpx.MockTransport``.
    """
    if timeout is None:
        timeout = DEFAULT_TIMEOUT
    elif not isinstance(timeout, httpx.Timeout):
        timeout = httpx.Timeout(float(timeout))
    return httpx.Client(headers={"User-Agent": USER_AGENT, "Accept-Language": "vi,en;q=0.5"},
                        timeout=timeout, follow_redirects=True, transport=transport)


# ---------------------------------------------------------------- low-level GET
def get_bytes(url: str, *, client: httpx.Client, headers: dict | None = None, max_bytes: int = MAX_BYTES,
              retries: int = 3, backoff: float = 0.5, deadline: float | Deadline = DEFAULT_DEADLINE,
              sleep=time.sleep) -> Response:
    """GET ``url`` and return ``Response(status, headers, body)``.

    2xx and 304 come back (a 304 has an empty body: use it for conditional GET with
    ``If-None-Match`` / ``If-Modified-Since`` in ``headers``). Timeouts, connection errors
    and 500/502/503/504 are retried ``retries`` times, waiting ``backoff``·2ⁿ seconds.
    A 429 with ``Retry-After`` (seconds or a date) is retried after that wait when it fits the deadline.
    Other 4xx/5xx raise ``HTTPStatusError`` (``.status`` set); a body above ``max_bytes``
    raises ``TooLargeError`` as soon as the stream passes the cap. All of it, retries and
    waits included, must end within ``deadline`` seconds (or a ``Deadline``), else
    ``FetchError`` "no complete answer within N s".
    """
    return _get(url, client=client, headers=headers, max_bytes=max_bytes, retries=retries, backoff=backoff,
                deadline=deadline, sleep=sleep)[0]


def _get(url: str, *, client: httpx.Client, headers: dict | None, max_bytes: int, retries: int,
         backoff: float, deadline: float | Deadline, sleep) -> tuple[Response, str]:
    if not isinstance(deadline, Deadline):
        deadline = Deadline(deadline)
    attempt = 0
    last = None  # what the last try met, for the deadline's message
    while True:
        if deadline.passed():
            raise deadline.error(url, last)
        after = None  # the wait a 429 asks for
        try:
            with client.stream("GET", url, headers=headers, timeout=_capped(client.timeout, deadline.left())) as r:
                after = _retry_after(r.headers.get("retry-after")) if r.status_code == 429 else None
                if (r.status_code in RETRY_STATUSES or after is not None) and attempt < retries:
                    raise _Retry(f"HTTP {r.status_code}")
                if r.status_code >= 400:
                    raise HTTPStatusError(url, f"the server answered HTTP {r.status_code} {r.reason_phrase}",
                                          status=r.status_code, fix=_status_fix(r.status_code))
                resp_headers = {k.lower(): v for k, v in r.headers.items()}
                if r.status_code == 304:
                    return Response(304, resp_headers, b""), str(r.url)
                declared = resp_headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise TooLargeError(url, f"the page is {int(declared)} bytes, above the cap of {max_bytes}")
                body = bytearray()
                for chunk in r.iter_bytes():  # as the bytes arrive: a trickle never fills a fixed-size chunk
                    body += chunk
                    if len(body) > max_bytes:
                        raise TooLargeError(url, f"the page passed the cap of {max_bytes} bytes")
                    if deadline.passed():
                        raise deadline.error(url)
                return Response(r.status_code, resp_headers, bytes(body)), str(r.url)
        except _Retry as e:
            last = str(e)
        except httpx.TimeoutException as e:
            last = _TIMEOUT_WORDS.get(type(e), "timed out")
            if deadline.passed():
                raise deadline.error(url) from e
            if attempt >= retries:
                raise FetchError(url, f"timed out after {_tries(retries + 1)} ({_TIMEOUT_WORDS.get(type(e), 'timed out')})",
                                 fix="check the network, or try again later") from e
        except httpx.TransportError as e:
            last = describe(e)
            if attempt >= retries:
                raise FetchError(url, f"could not connect after {_tries(retries + 1)}: {describe(e)}",
                                 fix="check the URL and the network") from e
        except httpx.InvalidURL as e:
            raise FetchError(url, f"not a valid URL: {e}", fix="give a full http:// or https:// URL") from e
        except httpx.HTTPError as e:
            raise FetchError(url, f"HTTP failed: {describe(e)}") from e
        attempt += 1
        wait = max(backoff * 2 ** (attempt - 1), after or 0.0)
        if wait >= deadline.left():
            if after is not None:
                raise HTTPStatusError(url, f"the server answered HTTP 429 and asks to wait {after:g} s", status=429,
                                      fix=_status_fix(429))
            raise deadline.error(url, last)
        sleep(wait)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delay-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        from email.utils import parsedate_to_datetime

        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


_TIMEOUT_WORDS = {httpx.ConnectTimeout: "while connecting", httpx.ReadTimeout: "waiting for the answer",
                  httpx.WriteTimeout: "while sending the request", httpx.PoolTimeout: "waiting for a free connection"}


def _tries(n: int) -> str:
    return "1 try" if n == 1 else f"{n} tries"


class _Retry(Exception):
    """A retryable answer (5xx) seen inside the stream context."""


def _status_fix(status: int) -> str:
    if status in (401, 402, 403):
        return "the page needs a login or a subscription, or blocks robots; save it from a browser and pass the file"
    if status in (404, 410):
        return "the article was removed or the URL is wrong"
    if status == 429:
        return "the site rate-limits; wait and try again"
    return "try again later"


# ---------------------------------------------------------------- page fetch
def fetch_url(url: str, *, client: httpx.Client | None = None, max_bytes: int = MAX_BYTES, retries: int = 3,
              backoff: float = 0.5, deadline: float | Deadline = DEFAULT_DEADLINE, sleep=time.sleep) -> Article:
    """Fetch one page into an ``Article`` (HTML decoded by ``decode_html``; text/plain kept as text).

    ``deadline``: seconds the whole fetch may take (see ``get_bytes``).
    """
    own = client is None
    client = client or make_client()
    try:
        resp, final = _get(url, client=client, headers=None, max_bytes=max_bytes, retries=retries, backoff=backoff,
                           deadline=deadline, sleep=sleep)
    finally:
        if own:
            client.close()
    ctype = resp.headers.get("content-type")
    if ctype and not _is_textual(ctype) and not looks_like_html(resp.body):
        raise FetchError(url, f"not a web page (Content-Type {ctype.split(';')[0]})",
                         fix="give the URL of an article page")
    refuse_binary(resp.body, url)
    if ctype and ctype.split(";")[0].strip().lower() == "text/plain":
        return Article(url=final, text=decode_text(resp.body, ctype), origin=url)
    return Article(url=final, html=decode_html(resp.body, ctype), origin=url)


def _is_textual(ctype: str) -> bool:
    mime = ctype.split(";")[0].strip().lower()
    return mime.startswith("text/") or mime in ("application/xhtml+xml", "application/xml")


# ---------------------------------------------------------------- any source
def load(source: str, *, client: httpx.Client | None = None, max_bytes: int = MAX_BYTES, stdin=None,
         deadline: float | Deadline = DEFAULT_DEADLINE) -> Article:
    """A URL (http/https), a path (saved HTML page or plain text, sniffed) or ``-`` (stdin bytes).

    ``deadline``: seconds a URL's fetch may take in total.
    """
    if source == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        raw = stream.read(max_bytes + 1)
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        if len(raw) > max_bytes:
            raise TooLargeError("stdin", f"the input passed the cap of {max_bytes} bytes")
        return _from_bytes(raw, url=None, name="stdin", suffix="")
    if re.match(r"^https?://", source, re.I):
        return fetch_url(source, client=client, max_bytes=max_bytes, deadline=deadline)
    if re.match(r"^[a-z][a-z0-9+.-]*://", source, re.I):
        raise FetchError(source, "only http:// and https:// URLs are supported",
                         fix="give an http(s) URL, a file path or - for standard input")
    path = Path(source).expanduser()
    if not path.exists():
        raise FetchError(source, "no such file",
                         fix="give an http(s) URL, an existing file path or - for standard input")
    if not path.is_file():
        raise FetchError(source, "not a file", fix="give a saved HTML page or a text file")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise TooLargeError(source, f"the file is {size} bytes, above the cap of {max_bytes}")
        raw = path.read_bytes()
    except OSError as e:
        raise FetchError(source, f"cannot read: {e.strerror or e}", fix="check the file's permissions") from e
    return _from_bytes(raw, url=None, name=source, suffix=path.suffix.lower())


def _from_bytes(raw: bytes, *, url: str | None, name: str, suffix: str) -> Article:
    if not raw.strip():
        raise FetchError(name, "the input is empty", fix="give a page or some text")
    refuse_binary(raw, name)
    if suffix in (".html", ".htm", ".xhtml") or (suffix not in (".txt", ".text", ".md") and looks_like_html(raw)):
        return Article(url=url, html=decode_html(raw, None), origin=name)
    return Article(url=url, text=decode_text(raw, None), origin=name)


#: leading bytes of common non-text files: what the input looks like, for the message
_MAGIC = [(b"\x7fELF", "an ELF executable"), (b"MZ", "a Windows executable"), (b"%PDF", "a PDF document"),
          (b"PK\x03\x04", "a ZIP archive (or an Office document)"), (b"\x1f\x8b", "a gzip file"),
          (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
          (b"ID3", "an MP3 file"), (b"\xff\xfb", "an MP3 file"), (b"RIFF", "a WAV or other RIFF file"),
          (b"OggS", "an Ogg file"), (b"fLaC", "a FLAC file"), (b"SQLite format 3", "an SQLite database"),
          (b"\xfd7zXZ", "an xz file"), (b"BZh", "a bzip2 file"), (b"\xca\xfe\xba\xbe", "a Java class or Mach-O file")]
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def binary_kind(raw: bytes) -> str | None:
    """What ``raw`` looks like when it is not text ("a PDF document", "binary data"), else None.

    Text is what decodes to few control characters: a NUL byte or more than 1 in 20 control
    bytes (tab, newline and carriage return aside) in the first 8 kB is not a page or an
    article. UTF-16 with a byte-order mark is text.
    """
    head = raw[:8192]
    if head.startswith(_UTF16_BOMS):
        return None
    for magic, kind in _MAGIC:
        if head.startswith(magic) and (len(magic) > 2 or b"\0" in head or _control_share(head) > 0.05):
            return kind
    if b"\0" in head or _control_share(head) > 0.05:
        return "binary data"
    return None


def _control_share(head: bytes) -> float:
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13) or b == 127)
    return controls / max(1, len(head))


def refuse_binary(raw: bytes, name: str) -> None:
    """Raise FetchError when ``raw`` is not text or HTML (an executable, an image, an archive…)."""
    kind = binary_kind(raw)
    if kind is not None:
        raise FetchError(name, f"not text or a web page (it looks like {kind})",
                         fix="give a saved HTML page, a UTF-8 text file or an article URL")


def looks_like_html(raw: bytes) -> bool:
    """True when the first 4 kB carry HTML tags (doctype, html, head, body, div, p…)."""
    head = raw[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") and _HTML_SNIFF.search(head):
        return True
    return re.search(rb"<(html|body)[\s>]", head, re.I) is not None


# ---------------------------------------------------------------- decoding
def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def declared_charset(raw: bytes, content_type: str | None) -> str | None:
    """The charset the header declares, else the first ``<meta charset>`` / http-equiv in the page."""
    if content_type:
        m = _CT_CHARSET.search(content_type)
        if m and _codec(m.group(1)):
            return _codec(m.group(1))
    meta = _META_CHARSET.search(raw[:8192])
    if meta:
        return _codec(meta.group(1).decode("ascii", "ignore"))
    return None


def decode_html(raw: bytes, content_type: str | None) -> str:
    """Bytes of a page → NFC text.

    Order: a BOM; the header charset; ``<meta charset>``; the bytes themselves. A
    declaration that the bytes contradict loses: valid UTF-8 with non-ASCII letters is
    UTF-8 whatever the page claims (the usual cause of Vietnamese mojibake is a stale
    ``iso-8859-1`` label on UTF-8 bytes), and a declared codec that fails on the bytes is
    replaced by charset-normalizer's guess. Windows-1258's combining tone marks are
    composed by the final NFC.
    """
    return unicodedata.normalize("NFC", _decode(raw, declared_charset(raw, content_type)))


def decode_text(raw: bytes, content_type: str | None) -> str:
    """Plain text bytes → NFC text (UTF-8 first, then the declared charset, then a guess)."""
    declared = None
    if content_type:
        m = _CT_CHARSET.search(content_type)
        declared = _codec(m.group(1)) if m else None
    return unicodedata.normalize("NFC", _decode(raw, declared))


def _decode(raw: bytes, declared: str | None) -> str:
    boms = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
    for bom, enc in boms:
        if raw.startswith(bom):
            return raw[len(bom):].decode(enc, errors="replace")
    try:
        text = raw.decode("utf-8")
        if declared in (None, "utf-8") or not raw.isascii():
            return text
    except UnicodeDecodeError:
        pass
    if declared and declared != "utf-8":
        try:
            return raw.decode(declared)
        except UnicodeDecodeError:
            pass
    guess = _guess(raw)
    if guess:
        try:
            return raw.decode(guess)
        except (UnicodeDecodeError, LookupError):
            pass
    return raw.decode(declared or "utf-8", errors="replace")


def _guess(raw: bytes) -> str | None:
    """charset-normalizer's best guess, preferring the Vietnamese code page when it fits."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    results = from_bytes(raw[:200_000], cp_isolation=["cp1258", "utf_8", "cp1252", "utf_16"])
    best = results.best()
    if best is None:
        results = from_bytes(raw[:200_000])
        best = results.best()
    return best.encoding if best else None
