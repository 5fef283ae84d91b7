"""Reads: one record, lists, related lists, search and field history — each with sharing
and field-level security applied in SQL by the context's builder and visibility."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from crm_platform.core import NotFound
from crm_platform.core.crypto import PREFIX as CIPHER_PREFIX
from crm_platform.core.tables import field_history, users
from crm_platform.expressions import ValueType
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import SIMPLE

from ..model import ObjectModel, OrgModel, Relation
from . import search as search_index
from .codec import from_columns
from .context import RecordContext
from .handlers import history_context
from .names import PageNames, name_history
from .query import (
    COUNT_CAP,
    ListRequest,
    Page,
    SelectBuilder,
    after_cursor,
    decode_cursor,
    encode_cursor,
    order_clauses,
    parse_paths,
    sort_keys,
)
from .shapes import RecordShape, default_shape, reusable, select_record, shape_of

CHUNK = 500  # ids per IN list
SYSTEM_OUTPUT = ("created_at", "created_by", "updated_at", "updated_by", "version")


def get(
    ctx: RecordContext,
    object_name: str,
    record_id: str,
    fields=None,
    *,
    include_deleted: bool = False,
    just_written: bool = False,
    names: bool = True,
) -> dict[str, Any]:
    """One record with its formulas computed and its ``_names``; 404 when absent (or in
    the recycle bin).

    ``just_written``: the record this user just saved, shown even if the save gave
    it away (a new owner); field-level security still applies. ``names=False`` leaves
    out ``_names`` (a visibility check needs no names).
    """
    obj = ctx.object(object_name)
    ctx.require(obj, "read")
    builder = ctx.builder(obj)
    if fields:
        shape = shape_of(builder, parse_paths(fields, obj, builder))
    else:
        shape = default_shape(builder)
    named = PageNames(ctx, builder, shape.paths, shape.single) if names else None
    visible = [] if just_written else ctx.visible(obj)
    query = _by_id(builder, shape, visible, include_deleted, named)
    row = ctx.conn.execute(query, {RECORD_ID: record_id}).mappings().first()
    if row is None:
        raise NotFound(f"no {object_name} record '{record_id}'")
    record = shape_record(ctx, obj, row, shape)
    if named is not None:
        named.attach(record, row)
    if ctx.seen_visible is not None and not include_deleted and not just_written:
        ctx.seen_visible.add((object_name, record_id))
    return record


RECORD_ID, RECORD_IDS = "crm_record_id", "crm_record_ids"
# statements kept per shape: per set of columns new records wrote, per reader's clause
MAX_STATEMENTS = 256


def _names_guard(named: PageNames | None) -> tuple[Any, ...] | None:
    """What a kept statement's name columns are (the same objects each time), or None
    when they differ per read (a target's visibility, a formula name): not to be kept."""
    if named is None:
        return ()
    return tuple(named.columns) if named.kept else None


def _kept(shape: RecordShape, key: tuple[Any, ...], guard: tuple[Any, ...]) -> Any:
    """The statement kept under ``key`` when it was built on the same objects (``guard``:
    a visibility clause, name columns), else None."""
    found = shape.statements.get(key)
    if found is None or len(found[0]) != len(guard):
        return None
    if any(a is not b for a, b in zip(found[0], guard, strict=True)):
        return None
    return found[1]


def _keep(shape: RecordShape, key: tuple[Any, ...], guard: tuple[Any, ...], kept: Any) -> None:
    if len(shape.statements) > MAX_STATEMENTS:
        shape.statements.clear()
    shape.statements[key] = (guard, kept)


def _guard_key(guard: tuple[Any, ...]) -> tuple[int, ...]:
    return tuple(id(item) for item in guard)


def _by_id(
    builder: SelectBuilder,
    shape: RecordShape,
    visible: list[Any],
    include_deleted: bool,
    named: PageNames | None,
) -> sa.Select[Any]:
    """The SELECT of one record by the ``RECORD_ID`` parameter, with the name columns of
    ``named``. When it depends on the model alone, or on it and a visibility clause and
    name columns the version keeps for this reader (``access_clause``, ``PageNames``),
    the same statement object is kept with the shape and reused: SQLAlchemy then neither
    recomputes its cache key nor re-maps its result columns, which on a 500-column
    SELECT cost more than the read."""
    obj = builder.obj
    names = _names_guard(named)
    keep = reusable(builder, shape) and len(visible) <= 1 and names is not None
    guard = (visible[0] if visible else None, *(names or ()))
    key = ("by_id", include_deleted, _guard_key(guard))
    if keep and (found := _kept(shape, key, guard)) is not None:
        return found
    query = select_record(builder, shape)
    if named is not None:
        query = query.add_columns(*named.columns)
    query = query.select_from(builder.from_clause).where(
        obj.table.c.id == sa.bindparam(RECORD_ID), *visible
    )
    if not include_deleted:
        query = query.where(obj.table.c.deleted_at.is_(None))
    if keep:
        _keep(shape, key, guard, query)
    return query


def get_many(
    ctx: RecordContext, obj: ObjectModel, record_ids: list[str], *, just_written: bool = False
) -> list[dict[str, Any]]:
    """Several records of one object in one query, in the order of ``record_ids``; 404
    when one is missing (``just_written`` as for :func:`get`)."""
    ctx.require(obj, "read")
    builder = ctx.builder(obj)
    shape = default_shape(builder)
    named = PageNames(ctx, builder, shape.paths, shape.single)
    visible = [] if just_written else ctx.visible(obj)
    guard = _names_guard(named)
    if visible or not reusable(builder, shape):
        guard = None  # the statement differs per reader: not kept
    key = ("by_ids", _guard_key(guard or ()))
    query = None if guard is None else _kept(shape, key, guard)
    if query is None:
        query = (
            select_record(builder, shape)
            .add_columns(*named.columns)
            .select_from(builder.from_clause)
            .where(
                obj.table.c.id.in_(sa.bindparam(RECORD_IDS, expanding=True)),
                obj.table.c.deleted_at.is_(None),
                *visible,
            )
        )
        if guard is not None:
            _keep(shape, key, guard, query)
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(record_ids), CHUNK):
        chunk = record_ids[start : start + CHUNK]
        for row in ctx.conn.execute(query, {RECORD_IDS: chunk}).mappings():
            found[row["id"]] = record = shape_record(ctx, obj, row, shape)
            named.attach(record, row)
    missing = [rid for rid in record_ids if rid not in found]
    if missing:
        raise NotFound(f"no {obj.api_name} record '{missing[0]}'")
    return [found[rid] for rid in record_ids]


