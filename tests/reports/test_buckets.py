"""Date buckets of report groupings (``close_date by month``), computed by the database
under test and compared with an independent computation in Python, day by day across
year ends, a leap year, ISO weeks that straddle years, and datetimes a microsecond
either side of midnight in org time zones east and west of UTC (with DST)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from crm_platform.core import Database, UTCDateTime, ValueType
from crm_platform.expressions import sqlite_functions
from crm_platform.reports.buckets import (
    BUCKETS,
    bucket_label,
    bucket_of,
    bucket_sql,
    split_bucket,
)

from ..conftest import fresh_database_url

ONE_DAY = timedelta(days=1)
TICK = timedelta(microseconds=1)
ZONES = ("UTC", "Asia/Shanghai", "America/New_York")


def _days(first: date, last: date) -> list[date]:
    return [first + ONE_DAY * n for n in range((last - first).days + 1)]


# Two year ends (2020 has an ISO week 53), the whole of leap year 2024 and its edges.
DAYS = _days(date(2020, 12, 20), date(2021, 1, 10)) + _days(date(2023, 12, 20), date(2025, 1, 10))


def _instants(day: date) -> list[datetime]:
    """Around the day's midnights: in UTC and in each org zone, a tick before and at."""
    found = []
    for zone in ZONES:
        midnight = datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)
        found += [midnight - TICK, midnight]
    return found


INSTANTS = sorted({moment for day in DAYS[::3] for moment in _instants(day)})


# --- the independent computation ----------------------------------------------------------


def _months_after(start: date, months: int) -> date:
    year, month = start.year, start.month + months
    while month > 12:
        year, month = year + 1, month - 12
    return date(year, month, 1)


def expected_first_day(day: date, bucket: str, fiscal_start: int) -> date:
    """The bucket's first day, worked out the long way."""
    if bucket == "day":
        return day
    if bucket == "week":
        monday = day
        while monday.isoweekday() != 1:
            monday -= ONE_DAY
        return monday
    if bucket == "month":
        return date(day.year, day.month, 1)
    if bucket == "year":
        return date(day.year, 1, 1)
    if bucket == "quarter":
        first_month = next(m for m in (10, 7, 4, 1) if m <= day.month)
        return date(day.year, first_month, 1)
    fiscal_year_start = date(day.year, fiscal_start, 1)
    if fiscal_year_start > day:
        fiscal_year_start = date(day.year - 1, fiscal_start, 1)
    if bucket == "fiscal_year":
        return fiscal_year_start
    starts = [_months_after(fiscal_year_start, months) for months in (0, 3, 6, 9)]
    return max(start for start in starts if start <= day)


# --- the table ----------------------------------------------------------------------------


@dataclass
class Env:
    db: Database
    table: sa.Table
    dialect: str


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with fresh_database_url(tmp_path_factory.mktemp("buckets")) as url:
        db = Database(url, sqlite_functions=sqlite_functions())
        metadata = sa.MetaData()
        table = sa.Table(
            "bucket_cases",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("d", sa.Date),
            sa.Column("ts", UTCDateTime()),
        )
        rows = [{"id": i, "d": day, "ts": None} for i, day in enumerate(DAYS)]
        rows += [{"id": 10_000 + i, "d": None, "ts": ts} for i, ts in enumerate(INSTANTS)]
        rows.append({"id": 99_999, "d": None, "ts": None})
        with db.write(ddl=True) as conn:
            metadata.create_all(conn, checkfirst=False)
            conn.execute(table.insert(), rows)
        try:
            yield Env(db, table, db.dialect)
        finally:
            db.dispose()


def _read(env: Env, column: str, bucket: str, zone: str, fiscal_start: int) -> dict:
    vtype = ValueType.DATE if column == "d" else ValueType.DATETIME
    first_day = bucket_sql(env.table.c[column], vtype, bucket, env.dialect, zone, fiscal_start)
    query = sa.select(env.table.c[column], first_day)
    with env.db.read() as conn:
        return dict(conn.execute(query).all())


@pytest.mark.parametrize("fiscal_start", [1, 4, 11])
@pytest.mark.parametrize("bucket", BUCKETS)
def test_every_date_lands_in_the_bucket_that_starts_on_its_first_day(
    env: Env, bucket: str, fiscal_start: int
) -> None:
    found = _read(env, "d", bucket, "Asia/Shanghai", fiscal_start)  # the zone is moot
    assert found.pop(None) is None  # NULL stays NULL
    expected = {day: expected_first_day(day, bucket, fiscal_start) for day in DAYS}
    assert found == expected
    assert all(type(first) is date for first in found.values())


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    ("bucket", "fiscal_start"),
    [(b, 1) for b in BUCKETS] + [("fiscal_quarter", 4), ("fiscal_year", 4)],
)
def test_a_datetime_is_bucketed_by_its_date_in_the_org_time_zone(
    env: Env, zone: str, bucket: str, fiscal_start: int
) -> None:
    found = _read(env, "ts", bucket, zone, fiscal_start)
    assert found.pop(None) is None
    expected = {
        moment: expected_first_day(moment.astimezone(ZoneInfo(zone)).date(), bucket, fiscal_start)
        for moment in INSTANTS
    }
    assert found == expected
    assert all(type(first) is date for first in found.values())


