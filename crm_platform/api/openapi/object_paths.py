"""The record endpoints of every object: CRUD, restore, history, shares, upserts by each
external id or unique field, aggregates and the related lists (``records_api``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from apispec import APISpec

from crm_platform.metadata import KindRegistry
from crm_platform.runtime import ObjectModel, OrgModel
from crm_platform.runtime.records import relation_names
from crm_platform.runtime.records.aggregates import METRIC_FUNCTIONS
from crm_platform.runtime.records.query import DEFAULT_LIMIT, MAX_LIMIT
from crm_platform.runtime.security.shares import PRINCIPAL_KINDS

from .components import JSON, error_responses, ref
from .objects import ComponentNames, add_object_schemas, add_shared_record_schemas, text_label
from .values import is_upsert_key, scalar_schema

METRIC_PATTERN = r"^\s*(count|(" + "|".join(METRIC_FUNCTIONS) + r")\([^,]*[^,\s][^,]*\))\s*$"


def describe_objects(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """The schemas and record endpoints of every object of ``model``, one tag each."""
    del registry  # records are described from the model alone
    add_shared_record_schemas(spec)
    names = ComponentNames(model)
    for obj in model.objects.values():
        _add_object(spec, model, obj, names)


def _add_object(spec: APISpec, model: OrgModel, obj: ObjectModel, names: ComponentNames) -> None:
    """One object's schemas, tag and record endpoints."""
    name = obj.api_name
    record, create, patch, page = (
        name,
        names.derived(obj, "input"),
        names.derived(obj, "patch"),
        names.derived(obj, "page"),
    )
    add_object_schemas(spec, model, obj, names)
    label = text_label(obj.definition.get("label"), name)
    spec.tag({"name": name, "description": obj.definition.get("description", label)})
    tags = [name]
    one = {
        "description": f"The {label} record",
        "headers": {"ETag": "ETag"},
        "content": {JSON: {"schema": ref(record)}},
    }
    body = {JSON: {"schema": ref(create)}}
    spec.path(
        f"/records/{name}",
        operations={
            "get": {
                "operationId": f"list_{name}",
                "summary": f"List {label} records (keyset pages)",
                "tags": tags,
                "parameters": _list_parameters(),
                "responses": {
                    "200": {
                        "description": "A page of records",
                        "content": {JSON: {"schema": ref(page)}},
                    },
                    **error_responses("BadRequest", "Unauthorized", "NotFound"),
                },
            },
            "post": {
                "operationId": f"create_{name}",
                "summary": f"Create a {label} record",
                "tags": tags,
                "requestBody": {"required": True, "content": body},
                "responses": {
                    "201": {
                        **one,
                        "description": "The record as stored",
                        "headers": {
                            "ETag": "ETag",
                            "Location": {
                                "description": "The record's URL.",
                                "schema": {"type": "string"},
                            },
                        },
                    },
                    **error_responses(
                        "BadRequest", "Unauthorized", "NotFound", "Conflict", "PayloadTooLarge"
                    ),
                },
            },
        },
    )
    spec.path(
        f"/records/{name}/{{id}}",
        parameters=["record_id"],
        operations={
            "get": {
                "operationId": f"get_{name}",
                "summary": f"Read a {label} record",
                "tags": tags,
                "parameters": ["fields", "deleted"],
                "responses": {
                    "200": one,
                    **error_responses("BadRequest", "Unauthorized", "NotFound"),
                },
            },
            "patch": {
                "operationId": f"update_{name}",
                "summary": f"Change some fields of a {label} record",
                "description": "Only the fields sent change; a compound value (address, "
                "name, location) is replaced as a whole.",
                "tags": tags,
                "parameters": [
                    {
                        "name": "If-Match",
                        "in": "header",
                        "description": 'The ETag of the version read (`"3"`); when the '
                        "record has moved on since, the update is refused with 412.",
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {"required": True, "content": {JSON: {"schema": ref(patch)}}},
                "responses": {
                    "200": {**one, "description": "The record as stored"},
                    **error_responses(
                        "BadRequest",
                        "Unauthorized",
                        "NotFound",
                        "Conflict",
                        "PreconditionFailed",
                        "PayloadTooLarge",
                    ),
                },
            },
            "delete": {
                "operationId": f"delete_{name}",
                "summary": f"Move a {label} record to the recycle bin",
                "description": "Children deleted with it come back with it on restore. "
                "With `purge=true`, a record already in the recycle bin is removed for good.",
                "tags": tags,
                "parameters": [
                    {
                        "name": "purge",
                        "in": "query",
                        "schema": {"type": "boolean", "default": False},
                    }
                ],
                "responses": {
                    "204": {"description": "Deleted"},
                    **error_responses("Unauthorized", "NotFound", "Conflict"),
                },
            },
        },
    )
    spec.path(
        f"/records/{name}/{{id}}/restore",
        parameters=["record_id"],
        operations={
            "post": {
                "operationId": f"restore_{name}",
                "summary": f"Bring a {label} record back from the recycle bin",
                "tags": tags,
                "responses": {
                    "200": {**one, "description": "The restored record"},
                    **error_responses("Unauthorized", "NotFound", "Conflict"),
                },
            }
        },
    )
    spec.path(
        f"/records/{name}/{{id}}/history",
        parameters=["record_id"],
        operations={
            "get": {
                "operationId": f"history_{name}",
                "summary": f"The tracked field changes of a {label} record",
                "tags": tags,
                "responses": {
                    "200": {
                        "description": "The changes, newest first",
                        "content": {JSON: {"schema": ref("RecordHistory")}},
                    },
                    **error_responses("Unauthorized", "NotFound"),
                },
            }
        },
    )
    _add_shares(spec, obj, label)
    for field_name, field in obj.fields.items():
        if is_upsert_key(field.type, field.definition):
            _add_upsert(spec, obj, field_name, one, patch, label)
    spec.path(
        f"/records/{name}/aggregate",
        operations={
            "get": {
                "operationId": f"aggregate_{name}",
                "summary": f"Grouped figures over {label} records (computed in SQL)",
                "description": "Records in the recycle bin are left out.",
                "tags": tags,
                "parameters": _aggregate_parameters(),
                "responses": {
                    "200": {
                        "description": "The groups",
                        "content": {JSON: {"schema": ref("AggregateResult")}},
                    },
                    **error_responses("BadRequest", "Unauthorized", "NotFound"),
                },
            }
        },
    )
    for relation_name, relation in relation_names(model, obj).items():
        if "/" in relation_name:
            continue  # cannot be one path segment: never served
        child = model.objects[relation.child]
        child_label = text_label(child.definition.get("label"), child.api_name)
        whose = "points" if not relation.polymorphic else f"points (as a {name})"
        spec.path(
            f"/records/{name}/{{id}}/related/{quote(relation_name, safe='._-~')}",
            parameters=["record_id"],
            operations={
                "get": {
                    "operationId": f"related_{name}__{relation_name.replace('.', '__')}",
                    "summary": f"The {child_label} records of a {label} record "
                    f"(through {relation.child}.{relation.field})",
                    "description": f"{child_label} records whose `{relation.field}` {whose} "
                    "at this record, listed like any list (filter, sort, keyset pages).",
                    "tags": tags,
                    "parameters": _list_parameters(),
                    "responses": {
                        "200": {
                            "description": "A page of records",
                            "content": {JSON: {"schema": ref(names.derived(child, "page"))}},
                        },
                        **error_responses("BadRequest", "Unauthorized", "NotFound"),
                    },
                }
            },
        )


def _add_upsert(
    spec: APISpec,
    obj: ObjectModel,
    field_name: str,
    one: Mapping[str, Any],
    patch: str,
    label: str,
) -> None:
    """``PUT /records/<o>/by/<field>/{value}``: update the record with this key, or create it."""
    name = obj.api_name
    field = obj.fields[field_name]
    value = scalar_schema(field.type, field.definition)
    if value.get("type") == "string":
        value["minLength"] = 1
    value["description"] = (
        f"The {field_name} of the record (the URL's text; no slash). "
        + value.get("description", "")
    ).strip()
    headers = {"ETag": "ETag"}
    spec.path(
        f"/records/{name}/by/{field_name}/{{value}}",
        parameters=[{"name": "value", "in": "path", "required": True, "schema": value}],
        operations={
            "put": {
                "operationId": f"upsert_{name}__by_{field_name}",
                "summary": f"Update the {label} record with this {field_name}, or create it",
                "description": "The body holds the fields to set. When a live record has "
                f"this {field_name}, only the fields sent change (200); otherwise a record "
                f"is created from them with this {field_name} (201), and fields it requires "
                f"must be sent. A `{field_name}` in the body must equal the one in the URL.",
                "tags": [name],
                "requestBody": {"required": True, "content": {JSON: {"schema": ref(patch)}}},
                "responses": {
                    "200": {**one, "description": "The updated record", "headers": headers},
                    "201": {
                        **one,
                        "description": "The created record",
                        "headers": {
                            **headers,
                            "Location": {
                                "description": "The record's URL.",
                                "schema": {"type": "string"},
                            },
                        },
                    },
                    **error_responses(
                        "BadRequest",
                        "Unauthorized",
                        "NotFound",
                        "Conflict",
                        "PreconditionFailed",
                        "PayloadTooLarge",
                    ),
                },
            }
        },
    )


def _add_shares(spec: APISpec, obj: ObjectModel, label: str) -> None:
    """Who else sees a record, and the manual shares that say so."""
    name = obj.api_name
    principal = {
        "type": "object",
        "description": "Exactly one of: a user id, or a group's, role's or role-and-"
        "subordinates' name.",
        "minProperties": 1,
        "maxProperties": 1,
        "properties": {kind: {"type": "string"} for kind in PRINCIPAL_KINDS},
        "additionalProperties": False,
    }
    share = {
        "type": "object",
        "required": ["principal", "key", "access", "reason"],
        "properties": {
            "principal": principal,
            "key": {"type": "string", "description": "Identifies the share (to remove it)."},
            "access": {"enum": ["read", "edit"]},
            "reason": {
                "type": "string",
                "description": "`manual`, or `rule:<sharing rule>` for rows a criteria "
                "sharing rule keeps.",
            },
        },
        "additionalProperties": False,
    }
    spec.path(
        f"/records/{name}/{{id}}/shares",
        parameters=["record_id"],
        operations={
            "get": {
                "operationId": f"shares_{name}",
                "summary": f"Who else sees a {label} record, and why",
                "tags": [name],
                "responses": {
                    "200": {
                        "description": "The shares",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["shares"],
                                    "properties": {"shares": {"type": "array", "items": share}},
                                    "additionalProperties": False,
                                }
                            }
                        },
                    },
                    **error_responses("Unauthorized", "NotFound"),
                },
            },
            "post": {
                "operationId": f"share_{name}",
                "summary": f"Share a {label} record with a user, group or role",
                "description": "Needs full access to the record (its owner, someone above the "
                "owner in the role hierarchy, or modify_all); only objects whose sharing "
                "is private or public_read share records one by one. Sharing again with the "
                "same principal replaces the access.",
                "tags": [name],
                "requestBody": {
                    "required": True,
                    "content": {
                        JSON: {
                            "schema": {
                                "type": "object",
                                "required": ["access"],
                                "properties": {
                                    "access": {"enum": ["read", "edit"]},
                                    **principal["properties"],
                                },
                                "minProperties": 2,
                                "maxProperties": 2,
                            }
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "The share",
                        "content": {JSON: {"schema": share}},
                    },
                    **error_responses("BadRequest", "Unauthorized", "NotFound", "PayloadTooLarge"),
                },
            },
        },
    )
    spec.path(
        f"/records/{name}/{{id}}/shares/{{key}}",
        parameters=[
            "record_id",
            {
                "name": "key",
                "in": "path",
                "required": True,
                "description": "The share's `key`.",
                "schema": {"type": "string"},
            },
        ],
        operations={
            "delete": {
                "operationId": f"unshare_{name}",
                "summary": f"Remove a manual share of a {label} record",
                "tags": [name],
                "responses": {
                    "204": {"description": "Removed"},
                    **error_responses("Unauthorized", "NotFound"),
                },
            }
        },
    )


