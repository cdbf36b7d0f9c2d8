"""Shared fixtures. Area-specific fixtures live in the area's own test modules."""
from pathlib import Path

import pytest
from pg_support import pg_url, state_at  # noqa: F401 (fixtures: PostgreSQL state in a schema of its own)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT
