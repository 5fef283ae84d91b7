"""Dates, points in time and times of day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from marshmallow import fields

from crm_platform.core import ValueType

from . import apischema
from .base import Definition, FieldType
from .inputs import AwareDateTime, LocalDate, LocalTime

ORDERED_ROLLUPS = frozenset({"min", "max"})


@dataclass(frozen=True)
class TemporalType(FieldType):
    """A date, datetime or time: ISO 8601 text in JSON.

    Each subclass has ``parse_literal(value)``, raising TypeError or ValueError for
    what is not an ISO 8601 literal of its type.
    """

    rollup_functions: frozenset[str] = ORDERED_ROLLUPS

    def literal_problem(self, definition: Definition, value: Any) -> str | None:
        if value is None:
            return None
        try:
            self.parse_literal(value)  # type: ignore[attr-defined]
        except (TypeError, ValueError):
            return f"must be an ISO 8601 {self.name}"
        return None


@dataclass(frozen=True)
class DateType(TemporalType):
    """A calendar date."""

    storage: str | None = "date"
    widget: str = "date"
    value_type: ValueType | None = ValueType.DATE

    def parse_literal(self, value: Any) -> date:
        return date.fromisoformat(value)

    def input_field(self, definition: Definition) -> fields.Field:
        return LocalDate(allow_none=True)

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        return {"type": "string", "format": "date"}


@dataclass(frozen=True)
class DateTimeType(TemporalType):
    """A point in time with its offset, stored in UTC."""

    storage: str | None = "datetime"
    widget: str = "datetime"
    value_type: ValueType | None = ValueType.DATETIME

    def parse_literal(self, value: Any) -> datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed

    def literal_problem(self, definition: Definition, value: Any) -> str | None:
        problem = super().literal_problem(definition, value)
        return f"{problem} with a UTC offset" if problem else None

    def input_field(self, definition: Definition) -> fields.Field:
        return AwareDateTime(allow_none=True, format="iso")

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        return {
            "type": "string",
            "format": "date-time",
            "description": "A point in time, ISO 8601 with an offset (sent back in UTC).",
        }


@dataclass(frozen=True)
class TimeType(TemporalType):
    """A time of day, without a date or a time zone."""

    storage: str | None = "time"
    widget: str = "time"
    value_type: ValueType | None = ValueType.TIME
    rollup_functions: frozenset[str] = frozenset()

    def parse_literal(self, value: Any) -> time:
        return time.fromisoformat(value)

    def input_field(self, definition: Definition) -> fields.Field:
        return LocalTime(allow_none=True)

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        return apischema.time_schema()
