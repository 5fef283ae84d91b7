"""Reading records from JSON and writing them back: one codec per compiled object.

Input is checked by a marshmallow schema generated from the object's fields:
types, lengths, formats, picklist values; unknown fields and read-only ones
(system columns, formulas, roll-ups, auto-numbers) are errors naming the field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError, fields

from crm_platform.core import ValidationFailed
from crm_platform.core.crypto import FieldCipher
from crm_platform.fieldtypes import (
    SIMPLE,
    FieldType,
    QuickField,
    RecordId,
    field_type,
    is_polymorphic,
)
from crm_platform.fieldtypes.relations import OBJECT

from ..model import FieldModel, ObjectModel

SYSTEM_FIELDS = (
    "id",
    "owner_id",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "version",
)
WRITABLE_SYSTEM_FIELDS = frozenset({"owner_id"})
MAX_LOADERS = 256  # kept loaders per object (sets of fields bodies give)


@dataclass(frozen=True)
class FieldReader:
    """How one stored field is read from a row keyed by physical column names."""

    shape: str  # "simple" (one column), "polymorphic" (id and object) or "compound"
    columns: tuple[tuple[str, str], ...]  # (sub-column key, physical name)
    encrypted: bool


def read_plan(obj: ObjectModel) -> dict[str, FieldReader]:
    """A reader per stored field of ``obj``, in field order (formulas have none)."""
    plan: dict[str, FieldReader] = {}
    for name, field in obj.fields.items():
        columns = tuple((sub, column.name) for sub, column in field.columns.items())
        if not columns:
            continue
        if is_polymorphic(field.definition):
            shape = "polymorphic"
        elif SIMPLE in field.columns:
            shape = "simple"
        else:
            shape = "compound"
        plan[name] = FieldReader(shape, columns, field_type(field.type).encrypted)
    return plan


@dataclass(frozen=True)
class WritePlan:
    """The fields each write step looks at, derived once per metadata version with the
    codec: on a 500-field object, walking every field for each check of each write cost
    more than the insert (a step loops over its few fields, in the object's order)."""

    required: tuple[str, ...]  # required fields and master-detail links
    checked: tuple[str, ...]  # required, or of a type that may refuse a value now
    # (value, before) -> problem of the fields whose type has a ``write_problem``
    restricted: Mapping[str, Callable[[Any, Any], str | None]]
    defaults: tuple[FieldModel, ...]  # writable fields with a default of any kind
    dependent: tuple[FieldModel, ...]  # dependent picklists (with a controlling field)
    unique: tuple[str, ...]  # values unique among live records
    auto_numbers: tuple[FieldModel, ...]
    relations: tuple[str, ...]  # lookups and master-detail links, in field order


def write_plan(obj: ObjectModel, writable: frozenset[str]) -> WritePlan:
    """The :class:`WritePlan` of ``obj`` (``writable``: the fields the API may write)."""
    required, checked, defaults, dependent, unique, numbers = [], [], [], [], [], []
    restricted: dict[str, Callable[[Any, Any], str | None]] = {}
    relations = []
    for name, fld in obj.fields.items():
        ftype, definition = field_type(fld.type), fld.definition
        is_required = bool(definition.get("required")) or fld.type == "master_detail"
        if is_required:
            required.append(name)
        if type(ftype).write_problem is not FieldType.write_problem:
            restricted[name] = ftype.write_check(definition)
        if is_required or name in restricted:
            checked.append(name)
        if name in writable and (
            "default" in definition
            or "default_expression" in definition
            or ftype.implied_default(definition) is not None
            or fld.type == "boolean"
        ):
            defaults.append(fld)
        if definition.get("controlling_field") is not None:
            dependent.append(fld)
        if definition.get("unique") or ftype.always_unique:
            unique.append(name)
        if fld.type == "auto_number":
            numbers.append(fld)
        if ftype.relation:
            relations.append(name)
    return WritePlan(
        required=tuple(required),
        checked=tuple(checked),
        restricted=restricted,
        defaults=tuple(defaults),
        dependent=tuple(dependent),
        unique=tuple(unique),
        auto_numbers=tuple(numbers),
        relations=tuple(relations),
    )


# a field's name, its bound marshmallow field, its quick check, whether it allows null
_Loader = tuple[str, fields.Field, Callable[[Any], bool] | None, bool]


def _loader(name: str, field: fields.Field) -> _Loader:
    quick = field.quick_check() if isinstance(field, QuickField) else None
    nullable = field.allow_none and not field.pre_load and not field.post_load
    return (name, field, quick, nullable)


@dataclass(frozen=True)
class RecordCodec:
    """Loads JSON input into field values and turns stored rows into JSON-ready records.

    ``readers`` (built once per metadata version with the codec) read stored rows:
    on a 500-field object, working out each field's columns on every read cost more
    than the read itself.
    """

    obj: ObjectModel
    schema: Schema
    writable: frozenset[str]
    readers: Mapping[str, FieldReader]
    encrypted: bool  # some field is encrypted_text: reads and writes need the cipher
    plan: WritePlan
    # the (name, bound marshmallow field, quick check) of the fields a body gives, by the
    # set of them, in the object's order: a load calls each field's ``deserialize`` itself,
    # as ``Schema.load`` would, without building a schema per body or walking every field
    # of the object (500 on a wide object) and the schema's hooks and error store per
    # record; a value its field's quick check passes is kept as it is (what ``deserialize``
    # would return), a null one of a field that allows null is null
    _loaders: dict[frozenset[str], tuple[_Loader, ...]] = dataclasses.field(
        default_factory=dict, repr=False
    )
    # the (keys, hidden fields) of bodies whose every key was writable and not hidden:
    # a body giving them again goes straight to its loader
    _accepted: set[tuple[frozenset[str], frozenset[str]]] = dataclasses.field(
        default_factory=set, repr=False
    )

    def deserialise(
        self, accepted: Mapping[str, Any], names: frozenset[str] | None = None
    ) -> dict[str, Any]:
        """Typed values of writable fields; marshmallow's errors raised as
        ``Schema.load(partial=True)`` raises them (one list, or a nested dict, per field).
        ``names``: the keys of ``accepted``, when the caller has them."""
        names = frozenset(accepted) if names is None else names
        loader = self._loaders.get(names)
        if loader is None:
            if len(self._loaders) > MAX_LOADERS:
                self._loaders.clear()
            bound = self.schema.load_fields
            loader = self._loaders[names] = tuple(_loader(n, bound[n]) for n in bound if n in names)
        values: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for name, field, quick, nullable in loader:
            value = accepted[name]
            if (value is None and nullable) or (quick is not None and quick(value)):
                values[name] = value
                continue
            try:
                values[name] = field.deserialize(value, name, accepted, partial=True)
            except ValidationError as exc:
                errors[name] = exc.messages
        if errors:
            raise ValidationError(errors)
        return values

    def load(self, data: Any, hidden: frozenset[str] = frozenset()) -> dict[str, Any]:
        """Field values from a JSON body; every problem at once, each under its field.

        ``hidden``: the fields the writer may not read, refused exactly as unknown
        fields are (before any type check, so no answer tells them apart).
        """
        if not isinstance(data, Mapping):
            raise ValidationFailed({"(root)": "expected a JSON object of field values"})
        names = frozenset(data)
        if (names, hidden) in self._accepted:  # a batch's bodies mostly give the same keys
            try:
                return self.deserialise(data, names)
            except ValidationError as exc:
                errors: dict[str, list[str]] = {}
                _flatten(exc.messages, "", errors)
                raise ValidationFailed(errors) from None
        errors = {}
        accepted = {}
        for key, value in data.items():
            if key in hidden:
                errors[key] = [f"unknown field of {self.obj.api_name}"]
            elif key in self.writable or key in WRITABLE_SYSTEM_FIELDS:
                accepted[key] = value
            elif key in SYSTEM_FIELDS or key in self.obj.fields:
                errors[key] = ["read-only field"]
            else:
                errors[key] = [f"unknown field of {self.obj.api_name}"]
        if not errors and len(self._accepted) < MAX_LOADERS:
            self._accepted.add((names, hidden))
        try:
            values = self.deserialise(accepted)
        except ValidationError as exc:
            _flatten(exc.messages, "", errors)
            values = {}
        if errors:
            raise ValidationFailed(errors)
        return values


def _flatten(messages: Any, prefix: str, out: dict[str, list[str]]) -> None:
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if isinstance(key, int):
                _flatten(value, f"{prefix}[{key}]", out)
            else:
                _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out.setdefault(prefix or "(root)", []).extend(messages)
    elif isinstance(messages, list):
        for index, item in enumerate(messages):
            _flatten(item, f"{prefix}[{index}]", out)
    else:
        out.setdefault(prefix or "(root)", []).append(str(messages))


def compile_codec(obj: ObjectModel) -> RecordCodec:
    """The codec of an object, from its compiled fields."""
    schema_fields = {"owner_id": RecordId()}
    writable = set()
    for name, field in obj.fields.items():
        ftype = field_type(field.type)
        if ftype.read_only:
            continue
        schema_fields[name] = ftype.input_field(field.definition)
        writable.add(name)
    schema = Schema.from_dict(schema_fields, name=f"{obj.api_name}_record")()
    readers = read_plan(obj)
    return RecordCodec(
        obj=obj,
        schema=schema,
        writable=frozenset(writable),
        readers=readers,
        encrypted=any(r.encrypted for r in readers.values()),
        plan=write_plan(obj, frozenset(writable)),
    )


def to_columns(
    obj: ObjectModel,
    values: Mapping[str, Any],
    cipher: FieldCipher | None,
    readers: Mapping[str, FieldReader],
) -> dict[str, Any]:
    """Column values (by physical name) for field values (by API name); ``readers``, the
    object's read plan (its codec's), says each field's columns, shape and encryption."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in SYSTEM_FIELDS:
            out[name] = value
            continue
        reader = readers.get(name)
        if reader is None:  # a formula a handler set: computed, nothing stored
            continue
        if reader.shape == "simple":
            if value is not None and reader.encrypted:
                assert cipher is not None
                value = cipher.encrypt(value, f"{obj.api_name}.{name}")
            out[reader.columns[0][1]] = value
        elif reader.shape == "polymorphic":  # the id and the target object
            columns = dict(reader.columns)
            out[columns[SIMPLE]] = value["id"] if value else None
            out[columns[OBJECT]] = value[OBJECT] if value else None
        else:
            for sub, column in reader.columns:
                out[column] = (value or {}).get(sub)
    return out


def plain_columns(
    names: Iterable[str], readers: Mapping[str, FieldReader]
) -> tuple[tuple[str, str], ...] | None:
    """(field, column) for each of ``names`` when :func:`to_columns` would copy every one
    to one column as it is (a system field, or a plain unencrypted one; a formula has no
    column), else None: a batch giving the same fields maps its records by these pairs."""
    pairs = []
    for name in names:
        if name in SYSTEM_FIELDS:
            pairs.append((name, name))
            continue
        reader = readers.get(name)
        if reader is None:  # a formula a handler set: computed, nothing stored
            continue
        if reader.shape != "simple" or reader.encrypted:
            return None
        pairs.append((name, reader.columns[0][1]))
    return tuple(pairs)


def from_columns(
    obj: ObjectModel,
    row: Mapping[str, Any],
    cipher: FieldCipher | None,
    names=None,
    readers: Mapping[str, FieldReader] | None = None,
) -> dict[str, Any]:
    """Field values (by API name) from a row keyed by physical column name (the row holds
    the columns of every field read: indexing, not ``.get``, which is 3× slower on a row).

    ``names``: the fields wanted (default: every stored field); ``readers``: the
    object's read plan when the caller holds it (its codec's), else it is worked out.
    """
    plan = read_plan(obj) if readers is None else readers
    record: dict[str, Any] = {}
    for name in plan if names is None else names:
        reader = plan.get(name)
        if reader is None:
            continue  # a formula: no columns of its own
        if reader.shape == "simple":
            value = row[reader.columns[0][1]]
            if value is not None and cipher is not None and reader.encrypted:
                value = cipher.decrypt(value, f"{obj.api_name}.{name}")
            record[name] = value
        elif reader.shape == "polymorphic":  # the id and the target object
            columns = dict(reader.columns)
            record_id = row[columns[SIMPLE]]
            target = row[columns["object"]]
            record[name] = {"object": target, "id": record_id} if record_id else None
        else:
            subs = {sub: row[column] for sub, column in reader.columns}
            record[name] = subs if any(v is not None for v in subs.values()) else None
    return record
