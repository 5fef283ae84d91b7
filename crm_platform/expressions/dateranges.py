"""Relative date ranges: ``close_date in THIS_YEAR()``, ``created in LAST_N_DAYS(30)``.

A range function returns a value of type DATE_RANGE, which the language only accepts
on the right of ``in`` and ``not in`` (the checker refuses it anywhere else). The range
is computed in Python, once, from the evaluation context: ``now`` read in the org's
``time_zone`` gives today, and ``fiscal_year_start_month`` places the fiscal quarters
and years. ``x in RANGE`` then means ``start <= x < end`` on both engines, so SQL gets
two bound literals and can use an index on ``x``. For a datetime ``x`` the bounds are
the org-time-zone midnights of the first day and of the day after the last, in UTC.

The meanings are Salesforce's (weeks start on Monday, as ISO weeks and report buckets):

* THIS_/LAST_/NEXT_ + WEEK, MONTH, QUARTER, YEAR, FISCAL_QUARTER, FISCAL_YEAR: the
  period holding today, the one before it, the one after it.
* LAST_N_DAYS(n): the n days before today and today; NEXT_N_DAYS(n): the n days after
  today (today excluded).
* LAST_N_WEEKS/MONTHS/QUARTERS/YEARS(n): the n whole periods before the current one;
  NEXT_N_…(n): the n whole periods after it (the current one excluded both ways).

A fiscal year is named by the calendar year in which it ends: with a start month of 4,
April 2026 - March 2027 is FY2027 (see :func:`fiscal_year_of`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.sql.elements import ColumnElement

from .functions import (
    Arg,
    Evaluation,
    Function,
    SqlCompiler,
    literal,
    py_sql,
    register,
    require_literal,
)
from .nodes import call_name, fail
from .types import EvalContext, ValueType

if TYPE_CHECKING:
    from .sql import Sql

T = ValueType
MAX_RANGE_COUNT = 10_000  # the largest n of LAST_N_DAYS(n) and its family

# Period lengths: whole months for the month-based units, days for the others.
MONTHS = {"month": 1, "quarter": 3, "year": 12, "fiscal_quarter": 3, "fiscal_year": 12}
DAYS = {"day": 1, "week": 7}
UNITS = ("day", "week", "month", "quarter", "year", "fiscal_quarter", "fiscal_year")


# ------------------------------------------------------------------- calendar helpers


def period_start(day: date, unit: str, fiscal_start_month: int = 1) -> date:
    """The first day of the ``unit`` period holding ``day`` (weeks start on Monday)."""
    if unit == "day":
        return day
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if unit == "year":
        return date(day.year, 1, 1)
    offset = (day.month - fiscal_start_month) % 12  # months since the fiscal year began
    if unit == "fiscal_quarter":
        offset %= 3
    elif unit != "fiscal_year":
        raise ValueError(f"unknown period {unit!r}")
    return shift(day.replace(day=1), "month", -offset)


def shift(start: date, unit: str, count: int) -> date:
    """``start`` moved by ``count`` periods; OverflowError outside years 1-9999.

    Month-based units keep the day of the month (callers pass first days)."""
    if unit in DAYS:
        return start + timedelta(days=DAYS[unit] * count)
    index = start.year * 12 + start.month - 1 + MONTHS[unit] * count
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise OverflowError("date out of range")
    return date(year, month + 1, start.day)


def fiscal_year_of(day: date, fiscal_start_month: int) -> int:
    """The fiscal year holding ``day``, named by the calendar year in which it ends."""
    if fiscal_start_month == 1 or day.month < fiscal_start_month:
        return day.year
    return day.year + 1


def utc_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone``, in UTC (clamped at the ends of time).

    A midnight skipped by a daylight-saving change maps, as zoneinfo reads it, to the
    first instant that exists on that day."""
    try:
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    except OverflowError:
        return (datetime.min if day.year == 1 else datetime.max).replace(tzinfo=UTC)


def local_period(
    value: datetime | None, zone: str | None, unit: str | None, fiscal_start_month: Any = 1
) -> date | None:
    """The first day of the ``unit`` period (see :func:`period_start`) holding the date
    that the instant ``value`` falls on in the IANA zone ``zone``; NULL in, NULL out."""
    if value is None or zone is None or unit is None:
        return None
    try:
        local = value.astimezone(ZoneInfo(zone)).date()
        return period_start(local, unit, int(fiscal_start_month))
    except OverflowError:  # a period starting before year 1: no date for it (NULL)
        return None


# SQLite has no IANA time zones: report buckets of datetimes (in an org zone other than
# UTC) call this registered function, once per row.
LOCAL_PERIOD = py_sql("local_period", (T.DATETIME, T.TEXT, T.TEXT, None), T.DATE, local_period)


# ---------------------------------------------------------------------- the range value


