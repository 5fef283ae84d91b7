"""Write steps of create and update (DESIGN §5): deserialise, defaults, before-save
events, validation, the insert or update with its version check and auto-numbers, then
the after-save events (history, shares, search and roll-ups are handlers of those)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from crm_platform.core import Conflict, PreconditionFailed, ValidationFailed, new_id
from crm_platform.metadata import SIMPLE

from ..model import ObjectModel
from . import counters
from .codec import to_columns
from .context import RecordContext
from .events import RecordChange, RecordEvent
from .reads import get
from .validation import apply_defaults, unique_fields, validate


def create(
    ctx: RecordContext, object_name: str, data: Any, *, record_id: str | None = None
) -> dict[str, Any]:
    """Create a record through every step of the write path; returns it as stored."""
    obj = ctx.object(object_name)
    ctx.require(obj, "create")
    values = ctx.codec(obj).load(data)
    ctx.require_editable_fields(obj, values)
    values["owner_id"] = values.get("owner_id") or ctx.user.id
    apply_defaults(ctx, obj, values)
    record_id = record_id or new_id()
    pending = RecordChange(obj, record_id, None, values, tuple(values))
    ctx.fire(RecordEvent.BEFORE_CREATE, obj, [pending], {record_id: values})
    owner_id = values.pop("owner_id")
    validate(ctx, obj, values, None, owner_id)
    row = to_columns(obj, values, ctx.cipher_for(obj))
    take_auto_numbers(ctx, obj, row)
    row.update(
        id=record_id,
        owner_id=owner_id,
        created_at=ctx.now,
        created_by=ctx.user.id,
        updated_at=ctx.now,
        updated_by=ctx.user.id,
        version=1,
    )
    execute_write(ctx, obj, obj.table.insert().values(row), values)
    after = {**values, "owner_id": owner_id}
    created = RecordChange(obj, record_id, None, after, tuple(after))
    ctx.fire(RecordEvent.AFTER_CREATE, obj, [created])
    return get(ctx, object_name, record_id, just_written=True)


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
    ctx.require_edit_access(obj, record_id)
    current = ctx.current(obj, record_id, lock=True)
    if if_match is not None and current["version"] != if_match:
        raise PreconditionFailed(
            f"the record changed since version {if_match} (now {current['version']})",
            extra={"current_version": current["version"]},
        )
    values = ctx.codec(obj).load(data)
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
    if fld is None or not (fld.type == "external_id" or fld.definition.get("unique")):
        raise ValidationFailed({field_name: "upserts need an external_id or unique field"})
    if not isinstance(data, Mapping):
        raise ValidationFailed({"(root)": "expected a JSON object of field values"})
    value = key_value(ctx, obj, field_name, value)
    if field_name in data and data[field_name] != value:
        raise ValidationFailed({field_name: "differs from the value in the URL"})
    column = obj.table.c[fld.columns[SIMPLE].name]
    found = ctx.conn.execute(
        sa.select(obj.table.c.id).where(
            column == value, obj.table.c.deleted_at.is_(None), *ctx.visible(obj)
        )
    ).first()
    if found is not None:
        return update(ctx, object_name, found[0], data), False
    return create(ctx, object_name, {**data, field_name: value}), True


def key_value(ctx: RecordContext, obj: ObjectModel, field_name: str, raw: str) -> Any:
    """The typed value of an upsert key given as text in the URL (checked by the codec)."""
    candidate: Any = raw
    if obj.fields[field_name].type in {"integer", "duration"}:
        try:
            candidate = int(raw)
        except ValueError as exc:
            raise ValidationFailed({field_name: "not a valid integer"}) from exc
    return ctx.codec(obj).load({field_name: candidate})[field_name]


def take_auto_numbers(ctx: RecordContext, obj: ObjectModel, row: dict[str, Any]) -> None:
    """Gap-free numbers from the counter rows, taken as late as possible (at the insert)."""
    for name, fld in obj.fields.items():
        if fld.type != "auto_number":
            continue
        definition = fld.definition
        number = counters.next_value(
            ctx.conn, counters.counter_name(obj.api_name, name), definition.get("start", 1)
        )
        row[fld.columns[SIMPLE].name] = counters.format_number(definition["pattern"], number)


def execute_write(ctx: RecordContext, obj: ObjectModel, statement, values: Mapping[str, Any]):
    """Run an insert or update; a unique index that refuses it answers 409 naming the fields."""
    try:
        with ctx.conn.begin_nested():
            return ctx.conn.execute(statement)
    except IntegrityError as exc:
        unique = [n for n in unique_fields(obj) if n in values]
        raise Conflict(
            f"another {obj.api_name} record already has this value",
            extra={"errors": {n: ["already used by another record"] for n in unique}},
        ) from exc
