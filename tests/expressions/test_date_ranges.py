"""Relative date ranges (``close_date in THIS_YEAR()``) in Python and in SQL.

Each range is tried on its first and last day (inside) and on the day before and the
day after (outside), for a date field and for a datetime field at the org-time-zone
midnights, and the same answer must come from Python evaluation and from the database
under test (SQLite by default, PostgreSQL with CRM_TEST_DATABASE_URL).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from crm_platform.core import Database
from crm_platform.expressions import (
    EvalContext,
    ExpressionError,
    check,
    compile_sql,
    evaluate,
    parse,
    sqlite_functions,
)
from crm_platform.expressions.types import ValueType

from ..conftest import fresh_database_url
from .conftest import FIELDS, python_scope, scope_for

# Thursday 5 March 2026 in Shanghai (still the 4th in UTC); fiscal years start in April.
SHANGHAI = EvalContext(
    now=datetime(2026, 3, 4, 20, 30, tzinfo=UTC),
    time_zone="Asia/Shanghai",
    fiscal_year_start_month=4,
)
# The same moment for an org in UTC whose fiscal year starts in November.
UTC_NOVEMBER = EvalContext(
    now=datetime(2026, 3, 4, 20, 30, tzinfo=UTC), time_zone="UTC", fiscal_year_start_month=11
)
# A leap year: 1 March 2024 in New York, fiscal years starting in March.
LEAP = EvalContext(
    now=datetime(2024, 3, 1, 12, 0, tzinfo=UTC),
    time_zone="America/New_York",
    fiscal_year_start_month=3,
)
CONTEXTS = {"shanghai": SHANGHAI, "utc_november": UTC_NOVEMBER, "leap": LEAP}

# (context, range, first day, last day), written out by hand from a calendar.
RANGES: list[tuple[str, str, date, date]] = [
    ("shanghai", "THIS_WEEK()", date(2026, 3, 2), date(2026, 3, 8)),
    ("shanghai", "LAST_WEEK()", date(2026, 2, 23), date(2026, 3, 1)),
    ("shanghai", "NEXT_WEEK()", date(2026, 3, 9), date(2026, 3, 15)),
    ("shanghai", "THIS_MONTH()", date(2026, 3, 1), date(2026, 3, 31)),
    ("shanghai", "LAST_MONTH()", date(2026, 2, 1), date(2026, 2, 28)),
    ("shanghai", "NEXT_MONTH()", date(2026, 4, 1), date(2026, 4, 30)),
    ("shanghai", "THIS_QUARTER()", date(2026, 1, 1), date(2026, 3, 31)),
    ("shanghai", "LAST_QUARTER()", date(2025, 10, 1), date(2025, 12, 31)),
    ("shanghai", "NEXT_QUARTER()", date(2026, 4, 1), date(2026, 6, 30)),
    ("shanghai", "THIS_YEAR()", date(2026, 1, 1), date(2026, 12, 31)),
    ("shanghai", "LAST_YEAR()", date(2025, 1, 1), date(2025, 12, 31)),
    ("shanghai", "NEXT_YEAR()", date(2027, 1, 1), date(2027, 12, 31)),
    ("shanghai", "THIS_FISCAL_QUARTER()", date(2026, 1, 1), date(2026, 3, 31)),
    ("shanghai", "LAST_FISCAL_QUARTER()", date(2025, 10, 1), date(2025, 12, 31)),
    ("shanghai", "NEXT_FISCAL_QUARTER()", date(2026, 4, 1), date(2026, 6, 30)),
    ("shanghai", "THIS_FISCAL_YEAR()", date(2025, 4, 1), date(2026, 3, 31)),
    ("shanghai", "LAST_FISCAL_YEAR()", date(2024, 4, 1), date(2025, 3, 31)),
    ("shanghai", "NEXT_FISCAL_YEAR()", date(2026, 4, 1), date(2027, 3, 31)),
    ("shanghai", "LAST_N_DAYS(30)", date(2026, 2, 3), date(2026, 3, 5)),
    ("shanghai", "NEXT_N_DAYS(30)", date(2026, 3, 6), date(2026, 4, 4)),
    ("shanghai", "LAST_N_WEEKS(2)", date(2026, 2, 16), date(2026, 3, 1)),
    ("shanghai", "NEXT_N_WEEKS(2)", date(2026, 3, 9), date(2026, 3, 22)),
    ("shanghai", "LAST_N_MONTHS(3)", date(2025, 12, 1), date(2026, 2, 28)),
    ("shanghai", "NEXT_N_MONTHS(3)", date(2026, 4, 1), date(2026, 6, 30)),
    ("shanghai", "LAST_N_QUARTERS(2)", date(2025, 7, 1), date(2025, 12, 31)),
    ("shanghai", "NEXT_N_QUARTERS(2)", date(2026, 4, 1), date(2026, 9, 30)),
    ("shanghai", "LAST_N_YEARS(2)", date(2024, 1, 1), date(2025, 12, 31)),
    ("shanghai", "NEXT_N_YEARS(2)", date(2027, 1, 1), date(2028, 12, 31)),
    # In UTC it is still the 4th: today and the ranges around it move by a day.
    ("utc_november", "LAST_N_DAYS(1)", date(2026, 3, 3), date(2026, 3, 4)),
    ("utc_november", "NEXT_N_DAYS(1)", date(2026, 3, 5), date(2026, 3, 5)),
    ("utc_november", "THIS_FISCAL_QUARTER()", date(2026, 2, 1), date(2026, 4, 30)),
    ("utc_november", "LAST_FISCAL_QUARTER()", date(2025, 11, 1), date(2026, 1, 31)),
    ("utc_november", "NEXT_FISCAL_QUARTER()", date(2026, 5, 1), date(2026, 7, 31)),
    ("utc_november", "THIS_FISCAL_YEAR()", date(2025, 11, 1), date(2026, 10, 31)),
    ("utc_november", "LAST_FISCAL_YEAR()", date(2024, 11, 1), date(2025, 10, 31)),
    ("utc_november", "NEXT_FISCAL_YEAR()", date(2026, 11, 1), date(2027, 10, 31)),
    # 29 February
    ("leap", "LAST_MONTH()", date(2024, 2, 1), date(2024, 2, 29)),
    ("leap", "LAST_N_DAYS(1)", date(2024, 2, 29), date(2024, 3, 1)),
    ("leap", "THIS_FISCAL_YEAR()", date(2024, 3, 1), date(2025, 2, 28)),
    ("leap", "LAST_FISCAL_YEAR()", date(2023, 3, 1), date(2024, 2, 29)),
    ("leap", "LAST_FISCAL_QUARTER()", date(2023, 12, 1), date(2024, 2, 29)),
    ("leap", "LAST_N_WEEKS(1)", date(2024, 2, 19), date(2024, 2, 25)),
]


def _edges(first: date, last: date) -> list[tuple[date, bool]]:
    one = timedelta(days=1)
    return [(first - one, False), (first, True), (last, True), (last + one, False)]


def _midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _datetime_edges(first: date, last: date, zone: str) -> list[tuple[datetime, bool]]:
    """Just before and at the first midnight, just before and at the one after the last day."""
    tick = timedelta(microseconds=1)
    start, end = _midnight(first, zone), _midnight(last + timedelta(days=1), zone)
    return [(start - tick, False), (start, True), (end - tick, True), (end, False)]


DATE_CASES = [
    pytest.param(ctx, f"d in {rng}", {"d": day}, inside, id=f"{ctx}-{rng}-{day}")
    for ctx, rng, first, last in RANGES
    for day, inside in _edges(first, last)
]
DATETIME_CASES = [
    pytest.param(
        ctx, f"ts in {rng}", {"ts": moment}, inside, id=f"{ctx}-{rng}-{moment:%m%dT%H%M%S%f}"
    )
    for ctx, rng, first, last in RANGES
    for moment, inside in _datetime_edges(first, last, CONTEXTS[ctx].time_zone)
]
OTHER_CASES = [
    # not in, NULL (three-valued, as the `in` of lists), expressions on the left
    pytest.param("shanghai", "d not in THIS_MONTH()", {"d": date(2026, 2, 28)}, True, id="not-in"),
    pytest.param(
        "shanghai", "d not in THIS_MONTH()", {"d": date(2026, 3, 31)}, False, id="not-in2"
    ),
    pytest.param("shanghai", "d in THIS_MONTH()", {}, None, id="null-in"),
    pytest.param("shanghai", "d not in THIS_MONTH()", {}, None, id="null-not-in"),
    pytest.param("shanghai", "ts not in THIS_YEAR()", {}, None, id="null-ts"),
    pytest.param("shanghai", "TODAY() in THIS_WEEK()", {}, True, id="today"),
    pytest.param("shanghai", "d + 1 in NEXT_MONTH()", {"d": date(2026, 3, 31)}, True, id="shift"),
    pytest.param(
        "shanghai",
        "IF(d in LAST_N_DAYS(7) or ts in NEXT_N_DAYS(7), 'recent', 'other')",
        {"d": date(2026, 1, 1), "ts": datetime(2026, 3, 5, 16, 0, tzinfo=UTC)},
        "recent",
        id="if",
    ),
    # New York's clocks went forward on 10 March 2024: April's midnight is at 04:00 UTC.
    pytest.param(
        "leap",
        "ts in THIS_MONTH()",
        {"ts": datetime(2024, 4, 1, 3, 59, tzinfo=UTC)},
        True,
        id="dst",
    ),
    pytest.param(
        "leap",
        "ts in THIS_MONTH()",
        {"ts": datetime(2024, 4, 1, 4, 0, tzinfo=UTC)},
        False,
        id="dst2",
    ),
    pytest.param(
        "leap",
        "ts in THIS_MONTH()",
        {"ts": datetime(2024, 3, 1, 5, 0, tzinfo=UTC)},
        True,
        id="dst3",
    ),
    # counts reaching past the calendar leave that side open
    pytest.param("shanghai", "d in LAST_N_YEARS(10000)", {"d": date(1, 1, 1)}, True, id="far-past"),
    pytest.param(
        "shanghai", "d in NEXT_N_YEARS(10000)", {"d": date(9999, 12, 31)}, True, id="far-future"
    ),
    pytest.param("shanghai", "d in NEXT_N_YEARS(10000)", {"d": date(2026, 12, 31)}, False, id="f2"),
]


@dataclass
class Env:
    db: Database
    table: sa.Table
    dialect: str


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with fresh_database_url(tmp_path_factory.mktemp("ranges")) as url:
        db = Database(url, sqlite_functions=sqlite_functions())
        metadata = sa.MetaData()
        columns = [sa.Column(name, column_type) for _info, name, column_type in FIELDS.values()]
        table = sa.Table(
            "range_cases", metadata, sa.Column("id", sa.Integer, primary_key=True), *columns
        )
        with db.write(ddl=True) as conn:
            metadata.create_all(conn, checkfirst=False)
        try:
            yield Env(db, table, db.dialect)
        finally:
            db.dispose()


def run_python(source: str, values: dict[str, Any], context: EvalContext) -> Any:
    checked = check(parse(source), python_scope())
    return evaluate(checked, lambda path: values.get(".".join(path)), context)


def run_sql(env: Env, source: str, values: dict[str, Any], context: EvalContext) -> Any:
    checked = check(parse(source), scope_for(env.dialect))
    expr = compile_sql(checked, lambda path: env.table.c[FIELDS[path][1]], context, env.dialect)
    with env.db.write() as conn:
        row_id = conn.execute(
            env.table.insert().values({FIELDS[(k,)][1]: v for k, v in values.items()})
        ).inserted_primary_key[0]
    with env.db.read() as conn:
        return conn.execute(sa.select(expr).where(env.table.c.id == row_id)).scalar_one()


@pytest.mark.parametrize(("ctx", "source", "values", "expected"), DATE_CASES)
def test_a_date_is_inside_a_range_from_its_first_to_its_last_day(
    env: Env, ctx: str, source: str, values: dict[str, Any], expected: bool
) -> None:
    context = CONTEXTS[ctx]
    assert run_python(source, values, context) is expected
    assert run_sql(env, source, values, context) is expected


@pytest.mark.parametrize(("ctx", "source", "values", "expected"), DATETIME_CASES)
def test_a_datetime_is_inside_from_the_first_midnight_in_the_org_zone(
    env: Env, ctx: str, source: str, values: dict[str, Any], expected: bool
) -> None:
    context = CONTEXTS[ctx]
    assert run_python(source, values, context) is expected
    assert run_sql(env, source, values, context) is expected


@pytest.mark.parametrize(("ctx", "source", "values", "expected"), OTHER_CASES)
def test_not_in_nulls_and_expressions(
    env: Env, ctx: str, source: str, values: dict[str, Any], expected: Any
) -> None:
    context = CONTEXTS[ctx]
    assert run_python(source, values, context) == expected
    assert run_sql(env, source, values, context) == expected


def test_a_filter_on_a_range_selects_the_rows_in_it_with_two_bound_comparisons(env: Env) -> None:
    days = [date(2026, 3, 31), date(2026, 4, 1), date(2026, 6, 30), date(2026, 7, 1), None]
    with env.db.write() as conn:
        conn.execute(env.table.delete())
        conn.execute(env.table.insert(), [{"id": 1000 + i, "d": d} for i, d in enumerate(days)])
    checked = check(parse("d in NEXT_FISCAL_QUARTER()"), scope_for(env.dialect), ValueType.BOOLEAN)
    expr = compile_sql(checked, lambda path: env.table.c[FIELDS[path][1]], SHANGHAI, env.dialect)
    sql = str(expr.compile(dialect=env.db.engine.dialect))
    assert sql.count("range_cases.d >=") == 1 and sql.count("range_cases.d <") == 1
    assert "crm_" not in sql  # no Python function: an index on d can serve it
    query = sa.select(env.table.c.d).where(expr).order_by(env.table.c.d)
    with env.db.read() as conn:
        assert list(conn.execute(query).scalars()) == [date(2026, 4, 1), date(2026, 6, 30)]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("amount in THIS_YEAR()", "'in THIS_YEAR()' expects a date or datetime, got number"),
        ("name not in LAST_MONTH()", "'not in LAST_MONTH()' expects a date or datetime, got text"),
        ("THIS_YEAR()", "THIS_YEAR() is a date range: it can only follow 'in' or 'not in'"),
        ("d == THIS_QUARTER()", "THIS_QUARTER() is a date range: it can only follow 'in'"),
        ("IF(flag, LAST_N_DAYS(3), 1) == 1", "LAST_N_DAYS() is a date range"),
        ("ISBLANK(NEXT_YEAR())", "NEXT_YEAR() is a date range"),
        ("None in THIS_YEAR()", "a comparison with None is never true"),
        ("d in LAST_N_DAYS(0)", "LAST_N_DAYS expects a whole number from 1 to 10000, got 0"),
        ("d in LAST_N_DAYS(10001)", "LAST_N_DAYS expects a whole number from 1 to 10000"),
        ("d in NEXT_N_MONTHS(1.5)", "NEXT_N_MONTHS expects a whole number from 1 to 10000"),
        ("d in NEXT_N_MONTHS(-2)", "NEXT_N_MONTHS expects a whole number from 1 to 10000"),
        ("d in NEXT_N_MONTHS(qty)", "NEXT_N_MONTHS expects a whole number from 1 to 10000 written"),
        ("d in NEXT_N_MONTHS('3')", "NEXT_N_MONTHS expects number, got text"),
        ("d in LAST_N_WEEKS()", "LAST_N_WEEKS expects 1 argument, got 0"),
        ("d in THIS_YEAR(1)", "THIS_YEAR expects 0 arguments, got 1"),
        ("d in TODAY()", "'in' expects a list of literal values, such as ['a', 'b'], or a date"),
        ("d in [THIS_YEAR()]", "lists may only hold literal values"),
        ("d in this_year()", "unknown function 'this_year' (functions are written in capitals"),
    ],
)
def test_a_range_anywhere_but_after_in_is_refused_with_a_clear_message(
    source: str, message: str
) -> None:
    with pytest.raises(ExpressionError) as caught:
        check(parse(source), python_scope(), ValueType.BOOLEAN)
    assert message in caught.value.message


def test_the_fiscal_year_start_month_must_be_a_month() -> None:
    for month in (0, 13, True):
        with pytest.raises(ValueError, match="fiscal_year_start_month"):
            EvalContext(now=SHANGHAI.now, fiscal_year_start_month=month)
    assert EvalContext.current("UTC", fiscal_year_start_month=7).fiscal_year_start_month == 7


def test_an_org_initialised_with_april_fiscal_years_filters_records_by_them(
    database_url: str, tmp_path: Any
) -> None:
    """`crm init --fiscal-year-start-month 4`, then a list filtered on THIS_FISCAL_YEAR()
    and a validation rule evaluated in Python both use April fiscal years."""
    from click.testing import CliRunner

    from crm_platform.app import create_app
    from crm_platform.assembly import open_org
    from crm_platform.cli import main
    from crm_platform.core import load_settings
    from crm_platform.core.tables import SYSTEM_USER_ID
    from crm_platform.yamlio import read_definitions

    from ..conftest import ADMIN_EMAIL, FIXTURES, ApiClient, make_token

    env_vars = {"CRM_DATABASE_URL": database_url, "CRM_INSTANCE_PATH": str(tmp_path / "instance")}
    args = ["init", "--admin-password", "S3cure-pass!", "--fiscal-year-start-month", "4"]
    result = CliRunner().invoke(main, args, env=env_vars, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    refused = CliRunner().invoke(main, [*args[:-1], "13"], env=env_vars)
    assert refused.exit_code == 2 and "13 is not in the range 1<=x<=12" in refused.output

    settings = load_settings(database_url, instance_path=tmp_path / "instance")
    org = open_org(settings)
    try:
        definitions = [d for _, d, _ in read_definitions(FIXTURES / "sales")]
        org.metadata.apply_objects(definitions, author_id=SYSTEM_USER_ID)
        with org.reading() as (_conn, model):
            assert model.fiscal_year_start_month == 4
        api = ApiClient(create_app(settings, org=org).test_client(), make_token(org, ADMIN_EMAIL))
        today = datetime.now(UTC).date()  # the org is in UTC
        start = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
        end = date(start.year + 1, 4, 1)
        one = timedelta(days=1)
        for name, day in [("before", start - one), ("first", start), ("last", end - one)]:
            body = {"name": name, "close_date": day.isoformat()}
            assert api.post("/api/v1/records/opportunity", json=body).status_code == 201
        body = {"name": "after", "close_date": end.isoformat()}
        assert api.post("/api/v1/records/opportunity", json=body).status_code == 201
        listed = api.get(
            "/api/v1/records/opportunity",
            query_string={"where": "close_date in THIS_FISCAL_YEAR()", "order_by": "close_date"},
        ).get_json()
        assert [r["name"] for r in listed["records"]] == ["first", "last"]
        # A validation rule, evaluated in Python on each write, reads the same setting.
        rule = {
            "api_name": "close_this_fiscal_year",
            "object": "opportunity",
            "condition": "close_date not in THIS_FISCAL_YEAR()",
            "message": "Close it this fiscal year",
            "field": "close_date",
        }
        assert api.post("/api/v1/metadata/validation_rules", json=rule).status_code == 201
        late = api.post("/api/v1/records/opportunity", json={"name": "x", "close_date": str(end)})
        assert late.get_json()["errors"] == {"close_date": ["Close it this fiscal year"]}
        body = {"name": "y", "close_date": (end - one).isoformat()}
        assert api.post("/api/v1/records/opportunity", json=body).status_code == 201
    finally:
        org.dispose()


def test_a_list_filtered_on_this_month_follows_the_clock(api, load_fixture, monkeypatch) -> None:
    """The SQL of a range is never kept past its request: next month, THIS_MONTH() moves."""
    import crm_platform.runtime.records.context as record_context

    load_fixture("sales")
    for name, day in [("march", "2026-03-31"), ("april", "2026-04-01")]:
        body = {"name": name, "close_date": day}
        assert api.post("/api/v1/records/opportunity", json=body).status_code == 201
    query = {"where": "close_date in THIS_MONTH()", "fields": "name"}
    found = []
    for moment in (datetime(2026, 3, 31, 12, tzinfo=UTC), datetime(2026, 4, 1, 12, tzinfo=UTC)):
        monkeypatch.setattr(record_context, "utc_now", lambda moment=moment: moment)
        listed = api.get("/api/v1/records/opportunity", query_string=query).get_json()
        found.append([r["name"] for r in listed["records"]])
    assert found == [["march"], ["april"]]
