"""Keeping the search index current when metadata changes what it holds (ADR 0017).

A change set that makes more of an object's records searchable — a text field
made searchable, a field that becomes text, a field restored, the object made
searchable, another name field — asks for a backfill of that object: a row in
``sys_search_backfill``, written in the change set's own transaction. After
commit the org's work runner (:mod:`crm_platform.runtime.work`) indexes the
records in batches, one transaction each, moving the row's ``last_id`` with
every batch: an interrupted backfill resumes where it stopped. A change that
regroups fields (a permission set hiding or opening one, ADR 0052) asks for one
too. What a change removes from the index (a field no longer searchable, deleted
or purged, an object no longer searchable or purged) is removed at once, in the
change set: every entry holding its text, whatever grouping wrote it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import utc_now
from crm_platform.core.tables import search_backfills
from crm_platform.metadata import ACTIVE, CandidateModel
from crm_platform.metadata.store import PURGED, ComponentChange

from ..model import OrgModel
from .search import group_table, index_records, indexes, search_table
from .search_groups import IndexedField, SearchGroup, visibility_groups

BATCH = 500
CLAIM = timedelta(minutes=2)  # a runner that stops holds an object this long at most


def _indexed(fields: Sequence[Any]) -> dict[str, tuple[str, str]]:
    """field component id -> (its column, its type) of the fields whose text is indexed."""
    out = {}
    for comp in fields:
        if comp.status != ACTIVE or not indexes(comp.definition):
            continue
        columns = ",".join(sorted(comp.physical.get("columns", {}).values()))
        out[comp.id] = (columns, comp.definition["type"])
    return out


def _groups(
    object_name: str, fields: Sequence[Any], permission_sets: Mapping[str, Any]
) -> tuple[SearchGroup, ...]:
    """The visibility groups of an object's field components (as ``search.groups_of``
    groups the compiled object's)."""
    indexed = [
        IndexedField(c.definition["api_name"], tuple(c.physical.get("columns", {}).values()))
        for c in sorted(fields, key=lambda c: (c.position, c.name))
        if c.status == ACTIVE and indexes(c.definition)
    ]
    return visibility_groups(object_name, indexed, permission_sets)


