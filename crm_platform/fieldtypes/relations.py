"""Lookups and master-detail: the id of another record (and its object, when polymorphic).

A lookup may also point at the platform's users (``target: user``, or ``user`` among a
polymorphic lookup's ``targets``): the value is a user id. Users are never deleted, only
deactivated, so such a lookup has no ``on_delete``: it always keeps its reference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from marshmallow import fields, validate

from crm_platform.core import ValueType

from .apischema import ID_SCHEMA
from .base import Definition, FieldType
from .inputs import PlainText, RecordId, compound_input
from .storage import SIMPLE, storage_type

OBJECT = "object"  # the sub-column of a polymorphic lookup naming the target object
USER = "user"  # the target naming the platform's users (never an object's name)
# The path step reaching a record's owning user (``owner.name``): a reserved API name, so
# never a field's; it reads the owner_id system column.
OWNER = "owner"

# One step of a field path through a polymorphic lookup narrowed to one of its targets:
# ``related_to[account]`` in ``related_to[account].industry``.
_NARROWED = re.compile(r"^([a-z][a-z0-9_]*)\[([a-z][a-z0-9_]*)\]$")


def is_polymorphic(definition: Definition) -> bool:
    """Whether a relation may point at records of several objects."""
    return "targets" in definition


def targets_of(definition: Definition) -> tuple[str, ...]:
    """Every object (or ``user``) a relation may point at."""
    if "targets" in definition:
        return tuple(definition["targets"])
    return (definition["target"],) if "target" in definition else ()


def split_step(step: str) -> tuple[str, str | None]:
    """A path step as (field name, narrowed target): ``related_to[account]`` ->
    ("related_to", "account"); a plain ``account`` -> ("account", None)."""
    found = _NARROWED.match(step)
    return (found.group(1), found.group(2)) if found else (step, None)


def path_target(definition: Definition, narrowed: str | None) -> str | None:
    """The object (or ``user``) a path goes on to through this relation, or None when it
    cannot: a polymorphic lookup must be narrowed to one of its targets, a plain one not."""
    if is_polymorphic(definition):
        return narrowed if narrowed in definition["targets"] else None
    return definition["target"] if narrowed is None else None


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

    def canonical_defaults(self, definition: Definition) -> Mapping[str, Any]:
        # A lookup to users has no on_delete: users are deactivated, never deleted.
        if definition.get("target") == USER:
            return {k: v for k, v in self.defaults.items() if k != "on_delete"}
        return self.defaults

    def storage_changed(self, before: Definition, after: Definition) -> bool:
        return any(before.get(key) != after.get(key) for key in ("target", "targets"))

    def input_field(self, definition: Definition) -> fields.Field:
        if not is_polymorphic(definition):
            return RecordId(allow_none=True)
        return compound_input(
            {
                OBJECT: PlainText(required=True, validate=validate.OneOf(definition["targets"])),
                "id": RecordId(required=True),
            }
        )

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        if not is_polymorphic(definition) and definition["target"] == USER:
            active = " (an active one, when the record is written)"
            if not definition.get("active_only"):
                active = ""
            return {**ID_SCHEMA, "description": f"The id of a user{active}."}
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
