"""Restoring a backup into an empty database, on either engine.

In order: the checks (an empty database, a known format and platform migration, an
encryption key that reads the backup's values) refuse before anything is written; the
platform tables are brought to the backup's migration; then, in ONE transaction, the
platform rows (metadata and its history included) are inserted, each object's table is
created from the restored metadata by the metadata machinery's own DDL and filled, and
PostgreSQL's sequences are moved past the ids inserted. Then the platform tables are
upgraded to this code's newest migration, the search index is rebuilt, and the files are
put back. A failure in the transaction leaves the database as empty as it was.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path, PurePosixPath
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core.crypto import KEY_FILE
from crm_platform.core.migrate import known_revision, upgrade_platform
from crm_platform.metadata import read_snapshot
from crm_platform.metadata.ddl import create_object_table, operations, quoted
from crm_platform.metadata.names import OBJECT_TABLE_PREFIX

from .archive import ENCRYPTION_CHECK
from .manifest import FILES_FOLDER, FORMAT, MANIFEST, Manifest, TableEntry
from .tables import ObjectTable, object_tables, platform_tables
from .values import RowCodec

BATCH = 1000


class RestoreRefused(Exception):
    """The restore was refused before anything changed (the reason is the message)."""


@dataclass(frozen=True)
class RestoreSummary:
    """What a restore put back."""

    tables: int
    objects: int
    rows: int
    files: int
    indexed: int


def read_manifest(archive: zipfile.ZipFile) -> Manifest:
    """The backup's manifest; refused when it is no backup of a format this code reads."""
    try:
        manifest = Manifest.from_json(archive.read(MANIFEST).decode("utf-8"))
    except (KeyError, ValueError, TypeError) as exc:
        raise RestoreRefused("this file is not a crm backup (no readable manifest)") from exc
    if manifest.format != FORMAT:
        raise RestoreRefused(
            f"this backup has format {manifest.format}; this crm-platform reads format {FORMAT}"
        )
    return manifest


def restore_org(org: Any, path: Path, files_root: Path | None = None) -> RestoreSummary:
    """Restore the backup at ``path`` into ``org``'s database, which must be empty, and
    its files under ``files_root``."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise RestoreRefused(f"cannot read {path}: {exc}") from exc
    with archive:
        manifest = read_manifest(archive)
        revision = manifest.platform_revision
        if revision is None or not known_revision(revision):
            raise RestoreRefused(
                f"this backup was made at platform migration {revision}, which this "
                "crm-platform does not know: restore it with a newer crm-platform"
            )
        _refuse_unless_empty(org.db)
        _refuse_unreadable_values(org, manifest)
        upgrade_platform(org.db, revision)
        with org.db.write(ddl=True) as conn:
            rows = _restore_platform(conn, archive, manifest)
            rows += _restore_objects(conn, archive, manifest)
            if not org.db.is_sqlite:
                _move_sequences(conn, manifest)
        upgrade_platform(org.db)
        indexed = _rebuild_search(org)
        files = _restore_files(archive, files_root)
    return RestoreSummary(len(manifest.tables), len(manifest.objects), rows, files, indexed)


# --- checks ---------------------------------------------------------------------------------


def _refuse_unless_empty(db: Any) -> None:
    """Refuse a database that holds an org (or any of one): a restore never merges."""
    with db.engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        found = sorted(n for n in names if n.startswith(OBJECT_TABLE_PREFIX))
        for table in platform_tables():
            if (
                table.name in names
                and conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first()
            ):
                found.append(table.name)
    if found:
        shown = ", ".join(found[:5]) + (", ..." if len(found) > 5 else "")
        raise RestoreRefused(
            f"the database {db.engine.url.render_as_string(hide_password=True)} is not "
            f"empty (it holds {shown}): a restore goes into an empty database only"
        )


def _refuse_unreadable_values(org: Any, manifest: Manifest) -> None:
    if manifest.encryption_check is None:
        return
    settings = org.settings
    has_key = settings.encryption_key or (Path(settings.instance_path) / KEY_FILE).exists()
    try:
        # never generate a key here: a new key could not read the values either
        readable = (
            bool(has_key)
            and org.records.cipher.decrypt(manifest.encryption_check) == ENCRYPTION_CHECK
        )
    except ValueError:
        readable = False
    if not readable:
        raise RestoreRefused(
            "the org's encrypted fields were encrypted with another key: set "
            "CRM_ENCRYPTION_KEY to the source org's key (or copy its instance folder's "
            "encryption.key) before restoring"
        )


# --- rows -----------------------------------------------------------------------------------


def _restore_platform(conn: Connection, archive: zipfile.ZipFile, manifest: Manifest) -> int:
    by_name = {t.name: t for t in platform_tables()}
    unknown = sorted(set(manifest.tables) - set(by_name))
    if unknown:
        raise RestoreRefused(f"this backup holds tables this code does not know: {unknown}")
    count = 0
    for name, entry in manifest.tables.items():
        count += _insert(conn, archive, by_name[name], entry)
    return count


def _restore_objects(conn: Connection, archive: zipfile.ZipFile, manifest: Manifest) -> int:
    """Create each object's table from the restored metadata, then fill it."""
    op = operations(conn)
    count = 0
    for found in object_tables(read_snapshot(conn)):
        _create(op, found)
        entry = manifest.objects.get(found.object_name)
        if entry is not None:
            count += _insert(conn, archive, found.table, entry)
    return count


