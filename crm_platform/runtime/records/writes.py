"""Write steps of create and update (DESIGN §5): deserialise, defaults, before-save
events, validation, the insert or update with its version check and auto-numbers, then
the after-save events (history, shares, search and roll-ups are handlers of those)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from crm_platform.core import (
    Conflict,
    InsertPlan,
    PreconditionFailed,
    ValidationFailed,
    insert_many,
    insert_plan,
    new_id,
    new_ids,
)
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import SIMPLE

from ..model import ObjectModel
from . import counters
from .codec import MAX_LOADERS, plain_columns, to_columns
from .context import RecordContext
from .events import RecordChange, RecordEvent
from .reads import get, get_many, read_new
from .refusals import Refusals
from .validation import Revision, apply_defaults, validate_changes, validate_new


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
    every_refusal: bool = False,
) -> list[dict[str, Any]]:
    """Create records of one object through the write path's steps, set-based: each record
    is deserialised and validated in Python, then the batch is written with one INSERT,
    its events fire once with every change, and the records are read back with one query
    (with ``read_back`` false, only their ids: an import has no use for the rest).

    The first record that fails raises its error and nothing of the batch is written;
    with ``every_refusal`` the checks go on, and :class:`RecordsRefused` names every
    record refused (still nothing written).
    """
    obj = ctx.object(object_name)
    ctx.require(obj, "create")
    codec = ctx.codec(obj)
    ids = list(record_ids) if record_ids is not None else new_ids(len(items))
    if len(set(ids)) != len(ids):
        raise ValidationFailed({"id": "a batch creates each record once"})
    pending: dict[str, dict[str, Any]] = {}
    hidden = frozenset(
        n
        for n in ctx.access.hidden_fields(obj.api_name)
        if not ctx.access.field_editable(obj.api_name, n)  # write-only: a web form's guest
    )
    editable: set[frozenset[str]] = set()  # field sets already checked: rows repeat them
    refusals = Refusals(collecting=every_refusal)
    for record_id, data in zip(ids, items, strict=True):
        with refusals.checking(record_id):
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
        refusals,
    )
    ids = refusals.kept(pending)
    owners = {rid: pending[rid].pop("owner_id") for rid in ids}
    validate_new(ctx, obj, [(rid, pending[rid], owners[rid]) for rid in ids], refusals)
    refusals.raise_any()
    rows = _new_rows(ctx, obj, ids, pending, owners)
    take_auto_numbers(ctx, obj, rows, [pending[rid] for rid in ids])
    written = insert_rows(ctx, obj, rows, _written_by(ctx))
    changes = []
    for rid in ids:
        after = {**pending[rid], "owner_id": owners[rid]}
        changes.append(RecordChange(obj, rid, None, after, tuple(after)))
    ctx.fire(RecordEvent.AFTER_CREATE, obj, changes)
    if not read_back or not ctx.access.can(obj.api_name, "read"):
        return [{"id": rid} for rid in ids]  # created, not to be read back by its writer
    return read_new(ctx, obj, ids, written)


def _new_rows(
    ctx: RecordContext,
    obj: ObjectModel,
    ids: Sequence[str],
    pending: Mapping[str, Mapping[str, Any]],
    owners: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The new records' own columns (those every record of the batch shares are apart:
    :func:`_written_by`). Records giving the same fields, each stored in one plain
    column, are mapped by one list of (field, column) pairs: most of a batch."""
    readers = ctx.codec(obj).readers
    cipher = ctx.cipher_for(obj)
    rows = []
    fields: Any = None  # the field names the pairs below were made for
    pairs: tuple[tuple[str, str], ...] | None = None
    for record_id in ids:
        values = pending[record_id]
        if values.keys() != fields:
            fields, pairs = frozenset(values), plain_columns(values, readers)
        if pairs is None:
            row = to_columns(obj, values, cipher, readers)
        else:
            row = {column: values[name] for name, column in pairs}
        row["id"] = record_id
        row["owner_id"] = owners[record_id]
        rows.append(row)
    return rows


