"""Many rows inserted with one ``executemany``, bound as their columns' types bind them.

SQLAlchemy's ``execute(table.insert(), rows)`` builds, for every row, a dictionary of
every parameter of the compiled statement and runs each value through its type's
processor: a third of a bulk create's Python time (an import of 100,000 rows of 25
columns processes 2.5 million values). An :class:`InsertPlan` is made once per table and
set of columns: its SQL text, and the processors of the columns that have one; a row is
then one ``itemgetter`` call and the few processors its values need. Values that are the
same in every row of a batch (who wrote it and when) are processed once per batch.
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

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class InsertPlan:
    """How rows giving ``varying`` (by column name) plus ``shared`` values are inserted."""

    sql: str
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
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        dialect.identifier_preparer.format_table(table),
        ", ".join(quote(name) for name in names),
        ", ".join(placeholder for _ in names),
    )
    processors = [_processor(dialect, table.c[name]) for name in names]
    return InsertPlan(
        sql=sql,
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
    ``executemany``; a unique clash raises :class:`sqlalchemy.exc.IntegrityError`."""
    if rows:
        conn.exec_driver_sql(plan.sql, plan.parameters(rows, shared or {}))
