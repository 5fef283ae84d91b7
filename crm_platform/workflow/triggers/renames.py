"""How a trigger names objects and fields, so a rename rewrites it and the where-used list
finds it (see ``metadata.renames``): its object, the schedule's date field, the criteria,
and each action's target object, parent lookup, field names and value expressions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_platform.metadata.renames import RenameContext
from crm_platform.runtime.renames import rewrite_expression


def _lookup_target(ctx: RenameContext, object_name: str, lookup: str) -> str:
    comp = ctx.model.get("field", f"{object_name}.{lookup}")
    target = comp.definition.get("target") if comp is not None else None
    return target if isinstance(target, str) else object_name


def _action(
    ctx: RenameContext, start: str, action: Mapping[str, Any], path: str
) -> tuple[dict[str, Any], list[str]]:
    out = dict(action)
    places: list[str] = []
    target = start
    if isinstance(action.get("object"), str):
        target = action["object"]
        if ctx.object_name(target) != target:
            out["object"] = ctx.object_name(target)
            places.append(f"{path}.object")
    if action.get("record"):
        target = _lookup_target(ctx, start, action["record"])
        if ctx.is_renamed_field(start, action["record"]):
            out["record"] = ctx.rename.new
            places.append(f"{path}.record")
    if isinstance(action.get("values"), Mapping):
        values = {}
        for name, source in action["values"].items():
            new_name = ctx.field_name(target, name)
            new_source = rewrite_expression(ctx, source, start)
            if (new_name, new_source) != (name, source):
                places.append(f"{path}.values.{name}")
            values[new_name] = new_source
        out["values"] = values
    return out, places


def rename_trigger(
    ctx: RenameContext, comp: Any, definition: Mapping[str, Any]
) -> tuple[Mapping[str, Any], list[str]]:
    """The trigger with the rename applied, and the places it changed."""
    start = definition["object"]
    out = dict(definition)
    places: list[str] = []
    if ctx.object_name(start) != start:
        out["object"] = ctx.object_name(start)
        places.append("object")
    schedule = definition.get("schedule")
    if schedule and ctx.is_renamed_field(start, schedule.get("field", "")):
        out["schedule"] = {**schedule, "field": ctx.rename.new}
        places.append("schedule.field")
    if definition.get("when"):
        when = rewrite_expression(ctx, definition["when"], start)
        if when != definition["when"]:
            out["when"] = when
            places.append("when")
    actions = []
    for index, action in enumerate(definition.get("actions", ())):
        new, changed = _action(ctx, start, action, f"actions[{index}]")
        actions.append(new)
        places += changed
    out["actions"] = actions
    return (out, places) if places else (definition, [])
