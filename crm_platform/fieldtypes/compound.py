"""Compound types (one value of named parts, a column each) and free JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from marshmallow import fields

from crm_platform.core import ExactDecimal as ExactDecimalColumn
from crm_platform.core import FieldInfo, ValueType

from . import apischema
from .base import Definition, FieldType
from .exports import Cell, joined
from .inputs import AnyJson, ExactDecimal, compound_input, text_input
from .storage import storage_type

GEO_SCALE = 7  # decimal places of a coordinate when the field does not say


@dataclass(frozen=True)
class Part:
    """One part of a compound: text of at most ``max_length``, or a bounded coordinate."""

    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None

    @property
    def is_number(self) -> bool:
        return self.max_length is None


@dataclass(frozen=True)
class CompoundType(FieldType):
    """A value of named parts, each in a column of its own; ``separator`` joins them as text."""

    storage: str | None = None
    compound: bool = True
    can_have_default: bool = False
    parts: Mapping[str, Part] = field(default_factory=dict)
    separator: str = " "

    def sub_columns(self, definition: Definition) -> tuple[str, ...]:
        return tuple(self.parts)

    def column_type(self, definition, sub, rollup_storage=None) -> sa.types.TypeEngine[Any]:
        if self.parts[sub].is_number:
            scale = _scale(definition)
            return ExactDecimalColumn(3 + scale, scale)
        return storage_type({"storage": "text"})

    def storage_changed(self, before: Definition, after: Definition) -> bool:
        return before.get("scale") != after.get("scale")

    def input_field(self, definition: Definition) -> fields.Field:
        scale = _scale(definition)
        return compound_input(
            {
                sub: ExactDecimal(3 + scale, scale, part.minimum, part.maximum, required=True)
                if part.is_number
                else text_input(part.max_length or 0)
                for sub, part in self.parts.items()
            }
        )

    def sub_expression_info(self, definition: Definition, sub: str, *, sqlite: bool):
        part = self.parts.get(sub)
        if part is None:
            return None
        if part.is_number:
            return FieldInfo(ValueType.NUMBER, scale=_scale(definition), sql_scaled=sqlite)
        return FieldInfo(ValueType.TEXT)

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        numbers = all(part.is_number for part in self.parts.values())
        subs = {
            sub: apischema.nullable(
                apischema.decimal_schema(None, _scale(definition), part.minimum, part.maximum)
            )
            if part.is_number
            else {"type": ["string", "null"], "maxLength": part.max_length}
            for sub, part in self.parts.items()
        }
        # Coordinates come as a pair; text parts may be left out when writing.
        required = list(subs) if numbers or not writing else []
        schema: dict[str, Any] = {
            "type": "object",
            "properties": subs,
            "additionalProperties": False,
        }
        if required:
            schema["required"] = required
        return schema

    def export_text(self, definition: Definition, value: Any) -> str:
        return joined(value, self.separator)

    def export_cell(self, definition: Definition, value: Any) -> Cell:
        return joined(value, self.separator) if value is not None else None


@dataclass(frozen=True)
class JsonType(FieldType):
    """Any JSON value, stored as JSON (JSONB on PostgreSQL)."""

    storage: str | None = "json"
    widget: str = "json"

    def input_field(self, definition: Definition) -> fields.Field:
        return AnyJson(allow_none=True)

    def write_schema(self, definition: Definition, *, required: bool) -> dict[str, Any]:
        return dict(apischema.ANY_JSON)

    def read_schema(self, definition: Definition, column_type: Any = None) -> dict[str, Any]:
        return dict(apischema.ANY_JSON)

    def export_text(self, definition: Definition, value: Any) -> str:
        if value is None:
            return ""
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)

    def export_cell(self, definition: Definition, value: Any) -> Cell:
        return self.export_text(definition, value) if value is not None else None


def _scale(definition: Definition) -> int:
    return definition.get("scale", GEO_SCALE)
