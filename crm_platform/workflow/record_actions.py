"""The record actions: update fields (of the record or of its lookup parent) and create a
record, with values given as expressions evaluated on the record that fired them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.metadata import CandidateModel, Problem
from crm_platform.runtime import OrgModel

from .actions import ActionChecks, ActionContext

VALUES_SCHEMA = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 4000},
}


def as_input(value: Any) -> Any:
    """An expression's value as the record service takes it in a JSON body."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def evaluated_values(ctx: ActionContext, target: str, values: Mapping[str, str]) -> dict[str, Any]:
    """The action's ``values`` evaluated on the firing record, as input for ``target``.

    A polymorphic lookup given a bare id (``what: id``) gets the object that holds it:
    ids are unique across the org, so the id alone says which record is meant.
    """
    obj = ctx.model.objects[target]
    out = {}
    for name, source in values.items():
        value = as_input(ctx.evaluate(source, None))
        fld = obj.fields.get(name)
        if isinstance(value, str) and fld is not None and fld.definition.get("targets"):
            value = {"object": _holder(ctx, fld.definition["targets"], value), "id": value}
        out[name] = value
    return out


def _holder(ctx: ActionContext, targets: list[str], record_id: str) -> str | None:
    if record_id == ctx.record_id and ctx.object.api_name in targets:
        return ctx.object.api_name
    return holder_of(ctx.conn, ctx.model, targets, record_id)


def holder_of(conn: Connection, model: OrgModel, targets: list[str], record_id: str) -> str | None:
    """Which of a polymorphic lookup's ``targets`` holds ``record_id`` (ids are unique
    across the org, so a bare id says which record is meant); None when none does."""
    for name in targets:
        table = model.objects[name].table
        if conn.execute(sa.select(table.c.id).where(table.c.id == record_id)).first():
            return name
    return None


@dataclass(frozen=True)
class UpdateRecord:
    """``{type: update_record, values: {field: expression}, record: <lookup field>}``:
    set fields of the record (or, with ``record``, of the parent a lookup points to)."""

    name: str = "update_record"
    before_save: bool = True
    schema: Mapping[str, Any] = field(
        default_factory=lambda: {
            "type": "object",
            "properties": {
                "type": {"const": "update_record"},
                "record": {"type": "string", "minLength": 1},
                "values": VALUES_SCHEMA,
            },
            "required": ["type", "values"],
            "additionalProperties": False,
        }
    )

    def check(
        self,
        model: CandidateModel,
        object_name: str,
        action: Mapping[str, Any],
        path: str,
        checks: ActionChecks,
    ) -> Iterable[Problem]:
        target = object_name
        if lookup := action.get("record"):
            target = checks.lookup_target(model, object_name, lookup)
            if target is None:
                yield (f"{path}.record", f"{object_name} has no lookup field '{lookup}'")
                return
        for name, source in action["values"].items():
            where = f"{path}.values.{name}"
            if not checks.writable_field(model, target, name):
                yield (where, f"{target} has no field '{name}' that an action may set")
                continue
            yield from checks.expression(model, object_name, source, (target, name), where)

    def run(self, ctx: ActionContext, action: Mapping[str, Any]) -> None:
        if lookup := action.get("record"):
            parent = ctx.values.get(lookup)
            target = ctx.object.fields[lookup].definition.get("target")
            if isinstance(parent, str) and isinstance(target, str):
                ctx.system.update(target, parent, evaluated_values(ctx, target, action["values"]))
            return
        values = evaluated_values(ctx, ctx.object.api_name, action["values"])
        ctx.system.update(ctx.object.api_name, ctx.record_id, values)


@dataclass(frozen=True)
class CreateRecord:
    """``{type: create_record, object: task, values: {field: expression}}``: a new record,
    its values evaluated on the record that fired the action (``owner_id`` among them, or
    the user whose change fired it owns it)."""

    name: str = "create_record"
    before_save: bool = False
    schema: Mapping[str, Any] = field(
        default_factory=lambda: {
            "type": "object",
            "properties": {
                "type": {"const": "create_record"},
                "object": {"type": "string", "minLength": 1},
                "values": VALUES_SCHEMA,
            },
            "required": ["type", "object", "values"],
            "additionalProperties": False,
        }
    )

    def check(
        self,
        model: CandidateModel,
        object_name: str,
        action: Mapping[str, Any],
        path: str,
        checks: ActionChecks,
    ) -> Iterable[Problem]:
        target = action["object"]
        if not checks.object_exists(model, target):
            yield (f"{path}.object", f"no object '{target}'")
            return
        for name, source in action["values"].items():
            where = f"{path}.values.{name}"
            if not checks.writable_field(model, target, name):
                yield (where, f"{target} has no field '{name}' that an action may set")
                continue
            yield from checks.expression(model, object_name, source, (target, name), where)

    def run(self, ctx: ActionContext, action: Mapping[str, Any]) -> None:
        target = action["object"]
        values = evaluated_values(ctx, target, action["values"])
        # the system user owns nothing: unless the action names an owner, the new record
        # belongs to the person whose change fired it (or, for the system's own changes,
        # to the firing record's owner)
        if "owner_id" not in values:
            values["owner_id"] = ctx.values.get("owner_id") if ctx.user.is_system else ctx.user.id
        ctx.system.create(target, values)
