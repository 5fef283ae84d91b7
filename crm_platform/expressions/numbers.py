"""Exact decimal arithmetic, shared by Python evaluation and the SQLite functions.

Every operation is exact except where the language says it rounds: ``/``, ``*``
and ``**`` keep at most ``MAX_SCALE`` decimal places, rounding half away from
zero. Division is done on integers, so its rounding is exact too (no double
rounding through a limited precision). PostgreSQL computes the same results with
NUMERIC (see ``sql.py``).
"""

from __future__ import annotations

import re
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Any

from .errors import LimitExceeded
from .limits import MAX_MAGNITUDE, MAX_SCALE

# Precision is unbounded for practical purposes: + - * of finite decimals are exact.
EXACT = Context(
    prec=MAX_PREC,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    rounding=ROUND_HALF_UP,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

# What VALUE() accepts: plain decimal notation, ASCII digits, optional sign, spaces around.
NUMBER_TEXT = r"^[ \t\n\r]*([+-]?([0-9]+([.][0-9]*)?|[.][0-9]+))[ \t\n\r]*$"
_NUMBER_TEXT = re.compile(NUMBER_TEXT)


class NumberOutOfRange(LimitExceeded):
    """A result reached ``MAX_MAGNITUDE``; the evaluator reports it with a position."""


def to_decimal(value: Any) -> Decimal | None:
    """A language number from a Python or SQLite value (int, Decimal, float, text)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))  # the shortest text that reads back as this float
    elif isinstance(value, str):
        result = Decimal(value)
    else:
        raise TypeError(f"not a number: {value!r}")
    if not result.is_finite():
        raise TypeError(f"not a finite number: {value!r}")
    return result


def places(value: Decimal) -> int:
    """Decimal places the value is written with (0 for whole numbers written so)."""
    exponent = value.as_tuple().exponent
    return max(0, -int(exponent))


def checked(value: Decimal) -> Decimal:
    """The value itself, or NumberOutOfRange when it is too large."""
    if abs(value) >= MAX_MAGNITUDE:
        raise NumberOutOfRange("number out of range")
    return value


def round_half_away(value: Decimal, scale: int) -> Decimal:
    """Round to ``scale`` places (negative: tens, hundreds, ...), half away from zero."""
    return value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP, context=EXACT)


def limit_scale(value: Decimal, scale: int = MAX_SCALE) -> Decimal:
    """Round only when the value has more than ``scale`` places."""
    return round_half_away(value, scale) if places(value) > scale else value


def add(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    if a is None or b is None:
        return None
    return checked(EXACT.add(a, b))


def subtract(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    if a is None or b is None:
        return None
    return checked(EXACT.subtract(a, b))


def multiply(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    if a is None or b is None:
        return None
    return checked(limit_scale(EXACT.multiply(a, b)))


def _integer_ratio(value: Decimal) -> tuple[int, int]:
    """value == mantissa * 10**exponent, both integers."""
    sign, digits, exponent = value.as_tuple()
    mantissa = int("".join(map(str, digits)) or "0")
    return (-mantissa if sign else mantissa), int(exponent)


def divide(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    """a / b rounded half away from zero to MAX_SCALE places; NULL when b is 0."""
    if a is None or b is None or b == 0:
        return None
    ma, ea = _integer_ratio(a)
    mb, eb = _integer_ratio(b)
    shift = ea - eb + MAX_SCALE  # a/b * 10**MAX_SCALE == ma * 10**shift / mb
    numerator, denominator = (ma * 10**shift, mb) if shift >= 0 else (ma, mb * 10**-shift)
    negative = (numerator < 0) != (denominator < 0)
    quotient, remainder = divmod(abs(numerator), abs(denominator))
    if 2 * remainder >= abs(denominator):
        quotient += 1
    return checked(Decimal(-quotient if negative else quotient).scaleb(-MAX_SCALE, context=EXACT))


def modulo(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    """The remainder with the sign of ``a`` (as SQL's MOD); NULL when b is 0."""
    if a is None or b is None or b == 0:
        return None
    return EXACT.remainder(a, b)


def power(a: Decimal | None, exponent: int) -> Decimal | None:
    """a ** exponent for a whole exponent 0..MAX_POWER, exact then limited to MAX_SCALE places."""
    if a is None:
        return None
    if a != 0 and abs(a) >= 1 and a.adjusted() * exponent >= 40:
        raise NumberOutOfRange("number out of range")  # refuse before computing a huge value
    result = Decimal(1)
    for _ in range(exponent):
        result = EXACT.multiply(result, a)
    return checked(limit_scale(result))


def negate(a: Decimal | None) -> Decimal | None:
    return None if a is None else EXACT.minus(a)


def identity(a: Decimal | None) -> Decimal | None:
    return a


def floor(a: Decimal | None) -> Decimal | None:
    return None if a is None else a.to_integral_value(rounding=ROUND_FLOOR, context=EXACT)


def ceiling(a: Decimal | None) -> Decimal | None:
    return None if a is None else a.to_integral_value(rounding=ROUND_CEILING, context=EXACT)


def to_text(value: Decimal) -> str:
    """Plain notation without trailing zeros: 2.50 -> '2.5', 1E+2 -> '100', -0 -> '0'."""
    if value == 0:
        return "0"
    return format(value.normalize(EXACT), "f")


def parse_text(text: str) -> Decimal | None:
    """VALUE(): a number written in plain decimal notation, else NULL."""
    match = _NUMBER_TEXT.match(text)
    if match is None:
        return None
    return checked(limit_scale(Decimal(match.group(1))))


def whole(value: Decimal, low: int, high: int) -> int:
    """Truncate toward zero to an int, clamped to [low, high] (keeps SQL casts in range)."""
    return max(low, min(high, int(value.to_integral_value(rounding=ROUND_DOWN))))


def compare(a: Decimal | None, b: Decimal | None) -> int | None:
    """-1, 0 or 1; NULL when either side is NULL."""
    if a is None or b is None:
        return None
    return (a > b) - (a < b)
