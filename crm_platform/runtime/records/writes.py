"""Write steps of create and update (DESIGN §5): deserialise, defaults, before-save
events, validation, the insert or update with its version check and auto-numbers, then
the after-save events (history, shares, search and roll-ups are handlers of those)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from crm_platform.core import Conflict, PreconditionFailed, ValidationFailed, new_id
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import SIMPLE

from ..model import ObjectModel
from . import counters
from .codec import to_columns
from .context import RecordContext
from .events import RecordChange, RecordEvent
from .reads import get, read_new
from .validation import apply_defaults, validate, validate_new


def create(
    ctx: RecordContext, object_name: str, data: Any, *, record_id: str | None = None
) -> dict[str, Any]:
    """Create a record through every step of the write path; returns it as stored."""
    return create_many(ctx, object_name, [data], record_ids=[record_id or new_id()])[0]


def create_many(
    ctx: RecordContext,
    object_name: str,
    items: Sequence[Any],
    *,
    record_ids: Sequence[str] | None = None,
    read_back: bool = True,
) -> list[dict[str, Any]]:
    """Create records of one object through the write path's steps, set-based: each record
    is deserialised and validated in Python, then the batch is written with one INSERT,
    its events fire once with every change, and the records are read back with one query
    (with ``read_back`` false, only their ids: an import has no use for the rest).

    The first record that fails raises its error and nothing of the batch is written.
    """
    obj = ctx.object(object_name)
    ctx.require(obj, "create")
    codec = ctx.codec(obj)
    ids = list(record_ids) if record_ids is not None else [new_id() for _ in items]
    pending: dict[str, dict[str, Any]] = {}
    hidden = frozenset(
        n
        for n in ctx.access.hidden_fields(obj.api_name)
        if not ctx.access.field_editable(obj.api_name, n)  # write-only: a web form's guest
    )
    editable: set[frozenset[str]] = set()  # field sets already checked: rows repeat them
    for record_id, data in zip(ids, items, strict=True):
        values = codec.load(data, hidden)
        if (names := frozenset(values)) not in editable:
            ctx.require_editable_fields(obj, values)
            editable.add(names)
        values["owner_id"] = values.get("owner_id") or ctx.user.id
        apply_defaults(ctx, obj, values)
        pending[record_id] = values
    ctx.fire(
        RecordEvent.BEFORE_CREATE,
        obj,
        [RecordChange(obj, rid, None, values, tuple(values)) for rid, values in pending.items()],
        pending,
    )
    owners = {rid: values.pop("owner_id") for rid, values in pending.items()}
    validate_new(ctx, obj, [(pending[rid], owners[rid]) for rid in ids])
    rows = [_new_row(ctx, obj, rid, pending[rid], owners[rid]) for rid in ids]
    take_auto_numbers(ctx, obj, rows, [pending[rid] for rid in ids])
    written = insert_rows(ctx, obj, rows)
    changes = []
    for rid in ids:
        after = {**pending[rid], "owner_id": owners[rid]}
        changes.append(RecordChange(obj, rid, None, after, tuple(after)))
    ctx.fire(RecordEvent.AFTER_CREATE, obj, changes)
    if not read_back or not ctx.access.can(obj.api_name, "read"):
        return [{"id": rid} for rid in ids]  # created, not to be read back by its writer
    return read_new(ctx, obj, ids, written)


def _new_row(
    ctx: RecordContext, obj: ObjectModel, record_id: str, values: Mapping[str, Any], owner_id: str
) -> dict[str, Any]:
    row = to_columns(obj, values, ctx.cipher_for(obj))
    row.update(
        id=record_id,
        owner_id=owner_id,
        created_at=ctx.now,
        created_by=ctx.user.id,
        updated_at=ctx.now,
        updated_by=ctx.user.id,
        version=1,
    )
    return row


def insert_rows(ctx: RecordContext, obj: ObjectModel, rows: list[dict[str, Any]]) -> frozenset[str]:
    """One INSERT for the batch (rows completed to the same columns); 409 on a unique clash.
    Returns the columns it wrote.

    No savepoint: a refused insert ends the request's transaction anyway, and a composite
    batch that goes on after a failure runs each operation in a savepoint of its own.
    """
    names = list(dict.fromkeys(name for row in rows for name in row))
    rows = [{name: row.get(name) for name in names} for row in rows]
    try:
        # one INSERT object per version: executed again, it keeps its cache key
        statement = ctx.compiled(("insert", obj.api_name), obj.table.insert)
        ctx.conn.execute(statement, rows)
    except IntegrityError as exc:
        unique = ctx.codec(obj).plan.unique
        given = [n for n in unique if obj.fields[n].columns[SIMPLE].name in names]
        raise _unique_conflict(ctx, obj, given) from exc
    return frozenset(names)


def update(
    ctx: RecordContext,
    object_name: str,
    record_id: str,
    data: Any,
    *,
    if_match: int | None = None,
) -> dict[str, Any]:
    """Change some fields; with ``if_match`` a stale version answers 412."""
    obj = ctx.object(object_name)
    ctx.require(obj, "edit")
    current = ctx.current_for_edit(obj, record_id)
    if if_match is not None and current["version"] != if_match:
        raise PreconditionFailed(
            f"the record changed since version {if_match} (now {current['version']})",
            extra={"current_version": current["version"]},
        )
    values = ctx.codec(obj).load(data, ctx.access.hidden_fields(obj.api_name))
    ctx.require_editable_fields(obj, values)
    before = ctx.stored_values(obj, current)
    proposed = {**before, **{k: v for k, v in values.items() if before.get(k) != v}}
    moving = tuple(k for k in proposed if before.get(k) != proposed[k])
    pending = RecordChange(obj, record_id, before, proposed, moving)
    ctx.fire(RecordEvent.BEFORE_UPDATE, obj, [pending], {record_id: proposed})
    changed = {k: v for k, v in proposed.items() if before.get(k) != v}
    owner_id = changed.pop("owner_id", current["owner_id"])
    if not changed and owner_id == current["owner_id"]:
        return get(ctx, object_name, record_id)
    validate(ctx, obj, {**before, **changed}, changed, owner_id, record_id=record_id, before=before)
    row = to_columns(obj, changed, ctx.cipher_for(obj))
    row.update(
        owner_id=owner_id,
        updated_at=ctx.now,
        updated_by=ctx.user.id,
        version=current["version"] + 1,
    )
    statement = (
        obj.table.update()
        .where(obj.table.c.id == record_id, obj.table.c.version == current["version"])
        .values(row)
    )
    if execute_write(ctx, obj, statement, changed).rowcount == 0:
        raise PreconditionFailed("the record was changed by someone else: read it and retry")
    after = {**before, **changed, "owner_id": owner_id}
    moved = tuple(changed) + (("owner_id",) if owner_id != current["owner_id"] else ())
    ctx.fire(RecordEvent.AFTER_UPDATE, obj, [RecordChange(obj, record_id, before, after, moved)])
    return get(ctx, object_name, record_id, just_written=True)


def upsert(
    ctx: RecordContext, object_name: str, field_name: str, value: str, data: Any
) -> tuple[dict[str, Any], bool]:
    """Update the record whose external id is ``value``, or create it; (record, created)."""
    obj = ctx.object(object_name)
    fld = obj.fields.get(field_name)
    if fld is not None and not ctx.access.field_readable(obj.api_name, field_name):
        fld = None  # a field the user may not read answers like one that does not exist
    ftype = field_type(fld.type) if fld is not None else None
    if ftype is None or not (ftype.always_unique or fld.definition.get("unique")):
        raise ValidationFailed({field_name: "upserts need an external_id or unique field"})
    if not isinstance(data, Mapping):
        raise ValidationFailed({"(root)": "expected a JSON object of field values"})
    value = key_value(ctx, obj, field_name, value)
    if field_name in data and data[field_name] != value:
        raise ValidationFailed({field_name: "differs from the value in the URL"})
    column = obj.table.c[fld.columns[SIMPLE].name]
    # Found as the unique index compares (an email in any case finds its record).
    same = ftype.unique_key(column) == ftype.unique_key(sa.literal(value, column.type))
    found = ctx.conn.execute(
        sa.select(obj.table.c.id).where(same, obj.table.c.deleted_at.is_(None), *ctx.visible(obj))
    ).first()
    if found is not None:
        return update(ctx, object_name, found[0], data), False
    return create(ctx, object_name, {**data, field_name: value}), True


def key_value(ctx: RecordContext, obj: ObjectModel, field_name: str, raw: str) -> Any:
    """The typed value of an upsert key given as text in the URL (checked by the codec)."""
    candidate: Any = raw
    if field_type(obj.fields[field_name].type).storage == "integer":
        try:
            candidate = int(raw)
        except ValueError as exc:
            raise ValidationFailed({field_name: "not a valid integer"}) from exc
    return ctx.codec(obj).load({field_name: candidate})[field_name]


def take_auto_numbers(
    ctx: RecordContext,
    obj: ObjectModel,
    rows: list[dict[str, Any]],
    values: list[dict[str, Any]],
) -> None:
    """Gap-free numbers from the counter rows, taken as late as possible (at the insert),
    one counter update per field for the batch; the numbers join the records' values."""
    for fld in ctx.codec(obj).plan.auto_numbers:
        name, definition = fld.api_name, fld.definition
        numbers = counters.next_values(
            ctx.conn,
            counters.counter_name(obj.api_name, name),
            definition.get("start", 1),
            len(rows),
        )
        for row, record, number in zip(rows, values, numbers, strict=True):
            text = counters.format_number(definition["pattern"], number)
            row[fld.columns[SIMPLE].name] = record[name] = text


def execute_write(ctx: RecordContext, obj: ObjectModel, statement, values: Mapping[str, Any]):
    """Run an update; a unique index that refuses it answers 409 naming the fields."""
    try:
        return ctx.conn.execute(statement)
    except IntegrityError as exc:
        raise _unique_conflict(ctx, obj, values) from exc


def _unique_conflict(ctx: RecordContext, obj: ObjectModel, names) -> Conflict:
    unique = [n for n in ctx.codec(obj).plan.unique if n in names]
    return Conflict(
        f"another {obj.api_name} record already has this value",
        extra={"errors": {n: ["already used by another record"] for n in unique}},
    )
