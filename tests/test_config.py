"""The sources file: the bundled one loads; every mistake names file:line and a fix."""
from __future__ import annotations

import pytest

from reader.config import load_sources, parse_sources
from reader.errors import ConfigError

GOOD = '''\
[run]
limit = 2
engine = "espeak"

[retention]
days = 7

[[groups]]
name = "thoi-su"
title = "Bản tin thời sự"

[[sources]]
name = "VnExpress"
url = "https://vnexpress.net/rss/tin-moi-nhat.rss"
site = "vnexpress"
group = "thoi-su"

[[sources]]
name = "Đại biểu Nhân dân"
url = "https://daibieunhandan.vn/rss/home.rss"
limit = 4
group = "thoi-su"
episodes = false
'''


def test_bundled_sources_file_loads(repo_root):
    cfg = load_sources(repo_root / "feeds" / "sources.toml")
    names = [s.name for s in cfg.sources]
    for outlet in ("VnExpress", "Tuổi Trẻ", "Thanh Niên", "Dân trí", "VietnamPlus", "Báo Quảng Ninh",
                   "Đại biểu Nhân dân"):
        assert outlet in names
    assert all(s.url.startswith("https://") and s.site for s in cfg.sources)
    assert {s.group for s in cfg.sources} <= {g.name for g in cfg.groups}
    assert cfg.retention.days > 0 and cfg.retention.max_episodes > 0
    assert cfg.channel.language == "vi"


def test_good_file_fields():
    cfg = parse_sources(GOOD, "s.toml")
    vne, dbnd = cfg.sources
    assert (vne.limit, vne.site, vne.group, vne.episodes) == (2, "vnexpress", "thoi-su", True)
    assert (dbnd.limit, dbnd.site, dbnd.episodes) == (4, None, False)
    assert cfg.retention.days == 7 and cfg.retention.max_episodes == 200
    assert cfg.group("thoi-su").title == "Bản tin thời sự"
    assert cfg.engine == "espeak"


def test_relative_paths_follow_the_file(tmp_path):
    f = tmp_path / "conf" / "s.toml"
    f.parent.mkdir()
    f.write_text('[run]\nout = "../out"\nstate = "st.sqlite"\n' + GOOD.split("\n", 3)[3], encoding="utf-8")
    cfg = load_sources(f)
    assert cfg.out == f.parent / "../out" and cfg.state == f.parent / "st.sqlite"


# (what to change in GOOD, line the error must name, words the message must contain)
BAD = [
    ("syntax", lambda t: t.replace('site = "vnexpress"', 'site = "vnexpress'), 15, "not valid TOML"),
    ("unknown-key", lambda t: t.replace('site = "vnexpress"', 'sitee = "vnexpress"'), 15, "did you mean 'site'"),
    ("wrong-type", lambda t: t.replace("limit = 4", 'limit = "4"'), 21, "must be an integer"),
    ("bool-not-int", lambda t: t.replace("limit = 4", "limit = true"), 21, "must be an integer"),
    ("zero-limit", lambda t: t.replace("limit = 4", "limit = 0"), 21, "at least 1"),
    ("bad-url", lambda t: t.replace("https://daibieunhandan.vn/rss/home.rss", "daibieunhandan.vn/rss"), 20,
     "not an http(s) URL"),
    ("undefined-group", lambda t: t.replace('group = "thoi-su"\nepisodes', 'group = "the-thao"\nepisodes'), 22,
     "'the-thao' is not defined"),
    ("missing-url", lambda t: t.replace('url = "https://vnexpress.net/rss/tin-moi-nhat.rss"\n', ""), 12, "has no url"),
    ("duplicate-name", lambda t: t.replace('"Đại biểu Nhân dân"', '"VnExpress"'), 19, "listed twice"),
    ("nothing-to-make", lambda t: t.replace('group = "thoi-su"\nepisodes = false', "episodes = false"), 22,
     "no episodes and is in no digest"),
    ("negative-days", lambda t: t.replace("days = 7", "days = -1"), 6, "0 or more"),
    ("bad-rate", lambda t: t.replace("limit = 2", "rate = 9"), 2, "between 0.5 and 3.0"),
    ("unknown-table", lambda t: t.replace("[retention]", "[retension]"), 5, "did you mean [retention]"),
    ("bad-timezone", lambda t: t.replace("limit = 2", 'timezone = "Mars/Olympus"'), 2, "unknown time zone"),
    ("zero-fetch-timeout", lambda t: t.replace("limit = 2", "fetch_timeout = 0"), 2, "more than 0 seconds"),
    ("text-fetch-timeout", lambda t: t.replace("limit = 2", 'fetch_timeout = "30 s"'), 2, "must be an integer or a number"),
    ("negative-source-budget", lambda t: t.replace("limit = 2", "source_budget = -5"), 2, "0 (no limit) or more"),
    ("sources-not-array", lambda t: t.split("[[sources]]")[0] + '[sources]\nname = "x"\n', 12,
     "must be written as [[sources]]"),
]


