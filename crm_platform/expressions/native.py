"""Exact decimal arithmetic in SQLite's own integers, where it is exact.

On SQLite a stored decimal is a scaled integer (value × 10^scale). The general form
of a compiled number calls the library's exact Python functions once per row
(sqlite.py), which a report summing a product over a million rows pays a million
times. The same arithmetic on the scaled integers is exact as long as no 64-bit
integer overflows: multiply the integers (the scales add), align scales before adding,
and round half away from zero where the library rounds (``/`` and ``*`` keep at most
``MAX_SCALE`` places, ROUND, a formula's declared scale) by one integer division.

SQLite turns an integer operation that overflows into a REAL (it never wraps), and no
operation used here turns a REAL back into an INTEGER, so the result of the whole
native expression is an INTEGER (or NULL) exactly when every step was exact.
:func:`guarded` uses that: ``CASE WHEN typeof(n) IN ('integer', 'null') THEN n ELSE
<the exact Python path> END``, so an overflow costs the exact path for that row only.
A division by zero is NULL on both paths, as in the library.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from .limits import MAX_SCALE

MAX_POWER_OF_TEN = 18  # 10^18 < 2^63: the largest power of ten SQLite holds as an integer
_DIVISION_PRECEDENCE = 8  # SQLAlchemy's for * and /: operands that bind looser are grouped
MAX_NATIVE_COST = 64  # size bound: the rounding step repeats its operand


@dataclass(frozen=True)
class Native:
    """A number as a SQLite integer ``expr`` = value × 10^``scale``.

    ``safe``: the expression is always an INTEGER or NULL (a stored column, a literal,
    a cast), so it needs no overflow guard; computed arithmetic is not safe.
    """

    expr: ColumnElement[Any]
    scale: int
    safe: bool = True
    cost: int = 1


def integer(value: int) -> ColumnElement[Any]:
    """An integer literal rendered inline (a constant of the statement, not a bind)."""
    return sa.literal_column(str(int(value)), sa.BigInteger())


def _div(n: ColumnElement[Any], d: ColumnElement[Any]) -> ColumnElement[Any]:
    """SQLite's own ``/``: on integers, truncating toward zero (SQLAlchemy's ``/`` would
    make it a true division, and ``//`` a floor)."""
    return n.op("/", precedence=_DIVISION_PRECEDENCE, return_type=sa.BigInteger())(d)


def _computed(expr: ColumnElement[Any], scale: int, cost: int) -> Native | None:
    return None if cost > MAX_NATIVE_COST else Native(expr, scale, False, cost)


def upscale(n: Native, scale: int) -> Native | None:
    """``n`` at a higher ``scale`` (× 10^k: exact unless it overflows)."""
    k = scale - n.scale
    if k == 0:
        return n
    if not 0 < k <= MAX_POWER_OF_TEN:
        return None
    return _computed(n.expr * integer(10**k), scale, n.cost + 1)


def _half_away_quotient(
    n: ColumnElement[Any], d: ColumnElement[Any], d_literal: int | None
) -> ColumnElement[Any]:
    """trunc(n / d) rounded half away from zero, in integers: (2n + sign(n)·|d|) / 2d.

    SQLite's integer division truncates toward zero; ``|2n + sign(n)·|d||`` is
    ``2|n| + |d|`` with the sign of n, so the quotient is ⌊|n/d| + ½⌋ with the sign of
    n/d. (For n = 0 it is |d| / 2d = 0.)
    """
    if d_literal is not None:
        magnitude = integer(abs(d_literal))
        bump = sa.case((n < 0, -magnitude), else_=magnitude)
        return _div(integer(2) * n + bump, integer(2 * d_literal))
    # sign(d)·d is |d| without abs(), which raises on -2^63 instead of going REAL.
    sign_d = sa.case((d < 0, integer(-1)), else_=integer(1))
    bump = sa.case((n < 0, -(sign_d * d)), else_=sign_d * d)
    return _div(integer(2) * n + bump, integer(2) * d)


def round_to(n: Native, scale: int) -> Native | None:
    """``n`` rounded half away from zero to ``scale`` places (negative: tens, hundreds)."""
    if scale >= n.scale:
        return n
    k = n.scale - scale
    if k > MAX_POWER_OF_TEN - 1:  # 2 × 10^k must fit too
        return None
    quotient = _half_away_quotient(n.expr, integer(10**k), 10**k)
    if scale >= 0:
        return _computed(quotient, scale, n.cost * 2 + 1)
    if -scale > MAX_POWER_OF_TEN:
        return None
    return _computed(quotient * integer(10**-scale), 0, n.cost * 2 + 2)


