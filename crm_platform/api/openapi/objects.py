"""The schemas of one object's records: as read, as created, as changed, and a page.

Built straight from the compiled object; the values of each field come from
``values``. Also the component names per object and the schemas every object
shares (tracked history, aggregate groups).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import Any

from apispec import APISpec

from crm_platform.metadata import Chooser, resolve_label
from crm_platform.runtime import ObjectModel, OrgModel
from crm_platform.runtime.records.codec import SYSTEM_FIELDS
from crm_platform.runtime.records.names import NAMES_KEY, reference_members

from .components import ID_SCHEMA, ref
from .values import input_value_schema, is_required, is_writable, output_value_schema

SCALAR_VALUE: dict[str, Any] = {"type": ["string", "number", "boolean", "null"]}


class ComponentNames:
    """Schema names per object: ``<o>``, ``<o>_input``, ``<o>_patch``, ``<o>_page``.

    API names never contain ``__``, so when ``<o>_input`` is itself an object's
    name the derived schema becomes ``<o>__input`` and never collides.
    """

    def __init__(self, model: OrgModel) -> None:
        self.taken = set(model.objects)

    def derived(self, obj: ObjectModel, suffix: str) -> str:
        name = f"{obj.api_name}_{suffix}"
        return f"{obj.api_name}__{suffix}" if name in self.taken else name


def add_shared_record_schemas(spec: APISpec) -> None:
    """The schemas every object's endpoints share: tracked history and aggregate groups."""
    components = spec.components
    components.schema(
        "AggregateResult",
        {
            "type": "object",
            "required": ["groups"],
            "properties": {
                "groups": {
                    "type": "array",
                    "description": "One entry per group, ordered by the group values (nulls "
                    "last); without `group_by`, a single entry for all the records.",
                    "items": {
                        "type": "object",
                        "description": "Each `group_by` expression and each metric, keyed by "
                        "its text as sent (`stage`, `count`, `sum(amount)`). Counts are "
                        "integers; sums, averages, minimums and maximums of numbers are exact "
                        "decimals (an average has four more places than its field); dates, "
                        "times and datetimes are ISO 8601 strings; a metric over no values "
                        "is null.",
                        "additionalProperties": SCALAR_VALUE,
                    },
                }
            },
            "additionalProperties": False,
        },
    )
    components.schema(
        "RecordHistory",
        {
            "type": "object",
            "required": ["history"],
            "properties": {
                "history": {
                    "type": "array",
                    "description": "Tracked field changes, newest first.",
                    "items": {
                        "type": "object",
                        "required": ["field", "old_value", "new_value", "changed_by", "changed_at"],
                        "properties": {
                            "field": {"type": "string"},
                            "old_value": {"description": "The value before (any JSON)."},
                            "new_value": {"description": "The value after (any JSON)."},
                            "changed_by": {
                                "type": "object",
                                "required": ["id", "email"],
                                "properties": {
                                    "id": dict(ID_SCHEMA),
                                    "email": {"type": ["string", "null"]},
                                },
                            },
                            "changed_at": {"type": "string", "format": "date-time"},
                            NAMES_KEY: {
                                "type": "object",
                                "description": "Only on changes of a lookup: the name of "
                                "the record or user the old and the new value point to, as "
                                "the record's own `_names` shows it today (null when you "
                                "may not see it); a value that was empty has no key.",
                                "properties": {
                                    "old_value": NAME_VALUE,
                                    "new_value": NAME_VALUE,
                                },
                                "additionalProperties": False,
                            },
                        },
                    },
                }
            },
        },
    )


def add_object_schemas(
    spec: APISpec, model: OrgModel, obj: ObjectModel, names: ComponentNames
) -> None:
    """``<o>``, ``<o>_input``, ``<o>_patch`` and ``<o>_page`` (named by ``names``)."""
    record = obj.api_name
    spec.components.schema(record, record_schema(model, obj))
    spec.components.schema(names.derived(obj, "input"), input_schema(obj, creating=True))
    spec.components.schema(names.derived(obj, "patch"), input_schema(obj, creating=False))
    spec.components.schema(
        names.derived(obj, "page"),
        {
            "type": "object",
            "required": ["records", "next_cursor"],
            "properties": {
                "records": {"type": "array", "items": ref(record)},
                "next_cursor": {
                    "type": ["string", "null"],
                    "description": "Pass as `cursor` for the next page; null on the last page.",
                },
                "total": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "With `count=true`: the exact number of matching records.",
                },
                "total_capped": {
                    "type": "boolean",
                    "description": "Present (true) when the count stopped at its cap.",
                },
            },
            "additionalProperties": False,
        },
    )


def record_schema(model: OrgModel, obj: ObjectModel) -> dict[str, Any]:
    """The JSON Schema of a record as the API sends it (``RecordSession._record``)."""
    system = _system_properties()
    properties: dict[str, Any] = {"id": system["id"], "owner_id": system["owner_id"]}
    for name, field in obj.fields.items():
        schema = _annotate(output_value_schema(model, obj, name), field.definition, field.type)
        if not is_writable(field.type):
            schema["readOnly"] = True
        properties[name] = schema
    for name in SYSTEM_FIELDS:
        properties.setdefault(name, system[name])
    properties[NAMES_KEY] = names_schema(obj)
    properties["deleted_at"] = {
        "type": "string",
        "format": "date-time",
        "readOnly": True,
        "description": "When the record went to the recycle bin (only for records read "
        "with `deleted=true`).",
    }
    label = text_label(obj.definition.get("label"), obj.api_name)
    return {
        "type": "object",
        "title": label,
        "description": f"A {label} record. Which fields appear follows the `fields` parameter; "
        "the system fields always do. Dotted paths asked for in `fields` come back "
        "as extra keys (`account.name`).",
        "required": [*SYSTEM_FIELDS, NAMES_KEY],
        "properties": properties,
        "patternProperties": {r"\.": {"description": "A value reached through a lookup."}},
        "additionalProperties": False,
    }