def _create(op: Any, found: ObjectTable) -> None:
    create_object_table(op, found.table.name, list(found.fields))
    # a retired column (the old column of a converted field) waits for a purge to drop
    # it; it is created empty: its values are no field's any more
    for column in found.retired_columns:
        op.add_column(quoted(found.table.name), sa.Column(quoted(column), sa.Text))


def _insert(conn: Connection, archive: zipfile.ZipFile, table: sa.Table, entry: TableEntry) -> int:
    missing = [c for c in entry.columns if c not in table.c]
    if missing:
        raise RestoreRefused(f"{table.name} has no columns {missing} of the backup")
    codec = RowCodec([table.c[c] for c in entry.columns])
    count = 0
    lines = _lines(archive, entry.member)
    while batch := list(islice(lines, BATCH)):
        conn.execute(table.insert(), [codec.loads(line) for line in batch])
        count += len(batch)
    if count != entry.rows:
        raise RestoreRefused(f"{entry.member} has {count} rows; the manifest says {entry.rows}")
    return count


def _lines(archive: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    with archive.open(member) as stream:
        for line in stream:
            if line.strip():
                yield line


def _move_sequences(conn: Connection, manifest: Manifest) -> None:
    """Move each serial column's sequence past the ids the restore inserted (they were
    given explicitly, so PostgreSQL's sequence did not move)."""
    for table in platform_tables():
        if table.name not in manifest.tables:
            continue
        for column in table.primary_key.columns:
            if not isinstance(column.type, sa.Integer) or column.autoincrement is False:
                continue
            sequence = conn.execute(
                sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                {"t": table.name, "c": column.name},
            ).scalar()
            if sequence is None:
                continue
            conn.execute(
                sa.text(
                    f'SELECT setval(:s, COALESCE((SELECT MAX("{column.name}") FROM '
                    f'"{table.name}"), 1), (SELECT COUNT(*) > 0 FROM "{table.name}"))'
                ),
                {"s": sequence},
            )


# --- after the data -------------------------------------------------------------------------


def _rebuild_search(org: Any) -> int:
    """The search index, rebuilt for every searchable object (it is not in a backup)."""
    from crm_platform.runtime.records.search import reindex_object, searchable

    count = 0
    with org.db.write() as conn:
        model = org.models.model_for(conn, for_write=True)
        for obj in model.objects.values():
            if searchable(obj):
                count += reindex_object(conn, model, obj)
    return count


def _restore_files(archive: zipfile.ZipFile, root: Path | None) -> int:
    if root is None:
        return 0
    prefix = f"{FILES_FOLDER}/"
    count = 0
    for info in archive.infolist():
        if not info.filename.startswith(prefix) or info.is_dir():
            continue
        relative = PurePosixPath(info.filename[len(prefix) :])
        if relative.is_absolute() or ".." in relative.parts:
            continue  # never write outside the files folder
        target = root.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as source, target.open("wb") as out:
            shutil.copyfileobj(source, out)
        count += 1
    return count


def describe_backup(path: Path) -> dict[str, Any]:
    """The manifest of a backup, as JSON (``crm restore --check``)."""
    with zipfile.ZipFile(path) as archive:
        return json.loads(read_manifest(archive).to_json())
