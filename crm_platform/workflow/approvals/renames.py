"""Renames reach approval processes: a renamed object or field is rewritten in the
process's ``object``, its expressions (``entry``, each step's ``when``), user-field
approvers, and its action lists (value expressions and the fields they set) — and the
where-used list of a field names the processes that use it."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core.tables import approval_requests
from crm_platform.metadata.renames import RenameContext
from crm_platform.runtime.renames import rewrite_expression

from .checks import ACTION_LISTS


def _path(ctx: RenameContext, path: str, start: str) -> str:
    return ".".join(ctx.rename_path(start, tuple(path.split("."))))


def _lookup_target(ctx: RenameContext, object_name: str, field_name: str) -> str | None:
    comp = ctx.model.get("field", f"{object_name}.{field_name}")
    return comp.definition.get("target") if comp is not None else None


def _action(ctx: RenameContext, action: dict[str, Any], start: str, where: str) -> list[str]:
    """Rewrite one action in place; the places that changed."""
    places = []
    target = action.get("object") or start
    if "record" in action:  # update_record on a lookup's parent
        target = _lookup_target(ctx, start, action["record"]) or start
        renamed = ctx.field_name(start, action["record"])
        if renamed != action["record"]:
            action["record"] = renamed
            places.append(f"{where}.record")
    if "object" in action and ctx.object_name(action["object"]) != action["object"]:
        action["object"] = ctx.object_name(action["object"])
        places.append(f"{where}.object")
    values = action.get("values")
    if isinstance(values, dict):
        rewritten = {}
        for name, source in values.items():
            new_name = ctx.field_name(target, name)
            new_source = source
            if isinstance(source, str):
                new_source = rewrite_expression(ctx, source, start)
            if (new_name, new_source) != (name, source):
                places.append(f"{where}.values.{name}")
            rewritten[new_name] = new_source
        action["values"] = rewritten
    return places


def rename_process(
    ctx: RenameContext, comp: Any, definition: Mapping[str, Any]
) -> tuple[Mapping[str, Any], list[str]]:
    """The renamer of the ``approval_process`` kind."""
    del comp
    out = copy.deepcopy(dict(definition))
    start = definition["object"]  # its name before the change set: paths start there
    places = []
    if ctx.object_name(start) != start:
        out["object"] = ctx.object_name(start)
        places.append("object")
    if "entry" in out and (new := rewrite_expression(ctx, out["entry"], start)) != out["entry"]:
        out["entry"] = new
        places.append("entry")
    for index, step in enumerate(out["steps"]):
        if "when" in step and (new := rewrite_expression(ctx, step["when"], start)) != step["when"]:
            step["when"] = new
            places.append(f"steps[{index}].when")
        field = step["approver"].get("field")
        if field and field != "owner_id" and (new := _path(ctx, field, start)) != field:
            step["approver"]["field"] = new
            places.append(f"steps[{index}].approver.field")
    for key in ACTION_LISTS:
        for index, action in enumerate(out.get(key, ())):
            places += _action(ctx, action, start, f"{key}[{index}]")
    return out, places


def move_request_rows(conn: Connection, changes: tuple[Any, ...], _model: Any) -> None:
    """Apply hook: requests of a renamed object follow it (the lock and the decisions
    find them by the object's current name)."""
    for change in changes:
        before, after = change.before, change.after
        if after.kind != "object" or before is None or before.name == after.name:
            continue
        requests = approval_requests.c
        conn.execute(
            approval_requests.update()
            .where(requests.object == before.name)
            .values(
                object=after.name,
                process=sa.func.replace(requests.process, f"{before.name}.", f"{after.name}."),
            )
        )
