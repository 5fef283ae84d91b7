"""The function library: for each function its signature, its Python implementation
and its SQL compilation (PostgreSQL and SQLite), side by side.

Conventions shared by every entry:

* Arguments are checked by :func:`check_call` against ``params`` (a ValueType, or
  a :class:`Var` standing for "one type from this set, the same wherever the
  variable appears"). A NULL literal fits every parameter.
* ``impl`` takes Python values (Decimal, str, bool, date, aware datetime, time,
  list, None) and is used twice: by the evaluator, and — wrapped by
  :mod:`.sqlite` — as a function registered on every SQLite connection. One
  implementation, so Python and SQLite cannot disagree.
* ``pg`` builds the PostgreSQL expression from compiled arguments; ``sqlite``
  does the same for SQLite (most call the registered Python implementation).
  Neither may raise at run time on odd input: a value out of range is NULL.
* Whole-number arguments (LEFT's length, DATE's parts, DATE_ADD's amount) are
  truncated toward zero.
"""

from __future__ import annotations

import ast
import calendar
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause

from . import numbers
from .errors import LimitExceeded
from .limits import MAX_ARGUMENTS, MAX_SCALE, MAX_TEXT_LENGTH, MIN_ROUND_PLACES
from .nodes import FieldRef, NodeInfo, fail
from .types import EvalContext, FieldPath, ValueType
from .values import normalise_value

if TYPE_CHECKING:
    from .sql import Sql

T = ValueType
NOT_LITERAL: Any = object()  # Arg.literal when the argument is not a constant

SqlHook = Callable[["SqlCompiler", ast.Call, list["Sql"]], ColumnElement[Any]]


# --------------------------------------------------------------------------- protocols


@dataclass(frozen=True)
class Arg:
    """One type-checked argument, as a function's check sees it."""

    node: ast.expr
    info: NodeInfo
    literal: Any = NOT_LITERAL

    @property
    def vtype(self) -> ValueType:
        return self.info.vtype


class Evaluation(Protocol):
    """What a function's custom evaluation hook may use (see evaluator.py)."""

    context: EvalContext

    def value(self, node: ast.expr) -> Any: ...

    def info(self, node: ast.AST) -> NodeInfo: ...


class SqlCompiler(Protocol):
    """What a function's SQL hook may use (see sql.py)."""

    dialect: str
    context: EvalContext

    def info(self, node: ast.AST) -> NodeInfo: ...

    def call_py(self, sig: PySql, args: Sequence[Sql], *extra: Any) -> ColumnElement[Any]: ...

    def bind(self, value: Any, vtype: ValueType) -> ColumnElement[Any]: ...

    def null(self, vtype: ValueType) -> ColumnElement[Any]: ...

    def column(self, path: FieldPath) -> ColumnElement[Any]: ...

    def hierarchy(self, node: ast.AST, path: FieldPath) -> FromClause: ...


# ------------------------------------------------------------------- Python helpers


def bounded_text(value: str) -> str:
    """Refuse a text result longer than MAX_TEXT_LENGTH."""
    if len(value) > MAX_TEXT_LENGTH:
        raise LimitExceeded(f"text longer than {MAX_TEXT_LENGTH} characters")
    return value


def is_blank(value: Any) -> bool:
    """NULL, empty text and an empty multi-select are blank."""
    return value is None or value == "" or (isinstance(value, list | tuple) and not value)


def add_months(start: date, months: int) -> date | None:
    """Month arithmetic that clamps to the month's end (Jan 31 + 1 month = Feb 28/29)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        return None
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day)


def strict(func: Callable[..., Any]) -> Callable[..., Any]:
    """NULL in, NULL out: the usual SQL behaviour of a function."""

    def wrapper(*args: Any) -> Any:
        if any(a is None for a in args):
            return None
        return func(*args)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def text_of(value: Any) -> str | None:
    """TEXT(x): the canonical text of any scalar value (see the ADR)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return numbers.to_text(Decimal(value))
    if isinstance(value, datetime):
        utc = value.astimezone(UTC)
        return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc:%H:%M:%S}Z"
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    if isinstance(value, time):
        return f"{value:%H:%M:%S}"
    return str(value)


# ------------------------------------------------------------ SQLite registrations


@dataclass(frozen=True)
class PySql:
    """A Python implementation registered on SQLite connections as ``name``.

    ``params`` say how to decode each SQL argument (for ``variadic`` the last one
    repeats); ``result`` how to encode the answer (None: pass the SQL value through).
    """

    name: str
    params: tuple[ValueType | None, ...]
    result: ValueType | None
    impl: Callable[..., Any]
    variadic: bool = False


SQLITE_REGISTRY: dict[str, PySql] = {}


def py_sql(
    name: str,
    params: Sequence[ValueType | None],
    result: ValueType | None,
    impl: Callable[..., Any],
    *,
    variadic: bool = False,
) -> PySql:
    """Declare a Python function for SQLite (collected by ``sqlite_functions()``)."""
    sig = PySql(f"crm_{name}", tuple(params), result, impl, variadic)
    SQLITE_REGISTRY[sig.name] = sig
    return sig


def per_type(
    name: str,
    types: Sequence[ValueType],
    impl: Callable[..., Any],
    *,
    arity: int = 1,
    result: ValueType | None = None,
    variadic: bool = False,
    extra: Sequence[ValueType] = (),
) -> dict[ValueType, PySql]:
    """One registration per argument type of a polymorphic function."""
    return {
        t: py_sql(
            f"{name}_{t.value}",
            (t,) * arity + tuple(extra),
            result or t,
            impl,
            variadic=variadic,
        )
        for t in types
    }


def via_python(sig: PySql | Mapping[ValueType, PySql]) -> SqlHook:
    """A SQL hook that calls the registered Python implementation (chosen by the first arg)."""

    def hook(c: SqlCompiler, call: ast.Call, args: list[Sql]) -> ColumnElement[Any]:
        chosen = sig if isinstance(sig, PySql) else sig[args[0].vtype]
        return c.call_py(chosen, args)

    return hook


# -------------------------------------------------------------------- the checker


@dataclass(frozen=True)
class Var:
    """A type variable: any of ``allowed``, the same type wherever it appears in a call."""

    name: str
    allowed: frozenset[ValueType]


SCALARS = frozenset({T.TEXT, T.NUMBER, T.BOOLEAN, T.DATE, T.DATETIME, T.TIME})
ORDERED = frozenset({T.TEXT, T.NUMBER, T.DATE, T.DATETIME, T.TIME})
EVERY = SCALARS | {T.MULTI}
Param = ValueType | Var


