"""Planner statistics after bulk changes (PostgreSQL).

Autovacuum refreshes a table's statistics a minute or more after it changed; until then a
table that grew from nothing is planned as if it were empty, and the record service's
probes by key (unique and duplicate checks, the search entries of a batch) read whole
tables instead of their indexes. A bulk writer (an import) calls :func:`analyze_object`
as it goes.
"""

from __future__ import annotations

from sqlalchemy import Connection

from ..model import ObjectModel
from .search import search_table


def analyze_object(conn: Connection, obj: ObjectModel) -> None:
    """ANALYZE the object's table and the search entries (a sample of 30,000 rows each:
    tens of milliseconds); nothing on SQLite, whose planner needs no statistics here."""
    if conn.dialect.name == "sqlite":
        return
    quote = conn.dialect.identifier_preparer.quote
    conn.exec_driver_sql(f"ANALYZE {quote(obj.table.name)}, {quote(search_table.name)}")