def _insert_plan(
    ctx: RecordContext, obj: ObjectModel, names: tuple[str, ...], shared: tuple[str, ...]
) -> InsertPlan:
    """The object's insert plan for these columns, kept per metadata version — at most
    :data:`MAX_LOADERS` per object, as the codec keeps its loaders: single creates give
    any set of fields, and a server runs for long on one version."""
    kept = ctx.compiled(("insert plans", obj.api_name), dict)
    plan = kept.get((names, shared))
    if plan is None:
        if len(kept) >= MAX_LOADERS:
            kept.clear()
        plan = kept[(names, shared)] = insert_plan(ctx.conn.dialect, obj.table, names, shared)
    return plan


def _written_by(ctx: RecordContext) -> dict[str, Any]:
    """The columns a batch's new records share: who created them, when, their version."""
    return {
        "created_at": ctx.now,
        "created_by": ctx.user.id,
        "updated_at": ctx.now,
        "updated_by": ctx.user.id,
        "version": 1,
    }


def insert_rows(
    ctx: RecordContext,
    obj: ObjectModel,
    rows: list[dict[str, Any]],
    shared: Mapping[str, Any],
) -> frozenset[str]:
    """One INSERT for the batch (rows completed to the same columns, ``shared`` the values
    every row has); 409 on a unique clash. Returns the columns it wrote.

    No savepoint: a refused insert ends the request's transaction anyway, and a composite
    batch that goes on after a failure runs each operation in a savepoint of its own.
    """
    names = tuple(dict.fromkeys(name for row in rows for name in row))
    if any(len(row) != len(names) for row in rows):  # rows of a batch mostly give the same
        rows = [{name: row.get(name) for name in names} for row in rows]
    shared_names = tuple(shared)
    plan = _insert_plan(ctx, obj, names, shared_names)
    try:
        insert_many(ctx.conn, plan, rows, shared)
    except IntegrityError as exc:
        unique = ctx.codec(obj).plan.unique
        given = [n for n in unique if obj.fields[n].columns[SIMPLE].name in names]
        raise _unique_conflict(ctx, obj, given) from exc
    return frozenset(names) | frozenset(shared_names)


def update(
    ctx: RecordContext,
    object_name: str,
    record_id: str,
    data: Any,
    *,
    if_match: int | None = None,
) -> dict[str, Any]:
    """Change some fields; with ``if_match`` a stale version answers 412."""
    written = update_many(ctx, object_name, [(record_id, data, if_match)], read_back=False)
    return get(ctx, object_name, record_id, just_written=bool(written))


