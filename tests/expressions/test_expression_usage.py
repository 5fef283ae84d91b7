"""How callers use compiled expressions (WHERE, ORDER BY, SUM), result scales,
the Python-only functions and the evaluation context."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from crm_platform.core import SqliteFunction
from crm_platform.expressions import (
    EvalContext,
    ExpressionError,
    ValueType,
    check,
    compile_sql,
    evaluate,
    parse,
    sqlite_functions,
)

from .conftest import CONTEXT, SqlEnv, python_scope, run_python

D = Decimal
ROWS = [
    {"amount": D("1000.00"), "probability": D("10.00"), "name": "Émile", "stage": "Prospecting"},
    {"amount": D("250.50"), "probability": D("50.00"), "name": "zoë", "stage": "Negotiation"},
    {"amount": D("99.99"), "probability": D("100.00"), "name": "Ärger", "stage": "Closed Won"},
    {"amount": None, "probability": D("75.00"), "name": "none", "stage": None},
    {"amount": D("7.00"), "probability": D("33.33"), "name": "abc", "stage": "Closed Lost"},
]


def _load(env: SqlEnv) -> list[int]:
    return [env.insert(row) for row in ROWS]


def _python_values(row: dict[str, Any]) -> Any:
    return lambda path: row.get(".".join(path))


def test_compiled_filter_in_where(sql_env: SqlEnv) -> None:
    ids = _load(sql_env)
    source = "amount * probability / 100 > 50 and not PICKLIST_ATTR(stage, 'closed')"
    _checked, where = sql_env.compile(source, expected=ValueType.BOOLEAN)
    found = sql_env.ids(lambda t: sa.select(t.c.id).where(where).order_by(t.c.id))
    expected = [i for i, row in zip(ids, ROWS, strict=True) if run_python(source, row) is True]
    assert found == expected == [ids[0], ids[1]]


def test_compiled_number_in_order_by(sql_env: SqlEnv) -> None:
    ids = _load(sql_env)
    _checked, key = sql_env.compile("amount / 3 * probability")
    found = sql_env.ids(
        lambda t: sa.select(t.c.id).where(key.is_not(None)).order_by(key.desc(), t.c.id)
    )
    # 3333.333333333, 4175.00, 3333.00, 77.77...
    assert found == [ids[1], ids[0], ids[2], ids[4]]


@pytest.mark.parametrize("source", ["UPPER(name)", "name", "CONCAT(name, stage)"])
def test_compiled_text_in_order_by_is_by_code_point(sql_env: SqlEnv, source: str) -> None:
    # The same order on both databases, whatever PostgreSQL's default collation is.
    ids = _load(sql_env)
    checked, key = sql_env.compile(source)
    found = sql_env.ids(lambda t: sa.select(t.c.id).order_by(key, t.c.id))
    keys = [evaluate(checked, _python_values(row), CONTEXT) for row in ROWS]
    assert found == [i for _key, i in sorted(zip(keys, ids, strict=True))]


def test_sum_of_a_compiled_formula_is_exact(sql_env: SqlEnv) -> None:
    _load(sql_env)
    checked, expr = sql_env.compile("amount / 3")
    with sql_env.db.read() as conn:
        total = conn.execute(sa.select(sa.func.sum(expr)).select_from(sql_env.table)).scalar()
    in_python = sum((evaluate(checked, _python_values(row), CONTEXT) or D(0)) for row in ROWS)
    assert total == in_python == D("452.4966666666")


def test_many_small_decimals_sum_exactly(sql_env: SqlEnv) -> None:
    for _ in range(10):
        sql_env.insert({"amount": D("0.10")})
    _checked, expr = sql_env.compile("amount + 0.2")
    with sql_env.db.read() as conn:
        total = conn.execute(sa.select(sa.func.sum(expr)).select_from(sql_env.table)).scalar()
    assert total == D("3.00")


def test_result_can_be_rounded_to_a_declared_scale(sql_env: SqlEnv) -> None:
    row = sql_env.insert({"amount": D("10.00")})
    assert run_python("amount / 3", {"amount": D("10.00")}, scale=2) == D("3.33")
    in_sql = sql_env.select_one("amount / 3", row, scale=2)
    assert in_sql == D("3.33") and in_sql.as_tuple().exponent == -2
    assert sql_env.select_one("-amount / 6", row, scale=0) == D(-2)


def test_sqlite_numbers_beyond_64_bits_fail_loudly_unless_rounded(sql_env: SqlEnv) -> None:
    row = sql_env.insert({"amount": D("9999999999.99")})
    if sql_env.dialect == "sqlite":
        # 3333333333.33 at scale 10 does not fit a 64-bit integer: a 400, never a wrong value.
        with pytest.raises(ExpressionError, match="does not fit a 64-bit integer"):
            sql_env.select_one("amount / 3", row)
    else:
        assert sql_env.select_one("amount / 3", row) == D("3333333333.3300000000")
    assert sql_env.select_one("amount / 3", row, scale=2) == D("3333333333.33")


def test_index_friendly_comparisons_on_sqlite(sql_env: SqlEnv) -> None:
    if sql_env.dialect != "sqlite":
        pytest.skip("the scaled-integer shortcut is SQLite's")
    for source in ("amount > 1000", "amount == probability", "amount in (1, 2.5)"):
        _checked, expr = sql_env.compile(source)
        text = str(expr.compile(sql_env.db.engine))
        assert "crm_" not in text, text


def test_today_and_now_are_bound_parameters(sql_env: SqlEnv) -> None:
    _checked, expr = sql_env.compile("d == TODAY() or ts < NOW()")
    text = str(expr.compile(sql_env.db.engine)).upper()
    assert "CURRENT_DATE" not in text and "NOW()" not in text
    params = expr.compile(sql_env.db.engine).params.values()
    assert date(2025, 12, 31) in params


def test_today_follows_the_org_time_zone() -> None:
    now = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
    in_new_york = EvalContext(now=now, time_zone="America/New_York")
    in_tokyo = EvalContext(now=now, time_zone="Asia/Tokyo")
    assert run_python("TODAY()", context=in_new_york) == date(2025, 12, 31)
    assert run_python("TODAY()", context=in_tokyo) == date(2026, 1, 1)


def test_context_for_the_current_moment() -> None:
    context = EvalContext.current("Europe/Paris")
    assert context.time_zone == "Europe/Paris"
    assert abs(context.now - datetime.now(UTC)) < timedelta(minutes=5)
    with pytest.raises(ValueError, match="time zone"):
        EvalContext.current("Mars/Olympus")
    with pytest.raises(ValueError, match="aware"):
        EvalContext(now=datetime(2026, 1, 1))


def test_python_only_functions_do_not_compile(sql_env: SqlEnv) -> None:
    checked = check(parse("ISCHANGED(amount) and amount > 10"), sql_env.scope)
    assert not checked.compiles_to_sql
    with pytest.raises(ExpressionError, match="ISCHANGED cannot run in the database"):
        compile_sql(checked, sql_env.column, CONTEXT, sql_env.dialect)


def _with_prior(prior: dict[str, Any], is_new: bool = False) -> EvalContext:
    return EvalContext(
        now=CONTEXT.now,
        time_zone=CONTEXT.time_zone,
        prior=lambda path: prior.get(".".join(path)),
        is_new=is_new,
    )


def test_priorvalue_ischanged_isnew() -> None:
    update = _with_prior({"amount": D("10"), "stage": "Prospecting"})
    current = {"amount": D("12.50"), "stage": "Prospecting"}
    assert run_python("PRIORVALUE(amount)", current, update) == D("10.00")
    assert run_python("ISCHANGED(amount)", current, update) is True
    assert run_python("ISCHANGED(stage)", current, update) is False
    assert run_python("ISCHANGED(name)", current, update) is False
    assert run_python("ISNEW()", current, update) is False
    assert run_python("amount - PRIORVALUE(amount) > 2", current, update) is True
    create = _with_prior({}, is_new=True)
    assert run_python("ISNEW()", current, create) is True
    assert run_python("ISCHANGED(amount)", current, create) is False
    assert run_python("PRIORVALUE(amount)", current, create) is None


def test_priorvalue_without_prior_values_is_an_error() -> None:
    with pytest.raises(ExpressionError, match="needs the record's prior values"):
        run_python("PRIORVALUE(amount)", {"amount": D(1)})


def test_values_of_the_wrong_type_are_refused() -> None:
    with pytest.raises(ExpressionError, match="naive datetime"):
        run_python("ts < NOW()", {"ts": datetime(2026, 1, 1)})
    with pytest.raises(ExpressionError, match="not number"):
        run_python("amount + 1", {"amount": "many"})
    with pytest.raises(ExpressionError, match="not date"):
        run_python("ISBLANK(d)", {"d": datetime(2026, 1, 1, tzinfo=UTC)})


def test_integers_and_floats_become_exact_decimals() -> None:
    assert run_python("amount + 1", {"amount": 2}) == D("3.00")
    assert run_python("rate * 3", {"rate": 0.1}) == D("0.3000")


def test_field_values_are_read_once() -> None:
    calls: list[tuple[str, ...]] = []

    def values(path: tuple[str, ...]) -> Any:
        calls.append(path)
        return D(5)

    checked = check(parse("amount + amount * amount"), python_scope())
    assert evaluate(checked, values, CONTEXT) == D("30.00")
    assert calls == [("amount",)]


def test_sqlite_functions_are_registrable() -> None:
    functions = sqlite_functions()
    assert all(isinstance(f, SqliteFunction) for f in functions)
    names = [f.name for f in functions]
    assert len(names) == len(set(names))
    assert {"crm_upper", "crm_lower", "crm_len", "crm_num_div", "crm_date_add"} <= set(names)


def test_unknown_dialect_is_refused() -> None:
    checked = check(parse("amount > 1"), python_scope())
    with pytest.raises(ValueError, match="unsupported dialect"):
        compile_sql(checked, lambda path: sa.column(path[0]), CONTEXT, "mysql")


def test_deep_expressions_compile_and_run(sql_env: SqlEnv) -> None:
    row = sql_env.insert({"amount": D("-1.50"), "name": "x"})
    deep = "ABS(" * 20 + "amount" + ")" * 20
    assert run_python(deep, {"amount": D("-1.50")}) == D("1.50")
    assert sql_env.select_one(deep, row) == D("1.50")
    long_sum = " + ".join(["amount"] * 48)
    assert sql_env.select_one(long_sum, row) == D("-72.00")
    nested_text = "CONCAT(" * 15 + "name" + ", 'y')" * 15
    assert sql_env.select_one(nested_text, row) == "x" + "y" * 15


def test_sql_that_would_grow_too_large_is_refused(sql_env: SqlEnv) -> None:
    source = "((amount ** 100) ** 100) ** 100"
    assert run_python(source, {"amount": D("1.00")}) == D(1)
    if sql_env.dialect == "postgresql":  # ** is repeated multiplication there
        with pytest.raises(ExpressionError, match="too complex to compile to SQL"):
            sql_env.compile(source)
    else:
        row = sql_env.insert({"amount": D("1.00")})
        assert sql_env.select_one(source, row) == D(1)


def test_long_if_chains_and_sums_run_on_both_databases(sql_env: SqlEnv) -> None:
    row = sql_env.insert({"qty": D(23)})
    chain = "".join(f"IF(qty == {i}, 'q{i}', " for i in range(24)) + "'many'" + ")" * 24
    assert run_python(chain, {"qty": D(23)}) == "q23"
    assert sql_env.select_one(chain, row) == "q23"
    total = " + ".join(["qty"] * 45) + " - qty * 2 * 3"
    assert sql_env.select_one(total, row) == D(23 * 39)


def test_sqlite_refuses_what_its_parser_cannot_take(sql_env: SqlEnv) -> None:
    row = sql_env.insert({"amount": D("-1.50"), "name": "x"})
    deep = "ABS(" * 45 + "amount" + ")" * 45
    if sql_env.dialect == "sqlite":
        with pytest.raises(ExpressionError, match="nested too deeply for SQLite"):
            sql_env.compile(deep)
    else:
        assert sql_env.select_one(deep, row) == D("1.50")
