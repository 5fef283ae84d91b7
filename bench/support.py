"""What every benchmark script needs: a scratch database and the server's name."""

from __future__ import annotations

import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from crm_platform.core import normalise_url


@contextmanager
def scratch_database(kind: str, postgres_url: str) -> Iterator[tuple[str, Path]]:
    """A URL to an empty database (a SQLite file, or a fresh PostgreSQL schema) and a
    scratch folder; both are removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as tmp:
        folder = Path(tmp)
        if kind == "sqlite":
            yield f"sqlite:///{folder / 'bench.db'}", folder
            return
        base = normalise_url(postgres_url)
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        try:
            option = quote(f"-csearch_path={schema},public")
            yield f"{base}{'&' if '?' in base else '?'}options={option}", folder
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()


def server_version(org: Any) -> str:
    """``SQLite 3.40.1`` or ``PostgreSQL 15.20``."""
    if org.db.is_sqlite:
        return f"SQLite {sqlite3.sqlite_version}"
    with org.db.read() as conn:
        return f"PostgreSQL {conn.exec_driver_sql('SHOW server_version').scalar_one()}"
