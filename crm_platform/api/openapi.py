"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 document of the API as the metadata is *now*.

The document is generated from the compiled org model (DESIGN §10): one set of
record endpoints and schemas per object, the metadata endpoints, problem+json
errors and the bearer-token scheme. JSON Schemas are built straight from the
field definitions, mirroring what the record codec (``runtime/records/values.py``)
accepts and what the record service sends back; apispec assembles the document.

It is built once per metadata version and kept in a cache object in
``app.extensions`` (never a module global): adding a field moves the version, so
the next fetch describes it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from apispec import APISpec
from flask import Blueprint, Response, current_app, request

from crm_platform.core import ExactDecimal, UTCDateTime
from crm_platform.metadata import SIMPLE, load_schema
from crm_platform.runtime import ObjectModel, OrgModel
from crm_platform.runtime.records.codec import SYSTEM_FIELDS
from crm_platform.runtime.records.query import DEFAULT_LIMIT, MAX_LIMIT
from crm_platform.runtime.records.values import PHONE, READ_ONLY_TYPES, picklist_values

from .auth import current_org
from .metadata_api import VERSION_HEADER
from .problems import PROBLEM_JSON

bp = Blueprint("openapi", __name__)

EXTENSION = "crm_openapi"
OPENAPI_VERSION = "3.1.0"
JSON = "application/json"
ID_SCHEMA: dict[str, Any] = {
    "type": "string",
    "format": "uuid",
    "description": "A record id: a lowercase UUIDv7 (36 characters).",
}
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


# --- serving -------------------------------------------------------------------------


class DocumentCache:
    """The serialised document per server URL, for the newest metadata version seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: int | None = None
        self._documents: dict[str, bytes] = {}

    def get(self, model: OrgModel, server_url: str, dumps: Callable[[Any], str]) -> bytes:
        """The document for ``model``, built (outside the lock) only when not cached yet."""
        with self._lock:
            if self._version == model.version and server_url in self._documents:
                return self._documents[server_url]
        body = dumps(build_openapi(model, server_url)).encode("utf-8")
        with self._lock:
            if self._version is None or model.version > self._version:
                self._version, self._documents = model.version, {}
            if model.version == self._version:
                self._documents[server_url] = body
        return body


@bp.record_once
def _install_cache(state: Any) -> None:
    state.app.extensions.setdefault(EXTENSION, DocumentCache())


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI document for the metadata version this request sees."""
    org = current_org()
    with org.db.read() as conn:
        model = org.models.model_for(conn)
    server_url = request.script_root + request.path.removesuffix("/openapi.json")
    cache: DocumentCache = current_app.extensions[EXTENSION]
    response = Response(cache.get(model, server_url, current_app.json.dumps), mimetype=JSON)
    response.headers[VERSION_HEADER] = str(model.version)
    response.set_etag(f"metadata-{model.version}")
    return response.make_conditional(request)


# --- the document --------------------------------------------------------------------


