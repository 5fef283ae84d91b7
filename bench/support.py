"""What every benchmark script needs: a scratch database and the server's name."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
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


@contextmanager
def running_server(
    command: list[str],
    *,
    port: int,
    env: dict[str, str],
    log_path: Path,
    cwd: Path | None = None,
    start_seconds: float = 90,
) -> Iterator[tuple[str, int]]:
    """Start a server ``command`` listening on ``port``, wait for its ``/healthz``, yield
    its base URL and pid, and stop it (SIGTERM, then SIGKILL after 30 s); a traceback or
    an error in its log is printed to stderr."""
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + start_seconds
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"server exited: {log_path.read_text()[-2000:]}")
            try:
                if requests.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"server did not answer /healthz within {start_seconds:.0f} s")
            time.sleep(0.2)
        yield base_url, server.pid
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        text = log_path.read_text()
        if "Traceback" in text or "ERROR" in text:
            print("the server logged errors; its log ends with:\n" + text[-3000:], file=sys.stderr)
