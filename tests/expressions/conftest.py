"""A small record table on the database under test, and the scope that describes it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from crm_platform.core import Database, ExactDecimal, JSONValue, UTCDateTime
from crm_platform.expressions import (
    CheckedExpression,
    EvalContext,
    FieldInfo,
    MappingScope,
    ValueType,
    check,
    compile_sql,
    evaluate,
    parse,
    sqlite_functions,
)

T = ValueType
STAGE_ATTRIBUTES = {
    "Prospecting": {"probability": 10, "closed": False, "forecast": "Pipeline", "mixed": 1},
    "Negotiation": {"probability": 75.5, "closed": False, "forecast": "Best case"},
    "Closed Won": {"probability": 100, "closed": True, "forecast": "Closed", "is_won": True},
    "Closed Lost": {"probability": 0, "closed": True, "is_won": False, "mixed": "one"},
    "Other": {},
}

# field path -> (info, column name, column type)
FIELDS: dict[tuple[str, ...], tuple[FieldInfo, str, Any]] = {
    ("amount",): (FieldInfo(T.NUMBER, 2), "amount", ExactDecimal(18, 2)),
    ("probability",): (FieldInfo(T.NUMBER, 2), "probability", ExactDecimal(18, 2)),
    ("qty",): (FieldInfo(T.NUMBER, 0), "qty", ExactDecimal(18, 0)),
    ("months",): (FieldInfo(T.NUMBER, 0), "months", sa.Integer()),  # an integer column
    ("rate",): (FieldInfo(T.NUMBER, 4), "rate", ExactDecimal(18, 4)),
    ("name",): (FieldInfo(T.TEXT), "name", sa.Text()),
    ("title",): (FieldInfo(T.TEXT), "title", sa.Text()),
    ("flag",): (FieldInfo(T.BOOLEAN), "flag", sa.Boolean()),
    ("d",): (FieldInfo(T.DATE), "d", sa.Date()),
    ("d2",): (FieldInfo(T.DATE), "d2", sa.Date()),
    ("ts",): (FieldInfo(T.DATETIME), "ts", UTCDateTime()),
    ("tm",): (FieldInfo(T.TIME), "tm", sa.Time()),
    ("tags",): (FieldInfo(T.MULTI, picklist_values=("a", "b", "c")), "tags", JSONValue),
    ("stage",): (
        FieldInfo(
            T.TEXT, picklist_values=tuple(STAGE_ATTRIBUTES), picklist_attributes=STAGE_ATTRIBUTES
        ),
        "stage",
        sa.Text(),
    ),
    ("account", "industry"): (FieldInfo(T.TEXT), "account_industry", sa.Text()),
}

# TODAY() here is 2025-12-31: it is still the 31st in New York at 02:00 UTC on Jan 1.
CONTEXT = EvalContext(now=datetime(2026, 1, 1, 2, 0, tzinfo=UTC), time_zone="America/New_York")


def scope_for(dialect: str) -> MappingScope:
    """The scope as the platform builds it: decimals are scaled integers on SQLite."""
    fields = {}
    for path, (info, _column, column_type) in FIELDS.items():
        scaled = dialect == "sqlite" and isinstance(column_type, ExactDecimal)
        fields[path] = FieldInfo(
            info.value_type,
            info.scale,
            info.picklist_values,
            info.picklist_attributes,
            sql_scaled=scaled,
        )
    return MappingScope(fields)


def python_scope() -> MappingScope:
    return MappingScope({path: info for path, (info, _c, _t) in FIELDS.items()})


def run_python(
    source: str,
    values: Mapping[str, Any] | None = None,
    context: EvalContext = CONTEXT,
    **options: Any,
) -> Any:
    """parse -> check -> evaluate in Python."""
    checked = check(parse(source), python_scope(), **options)
    return evaluate(checked, lambda path: (values or {}).get(".".join(path)), context)


@dataclass
class SqlEnv:
    """The table ``expression_cases`` on the database under test."""

    db: Database
    table: sa.Table
    dialect: str
    scope: MappingScope
    next_id: int = 1

    def column(self, path: tuple[str, ...]) -> Any:
        return self.table.c[FIELDS[path][1]]

    def insert(self, values: Mapping[str, Any]) -> int:
        row_id = self.next_id
        self.next_id += 1
        row: dict[str, Any] = {"id": row_id}
        for dotted, value in values.items():
            row[FIELDS[tuple(dotted.split("."))][1]] = value
        with self.db.write() as conn:
            conn.execute(self.table.insert(), [row])
        return row_id

    def compile(self, source: str, **options: Any) -> tuple[CheckedExpression, Any]:
        checked = check(parse(source), self.scope, **options)
        return checked, compile_sql(checked, self.column, CONTEXT, self.dialect)

    def select_one(self, source: str, row_id: int, **options: Any) -> Any:
        _checked, expr = self.compile(source, **options)
        query = sa.select(expr).where(self.table.c.id == row_id)
        with self.db.read() as conn:
            return conn.execute(query).scalar_one()

    def ids(self, query: Callable[[sa.Table], sa.Select[Any]]) -> list[int]:
        with self.db.read() as conn:
            return list(conn.execute(query(self.table)).scalars())


@pytest.fixture
def sql_env(database_url: str) -> Iterator[SqlEnv]:
    db = Database(database_url, sqlite_functions=sqlite_functions())
    metadata = sa.MetaData()
    columns = [sa.Column(name, column_type) for _info, name, column_type in FIELDS.values()]
    table = sa.Table(
        "expression_cases", metadata, sa.Column("id", sa.Integer, primary_key=True), *columns
    )
    with db.write(ddl=True) as conn:
        metadata.create_all(conn, checkfirst=False)
    try:
        yield SqlEnv(db, table, db.dialect, scope_for(db.dialect))
    finally:
        db.dispose()
