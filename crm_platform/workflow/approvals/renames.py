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

from ..action_renames import rename_action
from .checks import ACTION_LISTS


def _path(ctx: RenameContext, path: str, start: str) -> str:
    return ".".join(ctx.rename_path(start, tuple(path.split("."))))


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
        actions = []
        for index, action in enumerate(out.get(key, ())):
            new, changed = rename_action(ctx, action, start, f"{key}[{index}]")
            actions.append(new)
            places += changed
        if key in out:
            out[key] = actions
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
