"""Many rows inserted with one ``executemany``, bound as their columns' types bind them.

SQLAlchemy's ``execute(table.insert(), rows)`` builds, for every row, a dictionary of
every parameter of the compiled statement and runs each value through its type's
processor: a third of a bulk create's Python time (an import of 100,000 rows of 25
columns processes 2.5 million values). An :class:`InsertPlan` is made once per table and
set of columns: its SQL text, and the processors of the columns that have one; a row is
then one ``itemgetter`` call and the few processors its values need. Values that are the
same in every row of a batch (who wrote it and when) are processed once per batch.

On PostgreSQL a batch of :data:`COPY_ROWS` rows or more goes in by ``COPY … FROM STDIN``
(psycopg's copy, which writes the rows as one stream): the server parses one stream
instead of executing the INSERT once per row. It is the same transaction and the same
checks (constraints, indexes): a unique clash raises
:class:`sqlalchemy.exc.IntegrityError` as an INSERT's does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.engine import Dialect

# the drivers' placeholders, by DB-API paramstyle (psycopg takes %s in its pyformat)
PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
COPY_ROWS = 50  # fewer rows go by executemany: a COPY's extra round trips cost more

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class InsertPlan:
    """How rows giving ``varying`` (by column name) plus ``shared`` values are inserted."""

    sql: str
    copy_sql: str  # the same columns by COPY (PostgreSQL)
    varying: tuple[str, ...]
    shared: tuple[str, ...]
    # (position in ``varying``, processor) of the varying columns whose type binds values
    processed: tuple[tuple[int, Processor], ...]
    shared_processors: tuple[Processor | None, ...]

    def parameters(
        self, rows: Sequence[Mapping[str, Any]], shared: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """The bound values of each row, in the statement's column order."""
        tail = tuple(
            value if process is None else process(value)
            for value, process in zip(
                (shared[name] for name in self.shared), self.shared_processors, strict=True
            )
        )
        take = itemgetter(*self.varying)
        if len(self.varying) == 1:
            values = [(take(row),) for row in rows]
        else:
            values = [take(row) for row in rows]
        if not self.processed:
            return [row + tail for row in values] if tail else values
        out = []
        processed = self.processed
        for row in values:
            bound = list(row)
            for index, process in processed:
                bound[index] = process(bound[index])
            out.append((*bound, *tail))
        return out


def insert_plan(
    dialect: Dialect, table: sa.Table, varying: Sequence[str], shared: Sequence[str] = ()
) -> InsertPlan:
    """The plan of inserting rows that give the columns ``varying`` into ``table``, with
    the columns ``shared`` set to one value per batch."""
    placeholder = PLACEHOLDERS.get(dialect.paramstyle)
    if placeholder is None:
        raise NotImplementedError(f"no bulk insert for the paramstyle {dialect.paramstyle!r}")
    quote = dialect.identifier_preparer.quote
    names = (*varying, *shared)
    target = dialect.identifier_preparer.format_table(table)
    columns = ", ".join(quote(name) for name in names)
    sql = f"INSERT INTO {target} ({columns}) VALUES ({', '.join(placeholder for _ in names)})"
    processors = [_processor(dialect, table.c[name]) for name in names]
    return InsertPlan(
        sql=sql,
        copy_sql=f"COPY {target} ({columns}) FROM STDIN",
        varying=tuple(varying),
        shared=tuple(shared),
        processed=tuple(
            (index, process)
            for index, process in enumerate(processors[: len(varying)])
            if process is not None
        ),
        shared_processors=tuple(processors[len(varying) :]),
    )


def _processor(dialect: Dialect, column: sa.Column[Any]) -> Processor | None:
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def insert_many(
    conn: Connection,
    plan: InsertPlan,
    rows: Sequence[Mapping[str, Any]],
    shared: Mapping[str, Any] | None = None,
) -> None:
    """Insert ``rows`` (each giving every column of ``plan.varying``) with one
    ``executemany``, or one COPY on PostgreSQL for :data:`COPY_ROWS` rows or more; a
    unique clash raises :class:`sqlalchemy.exc.IntegrityError`."""
    if not rows:
        return
    parameters = plan.parameters(rows, shared or {})
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_ROWS:
        _copy(conn, plan, parameters)
    else:
        conn.exec_driver_sql(plan.sql, parameters)


def _copy(conn: Connection, plan: InsertPlan, parameters: list[tuple[Any, ...]]) -> None:
    driver: Any = conn.connection.driver_connection
    error = type(driver).Error  # psycopg's base error
    try:
        with driver.cursor() as cursor, cursor.copy(plan.copy_sql) as copy:
            for row in parameters:
                copy.write_row(row)
    except error as exc:  # as SQLAlchemy wraps an INSERT's: IntegrityError and the rest
        raise sa.exc.DBAPIError.instance(
            plan.copy_sql, None, exc, error, dialect=conn.dialect
        ) from exc