def read_new(
    ctx: RecordContext, obj: ObjectModel, record_ids: list[str], written: frozenset[str]
) -> list[dict[str, Any]]:
    """The records this user just created, as :func:`get_many` shows them, reading only
    the columns the INSERT wrote (``written``, physical names) and those the platform
    fills (roll-ups, auto-numbers, formulas): every other column of a new record is
    empty. A record an after-create handler changed since (its version moved) is read
    whole, as is any shape that differs per reader."""
    ctx.require(obj, "read")
    builder = ctx.builder(obj)
    shape = default_shape(builder)
    if not reusable(builder, shape):
        return get_many(ctx, obj, record_ids, just_written=True)
    named = PageNames(ctx, builder, shape.paths, shape.single)
    guard = _names_guard(named)
    if guard is None:  # names as this reader alone may see them: a statement for this read
        query, padding = _new_select(builder, shape, written, named.columns)
    else:
        key = ("new", written, _guard_key(guard))
        found = _kept(shape, key, guard)
        if found is None:
            found = _new_select(builder, shape, written, named.columns)
            _keep(shape, key, guard, found)
        query, padding = found
    rows: dict[str, dict[str, Any]] = {}
    for start in range(0, len(record_ids), CHUNK):
        chunk = record_ids[start : start + CHUNK]
        for row in ctx.conn.execute(query, {RECORD_IDS: chunk}).mappings():
            rows[row["id"]] = {**padding, **row}
    if len(rows) != len(record_ids) or any(row["version"] != 1 for row in rows.values()):
        return get_many(ctx, obj, record_ids, just_written=True)
    records = [shape_record(ctx, obj, rows[rid], shape) for rid in record_ids]
    for record, rid in zip(records, record_ids, strict=True):
        named.attach(record, rows[rid])
    return records


def _new_select(
    builder: SelectBuilder, shape: RecordShape, written: frozenset[str], names: list[Any]
) -> tuple[sa.Select[Any], dict[str, None]]:
    """The SELECT of new records' written and platform-filled columns with the name
    columns ``names``, and the empty values of the other columns of the shape (to
    complete each row)."""
    obj = builder.obj
    chosen: list[str] = []
    padding: dict[str, None] = {}
    for name in shape.shown:
        fld = obj.fields[name]
        columns = [c.name for c in fld.columns.values()]
        if field_type(fld.type).read_only or any(c in written for c in columns):
            chosen.append(name)
        else:
            padding.update(dict.fromkeys(columns))
    paths = [(name,) for name in chosen] + [(name,) for name in shape.formulas]
    narrow = shape_of(builder, paths)
    query = (
        select_record(builder, narrow)
        .add_columns(*names)
        .select_from(builder.from_clause)
        .where(
            obj.table.c.id.in_(sa.bindparam(RECORD_IDS, expanding=True)),
            obj.table.c.deleted_at.is_(None),
        )
    )
    return query, padding


