"""Choosing and building the state: open_store, schema migrations on both backends, adopting a
state file written before migrations existed, refusing a newer one, redacted passwords."""
from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pg_support import backend_params
from reader.config import load_sources
from reader.errors import ConfigError, UsageError
from reader.migrations import LATEST, STEPS, Step, migrate, version
from reader.store import Store, is_url, open_store, redact

OLD_FILE = Path(__file__).parent / "data" / "state" / "v1-before-migrations.sqlite"  # written by vnreader before migrations
T0 = datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc)


@pytest.fixture(params=backend_params())
def backend(request):
    return request.param


@pytest.mark.distributed
def test_open_store_picks_the_backend(tmp_path, pg_url):
    with open_store(tmp_path / "s.sqlite") as s:
        assert isinstance(s, Store) and s.dialect == "sqlite" and s.where == str(tmp_path / "s.sqlite")
    with open_store(pg_url) as s:
        assert type(s).__name__ == "PgStore" and s.dialect == "postgres"


def test_a_new_state_has_every_step(state_at, backend):
    with open_store(state_at(backend)) as s:
        assert version(s) == LATEST
        rows = s._all("SELECT version, name FROM schema_version ORDER BY version")
        assert [r["version"] for r in rows] == [st.version for st in STEPS]
        assert migrate(s) == LATEST  # again: nothing to do
        assert len(s._all("SELECT version FROM schema_version")) == len(STEPS)


def test_an_old_state_file_is_adopted_as_version_1_without_loss(tmp_path):
    path = tmp_path / "old.sqlite"
    shutil.copy(OLD_FILE, path)
    with Store(path) as s:
        assert version(s) == LATEST
        names = [r["name"] for r in s._all("SELECT name FROM schema_version ORDER BY version")]
        assert "adopted" in names[0]
        assert s.counts() == {"done": 1, "failed": 1, "pending": 1}
        assert s.feed_validators("https://x.vn/rss") == ('"etag-1"', "Wed, 26 Jul 2017 13:00:00 GMT")
        (done,) = s.rendered("X")
        assert (done.guid, done.episode, done.done_at, done.doc.title) == ("guid-1", "tin-1.mp3", T0, "Tin 1")
        todo = s.todo("X")
        assert [(e.entry_id, e.status, e.attempts) for e in todo] == [("id-2", "pending", 0), ("id-3", "failed", 1)]
        assert all(e.claimed_by is None for e in todo)
        (claimed,) = s.claim("X", "w", 60, limit=1)  # the new columns work on the adopted rows
        assert claimed.entry_id == "id-2"
    with Store(path) as s:  # and it stays adopted
        assert version(s) == LATEST and s.counts()["pending"] == 1


def test_a_state_newer_than_the_code_is_refused(state_at, backend):
    where = state_at(backend)
    with open_store(where) as s:
        s._execute("INSERT INTO schema_version (version, name, applied) VALUES (?, ?, ?)",
                   (LATEST + 1, "from a later vnreader", "2030-01-01T00:00:00+00:00"))
    with pytest.raises(UsageError, match=f"schema version {LATEST + 1}, newer than this vnreader") as e:
        open_store(where)
    assert "upgrade vnreader" in str(e.value)


def test_a_later_step_is_applied_once(state_at, backend):
    where = state_at(backend)
    extra = Step(LATEST + 1, "a test column", ("ALTER TABLE entries ADD COLUMN note TEXT",),
                 ("ALTER TABLE entries ADD COLUMN note TEXT",))
    with open_store(where) as s:
        assert migrate(s, STEPS + (extra,)) == LATEST + 1
        assert migrate(s, STEPS + (extra,)) == LATEST + 1
        s._execute("UPDATE entries SET note = ?", ("x",))


