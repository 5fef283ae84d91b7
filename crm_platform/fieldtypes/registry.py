"""Looking types up, and the per-definition questions several layers ask."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa

from .base import Definition, FieldType
from .catalog import ENTRIES

FIELD_TYPES: Mapping[str, FieldType] = MappingProxyType({t.name: t for t in ENTRIES})


def field_type(name: str) -> FieldType:
    """The entry of a field type (KeyError for an unknown type)."""
    return FIELD_TYPES[name]


def is_stored(definition: Definition) -> bool:
    """Whether the field has columns of its own (formulas are computed, not stored)."""
    return bool(FIELD_TYPES[definition["type"]].sub_columns(definition))


def sub_columns(definition: Definition) -> tuple[str, ...]:
    """The keys of the columns a field owns: ("",) for one column, more for compounds."""
    return FIELD_TYPES[definition["type"]].sub_columns(definition)


def storage_of(
    definition: Definition, sub: str, rollup_storage: Mapping[str, Any] | None = None
) -> sa.types.TypeEngine[Any]:
    """The SQLAlchemy type of one column of a field."""
    return FIELD_TYPES[definition["type"]].column_type(definition, sub, rollup_storage)


def type_names(**flags: bool) -> frozenset[str]:
    """The names of the types whose attributes equal ``flags`` (``type_names(searched=True)``)."""
    return frozenset(
        t.name for t in ENTRIES if all(getattr(t, flag) == wanted for flag, wanted in flags.items())
    )


def options_schema() -> list[dict[str, Any]]:
    """The ``allOf`` branches of ``field.json``: each type's options, types with equal
    options sharing one branch (in catalog order)."""
    groups: list[tuple[list[str], Mapping[str, Any]]] = []
    for entry in ENTRIES:
        if not entry.options:
            continue
        same = next((names for names, options in groups if options == entry.options), None)
        if same is not None:
            same.append(entry.name)
        else:
            groups.append(([entry.name], entry.options))
    return [
        {"if": {"properties": {"type": _one_of(names)}}, "then": dict(options)}
        for names, options in groups
    ]


def _one_of(names: list[str]) -> dict[str, Any]:
    return {"enum": names} if len(names) > 1 else {"const": names[0]}