def test_a_tick_before_midnight_in_shanghai_is_still_the_previous_fiscal_year(env: Env) -> None:
    # 1 April 2026 00:00 in Shanghai is 31 March 16:00 UTC; fiscal years start in April
    midnight = datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    found = []
    for moment in (midnight - TICK, midnight):
        value = sa.literal(moment, UTCDateTime())
        first_day = bucket_sql(
            value, ValueType.DATETIME, "fiscal_year", env.dialect, "Asia/Shanghai", 4
        )
        with env.db.read() as conn:
            found.append(conn.execute(sa.select(first_day)).scalar_one())
    assert found == [date(2025, 4, 1), date(2026, 4, 1)]
    assert [bucket_label(day, "fiscal_year", 4) for day in found] == ["FY2026", "FY2027"]


@pytest.mark.parametrize("bucket", ["week", "month", "fiscal_quarter"])
def test_grouping_by_a_bucket_in_select_and_group_by_counts_each_bucket(
    env: Env, bucket: str
) -> None:
    """The same bucket built twice (SELECT and GROUP BY) is one grouping expression."""

    def bucket_of_ts() -> sa.ColumnElement:
        return bucket_sql(
            env.table.c.ts, ValueType.DATETIME, bucket, env.dialect, "America/New_York", 4
        )

    query = (
        sa.select(bucket_of_ts(), sa.func.count())
        .where(env.table.c.ts.is_not(None))
        .group_by(bucket_of_ts())
    )
    with env.db.read() as conn:
        found = dict(conn.execute(query).all())
    expected = Counter(
        expected_first_day(moment.astimezone(ZoneInfo("America/New_York")).date(), bucket, 4)
        for moment in INSTANTS
    )
    assert found == dict(expected)


def test_the_python_bucket_agrees_with_the_sql_one() -> None:
    moment = datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    assert bucket_of(moment, "month", "Asia/Shanghai") == date(2026, 4, 1)
    assert bucket_of(moment, "month", "UTC") == date(2026, 3, 1)
    assert bucket_of(date(2026, 3, 5), "fiscal_quarter", fiscal_start_month=11) == date(2026, 2, 1)
    assert bucket_of(None, "day") is None
    assert bucket_of(date(1, 2, 1), "fiscal_year", fiscal_start_month=4) is None  # before year 1


@pytest.mark.parametrize(
    ("first_day", "bucket", "fiscal_start", "label"),
    [
        (date(2026, 3, 5), "day", 1, "2026-03-05"),
        (date(2026, 3, 2), "week", 1, "2026-W10"),
        (date(2024, 12, 30), "week", 1, "2025-W01"),
        (date(2020, 12, 28), "week", 1, "2020-W53"),
        (date(2026, 3, 1), "month", 1, "2026-03"),
        (date(2026, 1, 1), "quarter", 1, "2026 Q1"),
        (date(2026, 10, 1), "quarter", 4, "2026 Q4"),
        (date(2026, 1, 1), "year", 1, "2026"),
        (date(2026, 1, 1), "fiscal_quarter", 1, "FY2026 Q1"),
        (date(2026, 1, 1), "fiscal_year", 1, "FY2026"),
        (date(2026, 4, 1), "fiscal_quarter", 4, "FY2027 Q1"),
        (date(2026, 1, 1), "fiscal_quarter", 4, "FY2026 Q4"),
        (date(2026, 4, 1), "fiscal_year", 4, "FY2027"),
        (date(2025, 4, 1), "fiscal_year", 4, "FY2026"),
        (date(2025, 11, 1), "fiscal_quarter", 11, "FY2026 Q1"),
        (date(2026, 8, 1), "fiscal_quarter", 11, "FY2026 Q4"),
    ],
)
def test_labels(first_day: date, bucket: str, fiscal_start: int, label: str) -> None:
    assert bucket_label(first_day, bucket, fiscal_start) == label


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("close_date by month", ("close_date", "month")),
        ("  account.created_at   by  fiscal_quarter ", ("account.created_at", "fiscal_quarter")),
        ("stage", ("stage", None)),
        ("owner.name", ("owner.name", None)),
    ],
)
def test_split_bucket(text: str, expected: tuple[str, str | None]) -> None:
    assert split_bucket(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("close_date by weekly", "unknown date bucket 'weekly' in 'close_date by weekly': use day"),
        ("close_date by", "a date grouping is written '<path> by <bucket>'"),
        ("by month", "a date grouping is written '<path> by <bucket>'"),
        ("close_date by month by day", "a date grouping is written '<path> by <bucket>'"),
        ("close date", "a grouping is a path, or '<path> by <bucket>'"),
    ],
)
def test_split_bucket_refuses_what_it_cannot_read(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        split_bucket(text)
    assert message in str(caught.value)


def test_bucket_sql_refuses_what_it_cannot_bucket() -> None:
    column = sa.column("x")
    with pytest.raises(ValueError, match="unknown date bucket 'hour'"):
        bucket_sql(column, ValueType.DATE, "hour", "sqlite")
    with pytest.raises(ValueError, match="date buckets group dates and datetimes, not number"):
        bucket_sql(column, ValueType.NUMBER, "month", "sqlite")
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Base'"):
        bucket_sql(column, ValueType.DATETIME, "month", "postgresql", "Mars/Base")
    with pytest.raises(ValueError, match="fiscal_start_month must be 1 to 12, not 13"):
        bucket_sql(column, ValueType.DATE, "fiscal_year", "postgresql", "UTC", 13)
