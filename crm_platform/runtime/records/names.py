"""The display names of what records point to: the ``_names`` member of a record.

A lookup's value stays the target's id (clients depend on it); beside the values, each
record carries ``_names``, mapping every member that holds a reference and has a value
(its lookups, ``owner_id``, ``created_by``, ``updated_by``) to the name of what it points
at. The names are columns of the read's own SELECT (a read stays one statement): a
record's name is the path ``<lookup>.<name field>``, joined like any dotted path, and a
user's the directory's public ``name`` column (``USER_PUBLIC_COLUMNS``), read by a
subquery on its primary key; a queue owning a record is named by its label from the
metadata. History, which stores past values, names them with one query per target.

A name is shown only as the reader could read ``<lookup>.<name field>``: a record they
cannot see, an object they may not read or a name field hidden from them by field-level
security (``UserAccess.field_readable``) reads as ``null``, exactly like a reference to a
record that no longer exists, so the member reveals neither the name nor whether the
record exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from crm_platform.core.tables import USER_PUBLIC_COLUMNS, users
from crm_platform.fieldtypes import USER, field_type, is_polymorphic
from crm_platform.fieldtypes.relations import OBJECT
from crm_platform.metadata import SIMPLE, resolve_label

from ..model import ObjectModel, OrgModel
from ..security import access_clause
from .context import RecordContext
from .query import SelectBuilder

NAMES_KEY = "_names"
# The system members holding a principal: the owner (a user or a queue) and the authors.
OWNER = "owner_id"
AUTHORS = ("created_by", "updated_by")
CHUNK = 500  # ids per IN list

Path = tuple[str, ...]
Reference = tuple[str, str]  # (target object or ``user``, id)

assert "name" in USER_PUBLIC_COLUMNS  # a user is named by a column anyone may read


def reference_members(obj: ObjectModel) -> list[str]:
    """Every member of ``obj``'s records that may hold a reference (the ``_names`` keys
    a reader with access to every field may see), in the record's order."""
    members = [OWNER]
    members.extend(n for n, f in obj.fields.items() if field_type(f.type).relation)
    members.extend(AUTHORS)
    return members


def reference_of(obj: ObjectModel, member: str, value: Any) -> Reference | None:
    """What a lookup's value (as stored in history) points at, or None (no value, or not
    a lookup)."""
    if value is None:
        return None
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


@dataclass(frozen=True)
class _Name:
    """How one reference is named in SQL, built once per metadata version: a user's name
    (``user_name``, the same for every reader), or a record's name field as a subquery on
    an alias of the target's table (``select``), to which the reader's visibility is added;
    ``select`` is None where only a path can compute the name (a formula name field)."""

    member: str
    target: str | None  # one of a polymorphic lookup's targets; None for the only one
    label: str
    user_name: ColumnElement[Any] | None = None
    pointed: str | None = None  # the target object of a record name
    name_field: str | None = None
    select: sa.Select[Any] | None = None
    alias: Any = None
    unrestricted: ColumnElement[Any] | None = None  # ``select`` for a reader who sees all


class PageNames:
    """The ``_names`` of one read: the columns it adds to the read's SELECT (build it
    before taking the builder's FROM clause: a formula name joins), then each row's names."""

    def __init__(
        self,
        ctx: RecordContext,
        builder: SelectBuilder,
        paths: Sequence[Path],
        shown: frozenset[str] | None = None,
    ) -> None:
        """``shown``: the names of the one-step paths, when the caller holds them (a
        record shape does: on a 500-field object, collecting them cost as much as the
        read's SQL)."""
        obj = builder.obj
        model = ctx.model
        plan = ctx.service.compiled(model, ("names", obj.api_name), lambda: _plan(model, obj))
        self.queues = ctx.service.compiled(model, ("queue names",), lambda: _queue_names(ctx))
        if shown is None:
            shown = frozenset(p[0] for p in paths if len(p) == 1)
        # member -> target (None: the one target) -> row label, or None when unreadable
        self.labels: dict[str, dict[str | None, str | None]] = {}
        self.columns: list[ColumnElement[Any]] = []
        # whether every column is one the version keeps (a user's name, or a record's for
        # a reader who sees every target): a statement holding them may then be kept too
        self.kept = True
        for name in plan:
            if name.member in obj.fields and name.member not in shown:
                continue
            column = _column(ctx, builder, name)
            if column is not None:
                self.columns.append(column)
                kept = column is name.user_name or column is name.unrestricted
                self.kept = self.kept and kept
            per_target = self.labels.setdefault(name.member, {})
            per_target[name.target] = name.label if column is not None else None

    def attach(self, record: dict[str, Any], row: Mapping[str, Any]) -> None:
        """Add ``_names`` to a record shaped from ``row``."""
        names: dict[str, str | None] = {}
        for member, per_target in self.labels.items():
            value = record.get(member)
            if value is None:
                continue
            polymorphic = isinstance(value, Mapping)
            label = per_target.get(value.get("object") if polymorphic else None)
            name = row[label] if label is not None else None
            if name is None and member == OWNER:
                name = self.queues.get(value)
            names[member] = name if name is None or isinstance(name, str) else str(name)
        record[NAMES_KEY] = names