def require_visible(
    ctx: RecordContext, object_name: str, record_id: str, *, include_deleted: bool = False
) -> None:
    """404 unless the user may read the record (nothing else is read; nothing at all in
    a read-only session that already read it)."""
    seen = ctx.seen_visible
    if seen is not None and (object_name, record_id) in seen:
        return  # seen live and visible: visible with the recycle bin included too
    get(ctx, object_name, record_id, fields=["id"], include_deleted=include_deleted, names=False)


def list_records(
    ctx: RecordContext, obj: ObjectModel, request: ListRequest, extra: list[Any]
) -> Page:
    """A page of records: filtered, sorted (NULLs last, id last) and keyset-paged in SQL."""
    ctx.require(obj, "read")
    builder = ctx.builder(obj)
    if request.fields:
        shape = shape_of(builder, parse_paths(request.fields, obj, builder))
    else:
        shape = default_shape(builder)
    keys = sort_keys(builder, request.order_by)
    conditions = [
        obj.table.c.deleted_at.is_not(None)
        if request.include_deleted
        else obj.table.c.deleted_at.is_(None),
        *extra,
        *ctx.visible(obj),
    ]
    if request.where:
        _checked, where = builder.expression(request.where, ValueType.BOOLEAN, "where")
        conditions.append(where)
    total = capped = None
    if request.count:
        total, capped = count(ctx, builder, conditions)
    page_conditions = list(conditions)
    if request.cursor:
        page_conditions.append(after_cursor(keys, decode_cursor(request.cursor, keys)))
    key_columns = [k.expr.label(f"k:{i}") for i, k in enumerate(keys)]
    named = PageNames(ctx, builder, shape.paths, shape.single)
    query = (
        select_record(builder, shape)
        .add_columns(*key_columns, *named.columns)
        .select_from(builder.from_clause)
        .where(*page_conditions)
        .order_by(*order_clauses(keys))
        .limit(request.limit + 1)
    )
    rows = ctx.conn.execute(query).mappings().all()
    more = len(rows) > request.limit
    rows = rows[: request.limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor([last[f"k:{i}"] for i in range(len(keys))])
    page = Page([shape_record(ctx, obj, r, shape) for r in rows], next_cursor)
    for record, row in zip(page.records, rows, strict=True):
        named.attach(record, row)
    if request.count:
        page.total, page.total_capped = total, bool(capped)
    return page


def count(ctx: RecordContext, builder: SelectBuilder, conditions) -> tuple[int, bool]:
    """The exact number of matching records up to COUNT_CAP, and whether it was capped."""
    inner = (
        sa.select(sa.literal(1))
        .select_from(builder.from_clause)
        .where(*conditions)
        .limit(COUNT_CAP + 1)
        .subquery()
    )
    total = ctx.conn.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one()
    return min(total, COUNT_CAP), total > COUNT_CAP


def related(
    ctx: RecordContext, object_name: str, record_id: str, relation: str, request: ListRequest
) -> Page:
    """The children of a record through one relation, listed like any list."""
    obj = ctx.object(object_name)
    require_visible(ctx, object_name, record_id)
    found = find_relation(ctx, obj, relation)
    child = ctx.model.objects[found.child]
    fld = child.fields[found.field]
    conditions = [child.table.c[fld.columns[SIMPLE].name] == record_id]
    if found.polymorphic:
        conditions.append(child.table.c[fld.columns["object"].name] == obj.api_name)
    return list_records(ctx, child, request, conditions)


def relation_names(model: OrgModel, obj: ObjectModel) -> dict[str, Relation]:
    """Each related list of ``obj`` by its names: ``child.field``, the relationship name,
    and the child's name when only one of its fields points here (the API's
    ``/related/<name>`` and the OpenAPI document both resolve them so)."""
    relations = model.relations_to.get(obj.api_name, ())
    per_child: dict[str, int] = {}
    for r in relations:
        per_child[r.child] = per_child.get(r.child, 0) + 1
    names: dict[str, Relation] = {}
    for r in relations:
        explicit = model.objects[r.child].fields[r.field].definition.get("relationship_name")
        names[f"{r.child}.{r.field}"] = r
        if explicit:
            names[explicit] = r
        elif per_child[r.child] == 1:
            names[r.child] = r
    return names


def find_relation(ctx: RecordContext, obj: ObjectModel, relation: str) -> Relation:
    found = relation_names(ctx.model, obj).get(relation)
    if found is None:
        raise NotFound(f"no related list '{relation}' on {obj.api_name}")
    return found


def shape_record(
    ctx: RecordContext, obj: ObjectModel, row: Mapping[str, Any], shape: RecordShape
) -> dict[str, Any]:
    """A selected row as the API shows it: typed values, masks, formulas, dotted paths."""
    record: dict[str, Any] = {"id": row["id"], "owner_id": row["owner_id"]}
    codec = ctx.codec(obj)
    readers = codec.readers
    base_names = shape.shown
    cipher = ctx.cipher_for(obj)
    for name, column in shape.plain:
        if column is not None:
            record[name] = row[column]
        else:
            record.update(from_columns(obj, row, cipher, (name,), readers))
    if codec.encrypted:
        for name in base_names:
            if (
                readers[name].encrypted
                and record.get(name) is not None
                and not ctx.access.reads_plaintext(obj.api_name, name)
            ):
                record[name] = mask(record[name], obj.fields[name].definition.get("mask", "all"))
    for name, label in shape.computed:
        record[name] = row[label]
    for name in SYSTEM_OUTPUT:
        record[name] = row[name]
    if row.get("deleted_at") is not None:
        record["deleted_at"] = row["deleted_at"]
    return record


def search(
    ctx: RecordContext, q: str, objects: list[str] | None, limit: int
) -> list[dict[str, Any]]:
    """Records matching ``q`` across searchable objects, best first."""

    def allowed(obj: ObjectModel):
        if not ctx.access.can(obj.api_name, "read"):
            return None
        ids = sa.select(obj.table.c.id).where(obj.table.c.deleted_at.is_(None), *ctx.visible(obj))
        fields = [n for n in obj.fields if ctx.access.field_readable(obj.api_name, n)]
        return ids, fields, obj.name_field in fields

    return search_index.search(ctx.conn, ctx.model, q, objects, limit, allowed)


def history(ctx: RecordContext, object_name: str, record_id: str) -> list[dict[str, Any]]:
    """The tracked field changes of a record the user may read, newest first."""
    obj = ctx.object(object_name)
    require_visible(ctx, object_name, record_id, include_deleted=True)
    rows = ctx.conn.execute(
        sa.select(field_history, users.c.email)
        .join(users, users.c.id == field_history.c.changed_by, isouter=True)
        .where(field_history.c.object == obj.api_name, field_history.c.record_id == record_id)
        .order_by(field_history.c.changed_at.desc(), field_history.c.id.desc())
    ).mappings()

    def shown(name: str, value: Any) -> Any:
        # formatted by the field's type, as the record itself shows the value
        field = obj.fields.get(name)
        if field is None:
            return value
        return field_type(field.type).shown_value(field.definition, value)

    entries = [
        {
            "field": r["field"],
            "old_value": _history_value(ctx, obj, r["field"], r["old_value"], shown),
            "new_value": _history_value(ctx, obj, r["field"], r["new_value"], shown),
            "changed_by": {"id": r["changed_by"], "email": r["email"]},
            "changed_at": r["changed_at"],
        }
        for r in rows
        if ctx.access.field_readable(obj.api_name, r["field"])
    ]
    name_history(ctx, obj, entries)
    return entries


def _history_value(
    ctx: RecordContext, obj: ObjectModel, name: str, value: Any, shown: Callable[[str, Any], Any]
) -> Any:
    """A stored history value as this user may see it: formatted by ``shown`` as the
    record shows it; an encrypted field's values are decrypted for those who read its
    plaintext and masked like the field for the rest (rows written before history was
    encrypted hold plaintext: masked alike)."""
    fld = obj.fields.get(name)
    if value is None or fld is None or not field_type(fld.type).encrypted:
        return shown(name, value)
    plaintext: str | None = str(value)
    cipher = ctx.cipher_for(obj)
    if plaintext.startswith(CIPHER_PREFIX) and cipher is not None:
        try:
            plaintext = cipher.decrypt(plaintext, history_context(obj.api_name, name))
        except ValueError:
            plaintext = None  # tampered with, or another key: never shown
    if plaintext is not None and ctx.access.reads_plaintext(obj.api_name, name):
        return plaintext
    return mask(plaintext or "", fld.definition.get("mask", "all"))


def mask(value: str, style: str) -> str:
    """An encrypted value as shown without view_encrypted."""
    if style == "last4" and len(value) > 4:
        return "*" * (len(value) - 4) + value[-4:]
    return "*" * 8
