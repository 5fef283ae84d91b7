"""The value types of the expression language and what it knows about a field.

They live in core so the field-type registry (``crm_platform.fieldtypes``), which
``metadata`` builds on and ``expressions`` may not be imported by, can say what
each field type is in an expression (ADR 0008). ``crm_platform.expressions``
re-exports both: that is where callers import them from.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ValueType(enum.Enum):
    """The types of the language. NUMBER values are exact ``Decimal``."""

    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    MULTI = "multi"  # a multi-select picklist: a list of text values
    ANY = "any"  # the NULL literal (None), compatible with every type
    DATE_RANGE = "date_range"  # THIS_YEAR() and its family: only after `in` / `not in`

    @property
    def label(self) -> str:
        """How messages name the type."""
        return {"multi": "multi-select", "any": "null", "date_range": "date range"}.get(
            self.value, self.value
        )


@dataclass(frozen=True)
class FieldInfo:
    """What the type checker and the SQL compiler need to know about one field.

    ``scale`` is the number of decimal places of a NUMBER field (0 for integers).
    ``sql_scaled`` says the SQL column holds value × 10^scale as an integer, as
    ``ExactDecimal`` does on SQLite; it is honoured on SQLite only (PostgreSQL
    columns are NUMERIC). ``hierarchy`` marks a lookup to its own object (a parent
    account), which ``IS_UNDER`` can follow upward.
    """

    value_type: ValueType
    scale: int | None = None
    picklist_values: tuple[str, ...] | None = None
    picklist_attributes: Mapping[str, Mapping[str, Any]] | None = None
    sql_scaled: bool = False
    hierarchy: bool = False
