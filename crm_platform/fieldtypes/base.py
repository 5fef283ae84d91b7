"""The base class of every field type: one instance per type, each aspect a method.

A family of types (text, numbers, picklists, relations…) is a subclass that
overrides what differs; a type is one instance of its family in ``catalog``.
Every method takes the field's definition (a mapping, as stored in metadata) so
options such as ``max_length`` or ``scale`` shape the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import sqlalchemy as sa
from marshmallow import fields

from crm_platform.core import FieldInfo, ValueType

from . import apischema
from .exports import Cell, plain_cell, plain_text
from .storage import SIMPLE, storage_type

Definition = Mapping[str, Any]


@dataclass(frozen=True)
class FieldType:
    """What the platform knows about one field type.

    ``storage`` names the column type of a one-column type (see ``storage_type``),
    None when the type has no single column of its own (formulas, compounds).
    ``options`` is the JSON Schema fragment (``then`` of an ``if type``) of the
    options the type accepts in ``metadata/schemas/field.json``.
    """

    name: str
    storage: str | None = "text"
    widget: str = "text"
    value_type: ValueType | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    can_be_unique: bool = False
    can_be_required: bool = True
    can_have_default: bool = True
    indexed: bool = False  # lookups get an index on their id column
    always_unique: bool = False
    # Unique values compared case-insensitively (emails): the unique index is on
    # lower(column) and the record service compares lower() values, the same SQL.
    unique_ignores_case: bool = False
    read_only: bool = False  # computed or numbered by the platform: never written by the API
    searched: bool = False  # its text goes into the search index
    encrypted: bool = False  # encrypted at rest: never in expressions, search or exports
    relation: bool = False  # points at records (lookup, master-detail)
    compound: bool = False  # one value of several named parts (address, geolocation…)
    can_be_name: bool = False  # may be an object's name field
    # How a text type's values read when its type changes in place: "free" text takes
    # any text, "choice" one of listed values (checked against the data), "formatted"
    # text of a format (not checked against the data, so refused).
    text_kind: str | None = None
    # Why options that fix the column (``storage_changed``) cannot change: (path, message).
    fixed_options: tuple[str, str] | None = None
    rollup_functions: frozenset[str] = frozenset()  # what a roll-up may compute over it

    # --- columns -------------------------------------------------------------------

    def sub_columns(self, definition: Definition) -> tuple[str, ...]:
        """The keys of the columns the field owns: ("",) for one column, more for compounds."""
        return (SIMPLE,) if self.storage is not None else ()

    def column_type(
        self, definition: Definition, sub: str, rollup_storage: Mapping[str, Any] | None = None
    ) -> sa.types.TypeEngine[Any]:
        """The SQLAlchemy type of one column of the field."""
        return storage_type({"storage": self.storage, **definition})

    def storage_spec(self, definition: Definition) -> dict[str, Any]:
        """The storage spec of a one-column field (roll-ups over it copy it)."""
        return {"storage": self.storage}

    def canonical_defaults(self, definition: Definition) -> Mapping[str, Any]:
        """The options a definition of this type takes when it leaves them out."""
        return self.defaults

    def unique_key(self, column: Any) -> Any:
        """What a unique index of this type holds for ``column`` (a column or a value):
        ``lower()`` of it when the type compares case-insensitively, else itself."""
        return sa.func.lower(column) if self.unique_ignores_case else column

    def unique_value(self, value: Any) -> Any:
        """A value as unique indexes compare it, in Python (duplicates within a batch)."""
        return value.lower() if self.unique_ignores_case and isinstance(value, str) else value

    def storage_changed(self, before: Definition, after: Definition) -> bool:
        """Whether a change of options (same type) needs a different column."""
        return False

    # --- the record codec ----------------------------------------------------------

    def input_field(self, definition: Definition) -> fields.Field:
        """The marshmallow field the codec reads the value from JSON with."""
        raise ValueError(f"{self.name} fields are not written through the API")

    def literal_problem(self, definition: Definition, value: Any) -> str | None:
        """Why ``value`` is not a valid literal (a default) of the field, or None."""
        return None

    def implied_default(self, definition: Definition) -> Any:
        """The value a new record takes when the field has no ``default`` of its own
        (a picklist's value marked ``default: true``), or None."""
        return None

    def write_problem(self, definition: Definition, value: Any, before: Any) -> str | None:
        """Why ``value``, valid for the type, may not be written now (a picklist value
        deactivated since), or None. ``before`` is the stored value on update (None on
        create): what a record already holds may stay."""
        return None

    def write_check(self, definition: Definition) -> Callable[[Any, Any], str | None]:
        """:meth:`write_problem` for one field, ``(value, before) -> problem``: the record
        codec's plan keeps one per field and metadata version, so a type whose test needs
        work per definition (a picklist's active values) does it once, not per record."""
        return partial(self.write_problem, definition)

    # --- expressions ---------------------------------------------------------------

    def expression_info(
        self, definition: Definition, *, sqlite: bool, storage: Mapping[str, Any] | None = None
    ) -> FieldInfo | None:
        """The expression language's view of the field, or None when it cannot be used.

        ``sqlite`` says whether decimals are held scaled in integer columns; ``storage``
        is the storage spec of a roll-up's column.
        """
        return FieldInfo(self.value_type) if self.value_type is not None else None

    def sub_expression_info(self, definition: Definition, sub: str, *, sqlite: bool):
        """The view of one part of a compound (``billing.city``), or None."""
        return None

    # --- OpenAPI -------------------------------------------------------------------

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        """The JSON Schema of a value (without null)."""
        raise ValueError(f"no value schema for {self.name}")

    def write_schema(self, definition: Definition, *, required: bool) -> dict[str, Any]:
        """What the codec accepts for the field; null unless the field is required."""
        schema = self.value_schema(definition, writing=True)
        if required:
            if schema.get("type") == "string":
                schema["minLength"] = 1
            if schema.get("type") == "array":
                schema["minItems"] = 1
            return schema
        return apischema.nullable(schema)

    def read_schema(self, definition: Definition, column_type: Any = None) -> dict[str, Any]:
        """What the record service sends for the field (always nullable).

        ``column_type`` is the type of the field's column (roll-ups describe it).
        """
        return apischema.nullable(self.value_schema(definition, writing=False))

    def result_schema(self, definition: Definition) -> dict[str, Any]:
        """The schema of a formula returning this type (without null)."""
        return self.value_schema(definition, writing=False)

    # --- values kept outside the record (field history) -----------------------------

    def shown_value(self, definition: Definition, value: Any) -> Any:
        """A value kept as JSON outside the field's column (field history), as a record
        shows the field's value (a decimal with its scale's digits)."""
        return value

    # --- search --------------------------------------------------------------------

    def search_expression(self, columns: Sequence[sa.ColumnElement[Any]]) -> sa.ColumnElement[str]:
        """The text the search index holds for the field, as SQL over its columns (the
        database builds a batch's entries from the stored rows): their values joined by
        a space, NULLs left out, '' for none."""
        return joined_text(columns)

    # --- export --------------------------------------------------------------------

    def export_text(self, definition: Definition, value: Any) -> str:
        """The value as CSV text ("" for null)."""
        return plain_text(value)

    def export_cell(self, definition: Definition, value: Any) -> Cell:
        """The value as an XLSX cell (naive UTC for moments, text for lists and parts)."""
        return plain_cell(value)


def joined_text(
    columns: Sequence[sa.ColumnElement[Any]], separator: str = " "
) -> sa.ColumnElement[str]:
    """SQL joining the columns' values as text with ``separator``, NULLs left out ('' when
    every one is NULL); one expression for SQLite and PostgreSQL (SQLite 3.40 has no
    ``concat_ws``): each present value is prefixed with the separator, and the first
    separator cut off."""
    texts = [sa.cast(c, sa.Text) for c in columns]
    if not texts:  # a field without columns of its own (a formula)
        return sa.literal("", sa.Text)
    if len(texts) == 1:
        return sa.func.coalesce(texts[0], "")
    prefixed = [sa.func.coalesce(sa.literal(separator, sa.Text) + t, "") for t in texts]
    chained = prefixed[0]
    for part in prefixed[1:]:
        chained = chained + part
    return sa.func.substr(chained, len(separator) + 1)
