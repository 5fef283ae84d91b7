"""How the metadata API (``metadata_api``) is documented: objects and fields, their
history, diff and rollback, and the generic endpoints of every other kind."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apispec import APISpec

from crm_platform.metadata import Kind, KindRegistry
from crm_platform.runtime import OrgModel

from .metadata_api import VERSION_HEADER
from .metadata_change_docs import describe_changes
from .metadata_schemas import add_metadata_schemas, kind_schema_name
from .openapi import JSON, error_responses, ref

CHANGE_ERRORS = ("BadRequest", "Unauthorized", "Forbidden")


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """The metadata endpoints: objects and fields, then one set per other kind."""
    del model  # the same for every model: the definitions travel as JSON
    kinds = [k for k in registry.kinds.values() if k.name not in {"object", "field"}]
    add_metadata_schemas(spec, kinds)
    spec.tag({"name": "metadata", "description": "Objects and fields, as definitions."})
    _add_metadata_endpoints(spec)
    describe_changes(spec)
    for kind in kinds:
        _add_kind_endpoints(spec, kind)


def _add_metadata_endpoints(spec: APISpec) -> None:
    name_param = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
    field_param = {
        "name": "field_name",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    language_param = {
        "name": "Accept-Language",
        "in": "header",
        "description": "The language to resolve labels in (`zh`, `en-US,en;q=0.8`); "
        "without a match, the org's default language, then any language a label has.",
        "schema": {"type": "string"},
    }
    tags = ["metadata"]
    spec.path(
        "/metadata",
        operations={
            "get": {
                "operationId": "metadata_index",
                "summary": "The metadata version and the kinds this server knows",
                "tags": tags,
                "responses": {
                    "200": _metadata_response(
                        "The index",
                        {
                            "type": "object",
                            "required": ["version", "kinds"],
                            "properties": {
                                "version": {"type": "integer"},
                                "kinds": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "kind": {"type": "string"},
                                            "path": {"type": "string"},
                                        },
                                    },
                                },
                            },
                        },
                    ),
                    **error_responses("Unauthorized"),
                },
            }
        },
    )
    spec.path(
        "/metadata/objects",
        parameters=[language_param],
        operations={
            "get": {
                "operationId": "metadata_list_objects",
                "summary": "Every object with its fields",
                "description": "Without `customize_application` or `view_setup`: only the "
                "objects and fields you may read (ADR 0019).",
                "tags": tags,
                "parameters": [
                    {
                        "name": "include_deleted",
                        "in": "query",
                        "schema": {"type": "boolean", "default": False},
                    }
                ],
                "responses": {
                    "200": _metadata_response(
                        "The objects",
                        {
                            "type": "object",
                            "required": ["objects"],
                            "properties": {
                                "objects": {"type": "array", "items": ref("MetadataObject")}
                            },
                        },
                    ),
                    **error_responses("Unauthorized"),
                },
            },
            "post": {
                "operationId": "metadata_create_object",
                "summary": "Create an object (and its table); administrators only",
                "tags": tags,
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": ref("ObjectDefinition")}},
                },
                "responses": {
                    "201": _metadata_response("The object as stored", ref("MetadataObject")),
                    **error_responses(
                        "BadRequest", "Unauthorized", "Forbidden", "Conflict", "PayloadTooLarge"
                    ),
                },
            },
        },
    )
    spec.path(
        "/metadata/objects/{name}",
        parameters=[name_param, language_param],
        operations={
            "get": {
                "operationId": "metadata_get_object",
                "summary": "One object's definition with its fields",
                "description": "An object in the recycle bin is found too (with `status`). "
                "Without `customize_application` or `view_setup`: only fields you may read; "
                "an object you may not read is not found.",
                "tags": tags,
                "responses": {
                    "200": _metadata_response("The object", ref("MetadataObject")),
                    **error_responses("Unauthorized", "NotFound"),
                },
            },
            "patch": {
                "operationId": "metadata_patch_object",
                "summary": "Change some attributes of an object (and add or replace fields); "
                "administrators only",
                "description": "A new `api_name` renames the object: metadata only, every "
                "reference rewritten in the same revision; the old name still answers in the "
                "record API, with a `Deprecation` header.",
                "tags": tags,
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": ref("ObjectPatch")}},
                },
                "responses": {
                    "200": _metadata_response("The object as stored", ref("MetadataObject")),
                    **error_responses(*CHANGE_ERRORS, "NotFound", "Conflict", "PayloadTooLarge"),
                },
            },
            "put": {
                "operationId": "metadata_replace_object",
                "summary": "Replace an object's definition; fields left out go to the "
                "recycle bin; administrators only",
                "tags": tags,
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": ref("ObjectReplacement")}},
                },
                "responses": {
                    "200": _metadata_response("The object as stored", ref("MetadataObject")),
                    **error_responses(*CHANGE_ERRORS, "NotFound", "Conflict", "PayloadTooLarge"),
                },
            },
            "delete": {
                "operationId": "metadata_delete_object",
                "summary": "Move an object (its table and data kept) to the recycle bin, or "
                "purge it; administrators only",
                "tags": tags,
                "parameters": _purge_parameters("object"),
                "responses": {
                    "200": _metadata_response(
                        "The object, now `deleted`; or `{api_name, status: purged}`",
                        {"anyOf": [ref("MetadataObject"), ref("PurgedComponent")]},
                    ),
                    **error_responses(*CHANGE_ERRORS, "NotFound"),
                },
            },
        },
    )
    spec.path(
        "/metadata/objects/{name}/restore",
        parameters=[name_param, language_param],
        operations={
            "post": {
                "operationId": "metadata_restore_object",
                "summary": "Bring an object back from the recycle bin; administrators only",
                "tags": tags,
                "responses": {
                    "200": _metadata_response("The restored object", ref("MetadataObject")),
                    **error_responses(*CHANGE_ERRORS, "NotFound"),
                },
            }
        },
    )
    spec.path(
        "/metadata/objects/{name}/history",
        parameters=[name_param],
        operations={
            "get": {
                "operationId": "metadata_object_history",
                "summary": "An object's revisions, newest first (`view_setup`)",
                "tags": tags,
                "responses": {
                    "200": _metadata_response("The revisions", ref("MetadataHistory")),
                    **error_responses("Unauthorized", "NotFound"),
                },
            }
        },
    )
    spec.path(
        "/metadata/objects/{name}/history/{revision}",
        parameters=[
            name_param,
            {
                "name": "revision",
                "in": "path",
                "required": True,
                "description": "A metadata version.",
                "schema": {"type": "integer", "minimum": 0},
            },
        ],
        operations={
            "get": {
                "operationId": "metadata_object_at_revision",
                "summary": "An object's definition as it was right after a metadata version",
                "tags": tags,
                "responses": {
                    "200": _metadata_response("The definition then", ref("MetadataRevision")),
                    **error_responses("Unauthorized", "NotFound"),
                },
            }
        },
    )
    spec.path(
        "/metadata/objects/{name}/diff",
        parameters=[name_param],
        operations={
            "get": {
                "operationId": "metadata_object_diff",
                "summary": "How an object's definition changed between two metadata versions",
                "tags": tags,
                "parameters": [
                    {
                        "name": "from",
                        "in": "query",
                        "required": True,
                        "description": "The metadata version to compare from.",
                        "schema": {"type": "integer"},
                    },
                    {
                        "name": "to",
                        "in": "query",
                        "description": "The metadata version to compare to (by default the "
                        "current one).",
                        "schema": {"type": "integer"},
                    },
                ],
                "responses": {
                    "200": _metadata_response("The differences", ref("MetadataDiff")),
                    **error_responses("BadRequest", "Unauthorized", "NotFound"),
                },
            }
        },
    )
    spec.path(
        "/metadata/objects/{name}/rollback",
        parameters=[name_param, language_param],
        operations={
            "post": {
                "operationId": "metadata_rollback_object",
                "summary": "Make an object what it was right after a metadata version (as a "
                "new revision); administrators only",
                "description": "Rolling back to a version before the object existed moves it "
                "to the recycle bin.",
                "tags": tags,
                "requestBody": {
                    "required": True,
                    "content": {
                        JSON: {
                            "schema": {
                                "type": "object",
                                "required": ["revision"],
                                "properties": {"revision": {"type": "integer", "minimum": 1}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": _metadata_response("The object as stored", ref("MetadataObject")),
                    **error_responses(*CHANGE_ERRORS, "NotFound", "Conflict", "PayloadTooLarge"),
                },
            }
        },
    )
    spec.path(
        "/metadata/objects/{name}/fields",
        parameters=[name_param, language_param],
        operations={
            "get": {
                "operationId": "metadata_list_fields",
                "summary": "An object's fields",
                "tags": tags,
                "parameters": [
                    {
                        "name": "deleted",
                        "in": "query",
                        "description": "List the deleted (restorable) fields instead.",
                        "schema": {"type": "boolean", "default": False},
                    }
                ],
                "responses": {
                    "200": _metadata_response(
                        "The fields",
                        {
                            "type": "object",
                            "required": ["fields"],
                            "properties": {
                                "fields": {"type": "array", "items": ref("MetadataField")}
                            },
                        },
                    ),
                    **error_responses("Unauthorized", "NotFound"),
                },
            },
            "post": {
                "operationId": "metadata_add_field",
                "summary": "Add a field (and its columns); administrators only",
                "tags": tags,
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": ref("FieldDefinition")}},
                },
                "responses": {
                    "201": _metadata_response("The field as stored", ref("MetadataField")),
                    **error_responses(
                        "BadRequest",
                        "Unauthorized",
                        "Forbidden",
                        "NotFound",
                        "Conflict",
                        "PayloadTooLarge",
                    ),
                },
            },
        },
    )
    spec.path(
        "/metadata/objects/{name}/fields/{field_name}",
        parameters=[name_param, field_param, language_param],
        operations={
            "get": {
                "operationId": "metadata_get_field",
                "summary": "One field's definition",
                "description": "A field in the recycle bin is found too (with `status`).",
                "tags": tags,
                "responses": {
                    "200": _metadata_response("The field", ref("MetadataField")),
                    **error_responses("Unauthorized", "NotFound"),
                },
            },
            "patch": {
                "operationId": "metadata_patch_field",
                "summary": "Change a field's options (its type too, where that is safe); "
                "administrators only",
                "description": "A new `api_name` renames the field: metadata only, every "
                "reference rewritten in the same revision. A type change that converts values "
                "takes `on_unconvertible` and `mapping` as `.../type-change` does.",
                "tags": tags,
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": ref("FieldPatch")}},
                },
                "responses": {
                    "200": _metadata_response("The field as stored", ref("MetadataField")),
                    **error_responses(*CHANGE_ERRORS, "NotFound", "Conflict", "PayloadTooLarge"),
                },
            },
            "delete": {
                "operationId": "metadata_delete_field",
                "summary": "Move a field (its data kept) to the recycle bin, or purge it; "
                "administrators only",
                "tags": tags,
                "parameters": _purge_parameters("field"),
                "responses": {
                    "200": _metadata_response(
                        "The field, now `deleted`; or `{api_name, status: purged}`",
                        {"anyOf": [ref("MetadataField"), ref("PurgedComponent")]},
                    ),
                    **error_responses(*CHANGE_ERRORS, "NotFound", "Conflict"),
                },
            },
        },
    )
    spec.path(
        "/metadata/objects/{name}/fields/{field_name}/restore",
        parameters=[name_param, field_param, language_param],
        operations={
            "post": {
                "operationId": "metadata_restore_field",
                "summary": "Bring a field back from the recycle bin; administrators only",
                "tags": tags,
                "responses": {
                    "200": _metadata_response("The restored field", ref("MetadataField")),
                    **error_responses(*CHANGE_ERRORS, "NotFound", "Conflict"),
                },
            }
        },
    )


def _add_kind_endpoints(spec: APISpec, kind: Kind) -> None:
    """The generic endpoints of one metadata kind: list, create, read, replace, remove."""
    plural, schema = kind.plural, ref(kind_schema_name(kind))
    label = kind.name.replace("_", " ")
    tags = ["metadata"]
    naming = (
        f"`<object>.<api_name>` (a {label} belongs to an object)"
        if kind.per_object
        else "its `api_name`"
    )
    body = {"required": True, "content": {JSON: {"schema": schema}}}
    spec.path(
        f"/metadata/{plural}",
        operations={
            "get": {
                "operationId": f"metadata_list_{plural}",
                "summary": f"Every active {label}",
                "description": "Validation rules: those whose condition you may read; "
                "the security kinds (permission sets, roles, groups, queues, sharing "
                "rules) need `view_setup` or `customize_application` (ADR 0019).",
                "tags": tags,
                "responses": {
                    "200": _metadata_response(
                        f"The {label} definitions",
                        {
                            "type": "object",
                            "required": [plural],
                            "properties": {plural: {"type": "array", "items": schema}},
                            "additionalProperties": False,
                        },
                    ),
                    **error_responses("Unauthorized"),
                },
            },
            "post": {
                "operationId": f"metadata_create_{kind.name}",
                "summary": f"Create a {label}; administrators only",
                "tags": tags,
                "requestBody": body,
                "responses": {
                    "201": {
                        **_metadata_response(f"The {label} as stored", schema),
                        "headers": {
                            VERSION_HEADER: "MetadataVersion",
                            "Location": {
                                "description": f"The {label}'s URL.",
                                "schema": {"type": "string"},
                            },
                        },
                    },
                    **error_responses(*CHANGE_ERRORS, "Conflict", "PayloadTooLarge"),
                },
            },
        },
    )
    spec.path(
        f"/metadata/{plural}/{{name}}",
        parameters=[
            {
                "name": "name",
                "in": "path",
                "required": True,
                "description": f"The {label}'s name: {naming}.",
                "schema": {"type": "string"},
            }
        ],
        operations={
            "get": {
                "operationId": f"metadata_get_{kind.name}",
                "summary": f"One {label}",
                "tags": tags,
                "responses": {
                    "200": _metadata_response(f"The {label}", schema),
                    **error_responses("Unauthorized", "NotFound"),
                },
            },
            "put": {
                "operationId": f"metadata_replace_{kind.name}",
                "summary": f"Create or replace a {label}; administrators only",
                "description": "The definition names the component; it must be the one in the URL.",
                "tags": tags,
                "requestBody": body,
                "responses": {
                    "200": _metadata_response(f"The {label} as stored", schema),
                    **error_responses(*CHANGE_ERRORS, "NotFound", "PayloadTooLarge"),
                },
            },
            "delete": {
                "operationId": f"metadata_delete_{kind.name}",
                "summary": f"Remove a {label}; administrators only",
                "tags": tags,
                "responses": {
                    "200": _metadata_response(
                        "What was removed",
                        {
                            "type": "object",
                            "required": ["name", "status"],
                            "properties": {
                                "name": {"type": "string"},
                                "status": {"const": "deleted"},
                            },
                            "additionalProperties": False,
                        },
                    ),
                    **error_responses("Unauthorized", "Forbidden", "NotFound"),
                },
            },
        },
    )


def _metadata_response(description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {VERSION_HEADER: "MetadataVersion"},
        "content": {JSON: {"schema": dict(schema)}},
    }


def _purge_parameters(what: str) -> list[dict[str, Any]]:
    return [
        {
            "name": "purge",
            "in": "query",
            "description": f"Remove the {what} and its data for good instead (with `confirm`).",
            "schema": {"type": "boolean", "default": False},
        },
        {
            "name": "confirm",
            "in": "query",
            "description": f"With `purge`: the {what}'s name again.",
            "schema": {"type": "string"},
        },
    ]
