"""Lookups and master-detail: the id of another record (and its object, when polymorphic)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from marshmallow import fields, validate

from crm_platform.core import ValueType

from .apischema import ID_SCHEMA
from .base import Definition, FieldType
from .inputs import RecordId, compound_input
from .storage import SIMPLE, storage_type

OBJECT = "object"  # the sub-column of a polymorphic lookup naming the target object


def is_polymorphic(definition: Definition) -> bool:
    """Whether a relation may point at records of several objects."""
    return "targets" in definition


@dataclass(frozen=True)
class RelationType(FieldType):
    """A record id, indexed; a polymorphic lookup keeps the target object beside it."""

    storage: str | None = "id"
    widget: str = "lookup"
    value_type: ValueType | None = ValueType.TEXT
    relation: bool = True
    indexed: bool = True
    can_have_default: bool = False
    fixed_options: tuple[str, str] | None = (
        "target",
        "the target of a relationship cannot change: add a new field",
    )

    def sub_columns(self, definition: Definition) -> tuple[str, ...]:
        return (SIMPLE, OBJECT) if is_polymorphic(definition) else (SIMPLE,)

    def column_type(self, definition, sub, rollup_storage=None) -> sa.types.TypeEngine[Any]:
        return storage_type({"storage": "object_name" if sub == OBJECT else "id"})

    def storage_changed(self, before: Definition, after: Definition) -> bool:
        return any(before.get(key) != after.get(key) for key in ("target", "targets"))

    def input_field(self, definition: Definition) -> fields.Field:
        if not is_polymorphic(definition):
            return RecordId(allow_none=True)
        return compound_input(
            {
                OBJECT: fields.String(
                    required=True, validate=validate.OneOf(definition["targets"])
                ),
                "id": RecordId(required=True),
            }
        )

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        if not is_polymorphic(definition):
            return {**ID_SCHEMA, "description": f"The id of the {definition['target']} record."}
        return {
            "type": "object",
            "description": "A polymorphic lookup: the target object and the record id.",
            "required": [OBJECT, "id"],
            "properties": {
                OBJECT: {"type": "string", "enum": list(definition["targets"])},
                "id": dict(ID_SCHEMA),
            },
            "additionalProperties": False,
        }

    def export_text(self, definition: Definition, value: Any) -> str:
        if isinstance(value, dict):
            return f"{value[OBJECT]}:{value['id']}"
        return super().export_text(definition, value)

    def export_cell(self, definition: Definition, value: Any) -> str | None:
        return self.export_text(definition, value) if value is not None else None
