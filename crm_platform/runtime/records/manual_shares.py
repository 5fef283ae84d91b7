"""Manual shares of one record: who else sees it and why, sharing onward, un-sharing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from crm_platform.core import NotFound, ValidationFailed
from crm_platform.core.tables import shares, users

from ..security.shares import MANUAL, describe_principal, principal_key
from .context import RecordContext
from .reads import require_visible


def list_shares(ctx: RecordContext, object_name: str, record_id: str) -> list[dict[str, Any]]:
    """Who else sees a record, and why (manual shares and sharing rules)."""
    obj = ctx.object(object_name)
    require_visible(ctx, object_name, record_id)
    rows = ctx.conn.execute(
        sa.select(shares).where(shares.c.object == obj.api_name, shares.c.record_id == record_id)
    ).mappings()
    security = ctx.model.security
    return [
        {
            "principal": describe_principal(security, r["principal"]),
            "key": r["principal"],
            "access": r["access"],
            "reason": r["reason"],
        }
        for r in rows
    ]


def add_share(ctx: RecordContext, object_name: str, record_id: str, data: Any) -> dict[str, Any]:
    """Share a record with a user, group or role (needs full access to the record: its
    owner, someone above the owner in the role hierarchy, or modify_all)."""
    obj = ctx.object(object_name)
    if obj.sharing not in {"private", "public_read"}:
        raise ValidationFailed(
            {"(record)": f"{obj.api_name} is {obj.sharing}: records are not shared one by one"}
        )
    ctx.require_full_access(obj, record_id)
    if not isinstance(data, Mapping) or data.get("access") not in ("read", "edit"):  # any JSON
        raise ValidationFailed({"access": "read or edit"})
    key = principal_key(ctx.model.security, data, lambda user_id: _active_user(ctx, user_id))
    mine = (
        shares.c.object == obj.api_name,
        shares.c.record_id == record_id,
        shares.c.principal == key,
        shares.c.reason == MANUAL,
    )
    ctx.conn.execute(shares.delete().where(*mine))
    ctx.conn.execute(
        shares.insert().values(
            object=obj.api_name,
            record_id=record_id,
            principal=key,
            access=data["access"],
            reason=MANUAL,
        )
    )
    return {
        "principal": describe_principal(ctx.model.security, key),
        "key": key,
        "access": data["access"],
        "reason": MANUAL,
    }


def remove_share(ctx: RecordContext, object_name: str, record_id: str, key: str) -> None:
    """Take back a manual share (needs full access); 404 when there is none."""
    obj = ctx.object(object_name)
    ctx.require_full_access(obj, record_id)
    removed = ctx.conn.execute(
        shares.delete().where(
            shares.c.object == obj.api_name,
            shares.c.record_id == record_id,
            shares.c.principal == key,
            shares.c.reason == MANUAL,
        )
    ).rowcount
    if not removed:
        raise NotFound("no manual share for this principal")


def _active_user(ctx: RecordContext, user_id: str) -> bool:
    found = ctx.conn.execute(
        sa.select(users.c.id).where(users.c.id == user_id, users.c.active.is_(True))
    ).first()
    return found is not None
