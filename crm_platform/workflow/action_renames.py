"""A rename inside one action of a trigger or an approval process (both run the same
action lists): the object it creates, the lookup whose record it updates, the fields it
sets and every expression or field path among its options — the value expressions, and
what each action type declares (``SendEmail.expressions``: ``to``, ``cc``; a webhook's
``fields``), so a recipient such as ``account_manager.email`` follows a rename of the
lookup like any formula does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_platform.metadata.renames import RenameContext
from crm_platform.runtime.renames import rewrite_expression

from .catalog import ACTIONS


def rename_action(
    ctx: RenameContext, action: Mapping[str, Any], start: str, where: str
) -> tuple[dict[str, Any], list[str]]:
    """``action`` (of a definition on object ``start``, at ``where``) with the rename
    applied, and the places it changed."""
    out = dict(action)
    places: list[str] = []
    target = start  # the object whose fields ``values`` sets
    if isinstance(action.get("object"), str):
        target = action["object"]
        if ctx.object_name(target) != target:
            out["object"] = ctx.object_name(target)
            places.append(f"{where}.object")
    if isinstance(action.get("record"), str):  # update_record on a lookup's parent
        target = _lookup_target(ctx, start, action["record"]) or start
        if ctx.is_renamed_field(start, action["record"]):
            out["record"] = ctx.rename.new
            places.append(f"{where}.record")
    if isinstance(action.get("values"), Mapping):
        values = {}
        for name, source in action["values"].items():
            new_name = ctx.field_name(target, name)
            new_source = _expression(ctx, source, start)
            if (new_name, new_source) != (name, source):
                places.append(f"{where}.values.{name}")
            values[new_name] = new_source
        out["values"] = values
    kind = ACTIONS.get(action.get("type", ""))
    for key in getattr(kind, "expressions", ()):
        if key in action and (new := _expression(ctx, action[key], start)) != action[key]:
            out[key] = new
            places.append(f"{where}.{key}")
    for key in getattr(kind, "paths", ()):
        if key in action and (new := _paths(ctx, action[key], start)) != action[key]:
            out[key] = new
            places.append(f"{where}.{key}")
    return out, places


def _expression(ctx: RenameContext, source: Any, start: str) -> Any:
    """An expression option, or a list of them (``to: [a, b]``), renamed."""
    if isinstance(source, str):
        return rewrite_expression(ctx, source, start)
    if isinstance(source, list):
        return [_expression(ctx, item, start) for item in source]
    return source


def _paths(ctx: RenameContext, paths: Any, start: str) -> Any:
    if not isinstance(paths, list):
        return paths
    return [
        ".".join(ctx.rename_path(start, tuple(p.split(".")))) if isinstance(p, str) else p
        for p in paths
    ]


def _lookup_target(ctx: RenameContext, object_name: str, field_name: str) -> str | None:
    comp = ctx.model.get("field", f"{object_name}.{field_name}")
    target = comp.definition.get("target") if comp is not None else None
    return target if isinstance(target, str) else None