@pytest.mark.parametrize("edit, line, words", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_file_names_line_and_fix(tmp_path, edit, line, words):
    f = tmp_path / "sources.toml"
    f.write_text(edit(GOOD), encoding="utf-8")
    with pytest.raises(ConfigError) as ei:
        load_sources(f)
    e = ei.value
    assert words in str(e)
    assert e.line == line, str(e)
    assert str(e).startswith(f"{f}:{line}:")
    assert e.fix and e.exit_code == 2


def test_fetch_timeout_default_and_set():
    assert parse_sources(GOOD).fetch_timeout == 30.0
    assert parse_sources(GOOD.replace("limit = 2", "fetch_timeout = 7.5")).fetch_timeout == 7.5


def test_source_budget_default_and_set():
    assert parse_sources(GOOD).source_budget == 300.0
    assert parse_sources(GOOD.replace("limit = 2", "source_budget = 0")).source_budget == 0.0


def test_no_sources_is_an_error():
    with pytest.raises(ConfigError, match="no sources"):
        parse_sources("[run]\nlimit = 2\n", "s.toml")


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such sources file"):
        load_sources(tmp_path / "nope.toml")


def test_unknown_engine_when_registry_known():
    from reader.config import _known_engines

    engines = _known_engines()
    if engines is None:
        pytest.skip("reader.tts has no ENGINES registry here")
    with pytest.raises(ConfigError, match="unknown engine 'nope'") as ei:
        parse_sources(GOOD.replace('engine = "espeak"', 'engine = "nope"'), "s.toml")
    assert ei.value.line == 3


def test_unknown_site_profile_when_profiles_known():
    from reader.config import _known_sites

    sites = _known_sites()
    if sites is None or "vnexpress" not in sites:
        pytest.skip("site profiles are not readable here")
    with pytest.raises(ConfigError, match="no site profile 'vnexpres'.*did you mean 'vnexpress'") as ei:
        parse_sources(GOOD.replace('site = "vnexpress"', 'site = "vnexpres"'), "s.toml")
    assert ei.value.line == 15



def test_fallback_engine_is_read_and_checked():
    cfg = parse_sources(GOOD.replace('engine = "espeak"', 'engine = "gtts"\nfallback = "espeak"'), "s.toml")
    assert (cfg.engine, cfg.fallback) == ("gtts", "espeak")
    assert parse_sources(GOOD, "s.toml").fallback is None
    with pytest.raises(ConfigError) as e:
        parse_sources(GOOD.replace('engine = "espeak"', 'engine = "espeak"\nfallback = "espaek"'), "s.toml")
    assert "s.toml:4" in str(e.value) and "espaek" in str(e.value)


CHANNEL_GUID = "0b3e2f4e-4c61-4a8e-9d59-3a2f6f0d8c11"


@pytest.mark.parametrize("value, ok", [(CHANNEL_GUID, True), ("not-a-uuid", False)], ids=["uuid", "not-a-uuid"])
def test_channel_guid_is_read_and_checked(value, ok):
    text = GOOD + f'\n[channel]\nguid = "{value}"\n'
    if ok:
        assert parse_sources(text).channel.guid == CHANNEL_GUID
        return
    with pytest.raises(ConfigError) as ei:
        parse_sources(text)
    assert ei.value.line == len(GOOD.splitlines()) + 3 and "not a UUID" in str(ei.value)
