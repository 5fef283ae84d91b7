"""JSON Schemas of field values: what the record codec accepts and the record service sends.

Everything the document knows about field types is here and nowhere else in the
package, mirroring ``runtime/records/values.py`` (what a write accepts) and the
record service (what a read sends back): text, numbers and exact decimals, dates
and times, picklists, lookups, compound values, formulas and roll-ups, and which
types are writable, required or upsert keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from crm_platform.core import ExactDecimal, UTCDateTime
from crm_platform.metadata import SIMPLE
from crm_platform.runtime import ObjectModel, OrgModel
from crm_platform.runtime.records.values import PHONE, READ_ONLY_TYPES, picklist_values

from .components import ID_SCHEMA

INT64_MAX = 2**63 - 1
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"
TEXT_TYPES = frozenset(
    {
        "text",
        "long_text",
        "rich_text",
        "email",
        "phone",
        "url",
        "external_id",
        "encrypted_text",
        "file",
    }
)
DECIMAL_TYPES = frozenset({"decimal", "currency", "percent"})
COMPOUND_SUBS: Mapping[str, Mapping[str, int]] = {
    "address": {"street": 255, "city": 120, "state": 120, "postal_code": 20, "country": 120},
    "person_name": {"salutation": 120, "first": 120, "middle": 120, "last": 120},
}


def is_writable(kind: str) -> bool:
    """Whether a create or update body may hold a value of this type."""
    return kind not in READ_ONLY_TYPES


def is_required(kind: str, definition: Mapping[str, Any]) -> bool:
    """Whether a value is required: by the definition, or always (a master-detail parent)."""
    return bool(definition.get("required")) or kind == "master_detail"


def is_upsert_key(kind: str, definition: Mapping[str, Any]) -> bool:
    """Whether records can be upserted by this field: external ids and unique fields."""
    return kind == "external_id" or bool(definition.get("unique"))


def scalar_schema(kind: str, definition: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a value of a stored, one-column type (without null)."""
    max_length = definition.get("max_length", 255)
    if kind == "email":
        return {"type": "string", "format": "email", "maxLength": max_length}
    if kind == "url":
        return {
            "type": "string",
            "format": "uri",
            "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
            "maxLength": max_length,
        }
    if kind == "phone":
        # ``\-`` in a character class reads the same in Python and ECMA-262 regexes.
        return {"type": "string", "pattern": PHONE.pattern, "maxLength": max_length}
    if kind == "rich_text":
        return {
            "type": "string",
            "maxLength": max_length,
            "description": "HTML, sanitised on save (no script).",
        }
    if kind in TEXT_TYPES:
        return {"type": "string", "maxLength": max_length}
    if kind in {"integer", "duration"}:
        schema = _integer(
            definition.get("min", 0 if kind == "duration" else None), definition.get("max")
        )
        if kind == "duration":
            schema["description"] = "A duration in seconds."
        return schema
    if kind in DECIMAL_TYPES:
        return _decimal(
            definition["precision"],
            definition["scale"],
            definition.get("min"),
            definition.get("max"),
        )
    if kind == "boolean":
        return {"type": "boolean"}
    if kind == "date":
        return {"type": "string", "format": "date"}
    if kind == "datetime":
        return {
            "type": "string",
            "format": "date-time",
            "description": "A point in time, ISO 8601 with an offset (sent back in UTC).",
        }
    if kind == "time":
        return _time()
    if kind == "picklist":
        return {"type": "string", "enum": picklist_values(definition)}
    raise ValueError(f"no scalar schema for {kind}")


def input_value_schema(definition: Mapping[str, Any], *, required: bool) -> dict[str, Any]:
    """What the codec accepts for one writable field; null unless the field is required."""
    kind = definition["type"]
    if kind == "json":
        return {"description": "Any JSON value."}
    schema = _value(kind, definition, writing=True)
    if required:
        if schema.get("type") == "string":
            schema["minLength"] = 1
        if schema.get("type") == "array":
            schema["minItems"] = 1
        return schema
    return _nullable(schema)


def output_value_schema(model: OrgModel, obj: ObjectModel, name: str) -> dict[str, Any]:
    """What the record service sends for one field (always nullable)."""
    field = obj.fields[name]
    definition = field.definition
    kind = field.type
    if kind == "json":
        return {"description": "Any JSON value."}
    if kind == "formula":
        return _nullable(_formula_value(definition))
    if kind == "rollup_summary":
        schema = _sql_value(field.columns[SIMPLE].type)
        schema["description"] = (
            f"A {definition['function']} of {definition['relation']} records, kept current "
            "by the platform. " + schema.get("description", "")
        ).strip()
        return _nullable(schema)
    if kind == "auto_number":
        return {"type": ["string", "null"], "description": f"Numbered as {definition['pattern']}."}
    return _nullable(_value(kind, definition, writing=False))


