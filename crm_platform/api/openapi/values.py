"""JSON Schemas of field values in the OpenAPI document, asked of the field-type registry.

The registry's entry of each type says what the record codec accepts for it and what
the record service sends back (ADR 0008); this module only adapts its questions to
the document's: which fields a body may hold, which are required, which are upsert
keys, and the value schemas themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_platform.fieldtypes import SIMPLE, field_type
from crm_platform.runtime import ObjectModel, OrgModel


def is_writable(kind: str) -> bool:
    """Whether a create or update body may hold a value of this type."""
    return not field_type(kind).read_only


def is_required(kind: str, definition: Mapping[str, Any]) -> bool:
    """Whether a value is required: by the definition, or always (a master-detail parent)."""
    return bool(definition.get("required")) or kind == "master_detail"


def is_upsert_key(kind: str, definition: Mapping[str, Any]) -> bool:
    """Whether records can be upserted by this field: external ids and unique fields."""
    return field_type(kind).always_unique or bool(definition.get("unique"))


def scalar_schema(kind: str, definition: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a value of a stored, one-column type (without null)."""
    return field_type(kind).value_schema(definition, writing=True)


def input_value_schema(definition: Mapping[str, Any], *, required: bool) -> dict[str, Any]:
    """What the codec accepts for one writable field; null unless the field is required."""
    return field_type(definition["type"]).write_schema(definition, required=required)


def output_value_schema(model: OrgModel, obj: ObjectModel, name: str) -> dict[str, Any]:
    """What the record service sends for one field (always nullable)."""
    field = obj.fields[name]
    column = field.columns.get(SIMPLE)
    return field_type(field.type).read_schema(
        field.definition, column.type if column is not None else None
    )