@dataclass(frozen=True)
class DateRange:
    """The days ``start <= day < end`` in the org time zone ``zone``.

    ``start`` None: unbounded below; ``end`` None: unbounded above (only where a count
    reaches past years 1-9999)."""

    start: date | None
    end: date | None
    zone: ZoneInfo

    def bounds(self, vtype: ValueType) -> tuple[Any, Any]:
        """The bounds to compare a DATE or a DATETIME (UTC instants) value with."""
        if vtype is T.DATE:
            return self.start, self.end
        return (
            None if self.start is None else utc_midnight(self.start, self.zone),
            None if self.end is None else utc_midnight(self.end, self.zone),
        )

    def __contains__(self, value: object) -> bool:
        if isinstance(value, datetime):
            low, high = self.bounds(T.DATETIME)
        elif isinstance(value, date):
            low, high = self.bounds(T.DATE)
        else:
            raise TypeError(f"a date range holds dates and datetimes, not {value!r:.40}")
        return (low is None or value >= low) and (high is None or value < high)


_EMPTY_LOW = (date.min, date.min)
_EMPTY_HIGH = (date.max, date.max)


def _span(anchor: date, unit: str, first: int, last: int) -> tuple[date | None, date | None]:
    """From ``first`` periods after ``anchor`` to ``last`` periods after it (exclusive)."""
    try:
        start: date | None = shift(anchor, unit, first)
    except OverflowError:
        if first > 0:
            return _EMPTY_HIGH
        start = None
    try:
        end: date | None = shift(anchor, unit, last)
    except OverflowError:
        if last <= 0:
            return _EMPTY_LOW
        end = None
    return start, end


def date_range(name: str, count: int | None, context: EvalContext) -> DateRange:
    """The range ``name(count)`` stands for at ``context``'s moment."""
    kind, unit = RANGE_FUNCTIONS[name]
    today = context.today()
    anchor = period_start(today, unit, context.fiscal_year_start_month)
    n = count or 0
    first, last = {
        "this": (0, 1),
        "last": (-1, 0),
        "next": (1, 2),
        "last_n": (-n, 0),
        "next_n": (1, n + 1),
        "last_n_days": (-n, 1),  # the n days before today, and today
        "next_n_days": (1, n + 1),
    }[kind]
    start, end = _span(anchor, unit, first, last)
    return DateRange(start, end, context.zone)


def range_of_call(call: ast.Call, context: EvalContext) -> DateRange:
    """The range a checked call of a range function stands for."""
    count = int(literal(call.args[0])) if call.args else None
    return date_range(call_name(call), count, context)


# ------------------------------------------------------------------ the library entries

RANGE_FUNCTIONS: dict[str, tuple[str, str]] = {}

_PERIOD_WORDS = {
    "WEEK": "week",
    "MONTH": "month",
    "QUARTER": "quarter",
    "YEAR": "year",
    "FISCAL_QUARTER": "fiscal_quarter",
    "FISCAL_YEAR": "fiscal_year",
}
_PERIOD_TEXT = {
    "week": "week (Monday to Sunday)",
    "month": "month",
    "quarter": "calendar quarter",
    "year": "calendar year",
    "fiscal_quarter": "fiscal quarter",
    "fiscal_year": "fiscal year",
}


def _validate_count(call: ast.Call, args: list[Arg]) -> None:
    name = call_name(call)
    what = f"a whole number from 1 to {MAX_RANGE_COUNT}"
    value = require_literal(args[0], name, what)
    if (
        not isinstance(value, Decimal)
        or value != value.to_integral_value()
        or not 1 <= value <= MAX_RANGE_COUNT
    ):
        fail(args[0].node, f"{name} expects {what}, got {value}", name)


def _eval_range(ev: Evaluation, call: ast.Call) -> DateRange:
    return range_of_call(call, ev.context)


def _no_sql(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    # The checker only lets a range stand after `in`, which sql.py compiles itself.
    name = call_name(call)
    fail(call, f"{name}() is a date range: use it after 'in', as in close_date in {name}()", name)


def _register(name: str, kind: str, unit: str, doc: str) -> None:
    RANGE_FUNCTIONS[name] = (kind, unit)
    counted = kind.endswith("_n") or kind.endswith("_n_days")
    register(
        Function(
            name,
            (T.NUMBER,) if counted else (),
            T.DATE_RANGE,
            evaluate=_eval_range,
            pg=_no_sql,
            sqlite=_no_sql,
            validate=_validate_count if counted else None,
            doc=doc,
        )
    )


for _word, _unit in _PERIOD_WORDS.items():
    _text = _PERIOD_TEXT[_unit]
    _register(f"THIS_{_word}", "this", _unit, f"THIS_{_word}(): the current {_text}")
    _register(f"LAST_{_word}", "last", _unit, f"LAST_{_word}(): the {_text} before the current one")
    _register(f"NEXT_{_word}", "next", _unit, f"NEXT_{_word}(): the {_text} after the current one")
for _word in ("WEEK", "MONTH", "QUARTER", "YEAR"):
    _unit = _PERIOD_WORDS[_word]
    _text = _PERIOD_TEXT[_unit].split(" (")[0]
    _register(
        f"LAST_N_{_word}S",
        "last_n",
        _unit,
        f"LAST_N_{_word}S(n): the n whole {_text}s before the current one",
    )
    _register(
        f"NEXT_N_{_word}S",
        "next_n",
        _unit,
        f"NEXT_N_{_word}S(n): the n whole {_text}s after the current one",
    )
_register("LAST_N_DAYS", "last_n_days", "day", "LAST_N_DAYS(n): the n days before today, and today")
_register("NEXT_N_DAYS", "next_n_days", "day", "NEXT_N_DAYS(n): the n days after today")
