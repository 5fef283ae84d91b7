"""Field values as they enter an expression: checked and normalised per value type."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, time
from typing import Any

from . import numbers
from .limits import MAX_SCALE
from .nodes import NodeInfo, fail
from .types import ValueType


def normalise_value(value: Any, info: NodeInfo, node: ast.AST) -> Any:
    """The value in the language's representation, or ExpressionError when it cannot be.

    Numbers become Decimal rounded to the field's scale (as the column stores them),
    datetimes aware UTC, multi-selects lists; a naive datetime is refused.
    """
    if value is None:
        return None
    vtype = info.vtype
    name = getattr(node, "dotted", None)
    try:
        if vtype is ValueType.NUMBER:
            number = numbers.to_decimal(value)
            assert number is not None
            scale = info.scale if info.scale is not None else MAX_SCALE
            return numbers.limit_scale(number, scale)
        if vtype is ValueType.TEXT and isinstance(value, str):
            return value
        if vtype is ValueType.BOOLEAN and isinstance(value, bool):
            return value
        if vtype is ValueType.DATETIME and isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                fail(node, f"naive datetime given for {name}", name)
            return value.astimezone(UTC)
        if vtype is ValueType.DATE and isinstance(value, date) and not isinstance(value, datetime):
            return value
        if vtype is ValueType.TIME and isinstance(value, time):
            return value
        multi = vtype is ValueType.MULTI and isinstance(value, list | tuple)
        if multi and all(isinstance(v, str) for v in value):
            return list(value)
    except (TypeError, ValueError, ArithmeticError):
        pass
    fail(node, f"value of {name} is not {vtype.label}: {value!r:.60}", name)