NAME_VALUE: dict[str, Any] = {"type": ["string", "null"]}


def names_schema(obj: ObjectModel) -> dict[str, Any]:
    """``_names``: the display name of what each reference of the record points to."""
    properties: dict[str, Any] = {}
    for member in reference_members(obj):
        properties[member] = {
            **NAME_VALUE,
            "description": f"The name of {_pointed_at(obj, member)} `{member}` points to; "
            "null when you may not see it (or it no longer exists).",
        }
    return {
        "type": "object",
        "readOnly": True,
        "description": "The display name of what each reference shown in the record points "
        "to: lookups, `owner_id`, `created_by`, `updated_by`. A key is present exactly when "
        "its member is shown with a value; its value is the target's name as "
        "`<lookup>.<name field>` would read it: null for a record you cannot see, an "
        "object or name field you may not read, or a record that no longer exists. Users "
        "are named by their `name`.",
        "properties": properties,
        "additionalProperties": False,
    }


def _pointed_at(obj: ObjectModel, member: str) -> str:
    field = obj.fields.get(member)
    if field is None:
        return "the owner (a user, or a queue by its label)" if member == "owner_id" else "the user"
    if len(field.targets) > 1:
        return "the record or user"
    target = field.targets[0]
    return "the user" if target == "user" else f"the {target} record (its name field)"


def input_schema(obj: ObjectModel, *, creating: bool) -> dict[str, Any]:
    """The JSON Schema of a create (``creating``) or update body (``RecordCodec.load``)."""
    properties: dict[str, Any] = {
        "owner_id": {
            **ID_SCHEMA,
            "description": "The owner (a user id); by default the user creating the record.",
        }
    }
    required = []
    for name, field in obj.fields.items():
        if not is_writable(field.type):
            continue
        definition = field.definition
        must = is_required(field.type, definition)
        properties[name] = _annotate(
            input_value_schema(definition, required=must), definition, field.type
        )
        if must and creating and not _has_default(definition):
            required.append(name)
    label = text_label(obj.definition.get("label"), obj.api_name)
    schema: dict[str, Any] = {
        "type": "object",
        "title": f"{label} ({'create' if creating else 'update'})",
        "description": (
            "The writable fields of a new record; fields left out take their default."
            if creating
            else "The fields to change; every field is optional."
        ),
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def _system_properties() -> dict[str, dict[str, Any]]:
    def stamp(description: str) -> dict[str, Any]:
        return {
            "type": "string",
            "format": "date-time",
            "readOnly": True,
            "description": description,
        }

    def user(description: str, read_only: bool = True) -> dict[str, Any]:
        schema = {**ID_SCHEMA, "description": description}
        if read_only:
            schema["readOnly"] = True
        return schema

    return {
        "id": {**ID_SCHEMA, "readOnly": True},
        "owner_id": user("The owner (a user or queue id).", read_only=False),
        "created_at": stamp("When the record was created (UTC, ISO 8601 with offset)."),
        "created_by": user("Who created the record."),
        "updated_at": stamp("When the record last changed (UTC, ISO 8601 with offset)."),
        "updated_by": user("Who changed the record last."),
        "version": {
            "type": "integer",
            "minimum": 1,
            "readOnly": True,
            "description": "Goes up by one with every change (the ETag).",
        },
    }


def _annotate(schema: dict[str, Any], definition: Mapping[str, Any], kind: str) -> dict[str, Any]:
    schema["title"] = text_label(definition.get("label"), definition["api_name"])
    notes = [
        str(text)
        for text in (definition.get("description"), _label_text(definition.get("help_text")))
        if text
    ]
    if schema.get("description"):
        notes.append(schema["description"])
    if notes:
        schema["description"] = " ".join(notes)
    schema["x-crm-type"] = kind
    return schema


def _label_text(label: Any) -> str | None:
    return text_label(label, "") or None


def _has_default(definition: Mapping[str, Any]) -> bool:
    if "default" in definition or "default_expression" in definition:
        return True
    values = definition.get("values") or ()
    return any(isinstance(v, Mapping) and v.get("default") for v in values)


# How the document being built picks a label's language: set by ``build_openapi`` for
# one build. A context variable, not a parameter, because every area's describer has the
# same (spec, model, registry) signature and only the record schemas name labels.
DOCUMENT_LABELS: ContextVar[Chooser | None] = ContextVar("crm_openapi_labels", default=None)


def _english(offered: Sequence[str]) -> str | None:
    return "en" if "en" in offered else None


def text_label(label: Any, default: str) -> str:
    """A label in the document's language (English when built outside a request)."""
    if isinstance(label, str):
        return label
    if isinstance(label, Mapping) and label:
        return resolve_label(label, DOCUMENT_LABELS.get() or _english)
    return default
