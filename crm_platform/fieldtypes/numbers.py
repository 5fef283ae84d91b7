"""Number and boolean types: integers, exact decimals, durations, true/false."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import fields

from crm_platform.core import FieldInfo, ValueType

from . import apischema
from .base import Definition, FieldType
from .inputs import ExactDecimal, StrictBoolean, StrictInteger

NUMERIC_ROLLUPS = frozenset({"sum", "min", "max"})


@dataclass(frozen=True)
class IntegerType(FieldType):
    """A whole number (64 bits); ``minimum`` is the lower bound when the field sets none."""

    storage: str | None = "integer"
    widget: str = "number"
    value_type: ValueType | None = ValueType.NUMBER
    rollup_functions: frozenset[str] = NUMERIC_ROLLUPS
    minimum: int | None = None
    description: str | None = None

    def input_field(self, definition: Definition) -> fields.Field:
        return StrictInteger(definition.get("min", self.minimum), definition.get("max"))

    def literal_problem(self, definition: Definition, value: Any) -> str | None:
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return None
        return "must be an integer"

    def expression_info(self, definition, *, sqlite, storage=None):
        return FieldInfo(ValueType.NUMBER, scale=0)

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        schema = apischema.integer_schema(
            definition.get("min", self.minimum), definition.get("max")
        )
        if self.description:
            schema["description"] = self.description
        return schema

    def result_schema(self, definition: Definition) -> dict[str, Any]:
        """The schema of a formula returning this type."""
        return {"type": "integer"}


@dataclass(frozen=True)
class DecimalType(FieldType):
    """An exact decimal of ``precision`` digits, ``scale`` of them after the point."""

    storage: str | None = "decimal"
    widget: str = "number"
    value_type: ValueType | None = ValueType.NUMBER
    rollup_functions: frozenset[str] = NUMERIC_ROLLUPS

    def storage_spec(self, definition: Definition) -> dict[str, Any]:
        return {
            "storage": "decimal",
            "precision": definition["precision"],
            "scale": definition["scale"],
        }

    def storage_changed(self, before: Definition, after: Definition) -> bool:
        return (before["precision"], before["scale"]) != (after["precision"], after["scale"])

    def input_field(self, definition: Definition) -> fields.Field:
        return ExactDecimal(
            definition["precision"],
            definition["scale"],
            definition.get("min"),
            definition.get("max"),
        )

    def literal_problem(self, definition: Definition, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool):
            return "must be a number"
        try:
            Decimal(str(value))
        except InvalidOperation:
            return "must be a number"
        return None

    def expression_info(self, definition, *, sqlite, storage=None):
        return FieldInfo(ValueType.NUMBER, scale=definition["scale"], sql_scaled=sqlite)

    def shown_value(self, definition: Definition, value: Any) -> Any:
        if value is None or isinstance(value, bool):
            return value
        try:
            return Decimal(str(value)).quantize(Decimal(1).scaleb(-definition["scale"]))
        except InvalidOperation:  # not a number after all: show what was kept
            return value

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        return apischema.decimal_schema(
            definition["precision"],
            definition["scale"],
            definition.get("min"),
            definition.get("max"),
        )

    def result_schema(self, definition: Definition) -> dict[str, Any]:
        """The schema of a formula returning this type."""
        return apischema.decimal_schema(None, definition.get("scale", 2), writable=False)


@dataclass(frozen=True)
class BooleanType(FieldType):
    """True or false."""

    storage: str | None = "boolean"
    widget: str = "checkbox"
    value_type: ValueType | None = ValueType.BOOLEAN
    can_be_required: bool = False

    def input_field(self, definition: Definition) -> fields.Field:
        return StrictBoolean(allow_none=True)

    def literal_problem(self, definition: Definition, value: Any) -> str | None:
        return None if value is None or isinstance(value, bool) else "must be true or false"

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        return {"type": "boolean"}
