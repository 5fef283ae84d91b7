"""Column types that keep values exact on both databases (DESIGN §0 "Values").

* :class:`ExactDecimal` stores ``NUMERIC(p, s)`` on PostgreSQL and a scaled
  integer on SQLite, so ``SUM`` stays exact there too.
* :class:`UTCDateTime` refuses naive datetimes and always returns aware UTC values.
* :data:`JSONValue` is JSON on SQLite and JSONB on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Numeric
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

MAX_PRECISION = 18  # a scaled 18-digit number still fits SQLite's signed 64-bit integer

JSONValue = JSON().with_variant(JSONB(), "postgresql")


def quantize(value: Decimal, scale: int) -> Decimal:
    """Round ``value`` to ``scale`` places, half away from zero (as ``ROUND`` does)."""
    return value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


class ExactDecimal(TypeDecorator[Decimal]):
    """A fixed-point decimal: NUMERIC on PostgreSQL, value × 10^scale as BIGINT on SQLite."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 18, scale: int = 2) -> None:
        super().__init__()
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        try:
            exact = quantize(value if isinstance(value, Decimal) else Decimal(value), self.scale)
        except (InvalidOperation, TypeError) as exc:
            raise ValueError(f"not a decimal number: {value!r}") from exc
        if dialect.name == "sqlite":
            return int(exact.scaleb(self.scale))
        return exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale)
        return quantize(Decimal(value), self.scale)


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time, stored in UTC. Naive datetimes are refused, never guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise ValueError(f"not a datetime: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused: give a time zone offset")
        utc = value.astimezone(UTC)
        # SQLite keeps text; store the naive UTC form so it sorts and compares correctly.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)
