"""A list of values bound as one parameter that the database unpacks into rows.

A statement over a batch's ids or values is then the same whatever their number: no
``IN`` list of a thousand bound parameters (PostgreSQL's driver re-parses a query that
long on every execution, SQLite binds each one), and one compiled statement per shape.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY


class TextList(sa.types.TypeDecorator[Sequence[str | None]]):
    """A ``text[]`` parameter on PostgreSQL whose list is sent as one array literal
    (``{"a","b",NULL}``), as psycopg's list dumper would send it, but written in one
    join: the dumper looks at each element in Python (1.1 ms of CPU for a thousand ids,
    against 0.2 ms). The statement is unchanged (``%(p)s::TEXT[]``), and so are its
    plans: the literal goes as an untyped string that the cast makes the array."""

    impl = ARRAY(sa.Text)
    cache_ok = True

    def bind_processor(self, dialect: Any) -> Any:
        # instead of ARRAY's processor, which would walk the literal as a sequence
        return lambda value: None if value is None else array_literal(value)


def array_literal(values: Sequence[str | None]) -> str:
    """PostgreSQL's text form of a ``text[]``: every value quoted (so no value is read
    as NULL or split at a comma), backslashes and quotes escaped, None as NULL."""
    quoted = (
        "NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        for v in values
    )
    return "{" + ",".join(quoted) + "}"


def list_param(dialect: str, key: str) -> sa.BindParameter[Any]:
    """A bound parameter taking a whole list (give it :func:`list_value`), for statements
    built once and executed with each batch."""
    return sa.bindparam(key, type_=sa.Text if dialect == "sqlite" else TextList())


def list_value(dialect: str, values: Sequence[str | None]) -> Any:
    """What a :func:`list_param` is given for ``values``."""
    return json.dumps(list(values), ensure_ascii=False) if dialect == "sqlite" else list(values)


def _bound(
    dialect: str, values: Sequence[str | None] | sa.BindParameter[Any]
) -> sa.BindParameter[Any]:
    """A :func:`list_param` as it is, or ``values`` bound the same way."""
    if isinstance(values, sa.BindParameter):
        return values
    return sa.literal(list_value(dialect, values), list_param(dialect, "_").type)


def in_list(
    dialect: str,
    expr: sa.ColumnElement[Any],
    values: Sequence[str | None] | sa.BindParameter[Any],
) -> sa.ColumnElement[bool]:
    """``expr`` is one of ``values`` (or of a :func:`list_param`'s list), bound as one
    parameter: ``IN (SELECT value FROM json_each(?))`` on SQLite, ``= ANY(?)`` on
    PostgreSQL — whose planner then sees the array's values and probes the index of
    ``expr``, where the rows of an ``unnest`` subquery (estimated, not seen) led it to
    hash-join a whole table."""
    values = _bound(dialect, values)
    if dialect == "sqlite":
        each = sa.func.json_each(values).table_valued(sa.column("value", sa.Text))
        return expr.in_(sa.select(each.c.value))
    stored = isinstance(expr, sa.Column) and isinstance(expr.type, sa.String)
    length = expr.type.length if stored else None  # a column's: no longer value is stored
    if length is not None:
        # Once psycopg prepares the statement (its sixth run), PostgreSQL may keep a
        # generic plan of ``varchar(n)_column = ANY(text[])``: a small table scanned with
        # each row compared to every value, 5-8 ms for 500 ids among 1,000 rows. With the
        # array cast to varchar the generic plan costs more than the custom one, which
        # sees the values and hashes them (1-2 ms). To n + 1 characters, not n: an
        # explicit cast cuts longer values, and nothing cut to n + 1 characters can equal
        # a value of the column.
        values = sa.cast(values, ARRAY(sa.String(length + 1)))
    return expr == sa.any_(values)


def unnested(
    dialect: str, values: Sequence[str | None] | sa.BindParameter[Any], name: str = "given"
) -> sa.Subquery:
    """``values`` (or a :func:`list_param`) as rows ``(i, v)``, ``i`` counting from 0:
    ``json_each`` over one JSON text on SQLite, ``unnest`` over one text array on
    PostgreSQL."""
    values = _bound(dialect, values)
    if dialect == "sqlite":
        each = sa.func.json_each(values)
        table = each.table_valued(sa.column("key", sa.Integer), sa.column("value", sa.Text))
        return sa.select(table.c.key.label("i"), table.c.value.label("v")).subquery(name)
    table = (
        sa.func.unnest(values)
        .table_valued(sa.column("v", sa.Text), with_ordinality="n")
        .render_derived()  # "AS anon(v, n)": PostgreSQL needs the names of unnest's columns
    )
    return sa.select((table.c.n - 1).label("i"), table.c.v).subquery(name)


def unnested_rows(
    dialect: str, rows: Sequence[Sequence[str | None]], columns: Sequence[str], name: str
) -> sa.Subquery:
    """``rows`` (tuples of text, one value per name of ``columns``) as a subquery with
    those columns, bound as one parameter: a JSON array of arrays on SQLite, one text
    array per column zipped by ``unnest`` on PostgreSQL."""
    if dialect == "sqlite":
        each = sa.func.json_each(sa.literal(json.dumps(list(rows), ensure_ascii=False), sa.Text))
        table = each.table_valued(sa.column("value", sa.Text))
        return sa.select(
            *(
                sa.func.json_extract(table.c.value, f"$[{k}]").label(column)
                for k, column in enumerate(columns)
            )
        ).subquery(name)
    arrays = [sa.literal(list(values), TextList()) for values in zip(*rows, strict=True)]
    table = sa.func.unnest(*arrays).table_valued(*columns).render_derived()
    return sa.select(*(table.c[column] for column in columns)).subquery(name)