@dataclass(frozen=True)
class Function:
    """One library function. See the module docstring for the conventions."""

    name: str
    params: tuple[Param, ...]
    result: Param
    impl: Callable[..., Any] | None = None
    pg: SqlHook | None = None
    sqlite: SqlHook | None = None
    min_args: int | None = None  # default: len(params)
    max_args: int | None = -1  # default: len(params); None: variadic (last param repeats)
    scale: Callable[[list[Arg]], int | None] | None = None
    validate: Callable[[ast.Call, list[Arg]], None] | None = None
    evaluate: Callable[[Evaluation, ast.Call], Any] | None = None
    check: Callable[[ast.Call, list[Arg]], tuple[NodeInfo, list[ValueType]]] | None = None
    python_only: bool = False
    repeats: int = 1  # the most times PostgreSQL's SQL repeats an argument (SQL size bound)
    list_arg: int | None = None  # index of the argument that is a literal list
    doc: str = ""

    @property
    def arity(self) -> tuple[int, int | None]:
        low = len(self.params) if self.min_args is None else self.min_args
        high = len(self.params) if self.max_args == -1 else self.max_args
        return low, high


def _arity_text(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low} argument{'s' if low != 1 else ''}"
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} to {high} arguments"


def _labels(types: frozenset[ValueType]) -> str:
    order = [T.TEXT, T.NUMBER, T.BOOLEAN, T.DATE, T.DATETIME, T.TIME, T.MULTI]
    names = [t.label for t in order if t in types]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def check_arity(fn: Function, call: ast.Call, count: int) -> None:
    low, high = fn.arity
    if count < low or (high is not None and count > high) or count > MAX_ARGUMENTS:
        fail(call, f"{fn.name} expects {_arity_text(low, high)}, got {count}", fn.name)


def check_call(fn: Function, call: ast.Call, args: list[Arg]) -> tuple[NodeInfo, list[ValueType]]:
    """Type-check a call: returns the result info and the type each argument is used as."""
    check_arity(fn, call, len(args))
    if fn.check is not None:
        return fn.check(call, args)
    bound: dict[str, ValueType] = {}
    wanted: list[Param] = []
    for index, arg in enumerate(args):
        param = fn.params[min(index, len(fn.params) - 1)]
        wanted.append(param)
        if arg.vtype is T.ANY:
            continue
        if isinstance(param, ValueType):
            if arg.vtype is not param:
                fail(arg.node, f"{fn.name} expects {param.label}, got {arg.vtype.label}", fn.name)
        elif param.name in bound:
            if arg.vtype is not bound[param.name]:
                expected = bound[param.name].label
                fail(arg.node, f"{fn.name} expects {expected}, got {arg.vtype.label}", fn.name)
        elif arg.vtype in param.allowed:
            bound[param.name] = arg.vtype
        else:
            expected = _labels(param.allowed)
            fail(arg.node, f"{fn.name} expects {expected}, got {arg.vtype.label}", fn.name)
    used = [_resolve(p, bound, default=T.TEXT) for p in wanted]
    result = _resolve(fn.result, bound, default=T.ANY)
    if fn.validate is not None:
        fn.validate(call, args)
    scale = None
    if result is T.NUMBER:
        scale = fn.scale(args) if fn.scale is not None else _max_scale(args)
    return NodeInfo(result, scale), used


def _resolve(param: Param, bound: Mapping[str, ValueType], default: ValueType) -> ValueType:
    if isinstance(param, ValueType):
        return param
    return bound.get(param.name, default)


def _max_scale(args: Sequence[Arg]) -> int:
    scales = [a.info.scale or 0 for a in args if a.vtype is T.NUMBER]
    return max(scales, default=0)


def _zero(args: list[Arg]) -> int:
    return 0


def literal(node: ast.expr) -> Any:
    """The value of a literal argument (the checker has made sure it is one)."""
    assert isinstance(node, ast.Constant)
    return node.value


def require_literal(arg: Arg, fname: str, what: str) -> Any:
    if arg.literal is NOT_LITERAL or arg.literal is None:
        fail(arg.node, f"{fname} expects {what} written as a literal", fname)
    return arg.literal


# ------------------------------------------------------------------- SQL helpers


_PG_STRICT_MINMAX = {
    "numeric": ("numeric_larger", "numeric_smaller"),
    "int4": ("int4larger", "int4smaller"),
}


def pg_clamp(value: ColumnElement[Any], low: Any, high: Any, kind: str = "numeric") -> Any:
    """Clamp into [low, high], keeping NULL: GREATEST/LEAST would turn NULL into a bound.

    ``numeric_larger``/``int4larger`` are the strict built-ins behind max() and min();
    using them keeps the argument single (a CASE would repeat it).
    """
    larger, smaller = _PG_STRICT_MINMAX[kind]
    return getattr(sa.func, smaller)(getattr(sa.func, larger)(value, low), high)


def pg_int(value: ColumnElement[Any], low: int, high: int) -> ColumnElement[Any]:
    """Truncate a number toward zero and clamp it, so the integer cast never overflows
    (an INTEGER column is cast to NUMERIC first: trunc(integer) would pick the
    double precision overload, which numeric_larger does not take)."""
    return sa.cast(pg_clamp(sa.func.trunc(pg_numeric(value)), low, high), sa.Integer)


def pg_numeric(value: ColumnElement[Any]) -> ColumnElement[Any]:
    return sa.cast(value, sa.Numeric)


PG_CASE_COLLATION = "und-x-icu"  # ICU root locale: full Unicode case mapping (ß -> SS)


def pg_text_order(value: ColumnElement[Any]) -> ColumnElement[Any]:
    """Compare text by code point on PostgreSQL, as Python and SQLite (BINARY) do."""
    return sa.collate(value, "C")


# ----------------------------------------------------------------------- library

LIBRARY: dict[str, Function] = {}


def register(fn: Function) -> Function:
    LIBRARY[fn.name] = fn
    return fn


A = Var("T", EVERY)
ORD = Var("T", ORDERED)
SCALAR = Var("T", SCALARS)
R = Var("R", EVERY)

# --- logic -----------------------------------------------------------------------


def tri_and(*values: bool | None) -> bool | None:
    """SQL AND: false wins, then NULL, then true."""
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def tri_or(*values: bool | None) -> bool | None:
    """SQL OR: true wins, then NULL, then false."""
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def tri_not(value: bool | None) -> bool | None:
    return None if value is None else not value


