"""Merge: records of one object folded into a master, through the record service.

The writer picks the master and, per field, the record whose value the master keeps.
The children of the others (every lookup or master-detail pointing at them) are
re-parented to the master one by one through the record service — as the system user,
so children the writer may not see move too and nothing is left pointing at the recycle
bin — then the others go to the recycle bin (their history stays with them) and the
master takes the chosen values (its field history records the change). Each merged
record leaves a row in ``sys_merge``.

Undo is a restore: restoring a merged record from the recycle bin points its children
back at it, and once every record of a merge is back, the master's fields the merge
changed (and nobody changed since) take their old values again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from crm_platform.core import NotFound, ValidationFailed, new_id
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import SIMPLE
from crm_platform.runtime.model import ObjectModel
from crm_platform.runtime.records import EventContext, RecordSession
from crm_platform.runtime.users import system_user

from .tables import merges

MAX_OTHERS = 10
COMPUTED = frozenset({"formula", "rollup_summary", "auto_number"})


@dataclass(frozen=True)
class MergeResult:
    """What a merge did: its id, the master as it now is, the records merged into it."""

    merge_id: str
    master: dict[str, Any]
    merged: tuple[str, ...]
    moved_children: int  # children re-parented that the writer may see


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    return value


def _input(value: Any) -> Any:
    """A value kept by :func:`_jsonable`, as a write takes it."""
    if isinstance(value, dict) and set(value) == {"$decimal"}:
        return Decimal(value["$decimal"])
    return value


def _check_request(
    session: RecordSession, obj: ObjectModel, master_id: Any, others: Any, values: Any
) -> tuple[str, list[str], dict[str, str]]:
    if not isinstance(master_id, str) or not master_id:
        raise ValidationFailed({"master": "give the id of the record to keep"})
    if not isinstance(others, list) or not others or not all(isinstance(o, str) for o in others):
        raise ValidationFailed({"others": "give the ids of the records to merge into the master"})
    if len(others) > MAX_OTHERS:
        raise ValidationFailed({"others": f"at most {MAX_OTHERS} records per merge"})
    if len(set(others)) != len(others) or master_id in others:
        raise ValidationFailed({"others": "each record once, and not the master"})
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ValidationFailed({"values": "a map of field name to the id of the record to keep"})
    allowed = {master_id, *others}
    for name, source in values.items():
        where = f"values.{name}"
        fld = obj.fields.get(name)
        if fld is None or not session.access.field_readable(obj.api_name, name):
            raise ValidationFailed({where: f"no field '{name}' on {obj.api_name}"})
        if fld.type in COMPUTED or not session.access.field_editable(obj.api_name, name):
            raise ValidationFailed({where: "you may not edit this field"})
        if field_type(fld.type).encrypted:
            raise ValidationFailed({where: "encrypted fields are not merged: edit the master"})
        if source not in allowed:
            raise ValidationFailed({where: "name the master or one of the merged records"})
    return master_id, list(others), dict(values)


def merge_records(
    session: RecordSession,
    object_name: str,
    master_id: Any,
    others: Any,
    values: Any = None,
) -> MergeResult:
    """Merge ``others`` into ``master_id`` keeping, per field in ``values``, the value of
    the record it names; everything in the session's transaction (all or nothing)."""
    obj = session.object(object_name)
    master_id, others, values = _check_request(session, obj, master_id, others, values)
    session.require(obj, "edit")
    session.require(obj, "delete")
    master = session.get(obj.api_name, master_id)
    session.require_edit_access(obj, master_id)
    records = {master_id: master}
    for other in others:
        records[other] = session.get(obj.api_name, other)
        session.require_edit_access(obj, other)
    chosen = {
        name: records[source].get(name)
        for name, source in values.items()
        if records[source].get(name) != master.get(name)
    }
    system = session.as_user(system_user(session.conn))
    moved = {
        other: _reparent(session, system, obj, other, master_id, set(records)) for other in others
    }
    batches = {other: session.delete(obj.api_name, other) for other in others}
    if chosen:
        session.update(
            obj.api_name, master_id, {k: _input(_jsonable(v)) for k, v in chosen.items()}
        )
    merge_id = new_id()
    session.conn.execute(
        merges.insert(),
        [
            {
                "id": new_id(),
                "merge_id": merge_id,
                "object": obj.api_name,
                "master_id": master_id,
                "other_id": other,
                "batch_id": batches[other],
                "children": [list(c) for c in moved[other]],
                "master_before": {k: _jsonable(master.get(k)) for k in chosen},
                "master_after": {k: _jsonable(v) for k, v in chosen.items()},
                "merged_by": session.user.id,
                "merged_at": session.now,
            }
            for other in others
        ],
    )
    children = [c for found in moved.values() for c in found]
    return MergeResult(
        merge_id,
        session.get(obj.api_name, master_id),
        tuple(others),
        _visible_count(session, children),
    )


