"""The Python functions SQLite needs, and how values cross between SQLite and Python.

SQLite has no decimal type, ASCII-only UPPER/LOWER and no month arithmetic, so
compiled expressions call the library's own Python implementations, registered
on every connection (``Database(url, sqlite_functions=sqlite_functions())``).

Representation of values inside compiled SQLite SQL:

* NUMBER: a decimal written as text (``'12.5'``) or any SQLite number; a field
  stored by ExactDecimal is a scaled integer and is read through
  ``crm_unscale(column, scale)``. The final result of a compiled NUMBER
  expression is a scaled integer again (``crm_num_out``), so it sorts, compares
  and SUMs exactly.
* BOOLEAN: 0/1; DATE: 'YYYY-MM-DD'; DATETIME: naive UTC
  'YYYY-MM-DD HH:MM:SS.ffffff'; TIME: 'HH:MM:SS.ffffff' (SQLAlchemy's formats,
  so values compare with stored columns as text); MULTI: JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from crm_platform.core import SqliteFunction

from . import numbers
from .errors import ExpressionError, LimitExceeded
from .functions import SQLITE_REGISTRY, PySql, in_list, py_sql
from .types import ValueType

T = ValueType


def decode(vtype: ValueType | None, raw: Any) -> Any:
    """A SQLite value as the Python value the library works on."""
    if raw is None or vtype is None or vtype is T.ANY:
        return raw
    if vtype is T.NUMBER:
        return numbers.to_decimal(raw)
    if vtype is T.BOOLEAN:
        return bool(raw)
    if vtype is T.DATE:
        return date.fromisoformat(str(raw)[:10])
    if vtype is T.DATETIME:
        parsed = datetime.fromisoformat(str(raw))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if vtype is T.TIME:
        return time.fromisoformat(str(raw))
    if vtype is T.MULTI:
        return json.loads(raw) if isinstance(raw, str) else raw
    return raw


def encode(vtype: ValueType | None, value: Any) -> Any:
    """A Python value in the SQLite representation above."""
    if value is None or vtype is None or vtype is T.ANY:
        return value
    if vtype is T.NUMBER:
        return str(value)
    if vtype is T.BOOLEAN:
        return 1 if value else 0
    if vtype is T.DATETIME:
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return naive.isoformat(sep=" ", timespec="microseconds")
    if vtype is T.TIME:
        return value.isoformat(timespec="microseconds")
    if vtype is T.DATE:
        return value.isoformat()
    if vtype is T.MULTI:
        return json.dumps(value, ensure_ascii=False)
    return value


def wrap(sig: PySql) -> Callable[..., Any]:
    """The function SQLite calls: decode the arguments, run the implementation, encode."""
    params = sig.params

    def call(*raw: Any) -> Any:
        args = [
            decode(params[min(i, len(params) - 1)] if sig.variadic else params[i], value)
            for i, value in enumerate(raw)
        ]
        try:
            return encode(sig.result, sig.impl(*args))
        except LimitExceeded as exc:
            # The query fails with this 400 (core.database raises it in place of
            # sqlite3's "user-defined function raised exception"), as Python
            # evaluation refuses the same value.
            raise ExpressionError(
                f"a number computed by the database is out of range: {exc}", field="(query)"
            ) from exc

    call.__name__ = sig.name
    return call


# -- number plumbing used by the compiler (sql.py) --------------------------------------


def _unscale(value: int | None, scale: int) -> str | None:
    return None if value is None else str(Decimal(int(value)).scaleb(-scale))


def _scaled_out(value: Any, scale: int) -> int | None:
    number = numbers.to_decimal(value)
    if number is None:
        return None
    scaled = int(numbers.round_half_away(number, scale).scaleb(scale, context=numbers.EXACT))
    if not -(2**63) <= scaled < 2**63:
        # Not OverflowError: sqlite3 would report that as "string or blob too big".
        raise LimitExceeded(
            f"{numbers.to_text(number)} does not fit a 64-bit integer at {scale} decimal places"
            " (round it to fewer with ROUND)"
        )
    return scaled


def _power(a: Decimal | None, n: Decimal | None) -> Decimal | None:
    return None if n is None else numbers.power(a, int(n))


N = (T.NUMBER, T.NUMBER)
UNSCALE = py_sql("unscale", (None, None), None, _unscale)
NUM_OUT = py_sql("num_out", (T.NUMBER, None), None, _scaled_out)
NUM_CMP = py_sql("num_cmp", N, None, numbers.compare)
NUM_IN = py_sql(
    "num_in", (T.NUMBER,), T.BOOLEAN, lambda x, *items: in_list(x, items), variadic=True
)


def _fold(operation: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    """a op b op c, left to right: the variadic form of a chain (see sql.py)."""

    def folded(first: Any, *rest: Any) -> Any:
        result = first
        for value in rest:
            result = operation(result, value)
        return result

    return folded


NUM_OPERATORS = {
    "+": py_sql("num_add", (T.NUMBER,), T.NUMBER, _fold(numbers.add), variadic=True),
    "-": py_sql("num_sub", (T.NUMBER,), T.NUMBER, _fold(numbers.subtract), variadic=True),
    "*": py_sql("num_mul", (T.NUMBER,), T.NUMBER, _fold(numbers.multiply), variadic=True),
    "/": py_sql("num_div", N, T.NUMBER, numbers.divide),
    "%": py_sql("num_mod", N, T.NUMBER, numbers.modulo),
    "**": py_sql("num_pow", N, T.NUMBER, _power),
    "neg": py_sql("num_neg", (T.NUMBER,), T.NUMBER, numbers.negate),
}


def sqlite_functions() -> list[SqliteFunction]:
    """Every Python function compiled SQLite expressions call; register them on connect."""
    return [
        SqliteFunction(sig.name, -1 if sig.variadic else len(sig.params), wrap(sig))
        for sig in SQLITE_REGISTRY.values()
    ]
