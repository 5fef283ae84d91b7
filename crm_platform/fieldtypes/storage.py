"""Column types from storage specs: what a field's columns are made of in SQL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from crm_platform.core import ID_LENGTH, ExactDecimal, JSONValue, UTCDateTime

SIMPLE = ""  # the sub-column key of a field stored in one column


def storage_type(spec: Mapping[str, Any]) -> sa.types.TypeEngine[Any]:
    """A column type from a storage spec ({storage, precision, scale})."""
    storage = spec["storage"]
    if storage == "text":
        return sa.Text()
    if storage == "integer":
        return sa.BigInteger()
    if storage == "decimal":
        return ExactDecimal(spec.get("precision", 18), spec.get("scale", 2))
    if storage == "boolean":
        return sa.Boolean()
    if storage == "date":
        return sa.Date()
    if storage == "datetime":
        return UTCDateTime()
    if storage == "time":
        return sa.Time()
    if storage == "json":
        return JSONValue
    if storage == "id":
        return sa.String(ID_LENGTH)
    if storage == "object_name":
        return sa.String(64)
    raise ValueError(f"unknown storage {storage!r}")