def build_openapi(model: OrgModel, server_url: str = "/api/v1") -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API for one compiled model (a plain JSON-ready dict)."""
    spec = APISpec(
        title="CRM platform API",
        version=f"1.0.0+metadata.{model.version}",
        openapi_version=OPENAPI_VERSION,
        info={
            "description": (
                "The REST API of this org, generated from its metadata: every object has "
                "record endpoints under /records/<object>. Errors are application/problem+json "
                "(RFC 9457). Decimal values are exact: they are written from decimals, never "
                "from floating point, and may be sent as JSON numbers or numeric strings."
            ),
            "x-metadata-version": model.version,
        },
        servers=[{"url": server_url}],
        security=[{"bearer": []}],
    )
    names = _ComponentNames(model)
    _add_common_components(spec)
    spec.tag({"name": "metadata", "description": "Objects and fields, as definitions."})
    _add_metadata_endpoints(spec)
    for obj in model.objects.values():
        _add_object(spec, model, obj, names)
    return spec.to_dict()


class _ComponentNames:
    """Schema names per object: ``<o>``, ``<o>_input``, ``<o>_patch``, ``<o>_page``.

    API names never contain ``__``, so when ``<o>_input`` is itself an object's
    name the derived schema becomes ``<o>__input`` and never collides.
    """

    def __init__(self, model: OrgModel) -> None:
        self.taken = set(model.objects)

    def derived(self, obj: ObjectModel, suffix: str) -> str:
        name = f"{obj.api_name}_{suffix}"
        return f"{obj.api_name}__{suffix}" if name in self.taken else name


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _add_common_components(spec: APISpec) -> None:
    components = spec.components
    components.security_scheme(
        "bearer",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token: `Authorization: Bearer <token>` "
            "(create one with `crm token create --user EMAIL`).",
        },
    )
    components.schema(
        "Problem",
        {
            "type": "object",
            "description": "An error (RFC 9457 problem details).",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string", "format": "uri-reference"},
                "title": {"type": "string"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string"},
                "errors": {
                    "type": "object",
                    "description": "Messages per field path (validation errors).",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "additionalProperties": True,
        },
    )
    problem = {PROBLEM_JSON: {"schema": _ref("Problem")}}
    for name, description in (
        ("BadRequest", "The request was refused: malformed, or invalid values (see `errors`)."),
        ("Unauthorized", "No valid API token."),
        ("Forbidden", "The user may not do this."),
        ("NotFound", "No such object or record."),
        ("Conflict", "A unique value is taken, or records still point at this one."),
        ("PreconditionFailed", "The record changed since the version given in If-Match."),
        ("PayloadTooLarge", "The request body is too large."),
    ):
        components.response(name, {"description": description, "content": problem})
    components.header(
        "ETag",
        {
            "description": "The record's version, quoted (send it back in If-Match).",
            "schema": {"type": "string"},
        },
    )
    components.header(
        "MetadataVersion",
        {"description": "The metadata version after the request.", "schema": {"type": "integer"}},
    )
    components.parameter(
        "record_id", "path", {"name": "id", "required": True, "schema": dict(ID_SCHEMA)}
    )
    components.parameter(
        "fields",
        "query",
        {
            "name": "fields",
            "description": "The fields to return, comma-separated (dotted paths follow "
            "lookups: `account.name`); by default every field. System fields always come.",
            "schema": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "style": "form",
            "explode": False,
        },
    )
    components.parameter(
        "deleted",
        "query",
        {
            "name": "deleted",
            "description": "Read records in the recycle bin instead.",
            "schema": {"type": "boolean", "default": False},
        },
    )
    _add_metadata_schemas(spec)
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
                        },
                    },
                }
            },
        },
    )


def _responses(*names: str) -> dict[str, str]:
    codes = {
        "BadRequest": "400",
        "Unauthorized": "401",
        "Forbidden": "403",
        "NotFound": "404",
        "Conflict": "409",
        "PreconditionFailed": "412",
        "PayloadTooLarge": "413",
    }
    return {codes[name]: name for name in names}


# --- metadata endpoints --------------------------------------------------------------


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


def _add_metadata_schemas(spec: APISpec) -> None:
    refs = {"crm:label": "Label", "crm:field": "FieldDefinition"}
    _import_schema(spec, "Label", load_schema("label"), refs)
    field_schema = load_schema("field")
    _import_schema(spec, "FieldDefinition", field_schema, refs)
    _import_schema(spec, "ObjectDefinition", load_schema("object"), refs)
    status = {
        "type": "string",
        "description": "Present when the component is not active (e.g. `deleted`).",
    }
    spec.components.schema(
        "MetadataField",
        {
            "type": "object",
            "description": "A stored field definition (canonical form: type defaults filled in).",
            "required": ["api_name", "type"],
            "properties": {
                "api_name": {"type": "string"},
                "type": field_schema["properties"]["type"],
                "label": _ref("Label"),
                "status": status,
            },
            "additionalProperties": True,
        },
    )
    spec.components.schema(
        "MetadataObject",
        {
            "type": "object",
            "description": "A stored object definition with its active fields (canonical form).",
            "required": ["api_name", "label", "name_field", "sharing", "fields"],
            "properties": {
                "api_name": {"type": "string"},
                "label": _ref("Label"),
                "plural_label": _ref("Label"),
                "description": {"type": "string"},
                "name_field": {"type": "string"},
                "sharing": {"type": "string"},
                "fields": {"type": "array", "items": _ref("MetadataField")},
                "status": status,
            },
            "additionalProperties": True,
        },
    )


def _metadata_response(description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {VERSION_HEADER: "MetadataVersion"},
        "content": {JSON: {"schema": dict(schema)}},
    }


def _add_metadata_endpoints(spec: APISpec) -> None:
    name_param = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
    field_param = {
        "name": "field_name",
        "in": "path",
        "required": True,
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
                    **_responses("Unauthorized"),
                },
            }
        },
    )
    spec.path(
        "/metadata/objects",
        operations={
            "get": {
                "operationId": "metadata_list_objects",
                "summary": "Every object with its fields",
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
                                "objects": {"type": "array", "items": _ref("MetadataObject")}
                            },
                        },
                    ),
                    **_responses("Unauthorized"),
                },
            },
            "post": {
                "operationId": "metadata_create_object",
                "summary": "Create an object (and its table); administrators only",
                "tags": tags,
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _ref("ObjectDefinition")}},
                },
                "responses": {
                    "201": _metadata_response("The object as stored", _ref("MetadataObject")),
                    **_responses(
                        "BadRequest", "Unauthorized", "Forbidden", "Conflict", "PayloadTooLarge"
                    ),
                },
            },
        },
    )
    spec.path(
        "/metadata/objects/{name}",
        parameters=[name_param],
        operations={
            "get": {
                "operationId": "metadata_get_object",
                "summary": "One object's definition with its fields",
                "tags": tags,
                "responses": {
                    "200": _metadata_response("The object", _ref("MetadataObject")),
                    **_responses("Unauthorized", "NotFound"),
                },
            }
        },
    )
    spec.path(
        "/metadata/objects/{name}/fields",
        parameters=[name_param],
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
                                "fields": {"type": "array", "items": _ref("MetadataField")}
                            },
                        },
                    ),
                    **_responses("Unauthorized", "NotFound"),
                },
            },
            "post": {
                "operationId": "metadata_add_field",
                "summary": "Add a field (and its columns); administrators only",
                "tags": tags,
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _ref("FieldDefinition")}},
                },
                "responses": {
                    "201": _metadata_response("The field as stored", _ref("MetadataField")),
                    **_responses(
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
        parameters=[name_param, field_param],
        operations={
            "get": {
                "operationId": "metadata_get_field",
                "summary": "One field's definition",
                "tags": tags,
                "responses": {
                    "200": _metadata_response("The field", _ref("MetadataField")),
                    **_responses("Unauthorized", "NotFound"),
                },
            }
        },
    )


# --- records: one set of endpoints and schemas per object ---------------------------


def _add_object(spec: APISpec, model: OrgModel, obj: ObjectModel, names: _ComponentNames):
    name = obj.api_name
    record, create, patch, page = (
        name,
        names.derived(obj, "input"),
        names.derived(obj, "patch"),
        names.derived(obj, "page"),
    )
    spec.components.schema(record, record_schema(model, obj))
    spec.components.schema(create, input_schema(obj, creating=True))
    spec.components.schema(patch, input_schema(obj, creating=False))
    spec.components.schema(
        page,
        {
            "type": "object",
            "required": ["records", "next_cursor"],
            "properties": {
                "records": {"type": "array", "items": _ref(record)},
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
    label = _text_label(obj.definition.get("label"), name)
    spec.tag({"name": name, "description": obj.definition.get("description", label)})
    tags = [name]
    one = {
        "description": f"The {label} record",
        "headers": {"ETag": "ETag"},
        "content": {JSON: {"schema": _ref(record)}},
    }
    body = {JSON: {"schema": _ref(create)}}
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
                        "content": {JSON: {"schema": _ref(page)}},
                    },
                    **_responses("BadRequest", "Unauthorized", "NotFound"),
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
                    **_responses(
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
                    **_responses("BadRequest", "Unauthorized", "NotFound"),
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
                "requestBody": {"required": True, "content": {JSON: {"schema": _ref(patch)}}},
                "responses": {
                    "200": {**one, "description": "The record as stored"},
                    **_responses(
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
                    **_responses("Unauthorized", "NotFound", "Conflict"),
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
                    **_responses("Unauthorized", "NotFound", "Conflict"),
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
                        "content": {JSON: {"schema": _ref("RecordHistory")}},
                    },
                    **_responses("Unauthorized", "NotFound"),
                },
            }
        },
    )


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


def _text_label(label: Any, default: str) -> str:
    if isinstance(label, str):
        return label
    if isinstance(label, Mapping) and label:
        return str(label.get("en") or next(iter(label.values())))
    return default


# --- JSON Schemas of records -------------------------------------------------------


def record_schema(model: OrgModel, obj: ObjectModel) -> dict[str, Any]:
    """The JSON Schema of a record as the API sends it (``RecordSession._record``)."""
    system = _system_properties()
    properties: dict[str, Any] = {"id": system["id"], "owner_id": system["owner_id"]}
    for name, field in obj.fields.items():
        schema = _annotate(_output_value(model, obj, name), field.definition, field.type)
        if field.type in READ_ONLY_TYPES:
            schema["readOnly"] = True
        properties[name] = schema
    for name in SYSTEM_FIELDS:
        properties.setdefault(name, system[name])
    properties["deleted_at"] = {
        "type": "string",
        "format": "date-time",
        "readOnly": True,
        "description": "When the record went to the recycle bin (only for records read "
        "with `deleted=true`).",
    }
    label = _text_label(obj.definition.get("label"), obj.api_name)
    return {
        "type": "object",
        "title": label,
        "description": f"A {label} record. Which fields appear follows the `fields` parameter; "
        "the system fields always do. Dotted paths asked for in `fields` come back "
        "as extra keys (`account.name`).",
        "required": list(SYSTEM_FIELDS),
        "properties": properties,
        "patternProperties": {r"\.": {"description": "A value reached through a lookup."}},
        "additionalProperties": False,
    }


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
        if field.type in READ_ONLY_TYPES:
            continue
        definition = field.definition
        must = bool(definition.get("required")) or field.type == "master_detail"
        properties[name] = _annotate(
            _input_value(definition, required=must), definition, field.type
        )
        if must and creating and not _has_default(definition):
            required.append(name)
    label = _text_label(obj.definition.get("label"), obj.api_name)
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
    schema["title"] = _text_label(definition.get("label"), definition["api_name"])
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
    return _text_label(label, "") or None


def _has_default(definition: Mapping[str, Any]) -> bool:
    if "default" in definition or "default_expression" in definition:
        return True
    values = definition.get("values") or ()
    return any(isinstance(v, Mapping) and v.get("default") for v in values)


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


def _scalar(kind: str, definition: Mapping[str, Any]) -> dict[str, Any]:
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


def _time() -> dict[str, Any]:
    return {
        "type": "string",
        "format": "time-local",
        "pattern": TIME_PATTERN,
        "description": "A time of day without a time zone (HH:MM[:SS[.ffffff]]).",
    }


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


def _input_value(definition: Mapping[str, Any], *, required: bool) -> dict[str, Any]:
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
    return _scalar(kind, definition)


def _output_value(model: OrgModel, obj: ObjectModel, name: str) -> dict[str, Any]:
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


def _formula_value(definition: Mapping[str, Any]) -> dict[str, Any]:
    return_type = definition["return_type"]
    if return_type in DECIMAL_TYPES:
        schema = _decimal(None, definition.get("scale", 2), writable=False)
    elif return_type == "integer":
        schema = {"type": "integer"}
    elif return_type == "text":
        schema = {"type": "string"}
    else:
        schema = _scalar(return_type, definition)
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
