"""Date buckets of report groupings: ``close_date by month``.

A bucket is named by its first day (a ``date``), computed in SQL so that a report
groups in the database: :func:`bucket_sql` gives that first day for a date or datetime
column (datetimes are read in the org's time zone), typed as a Date on both engines;
:func:`bucket_label` names it for people (``2026-W10``, ``2026 Q1``, ``FY2027``).

Weeks are ISO weeks (Monday to Sunday; labelled with the ISO week-numbering year).
Fiscal quarters and years start in the org's ``fiscal_start_month``; a fiscal year is
named by the calendar year in which it ends (start month 4: April 2026 - March 2027 is
FY2027), and its quarters count from its first month (FY2027 Q1 is April-June 2026).

Every constant of the SQL (the zone, the unit, month counts) is rendered inline
(``literal_execute``), not as a bound parameter: the same bucket in SELECT and in GROUP
BY (or ROLLUP / GROUPING SETS) is then the same SQL text, which PostgreSQL requires to
see them as one grouping expression.

On PostgreSQL: ``date_trunc`` on the local timestamp (``timezone(zone, col)`` for a
datetime), fiscal periods shifted by ``make_interval``. On SQLite, dates use SQLite's
own ``date()`` modifiers (``'start of month'``, ``'weekday 1'``); a datetime is bucketed
natively when the org is in UTC (stored values are naive UTC text), else by the
registered Python function ``crm_local_period`` (one call per row).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from crm_platform.core import ValueType
from crm_platform.expressions.dateranges import (
    LOCAL_PERIOD,
    fiscal_year_of,
    period_start,
)

BUCKETS = ("day", "week", "month", "quarter", "year", "fiscal_quarter", "fiscal_year")
DIALECTS = ("sqlite", "postgresql")

_BY = re.compile(r"^\s*(?P<path>\S+)\s+by\s+(?P<bucket>\S+)\s*$")


def split_bucket(text: str) -> tuple[str, str | None]:
    """``"close_date by month"`` -> ``("close_date", "month")``; ``"stage"`` -> ``("stage",
    None)``. Raises ValueError naming the bucket for an unknown one or a malformed text."""
    words = text.split()
    if "by" not in words:
        if len(words) != 1:
            raise ValueError(f"a grouping is a path, or '<path> by <bucket>': not {text!r}")
        return words[0], None
    match = _BY.match(text)
    if match is None:
        raise ValueError(
            f"a date grouping is written '<path> by <bucket>', such as 'close_date by month':"
            f" not {text!r}"
        )
    bucket = match["bucket"]
    if bucket not in BUCKETS:
        raise ValueError(
            f"unknown date bucket {bucket!r} in {text!r}: use {', '.join(BUCKETS[:-1])}"
            f" or {BUCKETS[-1]}"
        )
    return match["path"], bucket


def _check(bucket: str, fiscal_start_month: int) -> None:
    if bucket not in BUCKETS:
        raise ValueError(f"unknown date bucket {bucket!r}: use one of {', '.join(BUCKETS)}")
    if not 1 <= fiscal_start_month <= 12:
        raise ValueError(f"fiscal_start_month must be 1 to 12, not {fiscal_start_month}")


def _const(value: Any) -> ColumnElement[Any]:
    """A constant written into the SQL text (see the module docstring)."""
    return sa.literal(value, literal_execute=True)


def bucket_sql(
    expr: ColumnElement[Any],
    value_type: ValueType,
    bucket: str,
    dialect: str,
    time_zone: str = "UTC",
    fiscal_start_month: int = 1,
) -> ColumnElement[Any]:
    """The first day (a Date) of the ``bucket`` holding the value of ``expr``.

    ``expr`` is a DATE or DATETIME value as stored (a column, or a compiled expression of
    that type); a datetime is bucketed by its date in ``time_zone`` (the org's zone).
    NULL gives NULL. Raises ValueError for an unknown bucket, type, dialect or zone.
    """
    _check(bucket, fiscal_start_month)
    if value_type not in (ValueType.DATE, ValueType.DATETIME):
        raise ValueError(f"date buckets group dates and datetimes, not {value_type.label}")
    if dialect not in DIALECTS:
        raise ValueError(f"unsupported dialect {dialect!r}")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {time_zone!r}") from exc
    build = _postgresql if dialect == "postgresql" else _sqlite
    return sa.type_coerce(build(expr, value_type, bucket, time_zone, fiscal_start_month), sa.Date())


def _unit_and_shift(bucket: str, fiscal_start_month: int) -> tuple[str, int]:
    """The calendar unit a bucket truncates to, and the months its periods start after
    the calendar's (fiscal periods are calendar periods shifted by start month - 1)."""
    if bucket.startswith("fiscal_"):
        return bucket.removeprefix("fiscal_"), fiscal_start_month - 1
    return bucket, 0


def _postgresql(
    expr: ColumnElement[Any], vtype: ValueType, bucket: str, zone: str, fiscal_start: int
) -> ColumnElement[Any]:
    if vtype is ValueType.DATE:
        if bucket == "day":
            return expr
        local = sa.cast(expr, sa.DateTime())  # a timestamp without time zone: no session zone
    else:
        local = sa.func.timezone(_const(zone), expr)
        if bucket == "day":
            return sa.cast(local, sa.Date)
    unit, shift = _unit_and_shift(bucket, fiscal_start)
    if not shift:
        return sa.cast(sa.func.date_trunc(_const(unit), local), sa.Date)
    months = sa.func.make_interval(_const(0), _const(shift))
    return sa.cast(sa.func.date_trunc(_const(unit), local - months) + months, sa.Date)


_PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def _sqlite(
    expr: ColumnElement[Any], vtype: ValueType, bucket: str, zone: str, fiscal_start: int
) -> ColumnElement[Any]:
    if vtype is ValueType.DATETIME and zone != "UTC":
        return getattr(sa.func, LOCAL_PERIOD.name)(
            expr, _const(zone), _const(bucket), _const(fiscal_start)
        )
    if vtype is ValueType.DATETIME:
        # Naive UTC text: its first 10 characters are its (UTC) date. SQLite's date
        # arithmetic would round 23:59:59.9999995 up to the next day's midnight.
        expr = sa.func.substr(expr, _const(1), _const(10))
    if bucket == "day":
        return sa.func.date(expr)
    if bucket == "week":  # back 6 days, then forward to a Monday: the Monday on or before
        return sa.func.date(expr, _const("-6 days"), _const("weekday 1"))
    unit, shift = _unit_and_shift(bucket, fiscal_start)
    if unit == "month":
        return sa.func.date(expr, _const("start of month"))
    if unit == "year" and not shift:
        return sa.func.date(expr, _const("start of year"))
    # back to the period's first month: (month - start month) mod the period's length
    month = sa.cast(sa.func.strftime(_const("%m"), expr), sa.Integer)
    back = (month + _const(11 - shift)) % _const(_PERIOD_MONTHS[unit])
    return sa.func.date(expr, _const("start of month"), sa.func.printf(_const("-%d months"), back))


def bucket_of(
    value: date | datetime | None, bucket: str, time_zone: str = "UTC", fiscal_start_month: int = 1
) -> date | None:
    """The first day of the bucket holding ``value``, in Python (what :func:`bucket_sql`
    computes in SQL); an aware datetime is read in ``time_zone``. None for None, and
    for a bucket that would start before year 1."""
    _check(bucket, fiscal_start_month)
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(time_zone)).date()
    try:
        return period_start(value, bucket, fiscal_start_month)
    except OverflowError:
        return None


def bucket_label(first_day: date, bucket: str, fiscal_start_month: int = 1) -> str:
    """How a bucket reads: ``2026-03-05``, ``2026-W10``, ``2026-03``, ``2026 Q1``,
    ``2026``, ``FY2026 Q1``, ``FY2026`` (for the bucket starting on ``first_day``)."""
    _check(bucket, fiscal_start_month)
    if bucket == "day":
        return first_day.isoformat()
    if bucket == "week":
        iso_year, week, _weekday = first_day.isocalendar()
        return f"{iso_year}-W{week:02d}"
    if bucket == "month":
        return f"{first_day.year:04d}-{first_day.month:02d}"
    if bucket == "quarter":
        return f"{first_day.year:04d} Q{(first_day.month - 1) // 3 + 1}"
    if bucket == "year":
        return f"{first_day.year:04d}"
    fiscal_year = f"FY{fiscal_year_of(first_day, fiscal_start_month):04d}"
    if bucket == "fiscal_year":
        return fiscal_year
    quarter = (first_day.month - fiscal_start_month) % 12 // 3 + 1
    return f"{fiscal_year} Q{quarter}"
