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
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(counters)
    conn.execute(insert.values(name=name, value=start - 1).on_conflict_do_nothing())
    return conn.execute(
        counters.update()
        .where(counters.c.name == name)
        .values(value=counters.c.value + 1)
        .returning(counters.c.value)
    ).scalar_one()


def format_number(pattern: str, number: int) -> str:
    """``PRJ-{00000}`` and 42 give ``PRJ-00042``."""
    return PLACEHOLDER.sub(lambda m: str(number).zfill(len(m.group(1))), pattern, count=1)


def counter_name(object_name: str, field_name: str) -> str:
    return f"auto_number:{object_name}.{field_name}"


def reset_counter(conn: Connection, name: str) -> None:
    conn.execute(sa.delete(counters).where(counters.c.name == name))
