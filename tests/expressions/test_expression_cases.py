"""One table of cases, run three ways: Python evaluation, and SQL on the database
under test (SQLite by default, PostgreSQL with CRM_TEST_DATABASE_URL).

Each case is (expression, field values, expected). Python must give the
expected value; the compiled SQL, selected from a row holding the field values,
must give the same value — with the same number of decimal places.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest

from .conftest import SqlEnv, run_python

D = Decimal
NAME_S = {"name": "straße"}
DATES = {"d": date(2024, 1, 31), "d2": date(2024, 3, 1)}
TS = {"ts": datetime(2026, 1, 1, 2, 0, tzinfo=UTC)}

CASES: list[tuple[str, dict[str, Any], Any]] = [
    # --- exact decimals -------------------------------------------------------------
    ("0.1 + 0.2", {}, D("0.3")),
    ("0.1 + 0.2 == 0.3", {}, True),
    ("0.1 * 3 == 0.3", {}, True),
    ("1 / 3", {}, D("0.3333333333")),
    ("2 / 3", {}, D("0.6666666667")),
    ("-2 / 3", {}, D("-0.6666666667")),
    ("1 / 3 * 3", {}, D("0.9999999999")),
    ("5 / 2", {}, D("2.5")),
    ("qty / 4", {"qty": D(7)}, D("1.75")),
    ("amount / 0", {"amount": D("5.00")}, None),
    ("amount % 0", {"amount": D("5.00")}, None),
    (
        "amount * probability / 100",
        {"amount": D("1234.56"), "probability": D("12.50")},
        D("154.32"),
    ),
    ("amount * rate", {"amount": D("100.01"), "rate": D("0.0001")}, D("0.010001")),
    ("rate * rate * rate", {"rate": D("0.1235")}, D("0.0018836529")),
    ("amount * 1000", {"amount": D("123456789012.34")}, D("123456789012340.00")),
    ("amount - 0.005", {"amount": D("1.00")}, D("0.995")),
    ("-amount", {"amount": D("5.25")}, D("-5.25")),
    ("+amount", {"amount": D("5.25")}, D("5.25")),
    ("amount + 1", {}, None),
    ("amount + None", {"amount": D("1.00")}, None),
    ("-7 % 3", {}, D(-1)),
    ("7 % -3", {}, D(1)),
    ("7.5 % 2", {}, D("1.5")),
    ("2 ** 10", {}, D(1024)),
    ("1.5 ** 2", {}, D("2.25")),
    ("1.15 ** 13", {}, D("6.1527876213")),
    ("amount ** 0", {"amount": D("5.00")}, D(1)),
    ("amount ** 0", {}, None),
    ("(amount + 1) ** 2", {"amount": D("0.50")}, D("2.2500")),
    # --- rounding and number functions ----------------------------------------------
    ("ROUND(2.5)", {}, D(3)),
    ("ROUND(-2.5)", {}, D(-3)),
    ("ROUND(2.45, 1)", {}, D("2.5")),
    ("ROUND(-2.45, 1)", {}, D("-2.5")),
    ("ROUND(1234.5678, -2)", {}, D(1200)),
    ("ROUND(amount, 1)", {"amount": D("2.25")}, D("2.3")),
    ("ROUND(1 / 3, 4)", {}, D("0.3333")),
    ("ROUND(amount)", {}, None),
    ("ABS(-3.5)", {}, D("3.5")),
    ("ABS(amount)", {"amount": D("-0.01")}, D("0.01")),
    ("FLOOR(-2.5)", {}, D(-3)),
    ("FLOOR(2.5)", {}, D(2)),
    ("CEILING(-2.5)", {}, D(-2)),
    ("CEILING(2.1)", {}, D(3)),
    ("MOD(-7, 3)", {}, D(-1)),
    ("MOD(amount, 0.3)", {"amount": D("1.00")}, D("0.10")),
    ("MIN(3, 1.5, 2)", {}, D("1.5")),
    ("MAX(amount, 10)", {}, D("10.00")),
    ("MAX(amount, 10)", {"amount": D("12.50")}, D("12.50")),
    ("MIN(amount, qty)", {}, None),
    ("MAX('b', 'a')", {}, "b"),
    ("MAX('a', 'B')", {}, "a"),
    ("MIN(d, d2)", DATES, date(2024, 1, 31)),
    (
        "MAX(ts, NOW())",
        {"ts": datetime(2020, 1, 1, tzinfo=UTC)},
        datetime(2026, 1, 1, 2, 0, tzinfo=UTC),
    ),
    ("MIN(tm, tm)", {"tm": time(9, 5)}, time(9, 5)),
    # --- NULL and three-valued logic --------------------------------------------------
    ("amount > 100", {}, None),
    ("amount == amount", {}, None),
    ("not (amount > 100)", {}, None),
    ("amount > 100 and flag", {"flag": False}, False),
    ("amount > 100 and flag", {"flag": True}, None),
    ("amount > 100 or flag", {"flag": True}, True),
    ("amount > 100 or flag", {"flag": False}, None),
    ("AND(flag, amount > 1)", {"flag": False}, False),
    ("OR(flag, amount > 1, True)", {}, True),
    ("NOT(flag)", {}, None),
    ("NOT(flag)", {"flag": False}, True),
    ("name == 'x'", {}, None),
    ("name != 'x'", {}, None),
    ("name in ('a', 'b')", {}, None),
    ("name not in ('a', 'b')", {}, None),
    ("name not in ('a', 'b')", {"name": "c"}, True),
    ("name in ('a', 'b')", {"name": "b"}, True),
    ("IF(amount > 100, 'big', 'small')", {}, "small"),
    ("IF(amount > 100, 'big', 'small')", {"amount": D("100.01")}, "big"),
    ("IF(flag, 1)", {"flag": False}, None),
    ("IF(flag, amount, 0)", {"flag": False}, D("0.00")),
    ("IF(flag, None, 'x')", {"flag": True}, None),
    ("ISBLANK(amount)", {}, True),
    ("ISBLANK(amount)", {"amount": D("0.00")}, False),
    ("ISBLANK(name)", {"name": ""}, True),
    ("ISBLANK(name)", {"name": "x"}, False),
    ("ISBLANK(tags)", {"tags": []}, True),
    ("ISBLANK(tags)", {}, True),
    ("ISBLANK(tags)", {"tags": ["a"]}, False),
    ("ISBLANK(d)", {}, True),
    ("ISBLANK(None)", {}, True),
    ("BLANKVALUE(name, 'n/a')", {"name": ""}, "n/a"),
    ("BLANKVALUE(name, 'n/a')", {}, "n/a"),
    ("BLANKVALUE(name, 'n/a')", {"name": "x"}, "x"),
    ("BLANKVALUE(amount, 0)", {}, D("0.00")),
    ("INCLUDES(BLANKVALUE(tags, tags), 'a')", {"tags": ["a"]}, True),
    ("NULLVALUE(name, 'n/a')", {"name": ""}, ""),
    ("NULLVALUE(name, 'n/a')", {}, "n/a"),
    ("NULLVALUE(d, DATE(2000, 1, 1))", {}, date(2000, 1, 1)),
    # --- comparisons ------------------------------------------------------------------
    ("amount > 100", {"amount": D("100.01")}, True),
    ("amount >= 100.005", {"amount": D("100.01")}, True),
    ("amount == 100", {"amount": D("100.00")}, True),
    ("amount == probability", {"amount": D("1.50"), "probability": D("1.50")}, True),
    ("amount < rate", {"amount": D("1.50"), "rate": D("1.5001")}, True),
    ("100 < amount", {"amount": D("100.01")}, True),
    ("amount * 2 > amount", {"amount": D("-1.00")}, False),
    ("name < 'b'", {"name": "a"}, True),
    ("'Z' < 'a'", {}, True),
    ("name > 'z'", {"name": "é"}, True),
    ("name == 'Straße'", NAME_S, False),
    ("flag == True", {"flag": True}, True),
    ("flag != False", {"flag": False}, False),
    ("d < d2", DATES, True),
    ("d == DATE(2024, 1, 31)", DATES, True),
    ("ts < NOW()", {"ts": datetime(2025, 12, 31, 23, 59, tzinfo=UTC)}, True),
    ("ts == NOW()", TS, True),
    ("tm > tm", {"tm": time(9, 5)}, False),
    ("account.industry == 'Tech'", {"account.industry": "Tech"}, True),
    # --- text -------------------------------------------------------------------------
    ("UPPER(name)", NAME_S, "STRASSE"),
    ("LOWER(name)", {"name": "ÉCOLE"}, "école"),
    ("UPPER(name)", {"name": "école"}, "ÉCOLE"),
    ("UPPER(name)", {"name": "商机"}, "商机"),
    ("LEN(name)", {"name": "商机"}, D(2)),
    ("LEN(name)", NAME_S, D(6)),
    ("LEN(UPPER(name))", NAME_S, D(7)),
    ("LEN(name)", {"name": ""}, D(0)),
    ("UPPER(name)", {}, None),
    ("TRIM(name)", {"name": "  a b \t\n"}, "a b"),
    ("LEFT(name, 2)", NAME_S, "st"),
    ("LEFT(name, -1)", NAME_S, ""),
    ("LEFT(name, 2.9)", NAME_S, "st"),
    ("RIGHT(name, 3)", NAME_S, "aße"),
    ("RIGHT(name, 0)", NAME_S, ""),
    ("RIGHT(name, 100)", NAME_S, "straße"),
    ("SUBSTR(name, 2, 3)", NAME_S, "tra"),
    ("SUBSTR(name, 4)", NAME_S, "aße"),
    ("SUBSTR(name, 0, 2)", NAME_S, "st"),
    ("MID(name, 5, 10)", NAME_S, "ße"),
    ("SUBSTR(name, 1, qty)", NAME_S, None),
    ("SUBSTR(name, qty)", NAME_S, None),
    ("LEFT(name, qty)", NAME_S, None),
    ("RIGHT(name, qty)", NAME_S, None),
    ("CONTAINS(name, 'aß')", NAME_S, True),
    ("CONTAINS(name, 'A')", NAME_S, False),
    ("CONTAINS(name, '')", NAME_S, True),
    ("BEGINS(name, 'str')", NAME_S, True),
    ("BEGINS(name, title)", NAME_S, None),
    ("CONCAT('a', name, 'b')", {}, "ab"),
    ("CONCAT(name, ' & ', title)", {"name": "商机", "title": "ß"}, "商机 & ß"),
    ("CONCAT(TEXT(amount), ' EUR')", {"amount": D("1234.50")}, "1234.5 EUR"),
    ("TEXT(amount)", {"amount": D("100.00")}, "100"),
    ("TEXT(1 / 4)", {}, "0.25"),
    ("TEXT(-0.5)", {}, "-0.5"),
    ("TEXT(0.00)", {}, "0"),
    ("TEXT(ROUND(-0.001, 2))", {}, "0"),
    ("TEXT(1000000)", {}, "1000000"),
    ("TEXT(flag)", {"flag": True}, "true"),
    ("TEXT(flag)", {"flag": False}, "false"),
    ("TEXT(d)", DATES, "2024-01-31"),
    ("TEXT(ts)", {"ts": datetime(2026, 1, 1, 1, 30, 15, 500, tzinfo=UTC)}, "2026-01-01T01:30:15Z"),
    ("TEXT(tm)", {"tm": time(9, 5, 7)}, "09:05:07"),
    ("TEXT(name)", NAME_S, "straße"),
    ("TEXT(amount)", {}, None),
    ("VALUE('12.50')", {}, D("12.5")),
    ("VALUE(' -3 ')", {}, D(-3)),
    ("VALUE('+7')", {}, D(7)),
    ("VALUE('.5')", {}, D("0.5")),
    ("VALUE('5.')", {}, D(5)),
    ("VALUE('abc')", {}, None),
    ("VALUE('1e5')", {}, None),
    ("VALUE('1.2.3')", {}, None),
    ("VALUE('1.123456789012')", {}, D("1.1234567890")),
    ("VALUE(name)", {}, None),
    ("VALUE(TEXT(amount)) == amount", {"amount": D("-12.34")}, True),
    # --- dates ------------------------------------------------------------------------
    ("TODAY()", {}, date(2025, 12, 31)),
    ("NOW()", {}, datetime(2026, 1, 1, 2, 0, tzinfo=UTC)),
    ("YEAR(TODAY())", {}, D(2025)),
    ("YEAR(ts)", TS, D(2025)),
    ("MONTH(ts)", TS, D(12)),
    ("DAY(ts)", TS, D(31)),
    ("MONTH(d)", DATES, D(1)),
    ("DAY(d)", DATES, D(31)),
    ("DATE_ADD(d, 1, 'months')", {"d": date(2024, 1, 31)}, date(2024, 2, 29)),
    ("DATE_ADD(d, 1, 'months')", {"d": date(2025, 1, 31)}, date(2025, 2, 28)),
    ("DATE_ADD(d, -1, 'months')", {"d": date(2024, 3, 31)}, date(2024, 2, 29)),
    ("DATE_ADD(d, 13, 'months')", {"d": date(2024, 1, 31)}, date(2025, 2, 28)),
    ("DATE_ADD(d, 1, 'years')", {"d": date(2024, 2, 29)}, date(2025, 2, 28)),
    ("DATE_ADD(d, 4, 'year')", {"d": date(2024, 2, 29)}, date(2028, 2, 29)),
    ("DATE_ADD(d, 30, 'days')", {"d": date(2024, 2, 15)}, date(2024, 3, 16)),
    ("DATE_ADD(d, -1, 'day')", {"d": date(2024, 3, 1)}, date(2024, 2, 29)),
    ("DATE_ADD(d, 1.9, 'days')", {"d": date(2024, 3, 1)}, date(2024, 3, 2)),
    ("DATE_ADD(d, amount, 'days')", {"d": date(2024, 3, 1)}, None),
    ("DATE_ADD(d, amount, 'months')", {"d": date(2024, 3, 1)}, None),
    ("DATE_ADD(d, amount, 'years')", {"d": date(2024, 3, 1)}, None),
    ("DATE_ADD(d, 1, 'months')", {}, None),
    ("DATE_ADD(d, 1, 'days')", {"d": date(9999, 12, 31)}, None),
    ("DATE_ADD(d, -1, 'months')", {"d": date(1, 1, 31)}, None),
    ("DATE_ADD(d, 100000000, 'years')", {"d": date(2024, 1, 1)}, None),
    ("DATE_ADD(TODAY(), 1, 'days')", {}, date(2026, 1, 1)),
    ("DAYS_BETWEEN(d, d2)", DATES, D(30)),
    ("DAYS_BETWEEN(d2, d)", DATES, D(-30)),
    ("DAYS_BETWEEN(d, TODAY())", {"d": date(2025, 12, 1)}, D(30)),
    ("DATE(2024, 2, 29)", {}, date(2024, 2, 29)),
    ("DATE(2023, 2, 29)", {}, None),
    ("DATE(2024, 13, 1)", {}, None),
    ("DATE(0, 1, 1)", {}, None),
    ("DATE(2024, qty, 1)", {}, None),
    ("DATE(qty, 1, 1)", {}, None),
    ("DATE(2024, 1, qty)", {}, None),
    ("DATE(2024.7, 1, 1)", {}, date(2024, 1, 1)),
    ("DATE(YEAR(d), 12, 31)", DATES, date(2024, 12, 31)),
    # --- choices ----------------------------------------------------------------------
    ("CASE(stage, 'Prospecting', 1, 'Closed Won', 2, 0)", {"stage": "Closed Won"}, D(2)),
    ("CASE(stage, 'Prospecting', 1, 'Closed Won', 2, 0)", {}, D(0)),
    ("CASE(amount, 10, 'ten', 20, 'twenty', 'other')", {"amount": D("20.00")}, "twenty"),
    ("CASE(amount, 10, 'ten')", {"amount": D("5.00")}, None),
    ("CASE(flag, True, 'yes', False, 'no', '?')", {}, "?"),
    ("CASE(d, DATE(2024, 1, 31), 'end of January', 'other')", DATES, "end of January"),
    ("IN(stage, ['Prospecting', 'Closed Won'])", {"stage": "Closed Won"}, True),
    ("IN(stage, ['Prospecting', 'Closed Won'])", {"stage": "Other"}, False),
    ("IN(amount, [1, 2.5])", {"amount": D("2.50")}, True),
    ("amount in (1, 2.5)", {"amount": D("2.50")}, True),
    ("amount not in (1, 2.5)", {"amount": D("2.50")}, False),
    ("amount in (2.555, 3)", {"amount": D("2.55")}, False),
    ("amount * 2 in (5, 6)", {"amount": D("2.50")}, True),
    ("qty in (-1, 2)", {"qty": D(-1)}, True),
    ("INCLUDES(tags, 'a')", {"tags": ["a", "b"]}, True),
    ("INCLUDES(tags, 'c')", {"tags": ["a", "b"]}, False),
    ("INCLUDES(tags, 'a')", {"tags": []}, False),
    ("INCLUDES(tags, 'a')", {}, False),
    ("INCLUDES(tags, None)", {"tags": ["a"]}, False),
    ("INCLUDES(tags, name)", {"tags": ["a"], "name": "a"}, True),
    ("PICKLIST_ATTR(stage, 'probability')", {"stage": "Prospecting"}, D("10.0")),
    ("PICKLIST_ATTR(stage, 'probability')", {"stage": "Negotiation"}, D("75.5")),
    ("PICKLIST_ATTR(stage, 'probability')", {}, None),
    ("PICKLIST_ATTR(stage, 'probability')", {"stage": "Other"}, None),
    ("PICKLIST_ATTR(stage, 'closed')", {"stage": "Closed Lost"}, True),
    ("PICKLIST_ATTR(stage, 'closed') == False", {"stage": "Prospecting"}, True),
    ("PICKLIST_ATTR(stage, 'forecast')", {"stage": "Negotiation"}, "Best case"),
    (
        "amount * PICKLIST_ATTR(stage, 'probability') / 100",
        {"amount": D("1000.00"), "stage": "Negotiation"},
        D("755.00"),
    ),
    ("MIN(None, None)", {}, None),
]


def _same(expected: Any, actual: Any) -> bool:
    if expected is None or actual is None:
        return expected is actual
    if type(expected) is not type(actual):
        return False
    if isinstance(expected, Decimal):
        return expected == actual
    return bool(expected == actual)


def _case_id(case: tuple[str, dict[str, Any], Any]) -> str:
    source, values, _expected = case
    return f"{source} {values}" if values else source


@pytest.mark.parametrize(("source", "values", "expected"), CASES, ids=map(_case_id, CASES))
def test_case(sql_env: SqlEnv, source: str, values: dict[str, Any], expected: Any) -> None:
    in_python = run_python(source, values)
    assert _same(expected, in_python), f"Python gave {in_python!r}"
    row_id = sql_env.insert(values)
    in_sql = sql_env.select_one(source, row_id)
    assert _same(in_python, in_sql), f"{sql_env.dialect} gave {in_sql!r}, Python {in_python!r}"
    if isinstance(in_python, Decimal):  # the same places, not only the same value
        assert in_sql.as_tuple().exponent == in_python.as_tuple().exponent