REDACT_CASES = [
    ("password", "postgresql://vn:s3cret@db.example:5432/vn", "postgresql://vn:***@db.example:5432/vn"),
    ("no-password", "postgresql://vn@db.example/vn", "postgresql://vn@db.example/vn"),
    ("query-password", "postgres://db/vn?password=s3cret&sslmode=require", "postgres://db/vn?password=***&sslmode=require"),
    ("at-in-password", "postgresql://vn:p@ss@db/vn", "postgresql://vn:***@db/vn"),
    ("path", "/srv/out/.vnreader-state.sqlite", "/srv/out/.vnreader-state.sqlite"),
]


@pytest.mark.parametrize("given, shown", [c[1:] for c in REDACT_CASES], ids=[c[0] for c in REDACT_CASES])
def test_redact(given, shown):
    assert redact(given) == shown


def test_is_url():
    assert is_url("postgresql://x/y") and is_url("POSTGRES://x/y")
    assert not is_url("state.sqlite") and not is_url(Path("postgresql:/x"))


def test_an_unreachable_server_is_a_usage_error_without_the_password(tmp_path):
    url = "postgresql://postgres:s3cret@127.0.0.1:1/test"
    with pytest.raises(UsageError) as e:
        open_store(url)
    assert "s3cret" not in str(e.value) and "postgres:***@127.0.0.1:1/test" in str(e.value)


def test_the_run_names_the_state_without_its_password(tmp_path):
    cfg = tmp_path / "sources.toml"
    cfg.write_text('[[sources]]\nname = "X"\nurl = "http://127.0.0.1:1/rss"\n', encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "reader", "run", "--config", str(cfg), "--out", str(tmp_path / "o"),
                        "--state", "postgresql://postgres:s3cret@127.0.0.1:1/test"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stderr
    assert "s3cret" not in p.stdout + p.stderr
    assert "postgresql://postgres:***@127.0.0.1:1/test" in p.stderr


def test_missing_psycopg_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg → ImportError
    with pytest.raises(UsageError, match=r"vnreader\[postgres\]"):
        open_store("postgresql://postgres@127.0.0.1/test")


CONFIG_CASES = [
    ("url", '[state]\nurl = "postgresql://vn@db/vn"\n', "postgresql://vn@db/vn", None),
    ("no-state-table", "", None, None),
    ("not-a-url", '[state]\nurl = "state.sqlite"\n', None, "must be a postgresql:// URL"),
    ("both", '[run]\nstate = "s.sqlite"\n[state]\nurl = "postgresql://vn@db/vn"\n', None, "both say where"),
    ("unknown-key", '[state]\nuri = "postgresql://vn@db/vn"\n', None, "did you mean 'url'"),
]


LEASE_CASES = [
    ("default", "", 900.0, None),
    ("lease", "[state]\nlease = 3600\n", 3600.0, None),
    ("zero", "[state]\nlease = 0\n", None, "lease must be more than 0"),
    ("text", '[state]\nlease = "1h"\n', None, "lease in \\[state\\] must be"),
]


@pytest.mark.parametrize("text, lease, error", [c[1:] for c in LEASE_CASES], ids=[c[0] for c in LEASE_CASES])
def test_state_lease_in_the_sources_file(tmp_path, text, lease, error):
    cfg = tmp_path / "sources.toml"
    cfg.write_text(text + '[[sources]]\nname = "X"\nurl = "https://x.vn/rss"\n', encoding="utf-8")
    if error:
        with pytest.raises(ConfigError, match=error):
            load_sources(cfg)
    else:
        assert load_sources(cfg).state_lease == lease


@pytest.mark.parametrize("text, url, error", [c[1:] for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES])
def test_state_url_in_the_sources_file(tmp_path, text, url, error):
    cfg = tmp_path / "sources.toml"
    cfg.write_text(text + '[[sources]]\nname = "X"\nurl = "https://x.vn/rss"\n', encoding="utf-8")
    if error:
        with pytest.raises(ConfigError, match=error):
            load_sources(cfg)
    else:
        assert load_sources(cfg).state_url == url
