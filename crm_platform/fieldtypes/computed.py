"""Types whose values the platform computes: formulas, roll-up summaries, auto-numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from crm_platform.core import FieldInfo, ValueType

from . import apischema
from .base import Definition, FieldType
from .storage import storage_type
from .text import TextType


@dataclass(frozen=True)
class FormulaType(FieldType):
    """An expression computed on read; ``returns`` are the types it may return, by name."""

    storage: str | None = None
    widget: str = "readonly"
    read_only: bool = True
    can_be_required: bool = False
    can_have_default: bool = False
    can_be_name: bool = True
    returns: Mapping[str, FieldType] = field(default_factory=dict)

    def return_type(self, definition: Definition) -> FieldType:
        """The entry of the type the formula returns."""
        return self.returns[definition["return_type"]]

    def canonical_defaults(self, definition: Definition) -> Mapping[str, Any]:
        returned = self.returns.get(definition.get("return_type", ""))
        if returned is not None and returned.storage == "decimal":
            return {**self.defaults, "scale": 2}
        return self.defaults

    def expression_info(self, definition, *, sqlite, storage=None):
        returned = self.return_type(definition)
        if returned.value_type is not ValueType.NUMBER:
            return FieldInfo(returned.value_type) if returned.value_type else None
        scale = 0 if returned.storage == "integer" else definition.get("scale", 2)
        return FieldInfo(ValueType.NUMBER, scale=scale, sql_scaled=sqlite)

    def read_schema(self, definition: Definition, column_type: Any = None) -> dict[str, Any]:
        schema = self.return_type(definition).result_schema(definition)
        # a reader who may not see what the formula reads is not shown its expression
        expression = definition.get("expression")
        note = f"Computed from `{expression}`." if expression else "Computed by the platform."
        schema["description"] = f"{note} {schema.get('description', '')}".strip()
        return apischema.nullable(schema)


@dataclass(frozen=True)
class RollupType(FieldType):
    """A count, sum, min or max of child records, kept current on child writes.

    Its column type is fixed when it is created, from the field it summarises
    (the ``storage`` spec kept with its physical names).
    """

    storage: str | None = "rollup"
    widget: str = "readonly"
    read_only: bool = True
    can_be_required: bool = False
    can_have_default: bool = False
    rollup_functions: frozenset[str] = frozenset({"sum", "min", "max"})
    fixed_options: tuple[str, str] | None = (
        "relation",
        "a roll-up's relation, function and field are fixed: delete it and add a new one",
    )
    # what a value read from a column of each storage is in an expression
    storage_value_types: Mapping[str, ValueType] = field(
        default_factory=lambda: {
            "date": ValueType.DATE,
            "datetime": ValueType.DATETIME,
            "boolean": ValueType.BOOLEAN,
            "time": ValueType.TIME,
            "text": ValueType.TEXT,
        }
    )

    def column_type(self, definition, sub, rollup_storage=None) -> sa.types.TypeEngine[Any]:
        return storage_type(rollup_storage or {"storage": "integer"})

    def storage_changed(self, before: Definition, after: Definition) -> bool:
        return any(before.get(k) != after.get(k) for k in ("relation", "function", "field"))

    def expression_info(self, definition, *, sqlite, storage=None):
        if storage is None:
            return None
        kind = storage.get("storage", "integer")
        if kind == "decimal":
            return FieldInfo(ValueType.NUMBER, scale=storage["scale"], sql_scaled=sqlite)
        if kind == "integer":
            return FieldInfo(ValueType.NUMBER, scale=0)
        return FieldInfo(self.storage_value_types[kind])

    def read_schema(self, definition: Definition, column_type: Any = None) -> dict[str, Any]:
        schema = apischema.column_value_schema(column_type)
        schema["description"] = (
            f"A {definition['function']} of {definition['relation']} records, kept current "
            "by the platform. " + schema.get("description", "")
        ).strip()
        return apischema.nullable(schema)


@dataclass(frozen=True)
class AutoNumberType(TextType):
    """Text numbered by the platform on create, from a pattern such as ``CASE-{00000}``."""

    widget: str = "readonly"
    read_only: bool = True
    searched: bool = True
    can_be_required: bool = False
    can_have_default: bool = False
    can_be_name: bool = True

    def input_field(self, definition: Definition):
        return FieldType.input_field(self, definition)

    def read_schema(self, definition: Definition, column_type: Any = None) -> dict[str, Any]:
        return {"type": ["string", "null"], "description": f"Numbered as {definition['pattern']}."}