def update_many(
    ctx: RecordContext,
    object_name: str,
    items: Sequence[tuple[str, Any, int | None]],
    *,
    read_back: bool = True,
    every_refusal: bool = False,
) -> list[dict[str, Any]]:
    """Change records of one object as one set-based batch: ``items`` are (id, field
    values, expected version or None). The records are read with one query (locked on
    PostgreSQL), each is deserialised and validated in Python, the batch is written with
    one UPDATE per set of changed columns (executemany), and its events fire once with
    every change. Records whose values do not move are left as they are.

    Returns the records as :func:`get_many` shows them (with ``read_back`` false, the ids
    of those actually written). The first record that fails raises its error and nothing
    of the batch is written; with ``every_refusal``, :class:`RecordsRefused` names every
    record refused.
    """
    obj = ctx.object(object_name)
    ctx.require(obj, "edit")
    ids = [item[0] for item in items]
    if len(set(ids)) != len(ids):
        raise ValidationFailed({"id": "a batch changes each record once"})
    currents = ctx.currents_for_edit(obj, ids)
    codec = ctx.codec(obj)
    hidden = ctx.access.hidden_fields(obj.api_name)
    editable: set[frozenset[str]] = set()  # field sets already checked: rows repeat them
    befores: dict[str, dict[str, Any]] = {}
    pending: dict[str, dict[str, Any]] = {}
    proposals = []
    refusals = Refusals(collecting=every_refusal)
    for record_id, data, if_match in items:
        with refusals.checking(record_id):
            version = currents[record_id]["version"]
            if if_match is not None and version != if_match:
                raise PreconditionFailed(
                    f"the record changed since version {if_match} (now {version})",
                    extra={"current_version": version},
                )
            values = codec.load(data, hidden)
            if (names := frozenset(values)) not in editable:
                ctx.require_editable_fields(obj, values)
                editable.add(names)
            before = befores[record_id] = ctx.stored_values(obj, currents[record_id])
            proposed = {**before, **{k: v for k, v in values.items() if before.get(k) != v}}
            moving = tuple(k for k in proposed if before.get(k) != proposed[k])
            pending[record_id] = proposed
            proposals.append(RecordChange(obj, record_id, before, proposed, moving))
    ctx.fire(RecordEvent.BEFORE_UPDATE, obj, proposals, pending, refusals)
    revisions = []
    for record_id in refusals.kept(pending):
        before, current_owner = befores[record_id], currents[record_id]["owner_id"]
        changed = {k: v for k, v in pending[record_id].items() if before.get(k) != v}
        owner_id = changed.pop("owner_id", current_owner)
        if changed or owner_id != current_owner:
            revisions.append(Revision(record_id, before, changed, owner_id))
    if revisions:
        validate_changes(ctx, obj, revisions, refusals)
    refusals.raise_any()
    if not revisions:
        return get_many(ctx, obj, ids) if read_back else []
    _write_revisions(ctx, obj, revisions, {rid: currents[rid]["version"] for rid in ids})
    changes = []
    for revision in revisions:
        after = {**revision.values, "owner_id": revision.owner_id}
        moved = tuple(revision.changed)
        if revision.owner_id != revision.before.get("owner_id"):
            moved += ("owner_id",)
        changes.append(RecordChange(obj, revision.record_id, revision.before, after, moved))
    ctx.fire(RecordEvent.AFTER_UPDATE, obj, changes)
    if not read_back:
        return [{"id": revision.record_id} for revision in revisions]
    return get_many(ctx, obj, ids, just_written=True)


def _write_revisions(
    ctx: RecordContext,
    obj: ObjectModel,
    revisions: Sequence[Revision],
    versions: Mapping[str, int],
) -> None:
    """One UPDATE per set of changed columns, each row guarded by the version it was read
    at: 412 when another writer got there first, 409 when a unique index refuses."""
    cipher, readers = ctx.cipher_for(obj), ctx.codec(obj).readers
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    names: dict[tuple[str, ...], set[str]] = {}
    for revision in revisions:
        row = to_columns(obj, revision.changed, cipher, readers)
        version = versions[revision.record_id]
        row.update(
            owner_id=revision.owner_id,
            updated_at=ctx.now,
            updated_by=ctx.user.id,
            version=version + 1,
            **{WHERE_ID: revision.record_id, WHERE_VERSION: version},
        )
        key = tuple(row)
        groups.setdefault(key, []).append(row)
        names.setdefault(key, set()).update(revision.changed)
    # executed again with other rows, it keeps its cache key (SET follows the row's keys)
    statement = ctx.compiled(("update", obj.api_name), lambda: _versioned_update(obj))
    for key, rows in groups.items():
        try:
            written = ctx.conn.execute(statement, rows).rowcount
        except IntegrityError as exc:
            raise _unique_conflict(ctx, obj, names[key]) from exc
        if written != len(rows):
            raise PreconditionFailed("the record was changed by someone else: read it and retry")


WHERE_ID, WHERE_VERSION = "where_id", "where_version"


def _versioned_update(obj: ObjectModel) -> sa.Update:
    table = obj.table
    return table.update().where(
        table.c.id == sa.bindparam(WHERE_ID), table.c.version == sa.bindparam(WHERE_VERSION)
    )


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


def _unique_conflict(ctx: RecordContext, obj: ObjectModel, names) -> Conflict:
    unique = [n for n in ctx.codec(obj).plan.unique if n in names]
    return Conflict(
        f"another {obj.api_name} record already has this value",
        extra={"errors": {n: ["already used by another record"] for n in unique}},
    )
