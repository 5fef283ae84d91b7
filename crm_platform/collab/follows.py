"""Who follows which record: follow, unfollow, and the followers of a batch of records.

Following is a preference, not access: a follower who can no longer see the record
keeps the row but is told nothing (every notice checks the record's sharing first), and
is told again should access come back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import dialect_insert, unnested_rows
from crm_platform.core.tables import users

from .tables import record_follows

T = record_follows


def follow_many(conn: Connection, object_name: str, pairs: Iterable[tuple[str, str]], now) -> None:
    """Make each (record id, user id) pair a follow, set-based; existing ones stay.

    One INSERT … SELECT over the pairs bound as one parameter, whatever their number (a
    batch of 1,000 new records: one statement, not a row each); both dialects know
    ``ON CONFLICT DO NOTHING``.
    """
    pairs = list(dict.fromkeys(pairs))
    if not pairs:
        return
    dialect = conn.dialect.name
    given = unnested_rows(dialect, pairs, ("record_id", "user_id"), "pairs")
    rows = sa.select(
        sa.literal(object_name, T.c.object.type),
        given.c.record_id,
        given.c.user_id,
        sa.literal(now, T.c.created_at.type),
    ).where(given.c.record_id.is_not(None))  # SQLite needs a WHERE before ON CONFLICT
    insert = dialect_insert(conn, T)
    columns = ["object", "record_id", "user_id", "created_at"]
    conn.execute(insert.from_select(columns, rows).on_conflict_do_nothing())


def follow(conn: Connection, object_name: str, record_id: str, user_id: str, now: datetime):
    """The user follows the record (again: nothing changes)."""
    follow_many(conn, object_name, [(record_id, user_id)], now)


def unfollow(conn: Connection, object_name: str, record_id: str, user_id: str) -> None:
    """The user no longer follows the record (not following: nothing changes)."""
    conn.execute(
        T.delete().where(
            T.c.object == object_name, T.c.record_id == record_id, T.c.user_id == user_id
        )
    )


def is_following(conn: Connection, object_name: str, record_id: str, user_id: str) -> bool:
    query = sa.select(T.c.user_id).where(
        T.c.object == object_name, T.c.record_id == record_id, T.c.user_id == user_id
    )
    return conn.execute(query).first() is not None


def followers(conn: Connection, object_name: str, record_ids: Iterable[str]) -> dict[str, list]:
    """The active followers of each record (record id -> user ids, in id order); one query."""
    wanted = sorted(set(record_ids))
    if not wanted:
        return {}
    query = (
        sa.select(T.c.record_id, T.c.user_id)
        .join(users, users.c.id == T.c.user_id)
        .where(T.c.object == object_name, T.c.record_id.in_(wanted), users.c.active.is_(True))
        .order_by(T.c.record_id, T.c.user_id)
    )
    found: dict[str, list] = {}
    for row in conn.execute(query):
        found.setdefault(row.record_id, []).append(row.user_id)
    return found


def people(conn: Connection, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` are people who may follow (users, not queues; never the system)."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    query = sa.select(users.c.id).where(users.c.id.in_(wanted), users.c.is_system.is_(False))
    return set(conn.execute(query).scalars())
