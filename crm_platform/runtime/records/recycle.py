"""The recycle bin: delete (with the children that go with the record), restore (exactly
the batch deleted together, re-linking the lookups the delete cleared) and purge.

Every record that moves fires its events; children moved by a cascade are marked
``cascaded`` and carry the batch id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from crm_platform.core import Conflict, new_id
from crm_platform.core.tables import delete_links
from crm_platform.metadata import SIMPLE

from ..model import ObjectModel, Relation
from .context import RecordContext
from .events import RecordChange, RecordEvent
from .reads import get

MAX_CASCADE_DEPTH = 10


def delete(ctx: RecordContext, object_name: str, record_id: str) -> str:
    """Move a record (and the children that go with it) to the recycle bin; the batch id."""
    obj = ctx.object(object_name)
    ctx.require(obj, "delete")
    current = ctx.current_for_edit(obj, record_id)
    batch = new_id()
    _delete_tree(ctx, obj, [current], batch, depth=0)
    return batch


def _delete_tree(
    ctx: RecordContext, obj: ObjectModel, rows: Sequence[Mapping[str, Any]], batch: str, depth: int
) -> None:
    """Children first (restrict refuses, set_null clears, cascade recurses), then ``rows``."""
    if depth > MAX_CASCADE_DEPTH:
        raise Conflict("records nest too deeply to delete at once")
    ids = [r["id"] for r in rows]
    for relation in ctx.model.relations_to.get(obj.api_name, ()):
        child = ctx.model.objects[relation.child]
        children = _live_children(ctx, obj, relation, ids)
        if not children:
            continue
        if relation.on_delete == "restrict":
            raise Conflict(
                f"{len(children)} {child.api_name} records point at it through "
                f"'{relation.field}': delete or re-link them first",
                extra={
                    "errors": {
                        relation.field: [f"used by {len(children)} {child.api_name} records"]
                    }
                },
            )
        if relation.on_delete == "set_null":
            _null_links(ctx, child, relation.field, children, batch)
            continue
        _delete_tree(ctx, child, children, batch, depth + 1)
    changes = [_removal(ctx, obj, row, batch, cascaded=depth > 0) for row in rows]
    ctx.fire(RecordEvent.BEFORE_DELETE, obj, changes)
    ctx.conn.execute(
        obj.table.update()
        .where(obj.table.c.id.in_(ids), obj.table.c.deleted_at.is_(None))
        .values(deleted_at=ctx.now, deleted_batch=batch)
    )
    ctx.fire(RecordEvent.AFTER_DELETE, obj, changes)


def _live_children(ctx: RecordContext, obj: ObjectModel, relation: Relation, ids: list[str]):
    child = ctx.model.objects[relation.child]
    fld = child.fields[relation.field]
    link = child.table.c[fld.columns[SIMPLE].name]
    live = [child.table.c.deleted_at.is_(None), link.in_(ids)]
    if relation.polymorphic:
        live.append(child.table.c[fld.columns["object"].name] == obj.api_name)
    return ctx.conn.execute(sa.select(child.table).where(*live)).mappings().all()


def _removal(
    ctx: RecordContext, obj: ObjectModel, row: Mapping[str, Any], batch: str, *, cascaded: bool
) -> RecordChange:
    return RecordChange(
        obj, row["id"], ctx.stored_values(obj, row), None, (), cascaded=cascaded, batch_id=batch
    )


def _null_links(
    ctx: RecordContext, child: ObjectModel, field_name: str, children, batch: str
) -> None:
    """Clear a set-null lookup, remembering each link so a restore can put it back."""
    fld = child.fields[field_name]
    link = fld.columns[SIMPLE].name
    ctx.conn.execute(
        delete_links.insert(),
        [
            {
                "batch_id": batch,
                "object": child.api_name,
                "record_id": row["id"],
                "field": field_name,
                "target_id": row[link],
            }
            for row in children
        ],
    )
    nulls = {c.name: None for c in fld.columns.values()}
    ids = [row["id"] for row in children]
    ctx.conn.execute(child.table.update().where(child.table.c.id.in_(ids)).values(nulls))
    changes = [
        _relink_change(child, row["id"], field_name, row[link], None, batch) for row in children
    ]
    ctx.fire(RecordEvent.AFTER_UPDATE, child, changes)


def _relink_change(
    obj: ObjectModel, record_id: str, field_name: str, old: Any, new: Any, batch: str
) -> RecordChange:
    return RecordChange(
        obj,
        record_id,
        {field_name: old},
        {field_name: new},
        (field_name,),
        cascaded=True,
        batch_id=batch,
    )


def restore(ctx: RecordContext, object_name: str, record_id: str) -> dict[str, Any]:
    """Bring a record back with exactly the children deleted with it; 409 on a unique clash."""
    obj = ctx.object(object_name)
    ctx.require(obj, "delete")
    current = ctx.current_for_edit(obj, record_id, deleted=True)
    batch = current["deleted_batch"]
    restored = _batch_changes(ctx, batch, record_id)
    for candidate, changes in restored:
        ctx.fire(RecordEvent.BEFORE_RESTORE, candidate, changes)
        table = candidate.table
        try:
            with ctx.conn.begin_nested():
                ctx.conn.execute(
                    table.update()
                    .where(table.c.deleted_batch == batch)
                    .values(deleted_at=None, deleted_batch=None)
                )
        except IntegrityError as exc:
            raise Conflict(
                f"restoring would duplicate a unique value of {candidate.api_name}"
            ) from exc
    _relink(ctx, batch, {c.record_id: o.api_name for o, changes in restored for c in changes})
    for candidate, changes in restored:
        ctx.fire(RecordEvent.AFTER_RESTORE, candidate, changes)
    return get(ctx, object_name, record_id)


def _batch_changes(
    ctx: RecordContext, batch: str, root_id: str
) -> list[tuple[ObjectModel, list[RecordChange]]]:
    """The records of a recycle-bin batch per object, as changes (the root not cascaded)."""
    found = []
    for candidate in ctx.model.objects.values():
        rows = (
            ctx.conn.execute(
                sa.select(candidate.table).where(candidate.table.c.deleted_batch == batch)
            )
            .mappings()
            .all()
        )
        if rows:
            changes = [
                RecordChange(
                    candidate,
                    row["id"],
                    None,
                    ctx.stored_values(candidate, row),
                    (),
                    cascaded=row["id"] != root_id,
                    batch_id=batch,
                )
                for row in rows
            ]
            found.append((candidate, changes))
    return found


def _relink(ctx: RecordContext, batch: str, object_of: Mapping[str, str]) -> None:
    """Point again the lookups the delete set to null; the targets came back with the
    batch, so ``object_of`` (record id -> object) names their objects."""
    rows = (
        ctx.conn.execute(sa.select(delete_links).where(delete_links.c.batch_id == batch))
        .mappings()
        .all()
    )
    for row in rows:
        child = ctx.model.object(row["object"])
        if child is None or row["field"] not in child.fields:
            continue
        fld = child.fields[row["field"]]
        column = fld.columns[SIMPLE].name
        values = {column: row["target_id"]}
        if "object" in fld.columns:
            values[fld.columns["object"].name] = object_of.get(row["target_id"])
        relinked = ctx.conn.execute(
            child.table.update()
            .where(child.table.c.id == row["record_id"], child.table.c[column].is_(None))
            .values(values)
        ).rowcount
        if relinked:
            change = _relink_change(
                child, row["record_id"], row["field"], None, row["target_id"], batch
            )
            ctx.fire(RecordEvent.AFTER_UPDATE, child, [change])
    ctx.conn.execute(delete_links.delete().where(delete_links.c.batch_id == batch))


def purge(ctx: RecordContext, object_name: str, record_id: str) -> None:
    """Remove a record in the recycle bin, and its batch, for good."""
    obj = ctx.object(object_name)
    ctx.require(obj, "delete")
    current = ctx.current_for_edit(obj, record_id, deleted=True)
    batch = current["deleted_batch"]
    for candidate, changes in _batch_changes(ctx, batch, record_id):
        gone = [
            RecordChange(c.object, c.record_id, c.after, None, (), c.cascaded, batch)
            for c in changes
        ]
        ctx.fire(RecordEvent.BEFORE_PURGE, candidate, gone)
        ctx.conn.execute(candidate.table.delete().where(candidate.table.c.deleted_batch == batch))
        ctx.fire(RecordEvent.AFTER_PURGE, candidate, gone)
    ctx.conn.execute(delete_links.delete().where(delete_links.c.batch_id == batch))
