"""Site profiles: data in ``feeds/sites/*.toml``, loaded into frozen ``SiteProfile``s.

A profile says where a site keeps its headline, sapo, body, byline, date and section (CSS
selectors, first match wins), what to drop inside the body, which line patterns are
furniture there, and which saved pages test it. ``docs/extraction.md`` documents the keys.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from reader.errors import ConfigError

#: Where the profiles live: ``$VNREADER_SITES``, else ``feeds/sites`` of the checkout, else the
#: copy installed with the package (a wheel maps ``feeds/`` to ``reader/feeds/``, see pyproject.toml).
CHECKOUT_SITES = Path(__file__).resolve().parents[2] / "feeds" / "sites"
PACKAGED_SITES = Path(__file__).resolve().parents[1] / "feeds" / "sites"
SITES_DIR = CHECKOUT_SITES if CHECKOUT_SITES.is_dir() else PACKAGED_SITES

_LIST_KEYS = ("title", "lead", "body", "author", "published", "section", "drop", "captions", "source")
SELECTOR_KEYS = _LIST_KEYS  #: the ``[select]`` keys, in the order ``--explain`` prints them
_KNOWN_TOP = {"name", "label", "hosts", "detect", "select", "rules", "tests", "note", "fallback"}
#: what reads a page when the profile's selectors fall short (docs/extraction.md, "fallback")
FALLBACKS = ("trafilatura", "generic", "none")


@dataclass(frozen=True)
class SiteTest:
    """One saved page the suite runs through the profile (yt-dlp ``_TESTS`` style)."""

    page: str  #: path under tests/data/pages/
    contains: tuple[str, ...] = ()  #: strings the title+lead+paragraphs must hold
    absent: tuple[str, ...] = ()  #: strings that must not be read aloud
    title: str | None = None  #: exact headline, when given
    author: str | None = None  #: a string the author must contain, when given
    lead: str | None = None  #: the start of the lead, when given


@dataclass(frozen=True)
class SiteProfile:
    """How to read one site. Selectors are CSS; lists are tried in order, first match wins."""

    name: str  #: profile name, becomes Document.site
    hosts: tuple[str, ...] = ()  #: host names; subdomains match too
    label: str = ""  #: the outlet's display name
    site_names: tuple[str, ...] = ()  #: og:site_name / publisher values that identify a saved page
    title: tuple[str, ...] = ()  #: headline selectors
    lead: tuple[str, ...] = ()  #: sapo selectors
    body: tuple[str, ...] = ()  #: article body selectors
    author: tuple[str, ...] = ()  #: byline selectors
    published: tuple[str, ...] = ()  #: date selectors (datetime/content attribute or text)
    section: tuple[str, ...] = ()  #: section selectors (breadcrumb)
    drop: tuple[str, ...] = ()  #: selectors removed inside the body
    captions: tuple[str, ...] = ()  #: selectors whose text is a caption (besides figcaption)
    source: tuple[str, ...] = ()  #: the outlet the article is taken from ("Theo Tiền Phong" box)
    drop_lines: tuple[str, ...] = ()  #: extra line patterns (regex) that are furniture here
    speak_captions: bool = False  #: photo-story site: captions are the body
    byline_last: bool = True  #: a short last paragraph may be the byline
    fallback: str = "trafilatura"  #: body selector fails → generic path; "trafilatura" also runs the
    #: trafilatura net (used when it finds 1.5× the words); "none": no fallback, the page is refused
    tests: tuple[SiteTest, ...] = ()  #: saved pages with must/must-not strings
    note: str = ""  #: free text (e.g. why a profile has no test page)
    path: str = ""  #: the TOML file it came from

    def matches_host(self, host: str | None) -> bool:
        if not host:
            return False
        host = host.lower().rstrip(".")
        return any(host == h or host.endswith("." + h) for h in self.hosts)

    @property
    def line_regexes(self) -> tuple[re.Pattern, ...]:
        return _compile(self.drop_lines)


@lru_cache(maxsize=None)
def _compile(patterns: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(p, re.I) for p in patterns)


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return urlsplit(url.strip()).hostname
    except ValueError:
        return None


# ---------------------------------------------------------------- loading
def _strs(path: Path, key: str, value, *, single_ok: bool = True) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) and single_ok:
        return (value,)
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return tuple(value)
    raise ConfigError(path, f"{key} must be a string or a list of strings", fix="see docs/extraction.md")


def parse_profile(path: Path, data: dict) -> SiteProfile:
    """One TOML document → ``SiteProfile``; unknown keys and bad selectors are ``ConfigError``s."""
    unknown = set(data) - _KNOWN_TOP
    if unknown:
        raise ConfigError(path, f"unknown key(s) {sorted(unknown)}", fix="see docs/extraction.md for the keys")
    name = data.get("name") or path.stem
    select = data.get("select", {})
    rules = data.get("rules", {})
    detect = data.get("detect", {})
    kw = {k: _strs(path, f"select.{k}", select.get(k)) for k in _LIST_KEYS}
    bad = set(select) - set(_LIST_KEYS)
    if bad:
        raise ConfigError(path, f"unknown select key(s) {sorted(bad)}", fix=f"use {', '.join(_LIST_KEYS)}")
    _check_selectors(path, [s for k in _LIST_KEYS for s in kw[k]])
    drop_lines = _strs(path, "rules.drop_lines", rules.get("drop_lines"))
    for p in drop_lines:
        try:
            re.compile(p)
        except re.error as e:
            raise ConfigError(path, f"rules.drop_lines: bad pattern {p!r}: {e}") from e
    fallback = data.get("fallback", "trafilatura")
    if fallback not in FALLBACKS:
        raise ConfigError(path, f"fallback must be one of {', '.join(map(repr, FALLBACKS))}, not {fallback!r}",
                          fix="see docs/extraction.md, \"fallback\"")
    tests = []
    for i, t in enumerate(data.get("tests", [])):
        if "page" not in t:
            raise ConfigError(path, f"tests[{i}] has no page",
                              fix="give page = \"SITE/NAME.html\" under tests/data/pages/")
        tests.append(SiteTest(page=t["page"], contains=_strs(path, "contains", t.get("contains")),
                              absent=_strs(path, "absent", t.get("absent")), title=t.get("title"),
                              author=t.get("author"), lead=t.get("lead")))
    return SiteProfile(name=name, hosts=_strs(path, "hosts", data.get("hosts")), label=data.get("label", name),
                       site_names=_strs(path, "detect.site_names", detect.get("site_names")),
                       drop_lines=drop_lines, speak_captions=bool(rules.get("speak_captions", False)),
                       byline_last=bool(rules.get("byline_last", True)), tests=tuple(tests), fallback=fallback,
                       note=str(data.get("note", "")), path=str(path), **kw)


def _check_selectors(path: Path, selectors: list[str]) -> None:
    from cssselect import SelectorError
    from lxml.cssselect import CSSSelector

    for s in selectors:
        try:
            CSSSelector(s)
        except SelectorError as e:
            raise ConfigError(path, f"bad CSS selector {s!r}: {e}", fix="fix the selector") from e


def load_profiles(directory: str | os.PathLike | None = None) -> tuple[SiteProfile, ...]:
    """Every ``*.toml`` in ``directory`` (default ``$VNREADER_SITES`` or ``feeds/sites``), sorted by
    file name: the order is the registry order, first match wins."""
    directory = Path(directory or os.environ.get("VNREADER_SITES") or SITES_DIR)
    return _load(str(directory))


@lru_cache(maxsize=8)
def _load(directory: str) -> tuple[SiteProfile, ...]:
    d = Path(directory)
    if not d.is_dir():
        return ()
    out = []
    for path in sorted(d.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(path, f"not valid TOML: {e}", fix="fix the file") from e
        out.append(parse_profile(path, data))
    names = [p.name for p in out]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ConfigError(directory, f"duplicate profile names {sorted(dupes)}")
    return tuple(out)
