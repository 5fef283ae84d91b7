"""Canonical form of definitions: what is stored, what `dump` writes, what `apply` compares.

Type defaults are filled in and options appear in one fixed order, so applying
an unchanged definition (short or canonical) is recognised as a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crm_platform.fieldtypes import field_type

OBJECT_KEY_ORDER = (
    "api_name",
    "label",
    "plural_label",
    "description",
    "name_field",
    "sharing",
    "searchable",
    "track_history",
    "fields",
)

FIELD_KEY_ORDER = (
    "api_name",
    "type",
    "label",
    "description",
    "help_text",
    "max_length",
    "precision",
    "scale",
    "min",
    "max",
    "values",
    "controlling_field",
    "restricted",
    "target",
    "targets",
    "on_delete",
    "hierarchy",
    "active_only",
    "relationship_name",
    "reparentable",
    "expression",
    "return_type",
    "relation",
    "function",
    "field",
    "filter",
    "pattern",
    "start",
    "mask",
    "max_bytes",
    "accept",
    "required",
    "unique",
    "track_history",
    "default",
    "default_expression",
)

VALUE_KEY_ORDER = ("value", "label", "active", "default", "color", "attributes", "valid_for")

# Flags that are stored only when true, so short and long forms compare equal.
FALSE_BY_DEFAULT = frozenset(
    {
        "required",
        "unique",
        "track_history",
        "hierarchy",
        "active_only",
        "restricted",
        "reparentable",
    }
)

DEFAULT_SHARING = "public_read_write"


def humanise(api_name: str) -> str:
    """A default label: ``due_date`` -> ``Due date``."""
    return api_name.replace("_", " ").capitalize()


def pluralise(label: Any) -> Any:
    """A default plural label (English rules; other locales keep their label)."""
    if isinstance(label, str):
        return _plural(label)
    return {locale: _plural(text) if locale == "en" else text for locale, text in label.items()}


def _plural(text: str) -> str:
    if text.endswith(("s", "x", "z", "ch", "sh")):
        return text + "es"
    if text.endswith("y") and len(text) > 1 and text[-2] not in "aeiou":
        return text[:-1] + "ies"
    return text + "s"


def _ordered(data: Mapping[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    known = {key: data[key] for key in order if key in data}
    extra = {key: data[key] for key in sorted(data) if key not in order}
    return {**known, **extra}


def canonical_picklist_value(value: Any) -> Any:
    """A picklist value as a plain string when it has nothing but a value, else a map."""
    if isinstance(value, str):
        return value
    cleaned = {k: v for k, v in value.items() if not (k == "active" and v is True)}
    if cleaned.get("default") is False:
        del cleaned["default"]
    if set(cleaned) == {"value"}:
        return cleaned["value"]
    return _ordered(cleaned, VALUE_KEY_ORDER)


def canonical_field(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical form of a (schema-valid) field definition."""
    data: dict[str, Any] = {**field_type(raw["type"]).canonical_defaults(raw), **raw}
    data.setdefault("label", humanise(raw["api_name"]))
    if raw["type"] == "lookup" and "targets" in data:
        data["on_delete"] = data.get("on_delete", "set_null")
    if "values" in data:
        data["values"] = [canonical_picklist_value(v) for v in data["values"]]
    for flag in FALSE_BY_DEFAULT:
        if data.get(flag) is False:
            del data[flag]
    return _ordered(data, FIELD_KEY_ORDER)


def canonical_object(
    raw: Mapping[str, Any], existing_fields: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """The canonical form of a (schema-valid) object definition, its fields included.

    ``existing_fields`` are the object's stored fields when ``raw`` updates it. Adds
    the ``name`` field when the object names none (DESIGN §0: every object has one).
    """
    data = dict(raw)
    data.setdefault("label", humanise(raw["api_name"]))
    data.setdefault("plural_label", pluralise(data["label"]))
    fields = [canonical_field(f) for f in raw.get("fields", [])]
    names = {f["api_name"] for f in [*fields, *existing_fields]}
    if "name_field" not in data:
        if "name" not in names:
            fields.insert(0, canonical_field(_default_name_field()))
        data["name_field"] = "name"
    has_master = any(f["type"] == "master_detail" for f in [*fields, *existing_fields])
    data.setdefault("sharing", "controlled_by_parent" if has_master else DEFAULT_SHARING)
    if data.get("searchable") is True:
        del data["searchable"]
    if data.get("track_history") is False:
        del data["track_history"]
    data["fields"] = fields
    return _ordered(data, OBJECT_KEY_ORDER)


def _default_name_field() -> dict[str, Any]:
    return {"api_name": "name", "type": "text", "label": "Name", "required": True}


def object_header(definition: Mapping[str, Any]) -> dict[str, Any]:
    """An object definition without its fields (what the object component stores)."""
    return {k: v for k, v in definition.items() if k != "fields"}