def add(a: Native, b: Native, subtract: bool = False) -> Native | None:
    """a ± b at the larger scale (as the library: exact)."""
    scale = max(a.scale, b.scale)
    left, right = upscale(a, scale), upscale(b, scale)
    if left is None or right is None:
        return None
    expr = left.expr - right.expr if subtract else left.expr + right.expr
    return _computed(expr, scale, left.cost + right.cost + 1)


def multiply(a: Native, b: Native) -> Native | None:
    """a × b: the scales add; more than MAX_SCALE places round (as ``numbers.multiply``)."""
    product = _computed(a.expr * b.expr, a.scale + b.scale, a.cost + b.cost + 1)
    if product is None or product.scale <= MAX_SCALE:
        return product
    return round_to(product, MAX_SCALE)


def divide(a: Native, b: Native, b_literal: Any) -> Native | None:
    """a / b rounded half away from zero to MAX_SCALE places (as ``numbers.divide``).

    a/b × 10^MAX_SCALE = (A × 10^shift) / B with shift = MAX_SCALE - sa + sb. A literal
    divisor that divides 10^shift (100, 4, 0.5) needs no rounding: one multiplication.
    """
    shift = MAX_SCALE - a.scale + b.scale
    if not -MAX_POWER_OF_TEN <= shift <= MAX_POWER_OF_TEN:
        return None
    divisor = None
    if isinstance(b_literal, Decimal) and b_literal != 0:
        divisor = int(b_literal.scaleb(b.scale))  # B, the literal's scaled integer
    if divisor is not None and (exact := _exact_quotient(a, b.scale, divisor)) is not None:
        return exact
    if shift >= 0:
        numerator, denominator = a.expr * integer(10**shift), b.expr
        if divisor is not None:
            denominator = integer(divisor)
    else:
        numerator, denominator = a.expr, b.expr * integer(10**-shift)
        if divisor is not None:
            divisor *= 10**-shift
            denominator = integer(divisor) if abs(divisor) < 2**62 else denominator
            divisor = divisor if abs(divisor) < 2**62 else None
    quotient = _half_away_quotient(numerator, denominator, divisor)
    return _computed(quotient, MAX_SCALE, a.cost * 2 + b.cost * 3 + 2)


def _exact_quotient(a: Native, b_scale: int, divisor: int) -> Native | None:
    """a / B×10^-sb without rounding, when the quotient has at most MAX_SCALE places.

    When B divides 10^m, a / b = A × (10^m / B) at scale sa - sb + m: dividing by 100
    only moves the decimal point (the same integer, two more places), by 4 multiplies
    by 25. More than MAX_SCALE places would be rounded by the library: not here.
    """
    for m in range(MAX_POWER_OF_TEN + 1):
        if 10**m % divisor == 0:
            break
    else:
        return None
    factor, scale = 10**m // divisor, a.scale - b_scale + m
    if scale > MAX_SCALE:
        return None
    expr, cost = a.expr, a.cost
    if factor != 1:
        expr, cost = expr * integer(factor), cost + 1
    if scale < 0:
        expr, cost, scale = expr * integer(10**-scale), cost + 1, 0
    if expr is a.expr:  # only the decimal point moved
        return Native(a.expr, scale, a.safe, a.cost)
    return _computed(expr, scale, cost)


def negate(a: Native) -> Native | None:
    """-a (SQLite computes 0 - a: -2^63 goes REAL, so it is not safe)."""
    return _computed(-a.expr, a.scale, a.cost + 1)


def coalesce(values: list[Native]) -> Native | None:
    """The first non-NULL value, all at the largest scale (BLANKVALUE, NULLVALUE)."""
    scale = max(v.scale for v in values)
    aligned = [upscale(v, scale) for v in values]
    if any(v is None for v in aligned):
        return None
    parts = [v for v in aligned if v is not None]
    expr = sa.func.coalesce(*(v.expr for v in parts))
    cost = sum(v.cost for v in parts) + 1
    if all(v.safe for v in parts):
        return Native(expr, scale, True, cost)
    return _computed(expr, scale, cost)


def guarded(n: Native, fallback: ColumnElement[Any]) -> ColumnElement[Any]:
    """``n`` where every step was exact, else ``fallback`` (the exact Python path)."""
    if n.safe:
        return n.expr
    kinds = [sa.literal_column("'integer'"), sa.literal_column("'null'")]
    exact = sa.func.typeof(n.expr).in_(kinds)
    return sa.case((exact, n.expr), else_=fallback)