def _aggregate_parameters() -> list[Any]:
    functions = ", ".join(f"`{f}(x)`" for f in METRIC_FUNCTIONS[1:])
    return [
        {
            "name": "group_by",
            "in": "query",
            "description": "Expressions to group by, comma-separated: fields (`stage`), "
            "lookup paths (`account.industry`) or any expression without a comma. Without "
            "it, one group holds every record.",
            "schema": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "style": "form",
            "explode": False,
        },
        {
            "name": "metrics",
            "in": "query",
            "description": f"The figures per group, comma-separated: `count`, {functions} "
            "(x a field or an expression; sum and avg need numbers). Each comes back under "
            "its own text.",
            "schema": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string", "pattern": METRIC_PATTERN},
                "default": ["count"],
            },
            "style": "form",
            "explode": False,
        },
        {
            "name": "where",
            "in": "query",
            "description": "Only the records this filter (an expression) is true for.",
            "schema": {"type": "string"},
        },
    ]


def _list_parameters() -> list[Any]:
    return [
        {
            "name": "where",
            "in": "query",
            "description": "A filter in the expression language, e.g. "
            "`amount > 1000 and stage != 'Closed Lost'`.",
            "schema": {"type": "string"},
        },
        {
            "name": "order_by",
            "in": "query",
            "description": "Sort keys, comma-separated; `-` in front sorts descending. "
            "NULLs come last; `id` is always the final tie-breaker.",
            "schema": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "style": "form",
            "explode": False,
        },
        "fields",
        {
            "name": "limit",
            "in": "query",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LIMIT,
                "default": DEFAULT_LIMIT,
            },
        },
        {
            "name": "cursor",
            "in": "query",
            "description": "The `next_cursor` of the previous page (same sort).",
            "schema": {"type": "string"},
        },
        {
            "name": "count",
            "in": "query",
            "description": "Also return the exact `total` of matching records.",
            "schema": {"type": "boolean", "default": False},
        },
        "deleted",
    ]
