"""Case comments as the portal needs them on every write path: a comment records its
author, and a portal user's comment is never internal (whatever was sent)."""

from __future__ import annotations

from crm_platform.core.tables import PORTAL_USER
from crm_platform.runtime.records.events import EventContext
from crm_platform.runtime.records.validation import blank

COMMENT_OBJECT = "case_comment"


def stamp_comment(ctx: EventContext) -> None:
    """Before a comment is created: its author is the writer (unless given), and a
    customer's comment is public (the default, ``internal: true``, is for agents)."""
    if "internal" not in ctx.object.fields:
        return
    user = ctx.user
    for change in ctx.changes:
        values = ctx.values(change)
        if "author" in ctx.object.fields and blank(values.get("author")) and not user.is_system:
            ctx.set_field(change.record_id, "author", user.id)
        if user.user_type == PORTAL_USER:
            ctx.set_field(change.record_id, "internal", False)
