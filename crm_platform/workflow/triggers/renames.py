"""How a trigger names objects and fields, so a rename rewrites it and the where-used list
finds it (see ``metadata.renames``): its object, the schedule's date field, the criteria,
and each action (:func:`..action_renames.rename_action`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_platform.metadata.renames import RenameContext
from crm_platform.runtime.renames import rewrite_expression

from ..action_renames import rename_action


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
        new, changed = rename_action(ctx, action, start, f"actions[{index}]")
        actions.append(new)
        places += changed
    out["actions"] = actions
    return (out, places) if places else (definition, [])
