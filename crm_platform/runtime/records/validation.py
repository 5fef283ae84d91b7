"""Write steps 3 and 5: defaults, then system validation (required, picklists, lookups,
hierarchies, owners, uniqueness) and the org's validation rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from crm_platform.core import (
    Conflict,
    Forbidden,
    LocalizedText,
    ValidationFailed,
    in_list,
    list_param,
    list_value,
    unnested,
)
from crm_platform.core.tables import users
from crm_platform.expressions import MAX_HIERARCHY_DEPTH, ValueType, parse
from crm_platform.fieldtypes import USER, FieldType, field_type
from crm_platform.metadata import SIMPLE

from ..model import ObjectModel
from .codec import WritePlan
from .context import RecordContext
from .refusals import Refusals

CHUNK = 500  # values per IN list


def apply_defaults(ctx: RecordContext, obj: ObjectModel, values: dict[str, Any]) -> None:
    """Fill the writable fields the input left out with their defaults."""
    codec = ctx.codec(obj)
    for fld in codec.plan.defaults:
        name = fld.api_name
        if name in values:
            continue
        definition = fld.definition
        if "default" in definition:
            values[name] = codec.deserialise({name: definition["default"]})[name]
        elif "default_expression" in definition:
            values[name] = ctx.evaluate(obj, definition["default_expression"], values, None, name)
        elif (implied := field_type(fld.type).implied_default(definition)) is not None:
            values[name] = implied
        elif fld.type == "boolean":
            values[name] = False


@dataclass(frozen=True)
class Revision:
    """An update about to be written: the stored values, the fields that move (the owner
    apart) and the owner the record will have."""

    record_id: str
    before: Mapping[str, Any]
    changed: Mapping[str, Any]
    owner_id: str

    @property
    def values(self) -> dict[str, Any]:
        """The record as it will be."""
        return {**self.before, **self.changed}


def validate_changes(
    ctx: RecordContext,
    obj: ObjectModel,
    revisions: Sequence[Revision],
    refusals: Refusals,
) -> None:
    """Refuse updates (400/403/409) unless each passes every system check and rule: the
    checks in Python per record, those in the database one query per field or target for
    the whole batch, in this order; the first failure is raised (with ``refusals``
    collecting, each record's first failure is kept and the others go on). Only what
    moves is checked (a stored value that became invalid may stay)."""
    plan = ctx.codec(obj).plan
    readable = _readable(ctx, obj)
    for revision in revisions:
        values, changed = revision.values, revision.changed
        errors = field_problems(obj, plan, values, changed, creating=False, before=revision.before)
        errors.update(dependent_picklist_problems(plan, values, changed, readable))
        if errors:
            refusals.refuse(revision.record_id, ValidationFailed(errors))
    live = [r for r in revisions if r.record_id not in refusals]
    refuse_missing_targets(ctx, obj, [(r.record_id, r.changed) for r in live], refusals)
    live = [r for r in live if r.record_id not in refusals]
    for revision in live:
        with refusals.checking(revision.record_id):
            check_hierarchy(ctx, obj, revision.changed, revision.record_id)
    for revision in live:
        current_owner = revision.before.get("owner_id")
        if revision.owner_id != current_owner and revision.record_id not in refusals:
            with refusals.checking(revision.record_id):
                check_owner(
                    ctx,
                    obj,
                    revision.owner_id,
                    record_id=revision.record_id,
                    current_owner=current_owner,
                )
    live = [r for r in live if r.record_id not in refusals]
    refuse_taken_values(ctx, obj, [(r.record_id, r.changed) for r in live], refusals, updating=True)
    for revision in live:
        if revision.record_id in refusals:
            continue
        with refusals.checking(revision.record_id):
            # rules may read the owner (owner.role): the owner the record will have
            values = {**revision.values, "owner_id": revision.owner_id}
            check_rules(ctx, obj, values, revision.before)


def validate_new(
    ctx: RecordContext,
    obj: ObjectModel,
    records: Sequence[tuple[str, Mapping[str, Any], str]],
    refusals: Refusals,
) -> None:
    """Validate new records, given as (id, values, owner), together, in
    :func:`validate_changes`'s order of checks: the checks in Python per record, the
    checks in the database one query per field or target for the whole batch. The first
    failure is raised (with ``refusals`` collecting, every record's first is kept)."""
    plan = ctx.codec(obj).plan
    readable = _readable(ctx, obj)
    for record_id, values, _owner in records:
        errors = field_problems(obj, plan, values, values, creating=True)
        errors.update(dependent_picklist_problems(plan, values, values, readable))
        if errors:
            refusals.refuse(record_id, ValidationFailed(errors))
    live = [r for r in records if r[0] not in refusals]
    refuse_missing_targets(ctx, obj, [(rid, values) for rid, values, _owner in live], refusals)
    live = [r for r in live if r[0] not in refusals]
    for owner_id in dict.fromkeys(owner for _rid, _values, owner in live):
        with refusals.checking(*(rid for rid, _values, owner in live if owner == owner_id)):
            check_owner(ctx, obj, owner_id)
    live = [r for r in live if r[0] not in refusals]
    refuse_taken_values(ctx, obj, [(rid, values) for rid, values, _owner in live], refusals)
    for record_id, values, owner_id in live:
        if record_id not in refusals:
            with refusals.checking(record_id):
                check_rules(ctx, obj, {**values, "owner_id": owner_id}, None)


def field_problems(
    obj: ObjectModel,
    plan: WritePlan,
    values: Mapping[str, Any],
    checking: Mapping[str, Any],
    *,
    creating: bool,
    before: Mapping[str, Any] | None = None,
) -> dict[str, list[str]]:
    """Required fields left blank and values the type refuses now (picklist values no
    longer active); what ``before`` (the stored record) already holds may stay. Only the
    plan's ``checked`` fields can have either problem."""
    errors: dict[str, list[str]] = {}
    required = plan.required
    for name in plan.checked:
        value = values.get(name)
        if name in required and (name in checking or creating) and blank(value):
            errors.setdefault(name, []).append("required")
        check = plan.restricted.get(name)
        if check is None or name not in checking or value is None:
            continue
        stored = before.get(name) if before is not None else None
        if problem := check(value, stored):
            errors.setdefault(name, []).append(problem)
    return errors


def _readable(ctx: RecordContext, obj: ObjectModel) -> Callable[[str], bool]:
    return lambda name: ctx.access.field_readable(obj.api_name, name)


def dependent_picklist_problems(
    plan: WritePlan, values, checking, readable: Callable[[str], bool] = lambda _name: True
) -> dict[str, list[str]]:
    """A dependent picklist's value must be valid for its controlling field's value.

    When the writer may not read the controlling field, the message names neither it
    nor its value (``readable`` says which fields the writer may read).
    """
    problems: dict[str, list[str]] = {}
    for fld in plan.dependent:
        name = fld.api_name
        controlling = fld.definition["controlling_field"]
        if values.get(name) is None:
            continue
        if name not in checking and controlling not in checking:
            continue
        chosen = values.get(name)
        parent_value = values.get(controlling)
        for entry in fld.definition["values"]:
            restricted = isinstance(entry, dict) and "valid_for" in entry
            if restricted and entry["value"] == chosen and parent_value not in entry["valid_for"]:
                problems[name] = [
                    f"'{chosen}' is not valid when {controlling} is {parent_value!r}"
                    if readable(controlling)
                    else f"'{chosen}' is not valid with this record's other values"
                ]
    return problems


def check_hierarchy(ctx: RecordContext, obj: ObjectModel, values, record_id: str) -> None:
    """A hierarchy lookup (parent account) may not make a record its own ancestor."""
    for name, value in values.items():
        fld = obj.fields.get(name)
        if fld is None or value is None or not fld.definition.get("hierarchy"):
            continue
        column = obj.table.c[fld.columns[SIMPLE].name]
        current, steps = value, 0
        while current is not None and steps <= MAX_HIERARCHY_DEPTH:
            if current == record_id:
                raise ValidationFailed({name: "this would make the record its own ancestor"})
            current = ctx.conn.execute(sa.select(column).where(obj.table.c.id == current)).scalar()
            steps += 1


def check_owner(
    ctx: RecordContext,
    obj: ObjectModel,
    owner_id: str,
    *,
    record_id: str | None = None,
    current_owner: str | None = None,
) -> None:
    """Who may give a record to ``owner_id``, and who may own it.

    Setting an owner other than yourself (on create, ``record_id`` None) or changing the
    owner of a record (on update) needs full access (the owner, someone above the owner
    in the role hierarchy, or modify_all on the object) or the ``transfer_records``
    permission: an edit share alone never hands a record over (403). The owner must be an
    active user, never the system user, or a queue that takes records of the object (400).
    """
    access = ctx.access
    queues = ctx.model.security.queues.values()
    queue = any(q.id == owner_id and obj.api_name in q.objects for q in queues)
    yourself = owner_id == ctx.user.id and ctx.user.active and not ctx.user.is_system
    row = None
    if not queue and not yourself:
        row = ctx.conn.execute(
            sa.select(users.c.active, users.c.is_system, users.c.role).where(users.c.id == owner_id)
        ).first()
    if access.has("transfer_records") or access.edits_all(obj.api_name):
        permitted = True
    elif record_id is None:
        # a new record: the user would own it, so they may give it to one of their own
        # queues or to someone below them in the role hierarchy
        permitted = owner_id in access.owner_ids or (
            row is not None and row.role in access.subordinate_roles
        )
    else:
        permitted = ctx.has_full_access(obj, record_id, current_owner or "")
    if not permitted:
        raise Forbidden(
            "giving a record to another owner needs full access to it (its owner, someone "
            "above the owner in the role hierarchy, modify_all) or transfer_records",
            extra={"errors": {"owner_id": ["you may not give this record to another owner"]}},
        )
    if queue or yourself:
        return
    if row is not None and row.is_system:
        raise ValidationFailed({"owner_id": "the system user cannot own records"})
    if row is None or not row.active:
        raise ValidationFailed({"owner_id": "no active user or queue for this object"})


def refuse_missing_targets(
    ctx: RecordContext,
    obj: ObjectModel,
    records: Sequence[tuple[str, Mapping[str, Any]]],
    refusals: Refusals,
) -> None:
    """Each lookup points at a live record of its target that the user can see, or at a
    user (an active one when the field is ``active_only``).

    One query per target object for the whole batch; a record with a missing target is
    refused, naming each of its lookups that miss. Only the values being written are
    checked, so a user deactivated since stays on the records that name them.
    """
    wanted: dict[str, set[str]] = {}
    # (field, its target: None for a polymorphic lookup, whose value names it)
    relations = [(n, obj.fields[n].definition.get("target")) for n in ctx.codec(obj).plan.relations]
    links = [(rid, _links(relations, values)) for rid, values in records]
    for _rid, found_links in links:
        for _name, target_name, target_id in found_links:
            wanted.setdefault(target_name, set()).add(target_id)
    present = {name: _visible_ids(ctx, name, ids) for name, ids in wanted.items() if name != USER}
    user_active = _user_states(ctx, wanted.get(USER, set()))
    for record_id, found_links in links:
        errors: dict[str, list[str]] = {}
        for name, target_name, target_id in found_links:
            if target_name != USER:
                if target_id not in present[target_name]:
                    errors[name] = [f"no {target_name} record '{target_id}'"]
            elif target_id not in user_active:
                errors[name] = [f"no user '{target_id}'"]
            elif obj.fields[name].definition.get("active_only") and not user_active[target_id]:
                errors[name] = [f"user '{target_id}' is inactive: choose an active user"]
        if errors:
            refusals.refuse(record_id, ValidationFailed(errors))


def _user_states(ctx: RecordContext, ids: set[str]) -> dict[str, bool]:
    """Whether each of these users is active, for those that exist (the system user, the
    author of what the platform does itself, is not one a record may name)."""
    found: dict[str, bool] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        query = sa.select(users.c.id, users.c.active).where(
            users.c.id.in_(ordered[start : start + CHUNK]), users.c.is_system.is_(False)
        )
        found.update((row.id, row.active) for row in ctx.conn.execute(query))
    return found


def _links(
    relations: Sequence[tuple[str, str | None]], values: Mapping[str, Any]
) -> list[tuple[str, str, str]]:
    """(field, target object, target id) of each lookup set in ``values``; ``relations``:
    (field, target) of the object's lookups."""
    out = []
    for name, target in relations:  # a few lookups, among many values
        value = values.get(name)
        if value is None:
            continue
        if isinstance(value, dict):
            out.append((name, value["object"], value["id"]))
        else:
            out.append((name, target, value))
    return out


def _visible_ids(ctx: RecordContext, target_name: str, ids: set[str]) -> set[str]:
    target = ctx.model.object(target_name)
    if target is None or not ctx.access.can(target_name, "read"):
        return set()
    given = list_value(ctx.conn.dialect.name, sorted(ids))  # one list: one query
    return set(ctx.conn.execute(_visible_ids_query(ctx, target), {LOOKUP_IDS: given}).scalars())


LOOKUP_IDS = "crm_lookup_ids"
MAX_KEPT_LOOKUP_QUERIES = 256  # per metadata version: (target, visibility clause) pairs


def _visible_ids_query(ctx: RecordContext, target: ObjectModel) -> sa.Select[Any]:
    """The SELECT of the ids, among ``LOOKUP_IDS``, of live ``target`` records the user
    sees. Kept per metadata version and visibility clause (the same clause object, as the
    version keeps it per reader): building it and its cache key anew cost a single
    create more than the read itself."""
    visible = ctx.visible(target)

    def build() -> sa.Select[Any]:
        given = list_param(ctx.conn.dialect.name, LOOKUP_IDS)  # one list, not one per id
        return sa.select(target.table.c.id).where(
            in_list(ctx.conn.dialect.name, target.table.c.id, given),
            target.table.c.deleted_at.is_(None),
            *visible,
        )

    if len(visible) > 1:
        return build()
    guard = visible[0] if visible else None
    kept = ctx.service.compiled(ctx.model, ("lookup ids",), dict)
    key = (target.api_name, id(guard))
    found = kept.get(key)
    if found is not None and found[0] is guard:  # the entry holds its clause: ids stay unique
        return found[1]
    if len(kept) >= MAX_KEPT_LOOKUP_QUERIES:
        kept.clear()
    query = build()
    kept[key] = (guard, query)
    return query


def refuse_taken_values(
    ctx: RecordContext,
    obj: ObjectModel,
    records: Sequence[tuple[str, Mapping[str, Any]]],
    refusals: Refusals,
    *,
    updating: bool = False,
) -> None:
    """409 for a record whose unique value another live record holds, or an earlier
    record of the batch.

    ``updating``: the records are being updated and may keep their own values (a record
    of the batch taking the value another one keeps is left to the unique index, which
    answers the same 409).
    """
    own_ids = [rid for rid, _values in records] if updating else []
    for name in ctx.codec(obj).plan.unique:
        given = [(rid, values[name]) for rid, values in records if values.get(name) is not None]
        if not given:
            continue
        ftype = field_type(obj.fields[name].type)
        column = obj.table.c[obj.fields[name].columns[SIMPLE].name]
        taken = _taken(ctx, obj, ftype, column, [value for _rid, value in given], own_ids)
        conflict = Conflict(
            f"another {obj.api_name} record already has this {name}",
            extra={"errors": {name: ["already used by another record"]}},
        )
        holders: dict[Any, str] = {}  # the batch's first record with each value
        for position, (record_id, value) in enumerate(given):
            key = ftype.unique_value(value)
            if position in taken:
                refusals.refuse(record_id, conflict)
            elif key in holders:
                refusals.refuse(record_id, conflict, because=(holders[key],))
            else:
                holders[key] = record_id


def _taken(
    ctx: RecordContext,
    obj: ObjectModel,
    ftype: FieldType,
    column,
    values: list[Any],
    own_ids: Sequence[str],
) -> set[int]:
    """The positions in ``values`` of the values other live records hold (but those of
    ``own_ids``), compared as the unique index compares them: in SQL, so the record
    service and the index agree on each database (lower() on both sides for emails, a
    decimal rounded to the column's scale). A second query, only when some are taken,
    says which."""
    if isinstance(column.type, sa.String) and all(type(v) is str for v in values):
        return _taken_texts(ctx, obj, ftype, column, values, own_ids)
    key = ftype.unique_key(column)
    taken: set[int] = set()
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        wanted = [ftype.unique_key(sa.literal(v, column.type)) for v in chunk]
        query = sa.select(key).where(key.in_(wanted), obj.table.c.deleted_at.is_(None))
        if len(own_ids) == 1:
            query = query.where(obj.table.c.id != own_ids[0])
        elif own_ids:
            query = query.where(obj.table.c.id.not_in(list(own_ids)))
        # no LIMIT 1: PostgreSQL would then expect a match early in a scan of the table
        # and read it whole, where none is found (the usual case: new values)
        held = {stored for (stored,) in ctx.conn.execute(query)}
        if not held:
            continue
        keys = ctx.conn.execute(sa.select(*(w.label(f"k{i}") for i, w in enumerate(wanted))))
        taken.update(start + i for i, k in enumerate(keys.one()) if k in held)
    return taken


def _taken_texts(
    ctx: RecordContext,
    obj: ObjectModel,
    ftype: FieldType,
    column,
    values: list[str],
    own_ids: Sequence[str],
) -> set[int]:
    """:func:`_taken` for text values, bound as one list: a literal per value cost more
    Python than the query (an import checks every external id and email it writes)."""
    dialect = ctx.conn.dialect.name
    key = ftype.unique_key(column)
    keys = values
    if key is not column:  # the index holds an expression (lower()): the database makes it
        given = unnested(dialect, values)
        query = sa.select(ftype.unique_key(given.c.v)).order_by(given.c.i)
        keys = [stored for (stored,) in ctx.conn.execute(query)]
    # the keys themselves bound (not a subquery): PostgreSQL's planner sees them and
    # probes the index, where an array it cannot see was planned as a scan of the table
    query = sa.select(key).where(in_list(dialect, key, keys), obj.table.c.deleted_at.is_(None))
    if own_ids:
        query = query.where(sa.not_(in_list(dialect, obj.table.c.id, own_ids)))
    held = {stored for (stored,) in ctx.conn.execute(query)}
    return {i for i, k in enumerate(keys) if k in held} if held else set()


def check_rules(ctx: RecordContext, obj: ObjectModel, values, before) -> None:
    """Refuse the record when a rule's error condition holds (PRIORVALUE reads ``before``)."""
    rules = ctx.model.validation_rules.get(obj.api_name, ())
    if not rules:
        return
    errors: dict[str, list[str]] = {}
    for rule in rules:
        failed = ctx.evaluate(
            obj,
            rule["condition"],
            values,
            before,
            f"rule {rule['api_name']}",
            ValueType.BOOLEAN,
        )
        if failed is True:
            key, message = rule_error(ctx, obj, rule)
            errors.setdefault(key, []).append(message)
    if errors:
        raise ValidationFailed(errors)


GENERIC_RULE_MESSAGE = "the record does not meet a validation rule"


def rule_error(ctx: RecordContext, obj: ObjectModel, rule: Mapping[str, Any]) -> tuple[str, str]:
    """Where and how a failed rule is reported to this user.

    The error sits under the rule's field, or under ``(record)`` when there is none or
    the user may not read it. A rule whose condition reads fields the user may not read
    still refuses the record (an oracle by design, docs/adr: confidential fields); with
    ``generic_message: true`` such a user gets a message that names nothing, while
    users who read every field of the condition get the admin's message.
    """
    field = rule.get("field")
    key = field if field and ctx.access.field_readable(obj.api_name, field) else "(record)"
    message = rule["message"]
    written = LocalizedText(message) if isinstance(message, Mapping) else message
    if not rule.get("generic_message"):
        return key, written
    paths = parse(rule["condition"]).field_paths
    if all(ctx.access.path_readable(obj.api_name, p) for p in paths):
        return key, written
    return key, GENERIC_RULE_MESSAGE


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []
