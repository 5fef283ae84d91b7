"""Write steps 3 and 5: defaults, then system validation (required, picklists, lookups,
hierarchies, owners, uniqueness) and the org's validation rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from crm_platform.core import Conflict, ValidationFailed
from crm_platform.core.tables import users
from crm_platform.expressions import ValueType, parse
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import SIMPLE

from ..model import ObjectModel
from .context import RecordContext

MAX_HIERARCHY_DEPTH = 500
CHUNK = 500  # values per IN list


def apply_defaults(ctx: RecordContext, obj: ObjectModel, values: dict[str, Any]) -> None:
    """Fill the writable fields the input left out with their defaults."""
    codec = ctx.codec(obj)
    for name, fld in obj.fields.items():
        if name in values or name not in codec.writable:
            continue
        definition = fld.definition
        if "default" in definition:
            values[name] = codec.schema.load({name: definition["default"]}, partial=True)[name]
        elif "default_expression" in definition:
            values[name] = ctx.evaluate(obj, definition["default_expression"], values, None, name)
        elif fld.type == "picklist":
            default = next(
                (
                    v["value"]
                    for v in definition["values"]
                    if isinstance(v, dict) and v.get("default")
                ),
                None,
            )
            if default is not None:
                values[name] = default
        elif fld.type == "boolean":
            values[name] = False


def validate(
    ctx: RecordContext,
    obj: ObjectModel,
    values: Mapping[str, Any],
    changed: Mapping[str, Any] | None,
    owner_id: str,
    *,
    record_id: str | None = None,
    before: Mapping[str, Any] | None = None,
) -> None:
    """Refuse the record (400/409) unless it passes every system check and rule.

    ``changed`` is None on create (everything is checked), else the fields that move.
    """
    checking = values if changed is None else changed
    errors = field_problems(obj, values, checking, creating=changed is None)
    errors.update(dependent_picklist_problems(obj, values, checking, _readable(ctx, obj)))
    if errors:
        raise ValidationFailed(errors)
    check_lookups(ctx, obj, [checking])
    if record_id is not None:
        check_hierarchy(ctx, obj, checking, record_id)
    if changed is None or "owner_id" in changed or owner_id != ctx.user.id:
        check_owner(ctx, owner_id, obj)
    check_unique(ctx, obj, [checking], record_id)
    check_rules(ctx, obj, values, before)


def validate_new(
    ctx: RecordContext, obj: ObjectModel, records: Sequence[tuple[Mapping[str, Any], str]]
) -> None:
    """Validate new records together, in :func:`validate`'s order of checks: the checks in
    Python per record, the checks in the database one query per field or target for the
    whole batch. The first failure is raised."""
    for values, _owner in records:
        errors = field_problems(obj, values, values, creating=True)
        errors.update(dependent_picklist_problems(obj, values, values, _readable(ctx, obj)))
        if errors:
            raise ValidationFailed(errors)
    check_lookups(ctx, obj, [values for values, _owner in records])
    for owner_id in dict.fromkeys(owner for _values, owner in records):
        check_owner(ctx, owner_id, obj)
    check_unique(ctx, obj, [values for values, _owner in records])
    for values, _owner in records:
        check_rules(ctx, obj, values, None)


def field_problems(
    obj: ObjectModel, values: Mapping[str, Any], checking: Mapping[str, Any], *, creating: bool
) -> dict[str, list[str]]:
    """Required fields left blank and picklist values no longer active."""
    errors: dict[str, list[str]] = {}
    for name, fld in obj.fields.items():
        definition = fld.definition
        value = values.get(name)
        required = definition.get("required") or fld.type == "master_detail"
        if required and (name in checking or creating) and blank(value):
            errors.setdefault(name, []).append("required")
        if name not in checking or value is None:
            continue
        if fld.type in {"picklist", "multi_picklist"}:
            inactive = {
                v["value"]
                for v in definition["values"]
                if isinstance(v, dict) and v.get("active") is False
            }
            if fld.type == "picklist" and value in inactive:
                errors.setdefault(name, []).append(f"'{value}' is no longer an active value")
            if fld.type == "multi_picklist" and inactive & set(value):
                errors.setdefault(name, []).append("includes a value that is no longer active")
    return errors


def _readable(ctx: RecordContext, obj: ObjectModel) -> Callable[[str], bool]:
    return lambda name: ctx.access.field_readable(obj.api_name, name)


def dependent_picklist_problems(
    obj: ObjectModel, values, checking, readable: Callable[[str], bool] = lambda _name: True
) -> dict[str, list[str]]:
    """A dependent picklist's value must be valid for its controlling field's value.

    When the writer may not read the controlling field, the message names neither it
    nor its value (``readable`` says which fields the writer may read).
    """
    problems: dict[str, list[str]] = {}
    for name, fld in obj.fields.items():
        controlling = fld.definition.get("controlling_field")
        if controlling is None or values.get(name) is None:
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


def check_owner(ctx: RecordContext, owner_id: str, obj: ObjectModel) -> None:
    """An owner is an active user, or a queue that takes records of this object."""
    queues = ctx.model.security.queues.values()
    if any(q.id == owner_id and obj.api_name in q.objects for q in queues):
        return
    if owner_id == ctx.user.id and ctx.user.active:
        return
    found = ctx.conn.execute(
        sa.select(users.c.id).where(users.c.id == owner_id, users.c.active.is_(True))
    ).first()
    if found is None:
        raise ValidationFailed({"owner_id": "no active user or queue for this object"})


def check_lookups(
    ctx: RecordContext, obj: ObjectModel, records: Sequence[Mapping[str, Any]]
) -> None:
    """Each lookup points at a live record of its target that the user can see.

    One query per target object for the whole batch; the first record with a missing
    target is refused, naming each of its lookups that miss.
    """
    wanted: dict[str, set[str]] = {}
    links = [_links(obj, values) for values in records]
    for found_links in links:
        for _name, target_name, target_id in found_links:
            wanted.setdefault(target_name, set()).add(target_id)
    present = {name: _visible_ids(ctx, name, ids) for name, ids in wanted.items()}
    for found_links in links:
        errors = {
            name: [f"no {target_name} record '{target_id}'"]
            for name, target_name, target_id in found_links
            if target_id not in present[target_name]
        }
        if errors:
            raise ValidationFailed(errors)


def _links(obj: ObjectModel, values: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(field, target object, target id) of each lookup set in ``values``."""
    out = []
    for name, value in values.items():
        fld = obj.fields.get(name)
        if fld is None or value is None or not field_type(fld.type).relation:
            continue
        if isinstance(value, dict):
            out.append((name, value["object"], value["id"]))
        else:
            out.append((name, fld.definition["target"], value))
    return out


