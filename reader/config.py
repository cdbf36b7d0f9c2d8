"""The sources file (``feeds/sources.toml``) → a typed :class:`Config`.

Everything is checked before anything runs: a wrong key, type or value raises
:class:`~reader.errors.ConfigError` naming ``file:line`` and the fix.

Layout (every table but ``[[sources]]`` is optional)::

    [run]        out, base_url, state, engine, fallback, voice, rate, limit, timezone, fetch_timeout,
                 source_budget
    [retention]  days, max_episodes                 (0 = no limit)
    [limits]     max_chars, max_sentences, max_minutes  (per article; minutes per episode)
    [channel]    title, description, link, language, author, owner_name, owner_email, image, category, guid
    [speech]     url, model, voice, concurrency, rate, rate_url, timeout   (the ``remote`` engine)
    [[groups]]   name, title, intro, outro          (one daily digest per group)
    [[sources]]  name, url, site, engine, voice, limit, group, episodes
    [storage]    url                                (s3://bucket/prefix or a folder: publish there after a run)
    [state]      url, lease                         (postgresql://…: state shared by runs on several machines)
    [queue]      url, concurrency, transfer         (render workers over Celery; docs/operations.md)

Relative paths (``out``, ``state``) are taken relative to the sources file's folder.
"""
from __future__ import annotations

import difflib
import logging
import re
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reader.errors import ConfigError
from reader.limits import Limits
from reader.models import FeedSource

DEFAULT_PATH = Path("feeds/sources.toml")


def example_sources() -> Path | None:
    """The example sources file shipped with vnreader: ``reader/feeds/sources.toml`` in an installed
    wheel, ``feeds/sources.toml`` of a checkout; None when neither is there."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "feeds" / "sources.toml", here.parent / "feeds" / "sources.toml"):
        if candidate.is_file():
            return candidate
    return None


def _missing_sources_fix(path: Path) -> str:
    """What to do about a sources file that is not there: the installed example's path, so a
    wheel install (which has no feeds/ folder of its own) knows where to start from."""
    example = example_sources()
    start = (f"start from the example: mkdir -p {path.parent} && cp {example} {path}"
             if example is not None and example.resolve() != path.resolve() else "write one (see docs/operations.md)")
    return f"give --config FILE, or {start}"


@dataclass(frozen=True)
class Group:
    """A daily digest: the day's articles of every source in the group, one chapter each."""

    name: str  #: config; referenced by sources' ``group``
    title: str  #: config; digest episode title (the date is appended)
    intro: str | None = None  #: config; first line spoken, None = pipeline default
    outro: str | None = None  #: config; last line spoken, None = pipeline default


@dataclass(frozen=True)
class Retention:
    """How long episodes stay in the feed; 0 = no limit."""

    days: int = 30  #: config; episodes published longer ago are removed
    max_episodes: int = 200  #: config; only the newest N stay


@dataclass(frozen=True)
class ChannelInfo:
    """The podcast channel (passed on to ``reader.podcast.Channel``)."""

    title: str = "vnreader — tin tức đọc bằng giọng nói"
    description: str = "Tin tức tiếng Việt đọc tự động bằng vnreader."
    link: str | None = None  #: None = the base URL
    language: str = "vi"
    author: str = "vnreader"
    owner_name: str = "vnreader"
    owner_email: str = "vnreader@example.invalid"
    image: str = "cover.jpg"  #: file name in the output folder (generated when missing)
    category: str = "News"
    guid: str | None = None  #: config; podcast:guid (a UUID); None = UUIDv5 of the feed URL


@dataclass(frozen=True)
class SpeechSettings:
    """An OpenAI-compatible speech server for the ``remote`` engine (``reader/tts/remote.py``).

    Filled from the ``[speech]`` table, then ``--speech-url/--speech-model/--speech-voice``;
    read by the engine. The API key is never here: it comes from ``VNREADER_SPEECH_API_KEY``.
    """

    url: str | None = None  #: config / --speech-url; the base URL (``POST {url}/v1/audio/speech``), None = not configured
    model: str = "tts-1"  #: config / --speech-model; the body's ``model``
    voice: str = "alloy"  #: config / --speech-voice; the body's ``voice`` when --voice gives none
    concurrency: int = 4  #: config; requests in flight at once for one document
    rate: float = 0.0  #: config; request starts per second, 0 = no limit
    rate_url: str | None = None  #: config; a Redis URL: the rate limit is shared by every process using it
    timeout: float = 60.0  #: config; seconds one request may take


@dataclass(frozen=True)
class Config:
    """A checked sources file."""

    path: Path  #: the file it came from (for messages)
    sources: tuple[FeedSource, ...]  #: in file order
    groups: tuple[Group, ...] = ()
    channel: ChannelInfo = ChannelInfo()
    retention: Retention = Retention()
    limits: Limits = Limits()  #: config [limits]; daily reads it for every article and digest
    speech: SpeechSettings = SpeechSettings()  #: config [speech]; the remote engine's server
    out: Path | None = None  #: output folder, None = caller's default
    base_url: str | None = None  #: public URL of the output folder
    state: Path | None = None  #: state database, None = beside the output
    state_url: str | None = None  #: config [state] url; a PostgreSQL state (postgresql://…) instead of the SQLite file
    state_lease: float = 900.0  #: config [state] lease; seconds a run holds an entry it claimed (daily.RunClaims)
    engine: str | None = None  #: default engine for sources without one
    fallback: str | None = None  #: engine that re-renders a whole article when its engine fails; None = the article fails
    voice: str | None = None
    rate: float = 1.0
    timezone: str = "Asia/Ho_Chi_Minh"  #: the day a digest belongs to
    fetch_timeout: float = 30.0  #: config or --timeout; seconds one feed or page fetch may take in total
    source_budget: float = 300.0  #: config; seconds one source (feed + articles) may take per run, 0 = no limit
    storage_url: str | None = None  #: config [storage] url; daily publishes the output there after a run (None: no publish)
    queue_url: str | None = None  #: config [queue] url or --queue; broker of the render workers, None = render here
    queue_concurrency: int = 1  #: config [queue] concurrency or --concurrency; jobs one ``vnreader worker`` runs at once
    #: config [queue] transfer or --queue-transfer: "folder" (workers write the run's output folder, shared) or
    #: "storage" (workers upload to the [storage] url's .staging prefix, the run downloads; reader/transfer.py)
    queue_transfer: str = "folder"

    def group(self, name: str) -> Group:
        return next(g for g in self.groups if g.name == name)


# ---------------------------------------------------------------- schema
# key -> (accepted types, required)
Schema = dict[str, tuple[tuple[type, ...], bool]]
TABLES: dict[str, Schema]  # table name -> its schema, filled in below the schemas
_STR: tuple[type, ...] = (str,)
_INT: tuple[type, ...] = (int,)
RUN_KEYS: Schema = {"out": (_STR, False), "base_url": (_STR, False), "state": (_STR, False), "engine": (_STR, False),
            "fallback": (_STR, False), "voice": (_STR, False), "rate": ((int, float), False), "limit": (_INT, False),
            "timezone": (_STR, False), "fetch_timeout": ((int, float), False),
            "source_budget": ((int, float), False)}
RETENTION_KEYS = {"days": (_INT, False), "max_episodes": (_INT, False)}
LIMITS_KEYS = {"max_chars": (_INT, False), "max_sentences": (_INT, False), "max_minutes": ((int, float), False)}
CHANNEL_KEYS = {k: (_STR, False) for k in ("title", "description", "link", "language", "author", "owner_name",
                                             "owner_email", "image", "category", "guid")}
QUEUE_KEYS = {"url": (_STR, False), "concurrency": (_INT, False), "transfer": (_STR, False)}
#: broker URL schemes Celery takes (Redis, and RabbitMQ through Celery's own transport)
QUEUE_SCHEMES = ("redis", "rediss", "amqp", "amqps", "pyamqp")
GROUP_KEYS = {"name": (_STR, True), "title": (_STR, False), "intro": (_STR, False), "outro": (_STR, False)}
SOURCE_KEYS = {"name": (_STR, True), "url": (_STR, True), "site": (_STR, False), "engine": (_STR, False),
               "voice": (_STR, False), "limit": (_INT, False), "group": (_STR, False), "episodes": ((bool,), False)}
STATE_KEYS = {"url": (_STR, False), "lease": ((int, float), False)}
SPEECH_KEYS = {"url": (_STR, False), "model": (_STR, False), "voice": (_STR, False), "concurrency": (_INT, False),
               "rate": ((int, float), False), "rate_url": (_STR, False), "timeout": ((int, float), False)}
STORAGE_KEYS = {"url": (_STR, False)}
TABLES = {"run": RUN_KEYS, "state": STATE_KEYS, "retention": RETENTION_KEYS, "limits": LIMITS_KEYS,
          "channel": CHANNEL_KEYS, "groups": GROUP_KEYS, "sources": SOURCE_KEYS, "speech": SPEECH_KEYS,
          "storage": STORAGE_KEYS, "queue": QUEUE_KEYS}
ARRAY_TABLES = ("groups", "sources")
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


class _Lines:
    """Where each table and key sits in the file, so errors can name a line."""

    _ARRAY = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]")
    _TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]")
    _KEY = re.compile(r'^\s*("[^"]*"|[A-Za-z0-9_-]+)\s*=')

    def __init__(self, text: str):
        self.where: dict[tuple, int] = {}
        counts: dict[str, int] = {}
        current: tuple = ("", None)
        for n, line in enumerate(text.splitlines(), 1):
            if m := self._ARRAY.match(line):
                name = m.group(1)
                counts[name] = counts.get(name, -1) + 1
                current = (name, counts[name])
                self.where.setdefault(current, n)
            elif m := self._TABLE.match(line):
                current = (m.group(1), None)
                self.where.setdefault(current, n)
            elif m := self._KEY.match(line):
                self.where.setdefault((*current, m.group(1).strip('"')), n)

    def line(self, table: str, index: int | None = None, key: str | None = None) -> int | None:
        if key is not None and (table, index, key) in self.where:
            return self.where[(table, index, key)]
        return self.where.get((table, index))


