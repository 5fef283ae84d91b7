"""The field-type registry: everything the platform knows about each field type, in one entry.

An entry (a :class:`FieldType`, one class per family) owns the type's columns,
its JSON Schema options, the marshmallow field the record codec loads it with,
its type in expressions, its OpenAPI value schemas, its search text, its export
formatting and its form widget. Every layer from ``metadata`` up asks the entry
instead of keeping its own list of types (ADR 0008). This package builds on
``core`` only.
"""

from .base import FieldType, joined_text
from .choices import active_values, marked_defaults, value_entry
from .exports import Cell
from .inputs import PHONE, QuickField, RecordId, picklist_values
from .registry import (
    FIELD_TYPES,
    field_type,
    is_stored,
    options_schema,
    storage_of,
    sub_columns,
    type_names,
)
from .relations import OWNER, USER, is_polymorphic, path_target, split_step, targets_of
from .storage import SIMPLE, storage_type

__all__ = [
    "FIELD_TYPES",
    "OWNER",
    "PHONE",
    "SIMPLE",
    "USER",
    "Cell",
    "FieldType",
    "QuickField",
    "RecordId",
    "active_values",
    "field_type",
    "is_polymorphic",
    "is_stored",
    "joined_text",
    "marked_defaults",
    "options_schema",
    "path_target",
    "picklist_values",
    "split_step",
    "storage_of",
    "storage_type",
    "sub_columns",
    "targets_of",
    "type_names",
    "value_entry",
]
