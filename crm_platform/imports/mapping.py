"""The mapping of an import: which column goes to which field, and how it is transformed.

A mapping file (YAML) names the object and, per column header, the field and the
column's transforms::

    object: contact
    columns:
      "First name": {field: first_name}
      "Company": {field: account, lookup: name}       # by name, a unique field, or id
      "Birthday": {field: birthdate, date_format: "%d.%m.%Y"}
      "Active": {field: active}                       # yes/no, 是/否, 1/0...
      "Stage": {field: stage, values: {won: Closed Won}}
      "Notes": {field: null}                          # not imported
      "id": {field: id}                  # the record to update (with --upsert-on id)

:func:`plan_columns` checks a mapping against the object and the file's headers and
builds one :class:`ColumnPlan` (with its conversion) per imported column.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from crm_platform.core import ValidationFailed
from crm_platform.fieldtypes import field_type

from .transforms import CASES, COMPOUND_JSON, Conversion

RECORD_ID = "id"  # not a field: the id of the record a row updates (``--upsert-on id``)
OPTIONS = frozenset({"field", "lookup", "trim", "case", "date_format", "decimal", "values"})


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a mapping file: the field (None: not imported) and its options."""

    field: str | None
    options: Mapping[str, Any] = field(default_factory=dict)

    def as_yaml(self) -> dict[str, Any]:
        return {"field": self.field, **self.options}


@dataclass(frozen=True)
class ImportMapping:
    """Columns (by header) to fields, for one object."""

    object: str
    columns: Mapping[str, ColumnSpec]

    def as_json(self) -> dict[str, Any]:
        return {"object": self.object, "columns": {h: c.as_yaml() for h, c in self.columns.items()}}

    @classmethod
    def from_json(cls, data: Any, *, where: str = "mapping") -> ImportMapping:
        """A mapping from its YAML/JSON form; a malformed one is a 400 naming the column."""
        if not isinstance(data, Mapping) or not isinstance(data.get("columns"), Mapping):
            raise ValidationFailed({where: "expected {object: ..., columns: {header: {...}}}"})
        columns, errors = {}, {}
        for header, spec in data["columns"].items():
            if isinstance(spec, str) or spec is None:
                spec = {"field": spec}
            if not isinstance(spec, Mapping):
                errors[f"columns.{header}"] = "expected {field: ..., options...}"
                continue
            unknown = sorted(set(spec) - OPTIONS)
            if unknown:
                errors[f"columns.{header}"] = f"unknown option(s) {', '.join(unknown)}"
                continue
            options = {k: v for k, v in spec.items() if k != "field"}
            columns[str(header)] = ColumnSpec(spec.get("field"), options)
        if errors:
            raise ValidationFailed(errors)
        return cls(str(data.get("object", "")), columns)


def load_mapping(path: Path) -> ImportMapping:
    """Read a mapping file."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationFailed({"mapping": f"cannot read {path}: {exc}"}) from exc
    return ImportMapping.from_json(data, where=str(path))


def dump_mapping(mapping: ImportMapping, notes: Mapping[str, str] | None = None) -> str:
    """The mapping as YAML a person edits: one line per column, with a note where the
    inference could not place a column."""
    notes = notes or {}
    lines = [
        f"# Mapping of columns to {mapping.object} fields: edit it, then pass it with",
        "# --mapping. `field: null` leaves a column out; options: lookup (name, a unique",
        "# field or id), trim, case (upper/lower/title), date_format, decimal, values.",
        f"object: {mapping.object}",
        "columns:",
    ]
    for header, spec in mapping.columns.items():
        flow = yaml.safe_dump(
            spec.as_yaml(), default_flow_style=True, allow_unicode=True, width=10_000
        ).strip()
        key = yaml.safe_dump(header, allow_unicode=True).strip().removesuffix("\n...").strip()
        note = f"  # {notes[header]}" if header in notes else ""
        lines.append(f"  {key}: {flow}{note}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ColumnPlan:
    """An imported column: its position in a row, its field and its conversion.

    ``lookup`` is how a lookup column's text finds its record: ``name`` (the target's
    name field), ``id``, or a unique or external-id field of the target.
    """

    index: int
    header: str
    field: str
    part: str | None  # a compound field's part (``billing.city``)
    conversion: Conversion
    lookup: str | None = None
    target: str | None = None


def with_record_ids(mapping: ImportMapping, headers: Sequence[str]) -> ImportMapping:
    """The mapping with the file's ``id`` column read as the records' ids (what
    ``--upsert-on id`` finds records by), when no column is mapped to them already: an
    inferred mapping leaves an export's ``id`` column out."""
    if RECORD_ID not in headers or any(s.field == RECORD_ID for s in mapping.columns.values()):
        return mapping
    return dataclasses.replace(
        mapping, columns={**mapping.columns, RECORD_ID: ColumnSpec(RECORD_ID)}
    )


def plan_columns(mapping: ImportMapping, obj: Any, headers: Sequence[str], model: Any):
    """The column plans of a mapping for these headers; a 400 naming every problem."""
    errors: dict[str, str] = {}
    plans: list[ColumnPlan] = []
    used: dict[str, str] = {}
    for header, spec in mapping.columns.items():
        if spec.field is None:
            continue
        where = f"columns.{header}"
        if header not in headers:
            errors[where] = "no column with this header in the file"
            continue
        if spec.field == RECORD_ID:  # finds the records an upsert on id updates
            if RECORD_ID in used:
                errors[where] = f"id is already the field of column {used[RECORD_ID]!r}"
                continue
            used[RECORD_ID] = header
            conversion = Conversion.of("text", {}, {})
            plans.append(ColumnPlan(headers.index(header), header, RECORD_ID, None, conversion))
            continue
        name, _, part = spec.field.partition(".")
        fld = obj.fields.get(name)
        ftype = field_type(fld.type) if fld is not None else None
        if ftype is None or ftype.read_only:
            errors[where] = f"{obj.api_name} has no field {spec.field!r} that an import can write"
            continue
        if spec.field in used:
            errors[where] = f"{spec.field} is already the field of column {used[spec.field]!r}"
            continue
        used[spec.field] = header
        if (case := spec.options.get("case")) is not None and case not in CASES:
            errors[where] = "case is upper, lower or title"
            continue
        plans.append(_plan(headers.index(header), header, fld, part or None, spec, model))
    if errors:
        raise ValidationFailed(errors, "the mapping does not fit the object or the file")
    return plans


def _plan(index: int, header: str, fld: Any, part: str | None, spec: ColumnSpec, model: Any):
    ftype = field_type(fld.type)
    if ftype.relation:
        conversion = Conversion.of("text", fld.definition, spec.options)
        target = fld.targets[0] if fld.targets else None
        lookup = spec.options.get("lookup", "name")
        return ColumnPlan(index, header, fld.api_name, None, conversion, lookup, target)
    kind = "text" if part else COMPOUND_JSON if ftype.compound else fld.type
    conversion = Conversion.of(kind, fld.definition, spec.options, model.time_zone)
    return ColumnPlan(index, header, fld.api_name, part, conversion)
