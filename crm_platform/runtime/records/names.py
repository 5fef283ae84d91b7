"""The display names of what records point to: the ``_names`` member of a record.

A lookup's value stays the target's id (clients depend on it); beside the values, each
record carries ``_names``, mapping every member that holds a reference and has a value
(its lookups, ``owner_id``, ``created_by``, ``updated_by``) to the name of what it points
at. The names of a whole page are read with one query per target object (and one for the
users), never one per row.

A name is shown only as the reader could read it through the path
``<lookup>.<name field>``: a record they cannot see, an object they may not read or a
name field hidden from them by field-level security (``UserAccess.field_readable``)
reads as ``null``, exactly like a reference to a record that no longer exists, so the
member reveals neither the name nor whether the record exists. Users are named by the
directory's public ``name`` column (``USER_PUBLIC_COLUMNS``); a queue owning a record by
its label.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

import sqlalchemy as sa

from crm_platform.core.tables import USER_PUBLIC_COLUMNS, users
from crm_platform.fieldtypes import USER, field_type, is_polymorphic
from crm_platform.metadata import resolve_label

from ..model import ObjectModel
from .context import RecordContext

NAMES_KEY = "_names"
# The system members holding a principal: the owner (a user or a queue) and the authors.
OWNER = "owner_id"
AUTHORS = ("created_by", "updated_by")
PRINCIPAL = "<principal>"  # the target of owner_id: a user, else a queue
CHUNK = 500  # ids per IN list

Reference = tuple[str, str]  # (target object, ``user`` or PRINCIPAL; id)

assert "name" in USER_PUBLIC_COLUMNS  # a user is named by a column anyone may read


def reference_members(obj: ObjectModel) -> list[str]:
    """Every member of ``obj``'s records that may hold a reference (the ``_names`` keys
    a reader with access to every field may see), in the record's order."""
    members = [OWNER]
    members.extend(n for n, f in obj.fields.items() if field_type(f.type).relation)
    members.extend(AUTHORS)
    return members


def reference_of(obj: ObjectModel, member: str, value: Any) -> Reference | None:
    """What one member's value points at, or None (no value, or not a reference)."""
    if value is None:
        return None
    if member == OWNER:
        return (PRINCIPAL, str(value))
    if member in AUTHORS:
        return (USER, str(value))
    fld = obj.fields.get(member)
    if fld is None or not field_type(fld.type).relation:
        return None
    if is_polymorphic(fld.definition):
        if not isinstance(value, Mapping) or not value.get("id") or not value.get("object"):
            return None
        return (str(value["object"]), str(value["id"]))
    if not isinstance(value, str):
        return None
    targets = fld.targets
    return (targets[0], value) if targets else None


def attach_names(ctx: RecordContext, obj: ObjectModel, records: list[dict[str, Any]]) -> None:
    """Add ``_names`` to each record as shaped by the reads (in place), reading every
    name of the page with one query per target."""
    found: list[dict[str, Reference]] = []
    for record in records:
        refs: dict[str, Reference] = {}
        for member in record:
            ref = reference_of(obj, member, record[member])
            if ref is not None:
                refs[member] = ref
        found.append(refs)
    names = resolve(ctx, (ref for refs in found for ref in refs.values()))
    for record, refs in zip(records, found, strict=True):
        record[NAMES_KEY] = {member: names.get(ref) for member, ref in refs.items()}


def resolve(ctx: RecordContext, refs: Iterable[Reference]) -> dict[Reference, str | None]:
    """The name of each reference as the reader may see it (absent: ``null``)."""
    wanted: dict[str, set[str]] = {}
    for target, ident in refs:
        wanted.setdefault(target, set()).add(ident)
    out: dict[Reference, str | None] = {}
    principals = wanted.pop(PRINCIPAL, set())
    plain_users = wanted.pop(USER, set())
    user_names = _user_names(ctx, plain_users | principals)
    for ident in plain_users:
        out[(USER, ident)] = user_names.get(ident)
    if principals:
        queues = _queue_names(ctx)
        for ident in principals:
            out[(PRINCIPAL, ident)] = user_names.get(ident) or queues.get(ident)
    for target, ids in wanted.items():
        target_names = _record_names(ctx, target, ids)
        for ident in ids:
            out[(target, ident)] = target_names.get(ident)
    return out


def _user_names(ctx: RecordContext, ids: set[str]) -> dict[str, str]:
    """Users' names: the directory's public ``name`` column (users have no sharing)."""
    names: dict[str, str] = {}
    for chunk in _chunks(ids):
        rows = ctx.conn.execute(sa.select(users.c.id, users.c.name).where(users.c.id.in_(chunk)))
        names.update({row.id: row.name for row in rows})
    return names


def _queue_names(ctx: RecordContext) -> dict[str, str]:
    """Queues by id, named by their label (its first language) or else their name."""
    return {
        q.id: (resolve_label(q.label, lambda _languages: None) if q.label else q.name)
        for q in ctx.model.security.queues.values()
    }


def _record_names(ctx: RecordContext, target_name: str, ids: set[str]) -> dict[str, str]:
    """The name field of the records of ``target_name`` the reader may see, by id (none
    when they may not read the object or its name field)."""
    target = ctx.model.object(target_name)
    if target is None or not ids or not ctx.access.can(target.api_name, "read"):
        return {}
    name_field = target.fields.get(target.name_field)
    if (
        name_field is None
        or field_type(name_field.type).encrypted
        or not ctx.access.field_readable(target.api_name, name_field.api_name)
    ):
        return {}
    builder = ctx.builder(target)
    name = builder.column((name_field.api_name,)).label("name")
    names: dict[str, str] = {}
    for chunk in _chunks(ids):
        query = (
            sa.select(target.table.c.id, name)
            .select_from(builder.from_clause)
            .where(target.table.c.id.in_(chunk), *ctx.visible(target))
        )
        names.update({row.id: _text(row.name) for row in ctx.conn.execute(query)})
    return {k: v for k, v in names.items() if v is not None}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _chunks(ids: set[str]) -> Iterable[list[str]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def name_history(
    ctx: RecordContext, obj: ObjectModel, entries: list[MutableMapping[str, Any]]
) -> None:
    """Add ``_names`` (``old_value``, ``new_value``) to the history entries of lookups,
    named as the record's own ``_names`` would name them today."""
    found: list[dict[str, Reference]] = []
    for entry in entries:
        refs: dict[str, Reference] = {}
        if entry["field"] in obj.fields:
            for key in ("old_value", "new_value"):
                ref = reference_of(obj, entry["field"], entry[key])
                if ref is not None:
                    refs[key] = ref
        found.append(refs)
    names = resolve(ctx, (ref for refs in found for ref in refs.values()))
    for entry, refs in zip(entries, found, strict=True):
        if entry["field"] in obj.fields and field_type(obj.fields[entry["field"]].type).relation:
            entry[NAMES_KEY] = {key: names.get(ref) for key, ref in refs.items()}
