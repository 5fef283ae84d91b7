"""Pieces of OpenAPI 3.1 (JSON Schema) value schemas that several field types share."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from crm_platform.core import ExactDecimal, UTCDateTime

ID_SCHEMA: dict[str, Any] = {
    "type": "string",
    "format": "uuid",
    "description": "A record id: a lowercase UUIDv7 (36 characters).",
}
INT64_MAX = 2**63 - 1
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"
ANY_JSON: dict[str, Any] = {"description": "Any JSON value."}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """Add ``null`` to a schema's type (and enum)."""
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    return schema


def json_number(value: Any) -> int | float:
    """A bound from a definition as a JSON number (an int when it is whole)."""
    if isinstance(value, bool):
        raise TypeError("not a number")
    if isinstance(value, int):
        return value
    exact = Decimal(str(value))
    return int(exact) if exact == exact.to_integral_value() else float(exact)


def decimal_schema(
    precision: int | None, scale: int, minimum=None, maximum=None, *, writable: bool = True
) -> dict[str, Any]:
    """An exact decimal of ``scale`` places (``precision`` digits in all, when bounded)."""
    schema: dict[str, Any] = {
        "type": "number",
        "multipleOf": 1 if scale == 0 else float(f"1e-{scale}"),
    }
    if precision is not None:
        bound = 10 ** (precision - scale)
        schema["exclusiveMinimum"], schema["exclusiveMaximum"] = -bound, bound
    if minimum is not None:
        schema["minimum"] = json_number(minimum)
    if maximum is not None:
        schema["maximum"] = json_number(maximum)
    digits = f"at most {precision - scale} digits before the point and " if precision else ""
    schema["description"] = (
        f"An exact decimal: {digits}at most {scale} decimal places. Sent as a JSON number "
        "written from a decimal (never through floating point); read it with a decimal "
        "parser to keep it exact."
    )
    if writable:
        schema["description"] += " A numeric string is accepted as well when writing."
    return schema


def integer_schema(minimum=None, maximum=None) -> dict[str, Any]:
    """A 64-bit integer, within the field's own bounds when it has them."""
    return {
        "type": "integer",
        "minimum": json_number(minimum) if minimum is not None else -INT64_MAX,
        "maximum": json_number(maximum) if maximum is not None else INT64_MAX,
    }


def time_schema() -> dict[str, Any]:
    """A time of day without a time zone."""
    return {
        "type": "string",
        "format": "time-local",
        "pattern": TIME_PATTERN,
        "description": "A time of day without a time zone (HH:MM[:SS[.ffffff]]).",
    }


def column_value_schema(column_type: Any) -> dict[str, Any]:
    """The JSON Schema of a value read from a column of this type (roll-ups)."""
    if isinstance(column_type, ExactDecimal):
        return decimal_schema(None, column_type.scale, writable=False)
    if isinstance(column_type, UTCDateTime):
        return {"type": "string", "format": "date-time"}
    if isinstance(column_type, sa.Integer):
        return {"type": "integer"}
    if isinstance(column_type, sa.Boolean):
        return {"type": "boolean"}
    if isinstance(column_type, sa.DateTime):
        return {"type": "string", "format": "date-time"}
    if isinstance(column_type, sa.Date):
        return {"type": "string", "format": "date"}
    if isinstance(column_type, sa.Time):
        return time_schema()
    if isinstance(column_type, sa.String):
        return {"type": "string"}
    return {}
