"""Picklists: one value, or several, out of a defined list.

A definition's ``values`` are plain strings or maps ``{value, label, active, default,
color, attributes}``. An inactive value (``active: false``) stays readable and
filterable on the records that hold it, and is refused when written anew.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import fields

from crm_platform.core import FieldInfo, ValueType

from .base import Definition, FieldType
from .inputs import MultiPicklist, OneOfValues, Text, picklist_values
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


def value_entry(value: str | Mapping[str, Any]) -> Mapping[str, Any]:
    """One picklist value as a map (a plain string is ``{value: <it>}``)."""
    return {"value": value} if isinstance(value, str) else value


def active_values(definition: Definition) -> list[str]:
    """The values that may be written anew, in order."""
    return [
        entry["value"]
        for entry in map(value_entry, definition["values"])
        if entry.get("active", True)
    ]


def marked_defaults(definition: Definition) -> list[str]:
    """The values marked ``default: true`` (at most one in a valid definition)."""
    return [e["value"] for e in map(value_entry, definition["values"]) if e.get("default")]


def _inactive_problem(definition: Definition, written: list[str]) -> str | None:
    active = set(active_values(definition))
    refused = [v for v in written if v not in active]
    if not refused:
        return None
    names = ", ".join(repr(v) for v in refused)
    return f"{names} {'is' if len(refused) == 1 else 'are'} no longer an active value"


@dataclass(frozen=True)
class PicklistType(FieldType):
    """One of the picklist's values, stored as text."""

    widget: str = "select"
    value_type: ValueType | None = ValueType.TEXT
    searched: bool = True

    def input_field(self, definition: Definition) -> fields.Field:
        # Every defined value loads (a retired one is then refused by ``write_problem``,
        # which says why); an unknown one is told the values it may write.
        valid = OneOfValues(picklist_values(definition), active_values(definition))
        return Text(allow_none=True, validate=valid)

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
        if value not in active_values(definition):
            return f"{value!r} is not an active picklist value"
        return None

    def implied_default(self, definition: Definition) -> Any:
        marked = marked_defaults(definition)
        return marked[0] if marked else None

    def write_problem(self, definition: Definition, value: Any, before: Any) -> str | None:
        if value is None or value == before:
            return None
        return _inactive_problem(definition, [value])

    def write_check(self, definition: Definition) -> Callable[[Any, Any], str | None]:
        active = frozenset(active_values(definition))

        def check(value: Any, before: Any) -> str | None:
            if value is None or value == before or value in active:
                return None
            return _inactive_problem(definition, [value])

        return check

    def expression_info(self, definition, *, sqlite, storage=None):
        values = definition["values"]
        attributes = {v["value"]: v.get("attributes", {}) for v in values if not isinstance(v, str)}
        return FieldInfo(
            ValueType.TEXT,
            picklist_values=tuple(picklist_values(definition)),
            picklist_attributes=attributes,
        )

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        # Records may hold a value deactivated since; only active ones may be written.
        values = active_values(definition) if writing else picklist_values(definition)
        return {"type": "string", "enum": values}


@dataclass(frozen=True)
class MultiPicklistType(FieldType):
    """Distinct picklist values, kept in the picklist's order (a JSON list)."""

    storage: str | None = "json"
    widget: str = "multiselect"
    value_type: ValueType | None = ValueType.MULTI

    def input_field(self, definition: Definition) -> fields.Field:
        return MultiPicklist(picklist_values(definition), active_values(definition))

    def literal_problem(self, definition: Definition, value: Any) -> str | None:
        allowed = set(picklist_values(definition))
        if value is None:
            return None
        if not isinstance(value, list) or not all(v in allowed for v in value):
            return "must be a list of picklist values"
        active = set(active_values(definition))
        inactive = [v for v in value if v not in active]
        if inactive:
            return f"{inactive[0]!r} is not an active picklist value"
        return None

    def implied_default(self, definition: Definition) -> Any:
        marked = marked_defaults(definition)
        return marked[:1] or None

    def write_problem(self, definition: Definition, value: Any, before: Any) -> str | None:
        if not value:
            return None
        kept = set(before or ())
        return _inactive_problem(definition, [v for v in value if v not in kept])

    def expression_info(self, definition, *, sqlite, storage=None):
        return FieldInfo(ValueType.MULTI, picklist_values=tuple(picklist_values(definition)))

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        values = active_values(definition) if writing else picklist_values(definition)
        return {
            "type": "array",
            "items": {"type": "string", "enum": values},
            "uniqueItems": True,
            "description": "Distinct values, kept in the picklist's order.",
        }
