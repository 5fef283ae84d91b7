"""Arithmetic on stored decimals in the database gives Python's exact answer, row by row,
including rows where SQLite's native integers would overflow (they take the exact path),
and on SQLite a report-like expression runs without a Python call per row."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm_platform.core import Database, SqliteFunction
from crm_platform.expressions import ExpressionError, sqlite_functions

from .conftest import FIELDS, SqlEnv, run_python, scope_for

EXPRESSIONS = [
    "amount * probability / 100",
    "amount * probability",
    "amount * rate * rate",
    "amount + rate - qty",
    "-amount + probability",
    "amount / qty",
    "amount / 3",
    "amount / 4",
    "amount / 0.01",
    "amount / -8",
    "rate / 1000",
    "amount / 1024",
    "qty / 0",
    "amount / -7.5",
    "qty / rate",
    "ROUND(amount * probability / 100, 3)",
    "ROUND(amount * probability / 100, 2)",
    "ROUND(amount / 7, 1)",
    "ROUND(amount, -2)",
    "ROUND(rate)",
    "BLANKVALUE(amount, rate) * 2",
    "NULLVALUE(qty, 0) + amount",
    "amount * 0.125",
    "(amount - probability) * (qty + 1)",
]
EXTREMES = [
    Decimal("9999999999999999.99"),
    Decimal("-9999999999999999.99"),
    Decimal("0"),
    Decimal("0.01"),
    Decimal("-0.05"),
    None,
]


def _rows() -> list[dict[str, Decimal | None]]:
    rng = random.Random(12)
    rows = []
    for _ in range(60):
        rows.append(
            {
                "amount": Decimal(rng.randint(-(10**9), 10**9)) / 100,
                "probability": Decimal(rng.randint(0, 10000)) / 100,
                "qty": Decimal(rng.choice([rng.randint(-50, 50), 0, 7])),
                "rate": Decimal(rng.randint(-(10**6), 10**6)) / 10000,
            }
        )
    for extreme in EXTREMES:
        rows.append({"amount": extreme, "probability": Decimal("99.99"), "qty": Decimal(3)})
        rows.append({"amount": Decimal("12.34"), "qty": None, "rate": Decimal("-0.0001")})
    for big in (Decimal("999999999999999999"), Decimal("-999999999999999999")):
        rows.append({"amount": Decimal("1.5"), "qty": big, "rate": Decimal("99999.9999")})
    return rows


@pytest.mark.parametrize("source", EXPRESSIONS)
def test_stored_decimals_compute_as_in_python(sql_env: SqlEnv, source: str) -> None:
    rows = _rows()
    ids = [sql_env.insert(row) for row in rows]
    checked, _expr = sql_env.compile(source)
    for row_id, row in zip(ids, rows, strict=True):
        expected = run_python(source, row)
        if sql_env.dialect == "sqlite" and not _fits(expected, checked.scale or 0):
            # SQLite holds results as scaled 64-bit integers: out of range is a 400.
            with pytest.raises(ExpressionError, match="out of range"):
                sql_env.select_one(source, row_id)
            continue
        assert sql_env.select_one(source, row_id) == expected, (source, row)


def _fits(value: Decimal | None, scale: int) -> bool:
    return value is None or abs(int(value.scaleb(scale))) < 2**63


def test_a_weighted_amount_summed_on_sqlite_calls_no_python_per_row(tmp_path) -> None:
    """The forecast's ``amount * probability / 100`` and a rounded average stay in
    SQLite's integers for values in range: the exact Python functions are not called."""
    calls: list[str] = []

    def counting(function: SqliteFunction) -> SqliteFunction:
        def call(*args):
            calls.append(function.name)
            return function.func(*args)

        return SqliteFunction(function.name, function.arity, call)

    db = Database(
        f"sqlite:///{tmp_path / 'native.db'}",
        sqlite_functions=[counting(f) for f in sqlite_functions()],
    )
    metadata = sa.MetaData()
    table = sa.Table(
        "deals",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        *(sa.Column(name, kind) for (key,), (_i, name, kind) in _numbers()),
    )
    env = SqlEnv(db, table, "sqlite", scope_for("sqlite"))
    with db.write(ddl=True) as conn:
        metadata.create_all(conn)
    rows = [{"amount": Decimal(i * 1001) / 100, "probability": Decimal(i % 100)} for i in range(50)]
    for row in rows:
        env.insert(row)
    try:
        for source in ("amount * probability / 100", "ROUND(amount * probability / 7, 2)"):
            _checked, expr = env.compile(source)
            with db.read() as conn:
                total = conn.execute(sa.select(sa.func.sum(expr))).scalar_one()
            expected = sum(run_python(source, row) for row in rows)
            assert total == expected
        assert calls == []
        # A value out of native range takes the exact path for its row, and is still right.
        env.insert({"amount": Decimal("9999999999999999.99"), "probability": Decimal("99")})
        value = env.select_one("ROUND(amount * probability / 100, 2)", env.next_id - 1)
        assert value == Decimal("9899999999999999.99")
        assert calls
    finally:
        db.dispose()


def _numbers():
    return [(path, spec) for path, spec in FIELDS.items() if spec[0].value_type.value == "number"]
