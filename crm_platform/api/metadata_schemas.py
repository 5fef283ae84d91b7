"""The metadata area's schemas: the shipped metadata JSON Schemas as components, and the
shapes the metadata API answers with (stored objects and fields, history, diffs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apispec import APISpec

from crm_platform.metadata import Kind, load_schema

from .openapi import ref


def kind_schema_name(kind: Kind) -> str:
    """The component name of a metadata kind's definitions (``ValidationRuleDefinition``)."""
    return "".join(part.capitalize() for part in kind.name.split("_")) + "Definition"


def add_metadata_schemas(spec: APISpec, kinds: list[Kind]) -> None:
    """Labels, object and field definitions (whole, patch, replacement), the definitions
    of every other kind, and what the metadata endpoints answer with."""
    refs = {"crm:label": "Label", "crm:field": "FieldDefinition", "crm:object": "ObjectDefinition"}
    refs.update({f"crm:{kind.name}": kind_schema_name(kind) for kind in kinds})
    _import_schema(spec, "Label", load_schema("label"), refs)
    field_schema = load_schema("field")
    _import_schema(spec, "FieldDefinition", field_schema, refs)
    object_schema = load_schema("object")
    _import_schema(spec, "ObjectDefinition", object_schema, refs)
    optional_name = {k: v for k, v in object_schema.items() if k != "required"}
    _import_schema(
        spec,
        "ObjectPatch",
        {
            **optional_name,
            "title": "object (changes)",
            "description": "The attributes to change; the rest stay as they are. Fields "
            "given are created or replaced; fields left out are kept. `api_name`, when "
            "given, must be the object's own.",
        },
        refs,
    )
    _import_schema(
        spec,
        "ObjectReplacement",
        {
            **optional_name,
            "title": "object (replacement)",
            "description": "The whole definition: attributes left out take their defaults "
            "and fields left out go to the recycle bin. The object's name comes from the "
            "URL (an `api_name` in the body is ignored).",
        },
        refs,
    )
    common = ("type", "label", "description", "help_text", "required", "unique")
    common += ("track_history", "default", "default_expression")
    properties = field_schema["properties"]
    spec.components.schema(
        "FieldPatch",
        {
            "type": "object",
            "title": "field (changes)",
            "description": "The options to change, merged over the stored definition and "
            "checked as a whole. A new `type` keeps only the options every type has plus "
            "the ones given. `api_name`, when given, must be the field's own.",
            "properties": {
                "api_name": {"type": "string"},
                **{
                    name: ref("Label") if "$ref" in properties[name] else properties[name]
                    for name in common
                },
            },
            "additionalProperties": True,
        },
    )
    for kind in kinds:
        _import_schema(spec, kind_schema_name(kind), kind.schema, refs)
    status = {
        "type": "string",
        "description": "Present when the component is not active (e.g. `deleted`).",
    }
    spec.components.schema(
        "LabelLanguages",
        {
            "type": "object",
            "description": "Every language of a label (`{en: Deal, zh: 商机}`); empty when "
            "the label is one string for every language.",
            "additionalProperties": {"type": "string"},
        },
    )
    resolved = {
        "type": "string",
        "description": "In the request's language (`Accept-Language`), else the org's "
        "default language, else any language the label has.",
    }
    spec.components.schema(
        "MetadataPicklistValue",
        {
            "type": "object",
            "description": "A picklist value in full, whether it was defined as a string or a map.",
            "required": ["value", "label", "labels", "active", "default", "attributes"],
            "properties": {
                "value": {"type": "string", "description": "What records store."},
                "label": {
                    **resolved,
                    "description": "The value when it has no label. " + resolved["description"],
                },
                "labels": ref("LabelLanguages"),
                "active": {
                    "type": "boolean",
                    "description": "An inactive value stays on the records that have it "
                    "and is refused when written anew.",
                },
                "default": {"type": "boolean"},
                "color": {"type": "string"},
                "attributes": {
                    "type": "object",
                    "description": "What the value means to the business "
                    "(`PICKLIST_ATTR(stage, 'probability')` reads it).",
                },
                "valid_for": {"type": "array", "items": {"type": ["string", "boolean"]}},
            },
            "additionalProperties": False,
        },
    )
    spec.components.schema(
        "MetadataField",
        {
            "type": "object",
            "description": "A stored field definition (canonical form: type defaults filled "
            "in), its labels resolved for the request's language beside `labels` (and "
            "`help_texts`) with all languages. Writes accept this form back.",
            "required": ["api_name", "type", "label", "labels"],
            "properties": {
                "api_name": {"type": "string"},
                "type": field_schema["properties"]["type"],
                "label": resolved,
                "labels": ref("LabelLanguages"),
                "help_text": resolved,
                "help_texts": ref("LabelLanguages"),
                "values": {"type": "array", "items": ref("MetadataPicklistValue")},
                "status": status,
            },
            "additionalProperties": True,
        },
    )
    spec.components.schema(
        "MetadataObject",
        {
            "type": "object",
            "description": "A stored object definition with its active fields (canonical "
            "form), its labels resolved for the request's language beside `labels` and "
            "`plural_labels` with all languages. Writes accept this form back.",
            "required": ["api_name", "label", "labels", "name_field", "sharing", "fields"],
            "properties": {
                "api_name": {"type": "string"},
                "label": resolved,
                "labels": ref("LabelLanguages"),
                "plural_label": resolved,
                "plural_labels": ref("LabelLanguages"),
                "description": {"type": "string"},
                "name_field": {"type": "string"},
                "sharing": {"type": "string"},
                "fields": {"type": "array", "items": ref("MetadataField")},
                "status": status,
            },
            "additionalProperties": True,
        },
    )
    spec.components.schema(
        "PurgedComponent",
        {
            "type": "object",
            "description": "What is left of a component removed for good.",
            "required": ["api_name", "status"],
            "properties": {"api_name": {"type": "string"}, "status": {"const": "purged"}},
            "additionalProperties": False,
        },
    )
    definition = {
        "anyOf": [{"type": "object"}, {"type": "null"}],
        "description": "A definition as stored (null where the component did not exist).",
    }
    spec.components.schema(
        "MetadataHistory",
        {
            "type": "object",
            "description": "An object's revisions, newest first: one per metadata version "
            "that changed the object or its fields.",
            "required": ["api_name", "history"],
            "properties": {
                "api_name": {"type": "string"},
                "history": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["revision", "at", "by", "changes"],
                        "properties": {
                            "revision": {
                                "type": "integer",
                                "minimum": 1,
                                "description": "The metadata version this change set made.",
                            },
                            "at": {"type": "string", "format": "date-time"},
                            "by": {
                                "type": "object",
                                "required": ["id", "email"],
                                "properties": {
                                    "id": {"type": "string"},
                                    "email": {"type": ["string", "null"]},
                                },
                            },
                            "changes": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["kind", "name", "action", "before", "after"],
                                    "properties": {
                                        "kind": {"type": "string"},
                                        "name": {"type": "string"},
                                        "action": {
                                            "enum": [
                                                "create",
                                                "update",
                                                "delete",
                                                "restore",
                                                "purge",
                                            ]
                                        },
                                        "before": definition,
                                        "after": definition,
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    )
    spec.components.schema(
        "MetadataRevision",
        {
            "type": "object",
            "required": ["revision", "definition"],
            "properties": {
                "revision": {"type": "integer", "minimum": 0},
                "definition": {
                    "description": "The object with its active fields right after that "
                    "version, as stored (labels as written); null when the object did not "
                    "exist then (or was deleted).",
                    "anyOf": [ref("ObjectDefinition"), {"type": "null"}],
                },
            },
            "additionalProperties": False,
        },
    )
    spec.components.schema(
        "MetadataDiff",
        {
            "type": "object",
            "description": "How an object's definition changed between two metadata versions.",
            "required": ["from", "to", "changes", "text"],
            "properties": {
                "from": {"type": "integer"},
                "to": {"type": "integer", "description": "By default the current version."},
                "changes": {
                    "type": "array",
                    "description": "The paths that changed (fields keyed by name: "
                    "`fields.amount.scale`).",
                    "items": {
                        "type": "object",
                        "required": ["path", "before", "after"],
                        "properties": {
                            "path": {"type": "string"},
                            "before": {"description": "The value before (any JSON, or null)."},
                            "after": {"description": "The value after (any JSON, or null)."},
                        },
                    },
                },
                "text": {"type": "string", "description": "A unified diff of the YAML."},
            },
            "additionalProperties": False,
        },
    )


def _import_schema(spec: APISpec, name: str, schema: Mapping[str, Any], refs: Mapping[str, str]):
    """A shipped metadata JSON Schema as a component: ``$id`` refs and ``$defs`` rewired."""
    defs = {f"{name}_{key}": value for key, value in schema.get("$defs", {}).items()}
    local = {f"#/$defs/{key[len(name) + 1 :]}": f"#/components/schemas/{key}" for key in defs}
    mapping = {**{k: f"#/components/schemas/{v}" for k, v in refs.items()}, **local}

    def rewire(node: Any) -> Any:
        if isinstance(node, Mapping):
            return {
                key: (mapping.get(value, value) if key == "$ref" else rewire(value))
                for key, value in node.items()
                if key not in {"$id", "$schema", "$defs"}
            }
        if isinstance(node, list):
            return [rewire(item) for item in node]
        return node

    spec.components.schema(name, rewire(schema))
    for def_name, def_schema in defs.items():
        spec.components.schema(def_name, rewire(def_schema))
