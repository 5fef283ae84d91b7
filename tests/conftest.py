"""Shared fixtures: every test gets its own empty database on the engine under test.

``pytest`` alone runs on SQLite (a fresh file per test). With
``CRM_TEST_DATABASE_URL`` set to a PostgreSQL URL the same tests run there, each
in a schema of its own that is dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from crm_platform.core import normalise_url

TEST_DATABASE_URL = os.environ.get("CRM_TEST_DATABASE_URL", "").strip()
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgres")


def _with_search_path(url: str, schema: str) -> str:
    option = quote(f"-csearch_path={schema},public")
    return f"{url}{'&' if '?' in url else '?'}options={option}"


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'crm.db'}"
        return
    base = normalise_url(TEST_DATABASE_URL)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield _with_search_path(base, schema)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def dialect_name() -> str:
    return "postgresql" if ON_POSTGRES else "sqlite"
