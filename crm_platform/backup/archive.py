"""Writing a backup: every table read from one consistent snapshot, streamed row by row
into the zip (memory holds a batch of rows, never a table), then the org's files."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import utc_now
from crm_platform.core.migrate import current_revision
from crm_platform.core.tables import org as org_table
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import read_snapshot

from .manifest import (
    FILES_FOLDER,
    FORMAT,
    MANIFEST,
    OBJECTS_FOLDER,
    PLATFORM_FOLDER,
    Manifest,
    TableEntry,
)
from .tables import object_tables, platform_tables, unknown_platform_tables
from .values import RowCodec

BATCH = 1000
ENCRYPTION_CHECK = "crm-platform backup"


class BackupRefused(Exception):
    """The backup cannot be made (the reason is the message)."""


@dataclass(frozen=True)
class BackupSummary:
    """What a backup wrote."""

    path: Path
    tables: int
    objects: int
    rows: int
    files: int


def backup_org(org: Any, path: Path, files_root: Path | None = None) -> BackupSummary:
    """Write the whole org to the zip at ``path``: metadata with its history, every
    object's records, users and their assignments, sharing, automation and pack state
    (the platform tables), and the files under ``files_root``."""
    with _snapshot(org.db) as conn:
        names = sa.inspect(conn).get_table_names()
        unknown = unknown_platform_tables(names)
        if unknown:
            raise BackupRefused(
                f"crm backup does not know the platform tables {', '.join(unknown)}: "
                "list them in crm_platform/backup/tables.py"
            )
        snapshot = read_snapshot(conn)
        org_row = conn.execute(sa.select(org_table.c.name)).first()
        partial = path.with_name(path.name + ".partial")
        rows = 0
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            tables: dict[str, TableEntry] = {}
            for table in platform_tables():
                if table.name in names:
                    member = f"{PLATFORM_FOLDER}/{table.name}.jsonl"
                    tables[table.name] = _write_table(conn, archive, table, member)
                    rows += tables[table.name].rows
            objects: dict[str, TableEntry] = {}
            for found in object_tables(snapshot):
                member = f"{OBJECTS_FOLDER}/{found.object_name}.jsonl"
                objects[found.object_name] = _write_table(conn, archive, found.table, member)
                rows += objects[found.object_name].rows
            files = _write_files(archive, files_root)
            manifest = Manifest(
                format=FORMAT,
                created_at=utc_now().isoformat(),
                crm_platform_version=_version(),
                platform_revision=current_revision(org.db),
                source_engine=org.db.dialect,
                org_name=org_row.name if org_row else "",
                metadata_version=snapshot.version,
                tables=tables,
                objects=objects,
                object_tables={f.object_name: f.table.name for f in object_tables(snapshot)},
                files=files,
                encryption_check=_encryption_check(org, snapshot),
            )
            archive.writestr(MANIFEST, manifest.to_json())
    partial.replace(path)  # a backup file is complete or absent
    return BackupSummary(path, len(tables), len(objects), rows, files)


@contextmanager
def _snapshot(db: Any) -> Iterator[Connection]:
    """A read transaction that sees one moment of the whole database (REPEATABLE READ on
    PostgreSQL; a SQLite read transaction in WAL mode does so already)."""
    if db.is_sqlite:
        with db.read() as conn:
            yield conn
        return
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            yield conn


def _write_table(
    conn: Connection, archive: zipfile.ZipFile, table: sa.Table, member: str
) -> TableEntry:
    codec = RowCodec(list(table.columns))
    query = sa.select(*table.columns).order_by(*table.primary_key.columns)
    count = 0
    with archive.open(member, "w", force_zip64=True) as out:
        result = conn.execution_options(yield_per=BATCH).execute(query)
        for partition in result.partitions():
            out.write("".join(codec.dumps(row) for row in partition).encode("utf-8"))
            count += len(partition)
    return TableEntry(member, tuple(codec.names), count)


def _write_files(archive: zipfile.ZipFile, root: Path | None) -> int:
    if root is None or not root.is_dir():
        return 0
    count = 0
    for file in sorted(root.rglob("*")):
        if file.is_file() and not file.name.endswith(".tmp"):
            archive.write(file, f"{FILES_FOLDER}/{file.relative_to(root).as_posix()}")
            count += 1
    return count


def _encryption_check(org: Any, snapshot: Any) -> str | None:
    """A value sealed with the org's key, when it has encrypted fields (so the key is
    needed to read the backup's values)."""
    encrypted = any(field_type(f.definition["type"]).encrypted for f in snapshot.of_kind("field"))
    return org.records.cipher.encrypt(ENCRYPTION_CHECK) if encrypted else None


def _version() -> str:
    try:
        return package_metadata.version("crm-platform")
    except package_metadata.PackageNotFoundError:
        return "unknown"
