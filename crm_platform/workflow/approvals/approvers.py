"""Who approves a step: a user, the users of a role, the submitter's manager, the members
of a queue or a group, or the user a field of the record names. Resolved when the step
starts (a membership change later does not move work already assigned)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core.tables import group_members, queue_members, users

from .checks import user_by_email


@dataclass(frozen=True)
class Resolved:
    """The approvers of a step, or why there are none."""

    user_ids: tuple[str, ...]
    why_none: str = ""


def _active(conn: Connection, condition: Any) -> tuple[str, ...]:
    query = (
        sa.select(users.c.id)
        .where(condition, users.c.active.is_(True), users.c.is_system.is_(False))
        .order_by(users.c.email)
    )
    return tuple(conn.execute(query).scalars())


def _members(conn: Connection, table: sa.Table, column: str, name: str) -> tuple[str, ...]:
    members = sa.select(table.c.user_id).where(table.c[column] == name)
    return _active(conn, users.c.id.in_(members))


def manager_of(conn: Connection, user_id: str) -> str | None:
    """A user's manager, when they have an active one."""
    manager = conn.execute(sa.select(users.c.manager_id).where(users.c.id == user_id)).scalar()
    if manager is None:
        return None
    found = _active(conn, users.c.id == manager)
    return found[0] if found else None


def resolve(
    conn: Connection,
    approver: Mapping[str, Any],
    *,
    submitter_id: str,
    field_value: Callable[[str], Any],
) -> Resolved:
    """The active users a step's ``approver`` names (``field_value(path)`` reads a user
    field of the record)."""
    ((kind, value),) = approver.items()
    if kind == "user":
        found = user_by_email(conn, value)
        return Resolved((found,) if found else (), f"no active user '{value}'")
    if kind == "role":
        return Resolved(_active(conn, users.c.role == value), f"nobody holds the role '{value}'")
    if kind == "queue":
        found_ids = _members(conn, queue_members, "queue_name", value)
        return Resolved(found_ids, f"the queue '{value}' has no active member")
    if kind == "group":
        found_ids = _members(conn, group_members, "group_name", value)
        return Resolved(found_ids, f"the group '{value}' has no active member")
    if kind == "submitter_manager":
        manager = manager_of(conn, submitter_id)
        return Resolved((manager,) if manager else (), "the submitter has no active manager")
    user_id = field_value(value)
    found = _active(conn, users.c.id == user_id) if isinstance(user_id, str) else ()
    return Resolved(found, f"the record's '{value}' names no active user")
