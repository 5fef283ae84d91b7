"""How the metadata API documents where a field is used, type changes and old names
(``metadata_api``; renames themselves are a PATCH of the object or field)."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from .metadata_api import VERSION_HEADER
from .openapi import JSON, error_responses, ref

NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
FIELD = {"name": "field_name", "in": "path", "required": True, "schema": {"type": "string"}}
ALIAS = {"name": "alias", "in": "path", "required": True, "schema": {"type": "string"}}
TAGS = ["metadata"]

USAGE = {
    "type": "object",
    "required": ["kind", "name", "where"],
    "properties": {
        "kind": {"type": "string", "description": "The kind of the component that refers."},
        "name": {"type": "string", "description": "Its name (`object.field` for a field)."},
        "where": {"type": "string", "description": "The place in its definition."},
    },
}
CHANGE_BODY = {
    "type": "object",
    "description": "The field's new definition (its `type` and that type's options), plus "
    "what to do with values that do not convert.",
    "properties": {
        "type": {"type": "string"},
        "on_unconvertible": {
            "enum": ["refuse", "clear"],
            "default": "refuse",
            "description": "`refuse`: a 409 listing them; `clear`: empty them after keeping "
            "their old values in the field's history.",
        },
        "mapping": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "For a lookup given a new `target`: {old record id: new record id}.",
        },
    },
    "additionalProperties": True,
}
UNCONVERTIBLE = {
    "type": "object",
    "required": ["count", "records", "truncated"],
    "properties": {
        "count": {"type": "integer"},
        "records": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "required": ["id", "value"],
                "properties": {"id": {"type": "string"}, "value": {}},
            },
        },
        "truncated": {"type": "boolean"},
    },
}
PREVIEW = {
    "type": "object",
    "required": ["field", "changes"],
    "properties": {
        "field": {"type": "string"},
        "changes": {"type": "boolean", "description": "false when the definition is the same"},
        "from": {"type": "object"},
        "to": {"type": "object"},
        "conversion": {"type": "string"},
        "records_with_a_value": {"type": "integer"},
        "convertible": {"type": "integer"},
        "unconvertible": UNCONVERTIBLE,
        "effect": {"type": "array", "items": {"type": "string"}},
        "problems": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "What the change would be refused for, by path.",
        },
    },
}
ALIAS_INFO = {
    "type": ["object", "null"],
    "properties": {"name": {"type": "string"}, "since": {"type": "string"}},
}
ALIASES = {
    "type": "object",
    "required": ["object", "fields"],
    "properties": {
        "object": ALIAS_INFO,
        "fields": {"type": "object", "additionalProperties": ALIAS_INFO},
    },
}


def _response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {VERSION_HEADER: "MetadataVersion"},
        "content": {JSON: {"schema": schema}},
    }


def describe_changes(spec: APISpec) -> None:
    """Usages, type-change preview and change, aliases."""
    field = "/metadata/objects/{name}/fields/{field_name}"
    spec.path(
        field + "/usages",
        parameters=[NAME, FIELD],
        operations={
            "get": {
                "operationId": "metadata_field_usages",
                "summary": "Every component that refers to a field",
                "description": "A field in use cannot be deleted or purged (409 with this list).",
                "tags": TAGS,
                "responses": {
                    "200": _response(
                        "Where the field is used",
                        {
                            "type": "object",
                            "required": ["object", "field", "usages"],
                            "properties": {
                                "object": {"type": "string"},
                                "field": {"type": "string"},
                                "usages": {"type": "array", "items": USAGE},
                            },
                        },
                    ),
                    **error_responses("Unauthorized", "NotFound"),
                },
            }
        },
    )
    body = {"required": True, "content": {JSON: {"schema": CHANGE_BODY}}}
    spec.path(
        field + "/type-change/preview",
        parameters=[NAME, FIELD],
        operations={
            "post": {
                "operationId": "metadata_preview_type_change",
                "summary": "What changing a field's type would do (nothing is changed); "
                "administrators only",
                "tags": TAGS,
                "requestBody": body,
                "responses": {
                    "200": _response("The preview", PREVIEW),
                    **error_responses("BadRequest", "Unauthorized", "Forbidden", "NotFound"),
                },
            }
        },
    )
    spec.path(
        field + "/type-change",
        parameters=[NAME, FIELD],
        operations={
            "post": {
                "operationId": "metadata_change_type",
                "summary": "Change a field's type, converting its values; administrators only",
                "tags": TAGS,
                "requestBody": body,
                "responses": {
                    "200": _response("The field as stored", ref("MetadataField")),
                    **error_responses(
                        "BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict"
                    ),
                },
            }
        },
    )
    spec.path(
        "/metadata/objects/{name}/aliases",
        parameters=[NAME],
        operations={
            "get": {
                "operationId": "metadata_object_aliases",
                "summary": "The old names an object and its fields still answer to",
                "tags": TAGS,
                "responses": {
                    "200": _response("The old names", ALIASES),
                    **error_responses("Unauthorized", "NotFound"),
                },
            }
        },
    )
    removed = {
        "200": _response("The old names left", ALIASES),
        **error_responses("Unauthorized", "Forbidden", "NotFound"),
    }
    spec.path(
        "/metadata/objects/{name}/aliases/{alias}",
        parameters=[NAME, ALIAS],
        operations={
            "delete": {
                "operationId": "metadata_remove_object_alias",
                "summary": "Stop answering to an old object name; administrators only",
                "tags": TAGS,
                "responses": removed,
            }
        },
    )
    spec.path(
        field + "/aliases/{alias}",
        parameters=[NAME, FIELD, ALIAS],
        operations={
            "delete": {
                "operationId": "metadata_remove_field_alias",
                "summary": "Stop answering to an old field name; administrators only",
                "tags": TAGS,
                "responses": removed,
            }
        },
    )