def _permission_sets(
    changes: Sequence[ComponentChange], model: CandidateModel
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """The permission sets before and after the change set, by name, and whether it
    changes any (when not, no field's readers change)."""
    after = {c.name: c.definition for c in model.of_kind("permission_set")}
    changed = [c for c in changes if c.after.kind == "permission_set"]
    if not changed:
        return after, after, False
    before = dict(after)
    for change in changed:
        before.pop(change.after.name, None)
    for change in changed:
        if change.before is not None and change.before.status == ACTIVE:
            before[change.before.name] = change.before.definition
    return before, after, True


def _title(header: Any, fields: Sequence[Any]) -> str:
    name = header.definition.get("name_field")
    comp = next((f for f in fields if f.definition["api_name"] == name), None)
    return ",".join(sorted(comp.physical.get("columns", {}).values())) if comp else ""


def plan_backfills(
    conn: Connection, changes: Sequence[ComponentChange], model: CandidateModel
) -> list[str]:
    """Apply hook part: drop entries a change set removes from the index, and ask for a
    backfill of each object whose records it makes searchable or whose fields it
    regroups (a permission set that hides or opens a field: ``search_groups``).
    Returns those objects."""
    touched = {
        c.after.name if c.after.kind == "object" else c.after.parent
        for c in changes
        if c.after.kind in {"object", "field"} and c.before is not None
    } | {c.after.parent for c in changes if c.after.kind == "field" and c.before is None}
    sets_before, sets_after, sets_changed = _permission_sets(changes, model)
    if sets_changed:
        touched |= {c.name for c in model.of_kind("object")}
    for change in changes:  # a purged object's entries go with its records
        if change.after.kind == "object" and change.after.status == PURGED:
            _drop_object_entries(conn, change.after.name)
    requested = []
    for name in sorted(n for n in touched if n):
        header = model.get("object", name)
        if header is None or header.status != ACTIVE:
            continue
        before_header = model.base_of(header)
        if before_header is None:
            continue  # created in this change set: it has no records yet
        fields_now = _fields_with_purged(model, name)
        fields_before = [f for f in (model.base_of(f) for f in fields_now) if f is not None]
        if header.definition.get("searchable", True) is False:
            conn.execute(search_table.delete().where(search_table.c.object == name))
            continue
        was_searchable = before_header.definition.get("searchable", True) is not False
        now, then = _indexed(fields_now), _indexed(fields_before) if was_searchable else {}
        groups_now = _groups(name, fields_now, sets_after)
        groups_then = _groups(before_header.name, fields_before, sets_before)
        gone = [b for b in fields_before if b.id in then and b.id not in now]
        if gone:  # their text leaves the index now: every entry holding it goes
            _drop_entries_holding(conn, name, gone)
        added = any(then.get(key) != value for key, value in now.items())
        regrouped = {g.key for g in groups_now} != {g.key for g in groups_then}
        retitled = _title(header, fields_now) != _title(before_header, fields_before)
        # a restored object's backfill may have ended while it was deleted (it found no
        # object to index)
        restored = before_header.status != ACTIVE
        changed = added or regrouped or retitled or restored or not was_searchable
        if changed and _has_records(conn, header):
            request_backfill(conn, name)
            requested.append(name)
    return requested


def _fields_with_purged(model: CandidateModel, object_name: str) -> list[Any]:
    """The object's field components, deleted ones and those this change set purges
    included (a field purged while active leaves the index here: it is no deleted field
    any more), but not the purged stand-ins a rename leaves under a field's old name."""
    fields = list(model.fields_of(object_name, include_deleted=True))
    live = {f.id for f in fields}
    for comp in model.group("field", object_name).values():
        if comp.status != PURGED or comp.id in live:
            continue
        base = model.base_of(comp)
        if base is not None and base.status != PURGED:
            fields.append(comp)
    return fields


def _drop_object_entries(conn: Connection, object_name: str) -> None:
    for table in (search_table, group_table):
        conn.execute(table.delete().where(table.c.object == object_name))


def _drop_entries_holding(conn: Connection, object_name: str, fields: Sequence[Any]) -> None:
    """Delete the object's entries that hold the text of any of these field components:
    those under every key whose columns include one of theirs (``sys_search_group``,
    whatever grouping wrote them), and the one-field entries older orgs named by field."""
    columns = {c for f in fields for c in f.physical.get("columns", {}).values()}
    recorded = conn.execute(
        sa.select(group_table.c.key, group_table.c.columns).where(
            group_table.c.object == object_name
        )
    )
    holding = [row.key for row in recorded if columns & set(row.columns.split(","))]
    names = [f.definition["api_name"] for f in fields]
    conn.execute(
        search_table.delete().where(
            search_table.c.object == object_name, search_table.c.field.in_([*holding, *names])
        )
    )


def _has_records(conn: Connection, header: Any) -> bool:
    t = sa.table(header.physical["table"], sa.column("id"))
    return conn.execute(sa.select(t.c.id).limit(1)).first() is not None


def request_backfill(conn: Connection, object_name: str) -> None:
    """(Re)start the backfill of an object from its first record."""
    now = utc_now()
    values = {"last_id": "", "indexed": 0, "updated_at": now, "finished_at": None}
    updated = conn.execute(
        search_backfills.update().where(search_backfills.c.object == object_name).values(values)
    )
    if not updated.rowcount:
        conn.execute(
            search_backfills.insert().values(object=object_name, requested_at=now, **values)
        )


def pending(conn: Connection) -> list[str]:
    """Objects whose backfill is unfinished and not held by a live runner."""
    now = utc_now()
    sb = search_backfills
    rows = conn.execute(
        sa.select(sb.c.object)
        .where(
            sb.c.finished_at.is_(None),
            sa.or_(sb.c.claimed_until.is_(None), sb.c.claimed_until < now),
        )
        .order_by(sb.c.requested_at)
    )
    return [r[0] for r in rows]


def claim(conn: Connection, object_name: str) -> bool:
    """Take an unfinished backfill no live runner holds (in its own short transaction)."""
    sb = search_backfills
    now = utc_now()
    taken = conn.execute(
        sb.update()
        .where(
            sb.c.object == object_name,
            sb.c.finished_at.is_(None),
            sa.or_(sb.c.claimed_until.is_(None), sb.c.claimed_until < now),
        )
        .values(claimed_until=now + CLAIM)
    )
    return bool(taken.rowcount)


def release(conn: Connection, object_name: str) -> None:
    """Let another runner take an unfinished backfill at once (a runner that stops)."""
    sb = search_backfills
    conn.execute(sb.update().where(sb.c.object == object_name).values(claimed_until=None))


def run_batch(conn: Connection, model: OrgModel, object_name: str) -> bool:
    """Index the next batch of a claimed backfill; False once it is done. One
    transaction: the entries and the progress marker move together."""
    sb = search_backfills
    now = utc_now()
    row = conn.execute(
        sa.select(sb.c.last_id, sb.c.indexed, sb.c.finished_at).where(sb.c.object == object_name)
    ).first()
    if row is None or row.finished_at is not None:
        return False
    obj = model.object(object_name)
    ids: list[str] = []
    if obj is not None:
        query = (
            sa.select(obj.table.c.id)
            .where(obj.table.c.deleted_at.is_(None), obj.table.c.id > row.last_id)
            .order_by(obj.table.c.id)
            .limit(BATCH)
        )
        if conn.dialect.name != "sqlite":
            query = query.with_for_update()  # a record saved meanwhile waits, then re-indexes
        ids = [r[0] for r in conn.execute(query)]
    values: Mapping[str, Any]
    if ids:
        index_records(conn, model, obj, ids)
        values = {
            "last_id": ids[-1],
            "indexed": row.indexed + len(ids),
            "updated_at": now,
            "claimed_until": now + CLAIM,
        }
    else:
        values = {"finished_at": now, "updated_at": now, "claimed_until": None}
    conn.execute(sb.update().where(sb.c.object == object_name).values(values))
    return bool(ids)


def progress(conn: Connection, object_name: str) -> dict[str, Any] | None:
    """The backfill row of an object, for the API and tests."""
    row = (
        conn.execute(sa.select(search_backfills).where(search_backfills.c.object == object_name))
        .mappings()
        .first()
    )
    return dict(row) if row else None
