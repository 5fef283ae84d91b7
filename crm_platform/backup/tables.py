"""What a backup holds: the platform tables (from their SQLAlchemy definitions, so their
values keep their types across engines) and the object tables (built from the metadata,
as the metadata machinery creates them).

A new platform table is backed up once its ``MetaData`` is listed in
:data:`PLATFORM_METADATA`, or left out on purpose in :data:`LEFT_OUT` with the reason;
``crm backup`` refuses a database holding a ``sys_`` table it knows neither way, so no
table is ever silently missing from a backup (tests/backup check the list too).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from crm_platform.collab.tables import collab_metadata
from crm_platform.core.migrate import VERSION_TABLE
from crm_platform.core.tables import platform_metadata
from crm_platform.dedupe.tables import merge_metadata
from crm_platform.imports.tables import import_metadata
from crm_platform.metadata import Snapshot
from crm_platform.metadata.ddl import field_columns, quoted, system_columns
from crm_platform.packs.tables import pack_metadata
from crm_platform.portal.tables import portal_metadata
from crm_platform.predictions.tables import prediction_metadata

PLATFORM_METADATA: tuple[sa.MetaData, ...] = (
    platform_metadata,
    pack_metadata,
    import_metadata,
    portal_metadata,
    collab_metadata,
    merge_metadata,
    prediction_metadata,
)

# Tables a backup leaves out, and why: each is rebuilt or is transient state.
LEFT_OUT: Mapping[str, str] = {
    "sys_search": "the search index is engine-specific; a restore rebuilds it",
    "sys_search_backfill": "search indexing progress; a restore indexes everything",
    "sys_search_group": "the columns of the search index's entries, rebuilt with it",
    "sys_login_throttle": "failed sign-in counters, transient",
    "sys_web_form_hit": "web forms' per-address rate-limit counters, transient",
    VERSION_TABLE: "the platform migration, in the manifest",
}
# SQLite's FTS5 keeps the index in shadow tables named after it
LEFT_OUT_PREFIXES = ("sys_search_fts",)


def platform_tables() -> list[sa.Table]:
    """The platform tables a backup holds, in a fixed order (no foreign keys join them)."""
    tables = [t for meta in PLATFORM_METADATA for t in meta.sorted_tables]
    return [t for t in tables if t.name not in LEFT_OUT]


def unknown_platform_tables(names: list[str]) -> list[str]:
    """The ``sys_`` tables among ``names`` a backup neither holds nor leaves out."""
    known = {t.name for t in platform_tables()} | set(LEFT_OUT)
    return sorted(
        n
        for n in names
        if n.startswith("sys_") and n not in known and not n.startswith(LEFT_OUT_PREFIXES)
    )


@dataclass(frozen=True)
class ObjectTable:
    """An object's table as its metadata describes it: the system columns and the
    columns of every field not purged (a deleted field keeps its data until a purge),
    and the fields' definitions and physical names (to create it again)."""

    object_name: str
    table: sa.Table
    fields: tuple[tuple[Mapping[str, Any], Mapping[str, Any]], ...]
    retired_columns: tuple[str, ...]


def object_tables(snapshot: Snapshot) -> list[ObjectTable]:
    """Every object table the metadata has (deleted objects' too), by object name."""
    meta = sa.MetaData()
    found = []
    for comp in sorted(snapshot.of_kind("object", include_deleted=True), key=lambda c: c.name):
        fields = tuple(
            (f.definition, f.physical)
            for f in snapshot.children(comp.name, "field", include_deleted=True)
        )
        columns = system_columns()
        for definition, physical in fields:
            columns.extend(field_columns(definition, physical))
        table = sa.Table(quoted(comp.physical["table"]), meta, *columns)
        retired = tuple(c for _d, p in fields for c in p.get("retired_columns", ()))
        found.append(ObjectTable(comp.name, table, fields, retired))
    return found