def _visible_ids(ctx: RecordContext, target_name: str, ids: set[str]) -> set[str]:
    target = ctx.model.object(target_name)
    if target is None or not ctx.access.can(target_name, "read"):
        return set()
    found: set[str] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        query = sa.select(target.table.c.id).where(
            target.table.c.id.in_(ordered[start : start + CHUNK]),
            target.table.c.deleted_at.is_(None),
            *ctx.visible(target),
        )
        found.update(r[0] for r in ctx.conn.execute(query))
    return found


def unique_fields(obj: ObjectModel) -> list[str]:
    """The fields whose values must be unique among live records."""
    return [
        n
        for n, f in obj.fields.items()
        if f.definition.get("unique") or field_type(f.type).always_unique
    ]


def check_unique(
    ctx: RecordContext,
    obj: ObjectModel,
    records: Sequence[Mapping[str, Any]],
    record_id: str | None = None,
) -> None:
    """409 when another live record (or another record of the batch) holds a unique value.

    ``record_id``: the record being updated, which may keep its own value.
    """
    for name in unique_fields(obj):
        values = [v[name] for v in records if v.get(name) is not None]
        if not values:
            continue
        column = obj.table.c[obj.fields[name].columns[SIMPLE].name]
        taken = len(set(values)) < len(values) or _any_taken(ctx, obj, column, values, record_id)
        if taken:
            raise Conflict(
                f"another {obj.api_name} record already has this {name}",
                extra={"errors": {name: ["already used by another record"]}},
            )


def _any_taken(
    ctx: RecordContext, obj: ObjectModel, column, values: list[Any], record_id: str | None
) -> bool:
    for start in range(0, len(values), CHUNK):
        query = sa.select(column).where(
            column.in_(values[start : start + CHUNK]), obj.table.c.deleted_at.is_(None)
        )
        if record_id:
            query = query.where(obj.table.c.id != record_id)
        if ctx.conn.execute(query.limit(1)).first() is not None:
            return True
    return False


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
    if not rule.get("generic_message"):
        return key, rule["message"]
    paths = parse(rule["condition"]).field_paths
    if all(ctx.access.path_readable(obj.api_name, p) for p in paths):
        return key, rule["message"]
    return key, GENERIC_RULE_MESSAGE


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []
