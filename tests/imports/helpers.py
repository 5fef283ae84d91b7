"""What the import tests share: the `crm` command, counting records, writing files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from crm_platform.cli import main


@pytest.fixture
def crm(org, database_url, tmp_path, load_metadata):
    """`crm` against the test org (with the imports fixture's accounts and contacts)."""
    load_metadata("imports")
    runner = CliRunner()
    env = {"CRM_DATABASE_URL": database_url, "CRM_INSTANCE_PATH": str(tmp_path / "instance")}

    def run(*args: str, ok: bool = True):
        result = runner.invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return result

    return run


def records(org, object_name: str, *fields: str) -> list[tuple]:
    """The live records of an object (given fields), ordered by id."""
    with org.reading() as (conn, model):
        obj = model.objects[object_name]
        columns = [obj.table.c.id if f == "id" else obj.fields[f].columns[""] for f in fields] or [
            obj.table.c.id
        ]
        query = sa.select(*columns).where(obj.table.c.deleted_at.is_(None)).order_by(obj.table.c.id)
        return [tuple(row) for row in conn.execute(query)]


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def read_errors(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def spy_on_workers(monkeypatch) -> list:
    """The converting workers an import starts (``imports.feed``), as it starts them."""
    from crm_platform.imports import feed

    workers = []
    received = feed._received

    def spy(stream, worker):
        workers.append(worker)
        return received(stream, worker)

    monkeypatch.setattr(feed, "_received", spy)
    return workers
