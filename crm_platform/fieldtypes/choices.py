"""Picklists: one value, or several, out of a defined list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import fields, validate

from crm_platform.core import FieldInfo, ValueType

from .base import Definition, FieldType
from .inputs import MultiPicklist, Text, picklist_values
from .text import DEFAULT_MAX_LENGTH

PICKLIST_OPTIONS = {
    "required": ["values"],
    "properties": {
        "values": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1000,
            "items": {"$ref": "#/$defs/picklist_value"},
        },
        "controlling_field": {"type": "string"},
        "restricted": {"type": "boolean"},
    },
}


@dataclass(frozen=True)
class PicklistType(FieldType):
    """One of the picklist's values, stored as text."""

    widget: str = "select"
    value_type: ValueType | None = ValueType.TEXT
    searched: bool = True

    def input_field(self, definition: Definition) -> fields.Field:
        return Text(allow_none=True, validate=validate.OneOf(picklist_values(definition)))

    def literal_problem(self, definition: Definition, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            return "must be text"
        limit = definition.get("max_length", DEFAULT_MAX_LENGTH)
        if len(value) > limit:
            return f"longer than {limit} characters"
        if value not in picklist_values(definition):
            return f"{value!r} is not one of the picklist values"
        return None

    def expression_info(self, definition, *, sqlite, storage=None):
        values = definition["values"]
        attributes = {v["value"]: v.get("attributes", {}) for v in values if not isinstance(v, str)}
        return FieldInfo(
            ValueType.TEXT,
            picklist_values=tuple(picklist_values(definition)),
            picklist_attributes=attributes,
        )

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        return {"type": "string", "enum": picklist_values(definition)}


@dataclass(frozen=True)
class MultiPicklistType(FieldType):
    """Distinct picklist values, kept in the picklist's order (a JSON list)."""

    storage: str | None = "json"
    widget: str = "multiselect"
    value_type: ValueType | None = ValueType.MULTI

    def input_field(self, definition: Definition) -> fields.Field:
        return MultiPicklist(picklist_values(definition))

    def literal_problem(self, definition: Definition, value: Any) -> str | None:
        allowed = set(picklist_values(definition))
        if value is None or (isinstance(value, list) and all(v in allowed for v in value)):
            return None
        return "must be a list of picklist values"

    def expression_info(self, definition, *, sqlite, storage=None):
        return FieldInfo(ValueType.MULTI, picklist_values=tuple(picklist_values(definition)))

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        return {
            "type": "array",
            "items": {"type": "string", "enum": picklist_values(definition)},
            "uniqueItems": True,
            "description": "Distinct values, kept in the picklist's order.",
        }
