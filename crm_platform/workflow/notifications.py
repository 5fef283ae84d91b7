"""In-app notifications: written in the transaction of the change that causes them (an
assignment, a ``notify`` action), read by their recipient, unread first.

A notification goes to users: a queue or a group given as recipient stands for its
active members. Lists page by keyset on (read, id), the same order on both databases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import NotFound, ValidationFailed, new_id
from crm_platform.core.tables import group_members, notifications, queue_members, users

T = notifications
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_MESSAGE = 2000


def active_users(conn: Connection, user_ids: Iterable[str]) -> list[str]:
    """The ids among ``user_ids`` of active people (never the system user), in id order."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return []
    query = sa.select(users.c.id).where(
        users.c.id.in_(wanted), users.c.active.is_(True), users.c.is_system.is_(False)
    )
    return sorted(conn.execute(query).scalars())


def members(conn: Connection, kind: str, name: str) -> list[str]:
    """The active members of a group or queue, in id order."""
    table, column = (
        (group_members, group_members.c.group_name)
        if kind == "group"
        else (queue_members, queue_members.c.queue_name)
    )
    query = (
        sa.select(table.c.user_id)
        .join(users, users.c.id == table.c.user_id)
        .where(column == name, users.c.active.is_(True), users.c.is_system.is_(False))
        .order_by(table.c.user_id)
    )
    return list(conn.execute(query).scalars())


def recipients(conn: Connection, security: Any, principal_id: str) -> list[str]:
    """The people a principal stands for: a user, or the active members of a queue or
    group (``security`` is the compiled model's security part, which names them)."""
    for queue in security.queues.values():
        if queue.id == principal_id:
            return members(conn, "queue", queue.name)
    for name, group_id in security.groups.items():
        if group_id == principal_id:
            return members(conn, "group", name)
    return active_users(conn, [principal_id])


def notify(
    conn: Connection,
    user_ids: Sequence[str],
    message: str,
    *,
    source: str,
    now: datetime,
    object_name: str | None = None,
    record_id: str | None = None,
) -> list[str]:
    """One unread notification per user, in ``conn``'s transaction; their ids."""
    text = message[:MAX_MESSAGE]
    rows = [
        {
            "id": new_id(),
            "user_id": user_id,
            "message": text,
            "object": object_name,
            "record_id": record_id,
            "source": source,
            "read": False,
            "created_at": now,
            "read_at": None,
        }
        for user_id in dict.fromkeys(user_ids)
    ]
    if rows:
        conn.execute(T.insert(), rows)
    return [row["id"] for row in rows]


@dataclass(frozen=True)
class Page:
    notifications: list[dict[str, Any]]
    next_cursor: str | None
    unread: int


def _view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "message": row.message,
        "object": row.object,
        "record_id": row.record_id,
        "source": row.source,
        "read": row.read,
        "created_at": row.created_at.isoformat(),
        "read_at": row.read_at.isoformat() if row.read_at else None,
    }


def _cursor(cursor: str) -> tuple[bool, str]:
    flag, _, last = cursor.partition(":")
    if flag not in {"0", "1"} or not last:
        raise ValidationFailed({"cursor": "give the next_cursor of the previous page"})
    return flag == "1", last


def list_for(
    conn: Connection,
    user_id: str,
    *,
    unread_only: bool = False,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page:
    """A user's notifications: unread first, newest first within each; keyset-paged."""
    mine = T.c.user_id == user_id
    query = sa.select(T).where(mine).order_by(T.c.read, T.c.id.desc()).limit(limit + 1)
    if unread_only:
        query = query.where(T.c.read.is_(False))
    if cursor is not None:
        read, last = _cursor(cursor)
        after = sa.and_(T.c.read.is_(read), T.c.id < last)
        query = query.where(sa.or_(after, T.c.read.is_(True)) if not read else after)
    rows = conn.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = f"{int(rows[-1].read)}:{rows[-1].id}" if more else None
    count = sa.select(sa.func.count()).select_from(T).where(mine, T.c.read.is_(False))
    return Page([_view(r) for r in rows], next_cursor, conn.execute(count).scalar_one())


def mark_read(conn: Connection, user_id: str, notification_id: str, now: datetime) -> dict:
    """Mark one of the user's notifications read (404 for anyone else's)."""
    mine = sa.and_(T.c.id == notification_id, T.c.user_id == user_id)
    conn.execute(T.update().where(mine, T.c.read.is_(False)).values(read=True, read_at=now))
    row = conn.execute(sa.select(T).where(mine)).first()
    if row is None:
        raise NotFound(f"no notification '{notification_id}'")
    return _view(row)


def mark_all_read(conn: Connection, user_id: str, now: datetime) -> int:
    """Mark every unread notification of the user read; how many were."""
    unread = sa.and_(T.c.user_id == user_id, T.c.read.is_(False))
    return conn.execute(T.update().where(unread).values(read=True, read_at=now)).rowcount