def _value(kind: str, definition: Mapping[str, Any], *, writing: bool) -> dict[str, Any]:
    if kind == "multi_picklist":
        return {
            "type": "array",
            "items": {"type": "string", "enum": picklist_values(definition)},
            "uniqueItems": True,
            "description": "Distinct values, kept in the picklist's order.",
        }
    if kind in {"lookup", "master_detail"} and "targets" in definition:
        return {
            "type": "object",
            "description": "A polymorphic lookup: the target object and the record id.",
            "required": ["object", "id"],
            "properties": {
                "object": {"type": "string", "enum": list(definition["targets"])},
                "id": dict(ID_SCHEMA),
            },
            "additionalProperties": False,
        }
    if kind in {"lookup", "master_detail"}:
        return {**ID_SCHEMA, "description": f"The id of the {definition['target']} record."}
    if kind in {"address", "person_name", "geolocation"}:
        return _compound(kind, definition, writing=writing)
    return scalar_schema(kind, definition)


def _compound(kind: str, definition: Mapping[str, Any], *, writing: bool) -> dict[str, Any]:
    if kind == "geolocation":
        scale = definition.get("scale", 7)
        subs = {
            "latitude": _nullable(_decimal(None, scale, -90, 90)),
            "longitude": _nullable(_decimal(None, scale, -180, 180)),
        }
        required = list(subs)
    else:
        subs = {
            sub: {"type": ["string", "null"], "maxLength": length}
            for sub, length in COMPOUND_SUBS[kind].items()
        }
        required = [] if writing else list(subs)
    schema: dict[str, Any] = {"type": "object", "properties": subs, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def _formula_value(definition: Mapping[str, Any]) -> dict[str, Any]:
    return_type = definition["return_type"]
    if return_type in DECIMAL_TYPES:
        schema = _decimal(None, definition.get("scale", 2), writable=False)
    elif return_type == "integer":
        schema = {"type": "integer"}
    elif return_type == "text":
        schema = {"type": "string"}
    else:
        schema = scalar_schema(return_type, definition)
    note = f"Computed from `{definition['expression']}`."
    schema["description"] = f"{note} {schema.get('description', '')}".strip()
    return schema


def _sql_value(column_type: Any) -> dict[str, Any]:
    """The JSON Schema of a value read from a column of this type (roll-ups)."""
    if isinstance(column_type, ExactDecimal):
        return _decimal(None, column_type.scale, writable=False)
    if isinstance(column_type, UTCDateTime):
        return {"type": "string", "format": "date-time"}
    if isinstance(column_type, sa.Integer):
        return {"type": "integer"}
    if isinstance(column_type, sa.Boolean):
        return {"type": "boolean"}
    if isinstance(column_type, sa.DateTime):
        return {"type": "string", "format": "date-time"}
    if isinstance(column_type, sa.Date):
        return {"type": "string", "format": "date"}
    if isinstance(column_type, sa.Time):
        return _time()
    if isinstance(column_type, sa.String):
        return {"type": "string"}
    return {}


def _time() -> dict[str, Any]:
    return {
        "type": "string",
        "format": "time-local",
        "pattern": TIME_PATTERN,
        "description": "A time of day without a time zone (HH:MM[:SS[.ffffff]]).",
    }


def _decimal(
    precision: int | None, scale: int, minimum=None, maximum=None, *, writable: bool = True
) -> dict[str, Any]:
    """An exact decimal of ``scale`` places (``precision`` digits in all, when bounded)."""
    schema: dict[str, Any] = {
        "type": "number",
        "multipleOf": 1 if scale == 0 else float(f"1e-{scale}"),
    }
    if precision is not None:
        bound = 10 ** (precision - scale)
        schema["exclusiveMinimum"], schema["exclusiveMaximum"] = -bound, bound
    if minimum is not None:
        schema["minimum"] = _number(minimum)
    if maximum is not None:
        schema["maximum"] = _number(maximum)
    digits = f"at most {precision - scale} digits before the point and " if precision else ""
    schema["description"] = (
        f"An exact decimal: {digits}at most {scale} decimal places. Sent as a JSON number "
        "written from a decimal (never through floating point); read it with a decimal "
        "parser to keep it exact."
    )
    if writable:
        schema["description"] += " A numeric string is accepted as well when writing."
    return schema


def _integer(minimum=None, maximum=None) -> dict[str, Any]:
    return {
        "type": "integer",
        "minimum": _number(minimum) if minimum is not None else -INT64_MAX,
        "maximum": _number(maximum) if maximum is not None else INT64_MAX,
    }


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """Add ``null`` to a schema's type (and enum)."""
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    return schema


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise TypeError("not a number")
    if isinstance(value, int):
        return value
    exact = Decimal(str(value))
    return int(exact) if exact == exact.to_integral_value() else float(exact)