class _Checker:
    def __init__(self, path: Path, text: str):
        self.path = path
        self.lines = _Lines(text)

    def error(self, table: str, index: int | None, key: str | None, detail: str, fix: str) -> ConfigError:
        return ConfigError(self.path, detail, line=self.lines.line(table, index, key), fix=fix)

    def table(self, data: Any, table: str, index: int | None = None) -> dict:
        """Check one table's keys and value types; return it."""
        label = f"[[{table}]] #{index + 1}" if index is not None else f"[{table}]"
        if not isinstance(data, dict):
            raise self.error(table, index, None, f"{label} must be a table",
                             fix=f"write it as [{table}]" if index is None else f"write each as [[{table}]]")
        schema = TABLES[table]
        for key, value in data.items():
            if key not in schema:
                close = difflib.get_close_matches(key, schema, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(schema)}"
                raise self.error(table, index, key, f"unknown key {key!r} in {label}", fix=hint)
            types, _ = schema[key]
            ok = isinstance(value, types) and not (bool not in types and isinstance(value, bool))
            if not ok:
                want = " or ".join(_TYPE_NAMES[t] for t in types)
                raise self.error(table, index, key, f"{key} in {label} must be {want}, not {value!r}",
                                 fix=f"write {key} = " + ('"…"' if str in types else "true" if bool in types else "3"))
        for key, (_, required) in schema.items():
            if required and key not in data:
                raise self.error(table, index, None, f"{label} has no {key}", fix=f"add {key} = \"…\" to it")
        return data

    def positive(self, value: int, table: str, index: int | None, key: str, *, zero: bool = False) -> int:
        if value < 0 or (value == 0 and not zero):
            raise self.error(table, index, key, f"{key} must be {'0 or more' if zero else 'at least 1'}, not {value}",
                             fix=f"write {key} = {'0' if zero else '1'} or more")
        return value

    def url(self, value: str, table: str, index: int | None, key: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self.error(table, index, key, f"{key} {value!r} is not an http(s) URL",
                             fix="write the full address, e.g. https://vnexpress.net/rss/tin-moi-nhat.rss")
        return value


def _known_engines() -> tuple[str, ...] | None:
    try:
        from reader.tts import ENGINES
    except ImportError:
        return None
    return tuple(ENGINES)


def _known_sites() -> tuple[str, ...] | None:
    try:
        from reader.extract import load_profiles

        return tuple(p.name for p in load_profiles())
    except Exception as e:  # profiles unreadable here: the run reports it per article
        logging.getLogger(__name__).warning("site profiles could not be loaded, source site names are not checked: %s", e)
        return None


def load_sources(path: str | Path | None = None) -> Config:
    """Read and check a sources file; raise :class:`ConfigError` (file:line, fix) on the first problem."""
    path = Path(path) if path is not None else DEFAULT_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError(path, "no such sources file", fix=_missing_sources_fix(path)) from e
    except UnicodeDecodeError as e:
        raise ConfigError(path, "not UTF-8 text", fix="save the file as UTF-8") from e
    except OSError as e:
        raise ConfigError(path, f"cannot read: {e.strerror}", fix="check the path and its permissions") from e
    return parse_sources(text, path)


def parse_sources(text: str, path: str | Path = "<sources>") -> Config:
    """Check the text of a sources file (``path`` is only used in messages and for relative paths)."""
    path = Path(path)
    data = _toml(text, path)
    c = _Checker(path, text)
    _check_tables(data, c)

    run = c.table(data.get("run", {}), "run")
    retention_t = c.table(data.get("retention", {}), "retention")
    limits_t = c.table(data.get("limits", {}), "limits")
    channel_t = c.table(data.get("channel", {}), "channel")
    state_t = c.table(data.get("state", {}), "state")
    state_url = _state_url(state_t, run, c)
    state_lease = float(state_t.get("lease", Config.state_lease))
    if state_lease <= 0:
        raise c.error("state", None, "lease", f"lease must be more than 0 seconds, not {state_lease:g}",
                      fix="write lease = 900 (longer than the slowest article takes to render)")
    speech = _speech(c.table(data.get("speech", {}), "speech"), c)
    queue_url, queue_concurrency, queue_transfer = _queue(c.table(data.get("queue", {}), "queue"), c)
    base = path.parent

    default_limit, rate, tz, fetch_timeout, source_budget = _run_settings(run, c)
    engines = _known_engines()
    sites = _known_sites()
    _check_engine(c, engines, run.get("engine"), "run", None)
    _check_engine(c, engines, run.get("fallback"), "run", None, "fallback")

    groups = _groups(data, c)
    sources = _sources(data, c, default_limit, {g.name for g in groups}, engines, sites)
    retention = _retention(retention_t, c)
    limits = _limits(limits_t, c)
    channel = _channel(channel_t, c)
    storage_url = _storage_url(c.table(data.get("storage", {}), "storage"), c, base)
    return Config(path=path, sources=tuple(sources), groups=tuple(groups), channel=channel, retention=retention,
                  limits=limits, speech=speech,
                  out=(base / run["out"]) if "out" in run else None, base_url=run.get("base_url"),
                  state=(base / run["state"]) if "state" in run else None, engine=run.get("engine"),
                  fallback=run.get("fallback"), voice=run.get("voice"), rate=rate, timezone=tz,
                  fetch_timeout=fetch_timeout, source_budget=source_budget, state_url=state_url,
                  state_lease=state_lease, storage_url=storage_url, queue_url=queue_url,
                  queue_concurrency=queue_concurrency, queue_transfer=queue_transfer)


def _state_url(state: dict, run: dict, c: _Checker) -> str | None:
    """``[state] url``: a PostgreSQL URL, and not together with ``[run] state`` (a SQLite file)."""
    from reader.store import is_url

    url = state.get("url")
    if url is None:
        return None
    if not is_url(url):
        raise c.error("state", None, "url", "url in [state] must be a postgresql:// URL",
                      fix='write url = "postgresql://USER@HOST/DB", or put a SQLite file in [run] state')
    if "state" in run:
        raise c.error("state", None, "url", "[state] url and [run] state both say where the state lives",
                      fix="keep one: [state] url for PostgreSQL, [run] state for a SQLite file")
    return url


def _storage_url(table: dict, c: _Checker, base: Path) -> str | None:
    """[storage] url: ``s3://bucket/prefix`` as written, a folder relative to the sources file."""
    if "url" not in table:
        return None
    from reader.errors import UsageError
    from reader.storage import parse_url

    try:
        where = parse_url(table["url"])
    except UsageError as e:
        raise c.error("storage", None, "url", f"[storage] url: {e.detail}",
                      fix="write url = \"s3://BUCKET/PREFIX\" or a folder path") from e
    return table["url"] if not isinstance(where, Path) else str(base / where)


def _toml(text: str, path: Path) -> dict:
    """The parsed TOML; a syntax error names its line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
        line = int(m.group(1)) if m else getattr(e, "lineno", None)
        detail = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e)) or "TOML syntax error"
        raise ConfigError(path, f"not valid TOML: {detail}", line=line,
                          fix="check quotes, brackets and '=' on that line (see feeds/sources.toml)") from e


def _check_tables(data: dict, c: _Checker) -> None:
    """Only known top-level tables, and arrays of tables written as such."""
    for key, value in data.items():
        if key not in TABLES:
            close = difflib.get_close_matches(key, TABLES, n=1)
            line = c.lines.line(key) or c.lines.line(key, 0) or c.lines.line("", None, key)
            raise ConfigError(c.path, f"unknown table or key {key!r}", line=line,
                              fix=f"did you mean [{close[0]}]?" if close else f"known tables: {', '.join(TABLES)}")
        if key in ARRAY_TABLES and not isinstance(value, list):
            raise c.error(key, None, None, f"{key} must be written as [[{key}]]", fix=f"use [[{key}]] for each entry")


def _run_settings(run: dict, c: _Checker) -> tuple[int, float, str, float, float]:
    """[run]: (default limit, rate, time zone, fetch_timeout, source_budget), checked."""
    default_limit = c.positive(run.get("limit", 5), "run", None, "limit")
    rate = float(run.get("rate", 1.0))
    if not 0.5 <= rate <= 3.0:
        raise c.error("run", None, "rate", f"rate must be between 0.5 and 3.0, not {rate}", fix="write rate = 1.0")
    tz = run.get("timezone", Config.timezone)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise c.error("run", None, "timezone", f"unknown time zone {tz!r}",
                      fix='write an IANA name such as "Asia/Ho_Chi_Minh"') from e
    if "base_url" in run:
        c.url(run["base_url"], "run", None, "base_url")
    fetch_timeout = float(run.get("fetch_timeout", Config.fetch_timeout))
    if not fetch_timeout > 0:
        raise c.error("run", None, "fetch_timeout", f"fetch_timeout must be more than 0 seconds, not {fetch_timeout:g}",
                      fix="write fetch_timeout = 30")
    source_budget = float(run.get("source_budget", Config.source_budget))
    if source_budget < 0:
        raise c.error("run", None, "source_budget", f"source_budget must be 0 (no limit) or more, not {source_budget:g}",
                      fix="write source_budget = 300")
    return default_limit, rate, tz, fetch_timeout, source_budget


def _check_engine(c: _Checker, engines: tuple[str, ...] | None, name: str | None, table: str, index: int | None,
                  key: str = "engine") -> None:
    if name is not None and engines is not None and name not in engines:
        raise c.error(table, index, key, f"unknown engine {name!r}",
                      fix=f"use one of: {', '.join(engines)} (see `vnreader engines`)")


def _groups(data: dict, c: _Checker) -> list[Group]:
    """[[groups]], each name once."""
    groups: list[Group] = []
    for i, g in enumerate(data.get("groups", [])):
        g = c.table(g, "groups", i)
        if any(x.name == g["name"] for x in groups):
            raise c.error("groups", i, "name", f"group {g['name']!r} is defined twice", fix="give each group its own name")
        groups.append(Group(name=g["name"], title=g.get("title", g["name"]), intro=g.get("intro"), outro=g.get("outro")))
    return groups


def _sources(data: dict, c: _Checker, default_limit: int, group_names: set[str], engines, sites) -> list[FeedSource]:
    """[[sources]]: at least one, each name once."""
    raw_sources = data.get("sources", [])
    if not raw_sources:
        raise ConfigError(c.path, "no sources", line=None,
                          fix='add at least one [[sources]] table with name = "…" and url = "https://…"')
    sources: list[FeedSource] = []
    for i, s in enumerate(raw_sources):
        s = c.table(s, "sources", i)
        if any(x.name == s["name"] for x in sources):
            raise c.error("sources", i, "name", f"source {s['name']!r} is listed twice", fix="give each source its own name")
        sources.append(_source(s, i, c, default_limit, group_names, engines, sites))
    return sources


def _source(s: dict, i: int, c: _Checker, default_limit: int, group_names: set[str], engines, sites) -> FeedSource:
    """One checked [[sources]] table (index ``i``)."""
    c.url(s["url"], "sources", i, "url")
    limit = c.positive(s.get("limit", default_limit), "sources", i, "limit")
    group = s.get("group")
    if group is not None and group not in group_names:
        raise c.error("sources", i, "group", f"group {group!r} is not defined",
                      fix=f"add [[groups]] name = \"{group}\", or use one of: {', '.join(sorted(group_names)) or 'none defined'}")
    episodes = s.get("episodes", True)
    if not episodes and group is None:
        raise c.error("sources", i, "episodes", f"source {s['name']!r} makes no episodes and is in no digest",
                      fix="set episodes = true, or put it in a group")
    _check_engine(c, engines, s.get("engine"), "sources", i)
    if s.get("site") is not None and sites is not None and s["site"] not in sites:
        close = difflib.get_close_matches(s["site"], sites, n=1)
        raise c.error("sources", i, "site", f"no site profile {s['site']!r}",
                      fix=(f"did you mean {close[0]!r}? " if close else "")
                      + "profiles are the files in feeds/sites/; omit site to pick one by the page's host")
    return FeedSource(name=s["name"], url=s["url"], site=s.get("site"), engine=s.get("engine"),
                      voice=s.get("voice"), limit=limit, group=group, episodes=episodes)


def _retention(t: dict, c: _Checker) -> Retention:
    return Retention(days=c.positive(t.get("days", Retention.days), "retention", None, "days", zero=True),
                     max_episodes=c.positive(t.get("max_episodes", Retention.max_episodes),
                                             "retention", None, "max_episodes", zero=True))


def _limits(t: dict, c: _Checker) -> Limits:
    limits = Limits(max_chars=c.positive(t.get("max_chars", Limits.max_chars), "limits", None, "max_chars"),
                    max_sentences=c.positive(t.get("max_sentences", Limits.max_sentences), "limits", None,
                                             "max_sentences"),
                    max_minutes=float(t.get("max_minutes", Limits.max_minutes)))
    if limits.max_minutes <= 0:
        raise c.error("limits", None, "max_minutes", f"max_minutes must be positive, not {limits.max_minutes:g}",
                      fix=f"write max_minutes = {Limits.max_minutes:g}")
    return limits


def _speech(t: dict, c: _Checker) -> SpeechSettings:
    """[speech]: the remote engine's server, checked (an http(s) base URL, a Redis rate_url, positive numbers)."""
    if "url" in t:
        c.url(t["url"], "speech", None, "url")
        if t["url"].rstrip("/").endswith("/audio/speech"):
            raise c.error("speech", None, "url", f"url {t['url']!r} is the endpoint, not the server's base URL",
                          fix='write the part before /v1/audio/speech, e.g. url = "http://gpu-box:8000"')
    if "rate_url" in t and urlsplit(t["rate_url"]).scheme not in ("redis", "rediss", "unix"):
        raise c.error("speech", None, "rate_url", f"rate_url {t['rate_url']!r} is not a Redis URL",
                      fix='write rate_url = "redis://HOST:6379/0"')
    concurrency = c.positive(t.get("concurrency", SpeechSettings.concurrency), "speech", None, "concurrency")
    rate, timeout = float(t.get("rate", SpeechSettings.rate)), float(t.get("timeout", SpeechSettings.timeout))
    if rate < 0:
        raise c.error("speech", None, "rate", f"rate must be 0 (no limit) or more requests per second, not {rate:g}",
                      fix="write rate = 10")
    if "rate_url" in t and rate == 0:
        raise c.error("speech", None, "rate_url", "rate_url is set but there is no rate to share",
                      fix="add rate = N (requests per second), or drop rate_url")
    if not timeout > 0:
        raise c.error("speech", None, "timeout", f"timeout must be more than 0 seconds, not {timeout:g}",
                      fix="write timeout = 60")
    for key in ("model", "voice"):
        if key in t and not t[key].strip():
            raise c.error("speech", None, key, f"{key} is empty", fix=f"write the server's {key} name, or drop the key")
    return SpeechSettings(url=t["url"].rstrip("/") if "url" in t else None,
                          model=t.get("model", SpeechSettings.model), voice=t.get("voice", SpeechSettings.voice),
                          concurrency=concurrency, rate=rate, rate_url=t.get("rate_url"), timeout=timeout)


def _queue(t: dict, c: _Checker) -> tuple[str | None, int, str]:
    """[queue]: (broker URL or None, worker concurrency, episode transfer), checked."""
    from reader.transfer import TRANSFERS

    url = t.get("url")
    if url is not None and urlsplit(url).scheme not in QUEUE_SCHEMES:
        raise c.error("queue", None, "url", f"url {url!r} is not a Redis or RabbitMQ broker URL",
                      fix='write url = "redis://127.0.0.1:6379/0" (or amqp://USER:PASSWORD@HOST:5672//)')
    transfer = t.get("transfer", Config.queue_transfer)
    if transfer not in TRANSFERS:
        raise c.error("queue", None, "transfer", f"transfer {transfer!r} is not one of {', '.join(TRANSFERS)}",
                      fix='write transfer = "storage" (workers share no folder with the run) or "folder"')
    return url, c.positive(t.get("concurrency", Config.queue_concurrency), "queue", None, "concurrency"), transfer


def _channel(t: dict, c: _Checker) -> ChannelInfo:
    channel = ChannelInfo(**t)
    if channel.link is not None:
        c.url(channel.link, "channel", None, "link")
    if channel.guid is not None:
        try:
            uuid.UUID(channel.guid)
        except ValueError as e:
            raise c.error("channel", None, "guid", f"guid {channel.guid!r} is not a UUID",
                          fix='write guid = "…" with a UUID, e.g. from python -c "import uuid; print(uuid.uuid4())"') from e
    if len(channel.description.encode("utf-8")) > 4000:
        raise c.error("channel", None, "description", "description is longer than 4000 bytes",
                      fix="shorten it (podcast directories reject longer ones)")
    return channel
