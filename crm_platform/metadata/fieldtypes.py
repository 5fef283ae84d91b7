"""The catalog of field types: their defaults, their physical columns, their safe changes.

One entry per type keeps all that the platform knows about a type in one place;
the JSON Schema in ``schemas/field.json`` says which options each type accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from crm_platform.core import ID_LENGTH, ExactDecimal, JSONValue, UTCDateTime

SIMPLE = ""  # the sub-column key of a field stored in one column


@dataclass(frozen=True)
class FieldType:
    """What the platform knows about one field type."""

    name: str
    storage: str | None  # a key of STORAGE, or None when the value is not stored (formula)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    sub_columns: tuple[str, ...] = (SIMPLE,)
    sub_storage: Mapping[str, str] = field(default_factory=dict)
    can_be_unique: bool = False
    can_be_required: bool = True
    can_have_default: bool = True
    indexed: bool = False  # lookups get an index on their id column
    always_unique: bool = False


TEXT_TYPES = frozenset({"text", "email", "phone", "url", "long_text", "rich_text"})
NUMBER_TYPES = frozenset({"integer", "decimal", "currency", "percent", "duration"})
DECIMAL_TYPES = frozenset({"decimal", "currency", "percent"})
RELATION_TYPES = frozenset({"lookup", "master_detail"})
COMPOUND_TYPES = frozenset({"address", "geolocation", "person_name"})
PICKLIST_TYPES = frozenset({"picklist", "multi_picklist"})

_FIELD_TYPES: tuple[FieldType, ...] = (
    FieldType("text", "text", {"max_length": 255}, can_be_unique=True),
    FieldType("long_text", "text", {"max_length": 32768}),
    FieldType("rich_text", "text", {"max_length": 131072}),
    FieldType("email", "text", {"max_length": 255}, can_be_unique=True),
    FieldType("phone", "text", {"max_length": 40}, can_be_unique=True),
    FieldType("url", "text", {"max_length": 255}),
    FieldType("integer", "integer", can_be_unique=True),
    FieldType("decimal", "decimal", {"precision": 18, "scale": 2}, can_be_unique=True),
    FieldType("currency", "decimal", {"precision": 18, "scale": 2}),
    FieldType("percent", "decimal", {"precision": 18, "scale": 2}),
    FieldType("boolean", "boolean", can_be_required=False),
    FieldType("date", "date", can_be_unique=True),
    FieldType("datetime", "datetime"),
    FieldType("time", "time"),
    FieldType("duration", "integer"),
    FieldType("picklist", "text"),
    FieldType("multi_picklist", "json"),
    FieldType("lookup", "id", {"on_delete": "set_null"}, indexed=True, can_have_default=False),
    FieldType("master_detail", "id", indexed=True, can_have_default=False),
    FieldType("formula", None, can_be_required=False, can_have_default=False),
    FieldType("rollup_summary", "rollup", can_be_required=False, can_have_default=False),
    FieldType("auto_number", "text", {"start": 1}, can_be_required=False, can_have_default=False),
    FieldType("external_id", "text", {"max_length": 255}, always_unique=True),
    FieldType("encrypted_text", "text", {"max_length": 255, "mask": "all"}, can_have_default=False),
    FieldType("json", "json"),
    FieldType("file", "text", can_have_default=False),
    FieldType(
        "address",
        None,
        sub_columns=("street", "city", "state", "postal_code", "country"),
        sub_storage=dict.fromkeys(("street", "city", "state", "postal_code", "country"), "text"),
        can_have_default=False,
    ),
    FieldType(
        "geolocation",
        None,
        {"scale": 7},
        sub_columns=("latitude", "longitude"),
        sub_storage={"latitude": "geo", "longitude": "geo"},
        can_have_default=False,
    ),
    FieldType(
        "person_name",
        None,
        sub_columns=("salutation", "first", "middle", "last"),
        sub_storage=dict.fromkeys(("salutation", "first", "middle", "last"), "text"),
        can_have_default=False,
    ),
)

FIELD_TYPES: Mapping[str, FieldType] = {ft.name: ft for ft in _FIELD_TYPES}

FORMULA_RETURN_STORAGE = {
    "text": "text",
    "integer": "integer",
    "decimal": "decimal",
    "currency": "decimal",
    "percent": "decimal",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
    "time": "time",
}


def field_type(name: str) -> FieldType:
    """The catalog entry of a field type (KeyError for an unknown type)."""
    return FIELD_TYPES[name]


def is_stored(definition: Mapping[str, Any]) -> bool:
    """Whether the field has columns of its own (formulas are computed, not stored)."""
    return definition["type"] != "formula"


def sub_columns(definition: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys of the columns a field owns: ("",) for one column, more for compounds."""
    if definition["type"] == "lookup" and "targets" in definition:
        return (SIMPLE, "object")  # polymorphic: the id and the target object's name
    if not is_stored(definition):
        return ()
    return field_type(definition["type"]).sub_columns


def storage_of(definition: Mapping[str, Any], sub: str, rollup_storage: Mapping[str, Any] | None):
    """The SQLAlchemy type of one column of a field."""
    kind = definition["type"]
    ft = field_type(kind)
    if kind == "lookup" and sub == "object":
        return sa.String(64)
    if kind == "rollup_summary":
        return storage_type(rollup_storage or {"storage": "integer"})
    storage = ft.sub_storage.get(sub, ft.storage)
    if storage == "geo":
        return ExactDecimal(3 + definition.get("scale", 7), definition.get("scale", 7))
    return storage_type({"storage": storage, **definition})


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
    raise ValueError(f"unknown storage {storage!r}")


def column_storage_spec(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The storage spec of a single-column field, for comparing old and new physical types."""
    ft = field_type(definition["type"])
    spec: dict[str, Any] = {"storage": ft.storage}
    if ft.storage == "decimal":
        spec.update(precision=definition["precision"], scale=definition["scale"])
    return spec
