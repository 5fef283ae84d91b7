"""Record shapes: how a read selects and shows the paths it asks for, worked out once
per metadata version and set of paths, and the SELECT built from one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from crm_platform.fieldtypes import field_type, is_polymorphic
from crm_platform.metadata import SIMPLE

from ..model import FieldModel
from .query import SelectBuilder, formula_scale, model_only

MAX_SHAPES = 1_000  # shapes kept per metadata version


def default_shape(builder: SelectBuilder) -> RecordShape:
    """The shape of a read that names no fields: every field the reader may read."""
    obj = builder.obj
    access = builder.access
    names = tuple(obj.fields) if access is None else access.readable_fields(obj.api_name)
    shapes = builder.expressions.shapes_for(builder.model)
    key = ("(default)", obj.api_name, names)
    found = shapes.get(key)
    if found is None:
        found = shapes[key] = shape_of(builder, [(name,) for name in names])
    return found


def shape_of(builder: SelectBuilder, paths: Sequence[tuple[str, ...]]) -> RecordShape:
    """The :class:`RecordShape` of these paths on the builder's object, kept per
    metadata version."""
    shapes = builder.expressions.shapes_for(builder.model)
    key = (builder.obj.api_name, tuple(paths))
    found = shapes.get(key)
    if found is None:
        if len(shapes) > MAX_SHAPES:
            shapes.clear()
        found = shapes[key] = record_shape(builder, key[1])
    return found


@dataclass
class RecordShape:
    """How a read selects and shows its paths, worked out once per metadata version and
    set of paths (on a 500-field object, sorting 500 paths on every read cost more than
    the read): the object's own columns, formulas and dotted paths, in path order."""

    paths: tuple[tuple[str, ...], ...]
    single: frozenset[str]  # the names of the one-step paths
    stored: tuple[str, ...]  # fields read from their own columns (roll-ups included)
    shown: tuple[str, ...]  # of those, the ones with columns, as the record shows them
    # each shown field with its column when the value is the column's as it is (one
    # plain column, not encrypted), else None (``codec.from_columns`` reads it)
    plain: tuple[tuple[str, str | None], ...]
    rollups: tuple[str, ...]  # stored roll-ups: a viewer roll-up is computed per reader
    formulas: tuple[str, ...]
    dotted: tuple[tuple[str, ...], ...]
    computed: tuple[tuple[str, str], ...]  # (output name, row label), in path order
    # whether the SELECT depends on the model alone once no roll-up is computed for the
    # reader (no dotted path, no formula reading the clock, the user or another record)
    model_only: bool
    # whole statements of that kind, by what they add (kept with the shape: per version)
    statements: dict[tuple[Any, ...], Any] = field(default_factory=dict)


def record_shape(builder: SelectBuilder, paths: tuple[tuple[str, ...], ...]) -> RecordShape:
    """The :class:`RecordShape` of ``paths`` (use :func:`shape_of`, which keeps it)."""
    obj = builder.obj
    stored: list[str] = []
    rollups: list[str] = []
    formulas: list[str] = []
    dotted: list[tuple[str, ...]] = []
    computed: list[tuple[str, str]] = []
    static = True  # the SELECT depends on the model alone
    for path in paths:
        if len(path) > 1:
            dotted.append(path)
            joined = ".".join(path)
            computed.append((joined, f"p:{joined}"))
            static = False
            continue
        fld = obj.fields.get(path[0])
        if fld is None:
            continue  # a system field, always there
        if fld.type == "formula":
            formulas.append(fld.api_name)
            computed.append((fld.api_name, f"f:{fld.api_name}"))
            definition = fld.definition
            checked = builder.expressions.checked(
                builder.model,
                obj,
                definition["expression"],
                None,
                formula_scale(definition),
                builder.dialect,
            )
            static = static and model_only(obj, checked)
            continue
        stored.append(fld.api_name)
        if fld.type == "rollup_summary":
            rollups.append(fld.api_name)
    shown = tuple(n for n in stored if obj.fields[n].columns)
    return RecordShape(
        paths=paths,
        single=frozenset(p[0] for p in paths if len(p) == 1),
        stored=tuple(stored),
        shown=shown,
        plain=tuple((n, _plain_column(obj.fields[n])) for n in shown),
        rollups=tuple(rollups),
        formulas=tuple(formulas),
        dotted=tuple(dotted),
        computed=tuple(computed),
        model_only=static,
    )


def reusable(builder: SelectBuilder, shape: RecordShape) -> bool:
    """Whether :func:`select_record` of this shape is the same for every reader, so a
    statement built on it may be kept (no roll-up computed for this reader either)."""
    if not shape.model_only:
        return False
    obj = builder.obj
    return all(builder.viewer_rollup(obj, obj.fields[n]) is None for n in shape.rollups)


def _plain_column(fld: FieldModel) -> str | None:
    """The one column a field's value is read from as it is, or None (several columns, a
    polymorphic lookup, an encrypted value)."""
    columns = fld.columns
    if len(columns) != 1 or SIMPLE not in columns or field_type(fld.type).encrypted:
        return None
    if is_polymorphic(fld.definition):
        return None
    return columns[SIMPLE].name


def select_record(builder: SelectBuilder, shape: RecordShape) -> sa.Select[Any]:
    """A SELECT of the system fields and the shape's paths (add FROM and WHERE to it).

    The object's own columns are selected as they are (a row is keyed by their
    physical names); formulas come as ``f:<name>`` and dotted paths as ``p:<path>``.
    """
    obj = builder.obj
    computed: list[ColumnElement[Any]] = []
    viewers: set[str] = set()
    for name in shape.rollups:
        fld = obj.fields[name]
        if (viewer := builder.viewer_rollup(obj, fld)) is not None:
            # counted for this reader, under the column's name: read like the column
            computed.append(viewer.label(fld.columns[SIMPLE].name))
            viewers.add(name)
    stored = tuple(n for n in shape.stored if n not in viewers) if viewers else shape.stored
    for name in shape.formulas:
        computed.append(builder.formula(obj, name, ()).label(f"f:{name}"))
    for path in shape.dotted:
        computed.append(builder.column(path).label("p:" + ".".join(path)))
    query = builder.expressions.stored_select(builder.model, obj, stored)
    return query.add_columns(*computed) if computed else query