def _eval_if(ev: Evaluation, call: ast.Call) -> Any:
    # Lazy like SQL's CASE: the branch not taken is never evaluated.
    if ev.value(call.args[0]) is True:
        return ev.value(call.args[1])
    return ev.value(call.args[2]) if len(call.args) > 2 else None


register(
    Function(
        "IF",
        (T.BOOLEAN, R, R),
        R,
        min_args=2,
        evaluate=_eval_if,
        # SQL: sql.py compiles a chain IF(a, x, IF(b, y, z)) into one flat CASE.
        doc="IF(condition, then, else): `then` when the condition is true, else `else` "
        "(NULL when omitted); a NULL condition counts as not true",
    )
)


def _sql_and(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    return sa.and_(*(x.expr for x in a))


def _sql_or(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    return sa.or_(*(x.expr for x in a))


def _sql_not(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    return sa.not_(a[0].expr)


register(
    Function(
        "AND",
        (T.BOOLEAN,),
        T.BOOLEAN,
        tri_and,
        _sql_and,
        _sql_and,
        max_args=None,
        doc="AND(a, b, ...): three-valued logical and (as the `and` operator)",
    )
)
register(
    Function(
        "OR",
        (T.BOOLEAN,),
        T.BOOLEAN,
        tri_or,
        _sql_or,
        _sql_or,
        max_args=None,
        doc="OR(a, b, ...): three-valued logical or (as the `or` operator)",
    )
)
register(
    Function(
        "NOT",
        (T.BOOLEAN,),
        T.BOOLEAN,
        tri_not,
        _sql_not,
        _sql_not,
        doc="NOT(a): three-valued negation; NOT(NULL) is NULL",
    )
)

# --- blanks ----------------------------------------------------------------------


def _blank_sql(c: SqlCompiler, value: Sql) -> ColumnElement[Any]:
    if value.vtype is T.TEXT:
        return sa.func.coalesce(value.expr, "") == ""
    if value.vtype is T.MULTI:
        if c.dialect == "postgresql":
            empty = sa.literal_column("'[]'::jsonb")
            as_text = sa.cast(sa.func.coalesce(value.expr, empty), sa.Text)
            return as_text.in_(["[]", "null"])
        return sa.func.coalesce(sa.func.json_array_length(value.expr), 0) == 0
    return value.expr.is_(None)


def _sql_isblank(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    return _blank_sql(c, a[0])


def _non_blank_sql(c: SqlCompiler, value: Sql) -> ColumnElement[Any]:
    """The value, or NULL when it is blank (no argument repeated)."""
    if value.vtype is T.TEXT:
        return sa.func.nullif(value.expr, "")
    if value.vtype is T.MULTI:
        if c.dialect == "postgresql":
            empty = sa.literal_column("'[]'::jsonb")
            null = sa.literal_column("'null'::jsonb")
            return sa.func.nullif(sa.func.nullif(value.expr, empty), null)
        return sa.func.nullif(sa.func.nullif(value.expr, "[]"), "null")
    return value.expr


def _sql_blankvalue(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    return sa.func.coalesce(_non_blank_sql(c, a[0]), a[1].expr)


def _sql_nullvalue(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    return sa.func.coalesce(a[0].expr, a[1].expr)


register(
    Function(
        "ISBLANK",
        (A,),
        T.BOOLEAN,
        is_blank,
        _sql_isblank,
        _sql_isblank,
        doc="ISBLANK(x): true when x is NULL, empty text or an empty multi-select",
    )
)
register(
    Function(
        "BLANKVALUE",
        (A, A),
        A,
        lambda x, default: default if is_blank(x) else x,
        _sql_blankvalue,
        _sql_blankvalue,
        doc="BLANKVALUE(x, default): `default` when x is blank (see ISBLANK), else x",
    )
)
register(
    Function(
        "NULLVALUE",
        (A, A),
        A,
        lambda x, default: default if x is None else x,
        _sql_nullvalue,
        _sql_nullvalue,
        doc="NULLVALUE(x, default): `default` when x is NULL (empty text is kept), else x",
    )
)

# --- dates -----------------------------------------------------------------------


def _eval_today(ev: Evaluation, call: ast.Call) -> date:
    return ev.context.today()


def _eval_now(ev: Evaluation, call: ast.Call) -> datetime:
    return ev.context.now.astimezone(UTC)


def _sql_today(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    return c.bind(c.context.today(), T.DATE)


def _sql_now(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    return c.bind(c.context.now.astimezone(UTC), T.DATETIME)


register(
    Function(
        "TODAY",
        (),
        T.DATE,
        evaluate=_eval_today,
        pg=_sql_today,
        sqlite=_sql_today,
        doc="TODAY(): the current date in the org time zone",
    )
)
register(
    Function(
        "NOW",
        (),
        T.DATETIME,
        evaluate=_eval_now,
        pg=_sql_now,
        sqlite=_sql_now,
        doc="NOW(): the current instant",
    )
)


@strict
def make_date(year: Decimal, month: Decimal, day: Decimal) -> date | None:
    """DATE(y, m, d): a valid calendar date from whole numbers, else NULL."""
    y, m, d = (numbers.whole(v, -(10**6), 10**6) for v in (year, month, day))
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _pg_date(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    # Never call make_date with an invalid date: PostgreSQL may fold constants at
    # plan time, even inside an untaken CASE branch. Clamp, then test validity.
    y, m, d = (sa.func.trunc(x.expr) for x in a)
    first = sa.func.make_date(pg_int(a[0].expr, 1, 9999), pg_int(a[1].expr, 1, 12), 1)
    next_month = first + sa.literal_column("interval '1 month'")
    last_day = sa.extract("day", next_month - sa.literal_column("interval '1 day'"))
    valid = sa.and_(y.between(1, 9999), m.between(1, 12), d >= 1, d <= last_day)
    return sa.case((valid, first + (pg_int(a[2].expr, 1, 31) - 1)))


_DATE = py_sql("date", (T.NUMBER, T.NUMBER, T.NUMBER), T.DATE, make_date)
register(
    Function(
        "DATE",
        (T.NUMBER, T.NUMBER, T.NUMBER),
        T.DATE,
        make_date,
        _pg_date,
        via_python(_DATE),
        repeats=4,
        doc="DATE(year, month, day): that date; NULL when it does not exist",
    )
)

DATE_UNITS = {
    "day": "days",
    "days": "days",
    "month": "months",
    "months": "months",
    "year": "years",
    "years": "years",
}


def date_add(start: date | None, amount: Decimal | None, unit: str | None) -> date | None:
    """DATE_ADD(date, n, unit): unit days, months or years; months clamp to the month's end."""
    if start is None or amount is None or unit is None:
        return None
    n = numbers.whole(amount, -(10**8), 10**8)
    kind = DATE_UNITS.get(unit)
    if kind == "days":
        try:
            return start + timedelta(days=n)
        except OverflowError:
            return None
    if kind is None:
        return None
    return add_months(start, n if kind == "months" else n * 12)


def _validate_date_add(call: ast.Call, args: list[Arg]) -> None:
    unit = require_literal(args[2], "DATE_ADD", "'days', 'months' or 'years'")
    if unit not in DATE_UNITS:
        fail(
            args[2].node,
            f"DATE_ADD unit must be 'days', 'months' or 'years', not {unit!r}",
            "DATE_ADD",
        )


def add_days(start: date | None, days: Decimal | None) -> date | None:
    """``date + n`` (and ``n + date``): n whole days later, like DATE_ADD(date, n, 'days')."""
    return date_add(start, days, "days")


def subtract_days(start: date | None, days: Decimal | None) -> date | None:
    """``date - n``: n whole days earlier."""
    return date_add(start, None if days is None else -days, "days")


ADD_DAYS = py_sql("add_days", (T.DATE, T.NUMBER), T.DATE, add_days)
SUBTRACT_DAYS = py_sql("subtract_days", (T.DATE, T.NUMBER), T.DATE, subtract_days)


def pg_shift_date(
    c: SqlCompiler, start: ColumnElement[Any], days: ColumnElement[Any], sign: int
) -> ColumnElement[Any]:
    """PostgreSQL's ``date ± n``, NULL outside years 1-9999 (as :func:`add_days`)."""
    whole = pg_int(days, -(10**8), 10**8)
    day_one = c.bind(_DAY_ONE, T.DATE)
    moved = (start - day_one) + whole if sign > 0 else (start - day_one) - whole
    return _pg_date_range(c, moved)


_DAY_ONE = date(1, 1, 1)
_LAST_DAY_NUMBER = (date(9999, 12, 31) - _DAY_ONE).days


def _pg_date_range(c: SqlCompiler, day_number: ColumnElement[Any]) -> ColumnElement[Any]:
    """Day 0 is 0001-01-01; numbers outside years 1..9999 give NULL (LEAST/NULLIF keep
    the argument single, so nesting does not grow the SQL)."""
    low, high = -1, _LAST_DAY_NUMBER + 1
    clamped = pg_clamp(day_number, low, high, "int4")
    inside = sa.func.nullif(sa.func.nullif(clamped, low), high)
    return c.bind(_DAY_ONE, T.DATE) + inside


def _pg_date_add(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    unit = DATE_UNITS[literal(call.args[2])]
    start, amount = a[0].expr, a[1].expr
    day_one = c.bind(_DAY_ONE, T.DATE)
    if unit == "days":
        return _pg_date_range(c, (start - day_one) + pg_int(amount, -(10**8), 10**8))
    months = pg_int(amount, -(10**8), 10**8)
    if unit == "years":
        months = pg_int(amount, -20_000, 20_000) * 12
    # Going back further than the months since year 1 would leave PostgreSQL's date
    # range (4713 BC); each month has at least 28 days, so this bound is safe.
    floor_months = -(sa.cast(sa.func.div(start - day_one, 28), sa.Integer) + 2)
    months = pg_clamp(months, floor_months, 240_000, "int4")
    moved = sa.cast(start + months * sa.literal_column("interval '1 month'"), sa.Date)
    return _pg_date_range(c, moved - day_one)


_DATE_ADD = py_sql("date_add", (T.DATE, T.NUMBER, T.TEXT), T.DATE, date_add)
register(
    Function(
        "DATE_ADD",
        (T.DATE, T.NUMBER, T.TEXT),
        T.DATE,
        date_add,
        _pg_date_add,
        via_python(_DATE_ADD),
        validate=_validate_date_add,
        repeats=2,
        doc="DATE_ADD(date, n, unit): n days, months or years later (n may be negative); "
        "month arithmetic clamps to the month's end; NULL outside years 1-9999",
    )
)


@strict
def days_between(start: date, end: date) -> Decimal:
    return Decimal((end - start).days)


def _pg_days_between(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    return pg_numeric(a[1].expr - a[0].expr)


def _sqlite_days_between(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    # Native, not a Python call per row (a report averages it over every record): dates
    # are 'YYYY-MM-DD' text, whose Julian days are exact halves, so the difference is an
    # exact whole number of days, and an integer is a NUMBER in SQLite's compiled SQL.
    return sa.cast(sa.func.julianday(a[1].expr) - sa.func.julianday(a[0].expr), sa.Integer)


register(
    Function(
        "DAYS_BETWEEN",
        (T.DATE, T.DATE),
        T.NUMBER,
        days_between,
        _pg_days_between,
        _sqlite_days_between,
        scale=_zero,
        doc="DAYS_BETWEEN(a, b): b - a in days",
    )
)


@strict
def minutes_between(start: datetime, end: datetime) -> Decimal:
    return Decimal(int((end - start).total_seconds() / 60))  # towards zero, as SQL's


def _pg_minutes_between(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    seconds = sa.extract("epoch", a[1].expr - a[0].expr)
    return pg_numeric(sa.func.trunc(seconds / 60))


def _sqlite_minutes_between(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    # stored as UTC text: the Julian-day difference in whole minutes, natively (reports
    # average a response time over every record); a millisecond absorbs float rounding
    minutes = (sa.func.julianday(a[1].expr) - sa.func.julianday(a[0].expr)) * 1440
    nudge = sa.case((minutes < 0, -0.00002), else_=0.00002)
    return sa.cast(minutes + nudge, sa.Integer)


register(
    Function(
        "MINUTES_BETWEEN",
        (T.DATETIME, T.DATETIME),
        T.NUMBER,
        minutes_between,
        _pg_minutes_between,
        _sqlite_minutes_between,
        scale=_zero,
        doc="MINUTES_BETWEEN(a, b): b - a in whole minutes (a response or resolution time)",
    )
)


def date_part(part: str) -> Callable[..., Decimal | None]:
    def impl(value: date | datetime | None, zone: str | None = None) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            value = value.astimezone(ZoneInfo(zone or "UTC"))
        return Decimal(getattr(value, part))

    return impl


def _date_part_function(name: str, part: str) -> None:
    impl = date_part(part)
    on_date = py_sql(f"{part}_date", (T.DATE,), T.NUMBER, impl)
    on_datetime = py_sql(f"{part}_datetime", (T.DATETIME, T.TEXT), T.NUMBER, impl)

    def evaluate(ev: Evaluation, call: ast.Call) -> Any:
        return impl(ev.value(call.args[0]), ev.context.time_zone)

    def pg(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
        value = a[0].expr
        if a[0].vtype is T.DATETIME:
            value = sa.func.timezone(c.bind(c.context.time_zone, T.TEXT), value)
        return pg_numeric(sa.extract(part, value))

    def sqlite(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
        if a[0].vtype is T.DATETIME:
            return c.call_py(on_datetime, a, c.bind(c.context.time_zone, T.TEXT))
        return c.call_py(on_date, a)

    register(
        Function(
            name,
            (Var("T", frozenset({T.DATE, T.DATETIME})),),
            T.NUMBER,
            impl,
            pg,
            sqlite,
            evaluate=evaluate,
            scale=_zero,
            doc=f"{name}(date or datetime): the {part} (a datetime is read in the org time zone)",
        )
    )


_date_part_function("YEAR", "year")
_date_part_function("MONTH", "month")
_date_part_function("DAY", "day")

# --- text ------------------------------------------------------------------------


def concat(*values: str | None) -> str:
    return bounded_text("".join(v for v in values if v is not None))


def join_text(left: str | None, right: str | None) -> str | None:
    """``a + b`` on text: the texts joined, NULL when either is NULL (as SQL's ``||``)."""
    if left is None or right is None:
        return None
    return bounded_text(left + right)


def _pg_concat(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    return sa.func.concat(*(x.expr for x in a))


_CONCAT = py_sql("concat", (T.TEXT,), T.TEXT, concat, variadic=True)
register(
    Function(
        "CONCAT",
        (T.TEXT,),
        T.TEXT,
        concat,
        _pg_concat,
        via_python(_CONCAT),
        max_args=None,
        doc="CONCAT(a, b, ...): the texts joined; NULL counts as ''",
    )
)


@strict
def text_length(value: str) -> Decimal:
    return Decimal(len(value))


def _pg_len(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    return pg_numeric(sa.func.char_length(a[0].expr))


_LEN = py_sql("len", (T.TEXT,), T.NUMBER, text_length)
register(
    Function(
        "LEN",
        (T.TEXT,),
        T.NUMBER,
        text_length,
        _pg_len,
        via_python(_LEN),
        scale=_zero,
        doc="LEN(text): the number of characters (code points)",
    )
)


@strict
def upper(value: str) -> str:
    return bounded_text(value.upper())


@strict
def lower(value: str) -> str:
    return bounded_text(value.lower())


def _pg_case_map(sql_name: str) -> SqlHook:
    def hook(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
        mapped = getattr(sa.func, sql_name)(sa.collate(a[0].expr, PG_CASE_COLLATION))
        # A COLLATE clause propagates as "explicit" through every function and CASE;
        # give the result "C" back, the one explicit collation compiled SQL ever uses.
        return pg_text_order(mapped)

    return hook


_UPPER = py_sql("upper", (T.TEXT,), T.TEXT, upper)
_LOWER = py_sql("lower", (T.TEXT,), T.TEXT, lower)
register(
    Function(
        "UPPER",
        (T.TEXT,),
        T.TEXT,
        upper,
        _pg_case_map("upper"),
        via_python(_UPPER),
        doc="UPPER(text): full Unicode upper case ('straße' -> 'STRASSE')",
    )
)
register(
    Function(
        "LOWER",
        (T.TEXT,),
        T.TEXT,
        lower,
        _pg_case_map("lower"),
        via_python(_LOWER),
        doc="LOWER(text): full Unicode lower case ('ÉCOLE' -> 'école')",
    )
)

TRIM_CHARACTERS = " \t\n\r"


@strict
def trim(value: str) -> str:
    return value.strip(TRIM_CHARACTERS)


def _pg_trim(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    return sa.func.btrim(a[0].expr, c.bind(TRIM_CHARACTERS, T.TEXT))


_TRIM = py_sql("trim", (T.TEXT,), T.TEXT, trim)
register(
    Function(
        "TRIM",
        (T.TEXT,),
        T.TEXT,
        trim,
        _pg_trim,
        via_python(_TRIM),
        doc="TRIM(text): without leading and trailing spaces, tabs and line breaks",
    )
)


@strict
def left(value: str, count: Decimal) -> str:
    return value[: numbers.whole(count, 0, MAX_TEXT_LENGTH)]


@strict
def right(value: str, count: Decimal) -> str:
    n = numbers.whole(count, 0, MAX_TEXT_LENGTH)
    return value[len(value) - n :] if n else ""


def substr(value: str | None, start: Decimal | None, *length: Decimal | None) -> str | None:
    """SUBSTR(text, start[, length]); an explicit NULL length gives NULL, an omitted one
    means "to the end"."""
    if value is None or start is None or (length and length[0] is None):
        return None
    first = numbers.whole(start, 1, MAX_TEXT_LENGTH + 1) - 1
    if not length:
        return value[first:]
    return value[first : first + numbers.whole(length[0], 0, MAX_TEXT_LENGTH)]  # type: ignore[arg-type]


def _pg_left_right(sql_name: str) -> SqlHook:
    def hook(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
        return getattr(sa.func, sql_name)(a[0].expr, pg_int(a[1].expr, 0, MAX_TEXT_LENGTH))

    return hook


def _pg_substr(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    start = pg_int(a[1].expr, 1, MAX_TEXT_LENGTH + 1)
    if len(a) == 2:
        return sa.func.substr(a[0].expr, start)
    return sa.func.substr(a[0].expr, start, pg_int(a[2].expr, 0, MAX_TEXT_LENGTH))


def _sqlite_substr(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    return c.call_py(_SUBSTR3 if len(a) == 3 else _SUBSTR2, a)


_LEFT = py_sql("left", (T.TEXT, T.NUMBER), T.TEXT, left)
_RIGHT = py_sql("right", (T.TEXT, T.NUMBER), T.TEXT, right)
_SUBSTR2 = py_sql("substr2", (T.TEXT, T.NUMBER), T.TEXT, substr)
_SUBSTR3 = py_sql("substr3", (T.TEXT, T.NUMBER, T.NUMBER), T.TEXT, substr)
register(
    Function(
        "LEFT",
        (T.TEXT, T.NUMBER),
        T.TEXT,
        left,
        _pg_left_right("left"),
        via_python(_LEFT),
        doc="LEFT(text, n): the first n characters",
    )
)
register(
    Function(
        "RIGHT",
        (T.TEXT, T.NUMBER),
        T.TEXT,
        right,
        _pg_left_right("right"),
        via_python(_RIGHT),
        doc="RIGHT(text, n): the last n characters",
    )
)
for _name in ("SUBSTR", "MID"):
    register(
        Function(
            _name,
            (T.TEXT, T.NUMBER, T.NUMBER),
            T.TEXT,
            substr,
            _pg_substr,
            _sqlite_substr,
            min_args=2,
            doc=f"{_name}(text, start, length): `length` characters from position "
            "`start` (1-based); to the end when length is omitted",
        )
    )


@strict
def contains(value: str, part: str) -> bool:
    return part in value


@strict
def begins(value: str, prefix: str) -> bool:
    return value.startswith(prefix)


def _pg_contains(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    return sa.func.strpos(a[0].expr, a[1].expr) > 0


def _pg_begins(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    return sa.func.starts_with(a[0].expr, a[1].expr)


_CONTAINS = py_sql("contains", (T.TEXT, T.TEXT), T.BOOLEAN, contains)
_BEGINS = py_sql("begins", (T.TEXT, T.TEXT), T.BOOLEAN, begins)
register(
    Function(
        "CONTAINS",
        (T.TEXT, T.TEXT),
        T.BOOLEAN,
        contains,
        _pg_contains,
        via_python(_CONTAINS),
        doc="CONTAINS(text, part): part occurs in text (case-sensitive)",
    )
)
register(
    Function(
        "BEGINS",
        (T.TEXT, T.TEXT),
        T.BOOLEAN,
        begins,
        _pg_begins,
        via_python(_BEGINS),
        doc="BEGINS(text, prefix): text starts with prefix (case-sensitive)",
    )
)


def _pg_text(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    value, vtype = a[0].expr, a[0].vtype
    if vtype is T.NUMBER:
        return sa.cast(sa.func.trim_scale(value), sa.Text)
    if vtype is T.DATE:
        return sa.func.to_char(value, "YYYY-MM-DD")
    if vtype is T.DATETIME:
        utc = sa.func.timezone("UTC", value)
        return sa.func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    if vtype is T.TIME:
        return sa.func.to_char(value, "HH24:MI:SS")
    if vtype is T.BOOLEAN:
        return sa.cast(value, sa.Text)
    return value


def _sqlite_text(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    return a[0].expr if a[0].vtype is T.TEXT else c.call_py(_TEXT[a[0].vtype], a)


_TEXT = per_type("text", sorted(SCALARS - {T.TEXT}, key=lambda t: t.value), text_of, result=T.TEXT)
register(
    Function(
        "TEXT",
        (SCALAR,),
        T.TEXT,
        text_of,
        _pg_text,
        _sqlite_text,
        doc="TEXT(x): x as text (numbers without trailing zeros, dates "
        "YYYY-MM-DD, datetimes in UTC as YYYY-MM-DDTHH:MM:SSZ, times HH:MM:SS, "
        "booleans true/false)",
    )
)


def value_of(text: str | None) -> Decimal | None:
    return None if text is None else numbers.parse_text(text)


def _pg_value(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    # substring(x from pattern) gives the first group or NULL: the argument is used once.
    digits = sa.func.substring(a[0].expr, c.bind(numbers.NUMBER_TEXT, T.TEXT))
    return sa.func.round(sa.cast(digits, sa.Numeric), MAX_SCALE)


_VALUE = py_sql("value", (T.TEXT,), T.NUMBER, value_of)
register(
    Function(
        "VALUE",
        (T.TEXT,),
        T.NUMBER,
        value_of,
        _pg_value,
        via_python(_VALUE),
        scale=lambda args: MAX_SCALE,
        doc="VALUE(text): the number written in plain decimal notation "
        "('12.50', ' -3 '), else NULL",
    )
)

# --- numbers ---------------------------------------------------------------------


def round_number(value: Decimal | None, places: Decimal | None = None) -> Decimal | None:
    if value is None:
        return None
    return numbers.round_half_away(value, 0 if places is None else int(places))


def _round_places(args: list[Arg]) -> int:
    if len(args) < 2:
        return 0
    return int(args[1].literal)


def _validate_round(call: ast.Call, args: list[Arg]) -> None:
    if len(args) < 2:
        return
    what = f"the number of places as a whole number from {MIN_ROUND_PLACES} to {MAX_SCALE}"
    places = require_literal(args[1], "ROUND", what)
    if (
        not isinstance(places, Decimal)
        or places != places.to_integral_value()
        or not MIN_ROUND_PLACES <= places <= MAX_SCALE
    ):
        fail(args[1].node, f"ROUND expects {what}", "ROUND")


def _round_scale(args: list[Arg]) -> int:
    return min(args[0].info.scale or 0, max(_round_places(args), 0))


def _pg_round(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    places = int(literal(call.args[1])) if len(call.args) > 1 else 0
    return sa.func.round(a[0].expr, sa.literal(places, sa.Integer))


_ROUND1 = py_sql("round1", (T.NUMBER,), T.NUMBER, round_number)
_ROUND2 = py_sql("round2", (T.NUMBER, T.NUMBER), T.NUMBER, round_number)
register(
    Function(
        "ROUND",
        (T.NUMBER, T.NUMBER),
        T.NUMBER,
        round_number,
        _pg_round,
        lambda c, call, a: c.call_py(_ROUND2 if len(a) == 2 else _ROUND1, a),
        min_args=1,
        scale=_round_scale,
        validate=_validate_round,
        doc="ROUND(x, places=0): rounded half away from zero (ROUND(2.5) = 3, "
        "ROUND(-2.5) = -3); places is a literal from -18 to 10",
    )
)


def _numeric_function(
    name: str,
    impl: Callable[..., Any],
    pg_name: str,
    doc: str,
    scale: Callable[[list[Arg]], int | None] | None = None,
) -> None:
    sig = py_sql(name.lower(), (T.NUMBER,), T.NUMBER, impl)

    def pg(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
        return getattr(sa.func, pg_name)(a[0].expr)

    register(Function(name, (T.NUMBER,), T.NUMBER, impl, pg, via_python(sig), scale=scale, doc=doc))


_numeric_function("ABS", lambda x: None if x is None else abs(x), "abs", "ABS(x): |x|")
_numeric_function("FLOOR", numbers.floor, "floor", "FLOOR(x): the largest whole number <= x", _zero)
_numeric_function(
    "CEILING", numbers.ceiling, "ceiling", "CEILING(x): the smallest whole number >= x", _zero
)


def _pg_mod(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    return sa.func.mod(a[0].expr, sa.func.nullif(a[1].expr, c.bind(Decimal(0), T.NUMBER)))


_MOD = py_sql("mod", (T.NUMBER, T.NUMBER), T.NUMBER, numbers.modulo)
register(
    Function(
        "MOD",
        (T.NUMBER, T.NUMBER),
        T.NUMBER,
        numbers.modulo,
        _pg_mod,
        via_python(_MOD),
        doc="MOD(a, b): the remainder of a / b with the sign of a (as `%`); NULL when b is 0",
    )
)


def least(*values: Any) -> Any:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def greatest(*values: Any) -> Any:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _min_max(name: str, impl: Callable[..., Any], pg_name: str) -> None:
    sigs = per_type(name.lower(), sorted(ORDERED, key=lambda t: t.value), impl, variadic=True)

    def pg(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
        values = [pg_text_order(x.expr) if x.vtype is T.TEXT else x.expr for x in a]
        return getattr(sa.func, pg_name)(*values)

    register(
        Function(
            name,
            (ORD,),
            ORD,
            impl,
            pg,
            via_python(sigs),
            max_args=None,
            doc=f"{name}(a, b, ...): the {'least' if name == 'MIN' else 'greatest'} "
            "value (numbers, texts, dates, datetimes or times); NULL arguments "
            "are ignored",
        )
    )


_min_max("MIN", least, "least")
_min_max("MAX", greatest, "greatest")

# --- choices ---------------------------------------------------------------------


def _case_roles(count: int) -> list[str]:
    """The role of each CASE argument: subject, match, result or else."""
    rest = count - 1
    roles = ["subject"]
    for j in range(rest):
        if rest % 2 and j == rest - 1:
            roles.append("result")  # the else value
        else:
            roles.append("match" if j % 2 == 0 else "result")
    return roles


def _unify(args: Sequence[Arg], fname: str, start: ValueType = T.ANY) -> ValueType:
    """The one type of several arguments (NULL fits any); a mismatch is an error."""
    found = start
    for arg in args:
        if arg.vtype is T.ANY:
            continue
        if found is T.ANY:
            found = arg.vtype
        elif arg.vtype is not found:
            fail(arg.node, f"{fname} expects {found.label}, got {arg.vtype.label}", fname)
    return found


def _check_case(call: ast.Call, args: list[Arg]) -> tuple[NodeInfo, list[ValueType]]:
    if args[0].vtype is T.MULTI:
        fail(
            args[0].node,
            "CASE expects text, number, boolean, date, datetime or time, got multi-select",
            "CASE",
        )
    roles = _case_roles(len(args))
    matches = [a for a, r in zip(args, roles, strict=True) if r in ("subject", "match")]
    results = [a for a, r in zip(args, roles, strict=True) if r == "result"]
    match_type = _unify(matches, "CASE")
    result_type = _unify(results, "CASE")
    match_type = T.TEXT if match_type is T.ANY else match_type
    used = [result_type if r == "result" else match_type for r in roles]
    scale = _max_scale(results) if result_type is T.NUMBER else None
    return NodeInfo(result_type, scale), used


def _eval_case(ev: Evaluation, call: ast.Call) -> Any:
    subject = ev.value(call.args[0])
    rest = call.args[1:]
    for i in range(0, len(rest) - 1, 2):
        if subject is not None and ev.value(rest[i]) == subject:
            return ev.value(rest[i + 1])
    return ev.value(rest[-1]) if len(rest) % 2 else None


def case_number(subject: Any, *rest: Any) -> Any:
    """SQLite CASE on numbers: compare as decimals, return the chosen raw SQL value."""
    value = numbers.to_decimal(subject)
    for i in range(0, len(rest) - 1, 2):
        if value is not None and numbers.to_decimal(rest[i]) == value:
            return rest[i + 1]
    return rest[-1] if len(rest) % 2 else None


_CASE_NUMBER = py_sql("case_number", (None,), None, case_number, variadic=True)


def _sql_case(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    if c.dialect == "sqlite" and a[0].vtype is T.NUMBER:
        return c.call_py(_CASE_NUMBER, a)
    rest = a[1:]
    whens = [(rest[i].expr, rest[i + 1].expr) for i in range(0, len(rest) - 1, 2)]
    otherwise = rest[-1].expr if len(rest) % 2 else None
    return sa.case(*whens, value=a[0].expr, else_=otherwise)


register(
    Function(
        "CASE",
        (A, A, A),
        A,
        check=_check_case,
        evaluate=_eval_case,
        pg=_sql_case,
        sqlite=_sql_case,
        min_args=3,
        max_args=None,
        doc="CASE(value, match1, result1, ..., else): the result of the first match "
        "equal to value; `else` (or NULL) when none is; a NULL value matches nothing",
    )
)


def in_list(value: Any, items: Sequence[Any]) -> bool | None:
    return None if value is None else value in items


def _check_in(call: ast.Call, args: list[Arg]) -> tuple[NodeInfo, list[ValueType]]:
    subject, items = args
    if subject.vtype is T.MULTI:
        fail(subject.node, "IN expects a single value, got multi-select: use INCLUDES", "IN")
    if not isinstance(items.node, ast.List):
        fail(items.node, "IN expects a list of values such as ['a', 'b']", "IN")
    if subject.vtype is T.ANY:
        fail(subject.node, "a comparison with None is never true: use ISBLANK(x)", "IN")
    if items.vtype is not subject.vtype:
        fail(
            items.node, f"IN expects a list of {subject.vtype.label}, got {items.vtype.label}", "IN"
        )
    return NodeInfo(T.BOOLEAN), [subject.vtype, subject.vtype]


# SQL: sql.py compiles IN as the `in` operator (one implementation of list membership).
register(
    Function(
        "IN",
        (A, A),
        T.BOOLEAN,
        in_list,
        check=_check_in,
        list_arg=1,
        doc="IN(value, [a, b, ...]): value equals one of the listed literals "
        "(as `value in (a, b)`)",
    )
)


def includes(selected: list[str] | None, value: str | None) -> bool:
    return bool(selected) and value is not None and value in selected  # type: ignore[operator]


def _pg_includes(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    contained = a[0].expr.op("@>")(sa.func.jsonb_build_array(a[1].expr))
    return sa.func.coalesce(contained, sa.false())


def _includes_sqlite(selected: str | None, value: str | None) -> bool:
    return includes(json.loads(selected) if selected is not None else None, value)


_INCLUDES = py_sql("includes", (None, T.TEXT), T.BOOLEAN, _includes_sqlite)
register(
    Function(
        "INCLUDES",
        (T.MULTI, T.TEXT),
        T.BOOLEAN,
        includes,
        _pg_includes,
        via_python(_INCLUDES),
        doc="INCLUDES(multi_select, value): value is one of "
        "the selected values; false when nothing is selected or value is NULL",
    )
)


def _picklist_attributes(arg: Arg, fname: str) -> Mapping[str, Mapping[str, Any]]:
    info = arg.info.field
    if not isinstance(arg.node, FieldRef) or info is None:
        fail(arg.node, f"{fname} expects a picklist field", fname)
    if info.value_type is not T.TEXT or (
        info.picklist_values is None and info.picklist_attributes is None
    ):
        fail(arg.node, f"{fname} expects a picklist field, got {arg.node.dotted}", fname)
    return info.picklist_attributes or {}


def _attribute_type(values: Sequence[Any]) -> ValueType:
    kinds = set()
    for v in values:
        if isinstance(v, bool):
            kinds.add(T.BOOLEAN)
        elif isinstance(v, int | float | Decimal):
            kinds.add(T.NUMBER)
        elif isinstance(v, str):
            kinds.add(T.TEXT)
        else:
            kinds.add(T.ANY)
    return kinds.pop() if len(kinds) == 1 else T.ANY


def attribute_values(attributes: Mapping[str, Mapping[str, Any]], name: str) -> dict[str, Any]:
    """picklist value -> the attribute's value (numbers as Decimal), for values that have it."""
    table = {}
    for value, attrs in attributes.items():
        if name in attrs and attrs[name] is not None:
            raw = attrs[name]
            table[value] = numbers.to_decimal(raw) if _attribute_type([raw]) is T.NUMBER else raw
    return table


def _check_picklist_attr(call: ast.Call, args: list[Arg]) -> tuple[NodeInfo, list[ValueType]]:
    attributes = _picklist_attributes(args[0], "PICKLIST_ATTR")
    name = require_literal(args[1], "PICKLIST_ATTR", "the attribute name")
    if not isinstance(name, str):
        fail(args[1].node, "PICKLIST_ATTR expects the attribute name as text", "PICKLIST_ATTR")
    table = attribute_values(attributes, name)
    if not table:
        field_name = args[0].node.dotted  # type: ignore[attr-defined]
        fail(args[1].node, f"unknown picklist attribute {name!r} of {field_name}", name)
    vtype = _attribute_type(list(table.values()))
    if vtype is T.ANY:
        fail(args[1].node, f"picklist attribute {name!r} mixes types", name)
    scale = None
    if vtype is T.NUMBER:
        scale = min(max(numbers.places(v) for v in table.values()), MAX_SCALE)
    return NodeInfo(vtype, scale), [T.TEXT, T.TEXT]


def _attribute_table(info: NodeInfo, call: ast.Call) -> dict[str, Any]:
    assert info.field is not None and info.field.picklist_attributes is not None
    return attribute_values(info.field.picklist_attributes, literal(call.args[1]))


def _eval_picklist_attr(ev: Evaluation, call: ast.Call) -> Any:
    value = ev.value(call.args[0])
    table = _attribute_table(ev.info(call.args[0]), call)
    result = table.get(value) if value is not None else None
    if isinstance(result, Decimal):
        return numbers.limit_scale(result)
    return result


def _sql_picklist_attr(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    vtype = c.info(call).vtype
    table = _attribute_table(c.info(call.args[0]), call)
    whens = [
        (
            c.bind(value, T.TEXT),
            c.bind(numbers.limit_scale(attr) if vtype is T.NUMBER else attr, vtype),
        )
        for value, attr in table.items()
    ]
    return sa.case(*whens, value=a[0].expr, else_=c.null(vtype))


register(
    Function(
        "PICKLIST_ATTR",
        (T.TEXT, T.TEXT),
        A,
        check=_check_picklist_attr,
        evaluate=_eval_picklist_attr,
        pg=_sql_picklist_attr,
        sqlite=_sql_picklist_attr,
        doc="PICKLIST_ATTR(picklist_field, 'attribute'): the attribute of the "
        "field's current value (e.g. a stage's probability); NULL when unset",
    )
)

# --- record changes (Python only) -------------------------------------------------


def _own_field(call: ast.Call, args: list[Arg], fname: str) -> Arg:
    arg = args[0]
    if not isinstance(arg.node, FieldRef) or len(arg.node.path) != 1:
        fail(arg.node, f"{fname} expects a field of the record itself", fname)
    return arg


def _check_priorvalue(call: ast.Call, args: list[Arg]) -> tuple[NodeInfo, list[ValueType]]:
    arg = _own_field(call, args, "PRIORVALUE")
    return NodeInfo(arg.vtype, arg.info.scale), [arg.vtype]


def _check_ischanged(call: ast.Call, args: list[Arg]) -> tuple[NodeInfo, list[ValueType]]:
    arg = _own_field(call, args, "ISCHANGED")
    return NodeInfo(T.BOOLEAN), [arg.vtype]


def _prior(ev: Evaluation, call: ast.Call) -> Any:
    path: FieldPath = call.args[0].path  # type: ignore[attr-defined]
    if ev.context.is_new:
        return None
    if ev.context.prior is None:
        fail(call, "PRIORVALUE needs the record's prior values", "PRIORVALUE")
    return ev.context.prior(path)


def _eval_priorvalue(ev: Evaluation, call: ast.Call) -> Any:
    # The prior value goes through the same normalisation as the current one.
    return normalise_value(_prior(ev, call), ev.info(call.args[0]), call)


def _eval_ischanged(ev: Evaluation, call: ast.Call) -> bool:
    if ev.context.is_new:
        return False
    return _eval_priorvalue(ev, call) != ev.value(call.args[0])


register(
    Function(
        "PRIORVALUE",
        (A,),
        A,
        check=_check_priorvalue,
        evaluate=_eval_priorvalue,
        python_only=True,
        doc="PRIORVALUE(field): the field's value before this change (NULL on create); Python only",
    )
)
register(
    Function(
        "ISCHANGED",
        (A,),
        T.BOOLEAN,
        check=_check_ischanged,
        evaluate=_eval_ischanged,
        python_only=True,
        doc="ISCHANGED(field): the field's value differs from its prior value "
        "(false on create, never NULL); Python only",
    )
)
register(
    Function(
        "ISNEW",
        (),
        T.BOOLEAN,
        evaluate=lambda ev, call: ev.context.is_new,
        python_only=True,
        doc="ISNEW(): the record is being created; Python only",
    )
)

# --- hierarchies and relative date ranges ---------------------------------------------
# IS_UNDER and THIS_YEAR() with its family live in modules of their own (this one is
# long); importing them registers them.
from . import dateranges, hierarchy  # noqa: E402, F401
