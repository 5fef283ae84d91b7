"""Turning stored values into export text (CSV) and spreadsheet cells (XLSX)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

Cell = str | int | Decimal | bool | date | datetime | time | None


def plain_text(value: Any) -> str:
    """A value as CSV text: ISO 8601 for moments, exact digits for decimals, "" for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(plain_text(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def plain_cell(value: Any) -> Cell:
    """A value as a spreadsheet cell; spreadsheets know no offsets, so moments become UTC."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, list | dict):
        return plain_text(value)
    return value


def joined(parts: Any, separator: str) -> str:
    """The non-empty parts of a compound value, joined ("" for null)."""
    if not parts:
        return ""
    return separator.join(plain_text(v) for v in parts.values() if v not in (None, ""))
