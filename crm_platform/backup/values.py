"""Rows as JSON Lines, exactly: each row is a JSON array in the manifest's column order.

Decimals are JSON numbers written and read as ``Decimal`` (never a float); a JSON
column's value is written as it is; any other value JSON has no type for is tagged:
``{"$dt": ISO 8601 with its offset}``, ``{"$date": ...}``, ``{"$time": ...}``,
``{"$b64": ...}``. The tags are read back by the same rule, so what a restore inserts
is what the backup read — on either engine, whose column types turn it into their own
storage (a scaled integer or a NUMERIC, text or a timestamp).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

import simplejson
import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

TAGS = ("$dt", "$date", "$time", "$b64")


def is_json_column(column: sa.Column[Any]) -> bool:
    """Whether the column holds JSON (its values are written untagged)."""
    kind: Any = column.type
    while isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, sa.JSON)


def encode_value(value: Any) -> Any:
    """A non-JSON column's value as JSON (tagged when JSON has no type for it)."""
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if isinstance(value, bytes | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def decode_value(value: Any) -> Any:
    """The value :func:`encode_value` wrote."""
    if not isinstance(value, dict) or len(value) != 1:
        return value
    ((tag, text),) = value.items()
    if tag == "$dt":
        return datetime.fromisoformat(text)
    if tag == "$date":
        return date.fromisoformat(text)
    if tag == "$time":
        return time.fromisoformat(text)
    if tag == "$b64":
        return base64.b64decode(text)
    return value


class RowCodec:
    """Encodes and decodes the rows of one table's columns."""

    def __init__(self, columns: Sequence[sa.Column[Any]]) -> None:
        self.names = [c.name for c in columns]
        self.json = [is_json_column(c) for c in columns]

    def dumps(self, row: Sequence[Any]) -> str:
        values = [
            v if is_json else encode_value(v) for v, is_json in zip(row, self.json, strict=True)
        ]
        return simplejson.dumps(values, use_decimal=True, ensure_ascii=False) + "\n"

    def loads(self, line: str | bytes) -> dict[str, Any]:
        values = simplejson.loads(line, use_decimal=True)
        if len(values) != len(self.names):
            raise ValueError(f"a row of {len(values)} values for {len(self.names)} columns")
        return {
            name: v if is_json else decode_value(v)
            for name, v, is_json in zip(self.names, values, self.json, strict=True)
        }
