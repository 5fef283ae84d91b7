"""Gap-free auto-numbers: a counter row updated in the insert's own transaction."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from crm_platform.core.tables import counters

PLACEHOLDER = re.compile(r"\{(0+)\}")


def next_value(conn: Connection, name: str, start: int) -> int:
    """The next number of counter ``name``; the row stays locked until the transaction ends."""
    return next_values(conn, name, start, 1)[0]


def next_values(conn: Connection, name: str, start: int, count: int) -> list[int]:
    """The next ``count`` numbers of counter ``name``, taken with one statement (an upsert
    that creates the counter at ``start`` or moves it on); the row stays locked until the
    transaction ends, so numbers are gap-free."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(counters)
    statement = (
        insert.values(name=name, value=start - 1 + count)
        .on_conflict_do_update(
            index_elements=[counters.c.name], set_={"value": counters.c.value + count}
        )
        .returning(counters.c.value)
    )
    last = conn.execute(statement).scalar_one()
    return list(range(last - count + 1, last + 1))


def format_number(pattern: str, number: int) -> str:
    """``PRJ-{00000}`` and 42 give ``PRJ-00042``."""
    return PLACEHOLDER.sub(lambda m: str(number).zfill(len(m.group(1))), pattern, count=1)


def counter_name(object_name: str, field_name: str) -> str:
    return f"auto_number:{object_name}.{field_name}"


def reset_counter(conn: Connection, name: str) -> None:
    conn.execute(sa.delete(counters).where(counters.c.name == name))