def _column(ctx: RecordContext, builder: SelectBuilder, name: _Name) -> ColumnElement[Any] | None:
    """The labelled SQL of one name for this reader, or None when they may not read it."""
    if name.user_name is not None:
        return name.user_name
    pointed, name_field = name.pointed, name.name_field
    if (
        pointed is None
        or name_field is None
        or not ctx.access.can(pointed, "read")
        or not ctx.access.field_readable(pointed, name_field)
    ):
        return None
    target = ctx.model.objects[pointed]
    if name.select is None:  # a formula: computed through the path, joined
        step = name.member if name.target is None else f"{name.member}[{name.target}]"
        return builder.column((step, name_field)).label(name.label)
    visible = access_clause(ctx.access, target, name.alias)
    if visible is None:
        return name.unrestricted
    return name.select.where(visible).scalar_subquery().label(name.label)


def _plan(model: OrgModel, obj: ObjectModel) -> list[_Name]:
    """How each reference of ``obj`` is named (see :class:`_Name`)."""
    plan: list[_Name] = []
    for member in reference_members(obj):
        fld = obj.fields.get(member)
        polymorphic = fld is not None and is_polymorphic(fld.definition)
        reference = obj.table.c[member if fld is None else fld.columns[SIMPLE].name]
        for target in fld.targets if fld is not None and polymorphic else (None,):
            label = f"n:{member}" if target is None else f"n:{member}[{target}]"
            where = [] if target is None else [obj.table.c[fld.columns[OBJECT].name] == target]
            pointed = USER if fld is None else (target or fld.targets[0])
            if pointed == USER:
                named = users.alias(f"n_{member}")
                query = sa.select(named.c.name).where(named.c.id == reference, *where)
                column = query.correlate(obj.table).scalar_subquery().label(label)
                plan.append(_Name(member, target, label, user_name=column))
                continue
            plan.append(_record_name(model, obj, member, target, label, reference, where))
    return plan


def _record_name(
    model: OrgModel,
    obj: ObjectModel,
    member: str,
    target: str | None,
    label: str,
    reference: ColumnElement[Any],
    where: list[ColumnElement[Any]],
) -> _Name:
    pointed = target or obj.fields[member].targets[0]
    target_obj = model.object(pointed)
    name_field = target_obj.fields.get(target_obj.name_field) if target_obj else None
    if target_obj is None or name_field is None or field_type(name_field.type).encrypted:
        return _Name(member, target, label)
    if name_field.type == "formula":
        return _Name(member, target, label, pointed=pointed, name_field=name_field.api_name)
    if SIMPLE not in name_field.columns:
        return _Name(member, target, label)  # no one value to show
    alias = target_obj.table.alias(f"n_{member}" if target is None else f"n_{member}_{target}")
    select = (
        sa.select(alias.c[name_field.columns[SIMPLE].name])
        .where(alias.c.id == reference, *where)
        .correlate(obj.table)
    )
    return _Name(
        member,
        target,
        label,
        pointed=pointed,
        name_field=name_field.api_name,
        select=select,
        alias=alias,
        unrestricted=select.scalar_subquery().label(label),
    )


def resolve(ctx: RecordContext, refs: Iterable[Reference]) -> dict[Reference, str | None]:
    """The name of each reference as the reader may see it (``None`` when they may not,
    or when it no longer exists): one query per target object, one for the users."""
    wanted: dict[str, set[str]] = {}
    for target, ident in refs:
        wanted.setdefault(target, set()).add(ident)
    out: dict[Reference, str | None] = {}
    for target, ids in wanted.items():
        found = _user_names(ctx, ids) if target == USER else _record_names(ctx, target, ids)
        out.update({(target, ident): found.get(ident) for ident in ids})
    return out


def _user_names(ctx: RecordContext, ids: set[str]) -> dict[str, str]:
    """Users' names: the directory's public ``name`` column (users have no sharing)."""
    names: dict[str, str] = {}
    for chunk in _chunks(ids):
        rows = ctx.conn.execute(sa.select(users.c.id, users.c.name).where(users.c.id.in_(chunk)))
        names.update({row.id: row.name for row in rows})
    return names


def _queue_names(ctx: RecordContext) -> dict[str, str]:
    """Queues by id, named by their label (its first language) or else their name (a
    handful, from the compiled metadata: no query)."""
    return {
        q.id: (resolve_label(q.label, lambda _languages: None) if q.label else q.name)
        for q in ctx.model.security.queues.values()
    }


def _record_names(ctx: RecordContext, target_name: str, ids: set[str]) -> dict[str, str]:
    """The name field of the records of ``target_name`` the reader may see, by id (none
    when they may not read the object or its name field)."""
    target = ctx.model.object(target_name)
    if target is None or not ids:
        return {}
    return {k: v for k, v in ctx.visible_names(target, ids).items() if v is not None}


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
