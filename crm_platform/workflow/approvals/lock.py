"""The record lock: while an approval that locks its record is pending, the record may
not be edited or deleted — except by whoever holds modify_all on the object (and the
system user, whose automation acts for the process itself). Recall unlocks it."""

from __future__ import annotations

from crm_platform.core import Conflict
from crm_platform.runtime.records.events import EventContext
from crm_platform.runtime.security import load_access

from . import store


def refuse_locked_changes(ctx: EventContext) -> None:
    """Before update and before delete: 409 when a changed record is locked."""
    ids = [change.record_id for change in ctx.changes]
    locked = store.locked_records(ctx.connection, ctx.object.api_name, ids)
    if not locked or ctx.user.is_system:
        return
    access = load_access(ctx.connection, ctx.user, ctx.model, ctx.model.security)
    if access.edits_all(ctx.object.api_name):
        return
    what = "deleted" if ctx.event.operation == "delete" else "edited"
    raise Conflict(
        f"this {ctx.object.api_name} record is locked while its approval is pending: it "
        f"cannot be {what} until the approval is decided or recalled (administrators "
        "with modify_all may still change it)",
        extra={"locked": sorted(locked)},
    )