def _link_value(child: ObjectModel, field_name: str, obj: ObjectModel, target: str) -> Any:
    """A lookup's value pointing at ``target`` (a polymorphic one names its object)."""
    if "object" in child.fields[field_name].columns:
        return {"object": obj.api_name, "id": target}
    return target


def _reparent(
    session: RecordSession, system, obj: ObjectModel, other: str, master_id: str, merging: set
) -> list[tuple[str, str, str]]:
    """Point every live child of ``other`` at the master; the (object, id, field) moved."""
    moved: list[tuple[str, str, str]] = []
    for relation in session.model.relations_to.get(obj.api_name, ()):
        child = session.model.objects[relation.child]
        fld = child.fields[relation.field]
        table = child.table
        link = table.c[fld.columns[SIMPLE].name]
        where = [table.c.deleted_at.is_(None), link == other]
        if relation.polymorphic:
            where.append(table.c[fld.columns["object"].name] == obj.api_name)
        ids = [r[0] for r in session.conn.execute(sa.select(table.c.id).where(*where))]
        for child_id in ids:
            if child.api_name == obj.api_name and child_id in merging:
                continue  # a merged record's own link: its delete or the master decides
            value = _link_value(child, relation.field, obj, master_id)
            system.update(child.api_name, child_id, {relation.field: value})
            moved.append((child.api_name, child_id, relation.field))
    return moved


def _visible_count(session: RecordSession, children: Sequence[tuple[str, str, str]]) -> int:
    by_object: dict[str, list[str]] = {}
    for object_name, child_id, _field in children:
        by_object.setdefault(object_name, []).append(child_id)
    count = 0
    for object_name, ids in by_object.items():
        child = session.model.objects[object_name]
        if not session.access.can(object_name, "read"):
            continue
        query = sa.select(sa.func.count()).where(child.table.c.id.in_(ids), *session.visible(child))
        count += session.conn.execute(query).scalar() or 0
    return count


# --- undo: a restore from the recycle bin ---------------------------------------------


def undo_on_restore(ctx: EventContext) -> None:
    """After a restore: a merged record brought back gets its children back; the last
    one of its merge brings the master's old values back too."""
    roots = {c.record_id: c.batch_id for c in ctx.changes if not c.cascaded}
    if not roots:
        return
    conn = ctx.connection
    rows = (
        conn.execute(
            sa.select(merges).where(
                merges.c.other_id.in_(list(roots)),
                merges.c.object == ctx.object.api_name,
                merges.c.undone_at.is_(None),
            )
        )
        .mappings()
        .all()
    )
    rows = [r for r in rows if roots.get(r["other_id"]) == r["batch_id"]]
    if not rows:
        return
    system = ctx.records_as(system_user(conn))
    for row in rows:
        _point_back(ctx, system, row)
        conn.execute(merges.update().where(merges.c.id == row["id"]).values(undone_at=ctx.now))
        left = conn.execute(
            sa.select(sa.func.count()).where(
                merges.c.merge_id == row["merge_id"], merges.c.undone_at.is_(None)
            )
        ).scalar()
        if not left:
            _restore_master(ctx, system, row)


def _point_back(ctx: EventContext, system, row: Mapping[str, Any]) -> None:
    model = ctx.model
    for object_name, child_id, field_name in row["children"]:
        child = model.object(object_name)
        if child is None or field_name not in child.fields:
            continue
        fld = child.fields[field_name]
        table = child.table
        still = ctx.connection.execute(
            sa.select(table.c.id).where(
                table.c.id == child_id,
                table.c.deleted_at.is_(None),
                table.c[fld.columns[SIMPLE].name] == row["master_id"],
            )
        ).first()
        if still is None:
            continue  # moved or deleted since: it stays where it is now
        other = model.objects[row["object"]]
        value = _link_value(child, field_name, other, row["other_id"])
        system.update(object_name, child_id, {field_name: value})


def _restore_master(ctx: EventContext, system, row: Mapping[str, Any]) -> None:
    before, after = row["master_before"], row["master_after"]
    if not before:
        return
    try:
        current = system.get(row["object"], row["master_id"])
    except NotFound:  # the master is gone (deleted since): nothing to put back
        return
    back = {
        name: _input(value)
        for name, value in before.items()
        if json.dumps(_jsonable(current.get(name)), sort_keys=True, default=str)
        == json.dumps(after.get(name), sort_keys=True, default=str)
    }
    if back:
        system.update(row["object"], row["master_id"], back)
