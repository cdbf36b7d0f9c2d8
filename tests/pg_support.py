"""PostgreSQL for the state tests: the real server on 127.0.0.1:5432 (``.ci/services`` starts it).

Every test gets its own schema with a random name (``vn_test_…``), dropped afterwards, and a
state URL whose ``options=-c search_path=…`` points there, so tests running at the same time
(and other projects using the same database) never see each other's rows or locks.
``VNREADER_TEST_PG`` overrides the server URL (default ``postgresql://postgres@127.0.0.1:5432/test``).
A server that cannot be reached fails the test: these tests must run, never skip.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import pytest

BASE_URL = os.environ.get("VNREADER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def schema_url(schema: str, base: str = BASE_URL) -> str:
    """``base`` with its search_path set to ``schema`` (libpq's ``options``)."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-c search_path={schema}')}"


@contextlib.contextmanager
def pg_schema(prefix: str = "vn_test") -> Iterator[str]:
    """A fresh schema; yields the state URL that uses it; drops it (and everything in it) after."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(BASE_URL, autocommit=True, connect_timeout=10) as admin:
        admin.execute(f'CREATE SCHEMA "{name}"')
        try:
            yield schema_url(name)
        finally:
            admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A state URL of a fresh PostgreSQL schema of its own."""
    with pg_schema() as url:
        yield url


def backend_params():
    """``parametrize`` values for the two backends, PostgreSQL marked ``distributed``."""
    return [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgres", id="postgres", marks=pytest.mark.distributed)]


@pytest.fixture
def state_at(request, tmp_path):
    """``state_at(backend)`` → a state location for it: a SQLite path under tmp_path, or a fresh schema's URL."""
    stack = contextlib.ExitStack()
    request.addfinalizer(stack.close)

    def make(backend: str, name: str = "state.sqlite"):
        if backend == "sqlite":
            return tmp_path / "st" / name
        return stack.enter_context(pg_schema())

    return make


def main(argv: list[str]) -> int:
    """``python tests/pg_support.py run CONFIG OUT DELAY STATE``: one daily run with the stage fakes
    of ``daily_support`` (writes slowed by DELAY seconds an episode) and the state at STATE;
    prints the titles of the episodes it made and its failures as JSON."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from datetime import datetime, timezone

    from daily_support import FakeRenderer, fake_stages
    from reader.cli import run_exit_code
    from reader.config import load_sources
    from reader.daily import run
    from reader.logs import RunLog

    _, config, out, delay, state = argv
    report = run(load_sources(config), out_dir=Path(out), state_path=state, base_url="http://127.0.0.1:8000/",
                 stages=fake_stages(FakeRenderer(delay=float(delay))), log=RunLog(verbose=True),
                 now=datetime(2017, 9, 1, tzinfo=timezone.utc))
    print(json.dumps({"new": [ep.title for ep in report.new], "failed": [str(e) for _, e in report.failed]},
                     ensure_ascii=False))
    return run_exit_code(report)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
