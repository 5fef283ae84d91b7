"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 document of the API as the metadata is *now*.

The document is generated from the compiled org model (DESIGN §10): one set of
record endpoints and schemas per object (CRUD, upserts by each external id or
unique field, aggregates and the related lists), composite batches, search, the
metadata endpoints (objects, fields, their history, and every other registered
kind), problem+json errors and the bearer-token scheme. JSON Schemas are built
straight from the field definitions, mirroring what the record codec
(``runtime/records/values.py``) accepts and what the record service sends back;
apispec assembles the document.

It is built once per metadata version and kept in a cache object in
``app.extensions`` (never a module global): adding a field moves the version, so
the next fetch describes it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from apispec import APISpec
from flask import Blueprint, Response, current_app, request

from crm_platform.core import ExactDecimal, UTCDateTime
from crm_platform.metadata import SIMPLE, Kind, KindRegistry, build_registry, load_schema
from crm_platform.runtime import ObjectModel, OrgModel
from crm_platform.runtime.model import Relation
from crm_platform.runtime.passwords import MIN_PASSWORD_LENGTH
from crm_platform.runtime.records.codec import SYSTEM_FIELDS
from crm_platform.runtime.records.composite import MAX_OPERATIONS
from crm_platform.runtime.records.query import DEFAULT_LIMIT, MAX_LIMIT
from crm_platform.runtime.records.search import MAX_QUERY
from crm_platform.runtime.records.service import METRIC_FUNCTIONS
from crm_platform.runtime.records.values import PHONE, READ_ONLY_TYPES, picklist_values
from crm_platform.runtime.security.shares import PRINCIPAL_KINDS

from .audit_api import MAX_LIMIT as AUDIT_LIMIT
from .auth import current_org
from .metadata_api import VERSION_HEADER
from .problems import PROBLEM_JSON
from .search_api import MAX_RESULTS

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
    """Serialised documents of the newest metadata version seen, per server URL and kinds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: int | None = None
        self._documents: dict[tuple[str, tuple[str, ...]], bytes] = {}

    def get(
        self,
        model: OrgModel,
        server_url: str,
        dumps: Callable[[Any], str],
        registry: KindRegistry | None = None,
    ) -> bytes:
        """The document for ``model``, built (outside the lock) only when not cached yet."""
        key = (server_url, tuple(registry.kinds) if registry is not None else ())
        with self._lock:
            if self._version == model.version and key in self._documents:
                return self._documents[key]
        body = dumps(build_openapi(model, server_url, registry)).encode("utf-8")
        with self._lock:
            if self._version is None or model.version > self._version:
                self._version, self._documents = model.version, {}
            if model.version == self._version:
                self._documents[key] = body
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
    body = cache.get(model, server_url, current_app.json.dumps, org.registry)
    response = Response(body, mimetype=JSON)
    response.headers[VERSION_HEADER] = str(model.version)
    response.set_etag(f"metadata-{model.version}")
    return response.make_conditional(request)


# --- the document --------------------------------------------------------------------


def build_openapi(
    model: OrgModel, server_url: str = "/api/v1", registry: KindRegistry | None = None
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API for one compiled model (a plain JSON-ready dict).

    ``registry`` holds the metadata kinds the server knows (the org's); by default
    the kinds the metadata package defines.
    """
    registry = registry if registry is not None else build_registry()
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
    # Operation ids never collide: a record operation is `<verb>_<object>` (`__` before
    # what follows the object, and API names never hold `__`); the others are one word or
    # start with `metadata_`, `directory_` or `audit_`, which no record verb is.
    names = _ComponentNames(model)
    generic_kinds = [k for k in registry.kinds.values() if k.name not in {"object", "field"}]
    _add_common_components(spec, generic_kinds)
    spec.tag({"name": "metadata", "description": "Objects and fields, as definitions."})
    _add_metadata_endpoints(spec)
    for kind in generic_kinds:
        _add_kind_endpoints(spec, kind)
    spec.tag({"name": "composite", "description": "Many record operations in one transaction."})
    spec.tag({"name": "search", "description": "Records across objects, by text."})
    spec.tag({"name": "users", "description": "Users, group and queue members, API tokens."})
    spec.tag({"name": "audit", "description": "Setup changes and logins."})
    spec.tag({"name": "openapi", "description": "This document."})
    _add_composite_endpoint(spec)
    _add_search_endpoint(spec, model)
    _add_directory_endpoints(spec)
    _add_audit_endpoints(spec)
    _add_document_endpoint(spec)
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


def _add_common_components(spec: APISpec, kinds: list[Kind]) -> None:
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
        (
            "Forbidden",
            "The user may not do this: no API access (api_enabled), no permission on the "
            "object or record, or (metadata changes) not an administrator.",
        ),
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
    _add_metadata_schemas(spec, kinds)
    _add_record_schemas(spec)
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


SCALAR_VALUE: dict[str, Any] = {"type": ["string", "number", "boolean", "null"]}


def _any_case(word: str) -> str:
    """A regex matching ``word`` in any case (``[Gg][Ee][Tt]``): ECMA-262 has no inline flags."""
    return "".join(f"[{c.upper()}{c.lower()}]" for c in word)


def _add_record_schemas(spec: APISpec) -> None:
    """The shapes shared by every object: aggregates, search hits, composite batches."""
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
        "SearchResults",
        {
            "type": "object",
            "required": ["results"],
            "properties": {
                "results": {
                    "type": "array",
                    "maxItems": MAX_RESULTS,
                    "description": "The matching records, best first.",
                    "items": {
                        "type": "object",
                        "required": ["object", "id", "name"],
                        "properties": {
                            "object": {"type": "string", "description": "The object's name."},
                            "id": dict(ID_SCHEMA),
                            "name": {
                                "type": "string",
                                "description": "The record's name (its name field; may be empty).",
                            },
                        },
                        "additionalProperties": False,
                    },
                }
            },
            "additionalProperties": False,
        },
    )
    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    ref_name = {"type": "string", "pattern": "^[a-zA-Z0-9_]+$"}
    components.schema(
        "CompositeOperation",
        {
            "type": "object",
            "description": "One record operation. `url` is relative to the API root: "
            "`POST /records/<object>`, `GET|PATCH|DELETE /records/<object>/<id>` or "
            "`PUT /records/<object>/by/<field>/<value>`. `@{ref.field}` in the url or in a "
            "body value is replaced by that field of the result of the earlier operation "
            "named `ref` (a body value that is only a reference takes the value's type).",
            "required": ["method", "url"],
            "properties": {
                "method": {
                    "type": "string",
                    "pattern": "^(" + "|".join(map(_any_case, methods)) + ")$",
                    "description": f"The HTTP method, in any case: {', '.join(methods)}.",
                },
                "url": {"type": "string"},
                "body": {"description": "The request body (any JSON; PUT sends {} if none)."},
                "ref": {
                    **ref_name,
                    "type": ["string", "null"],
                    "description": "A name for this operation's result, unique in the batch.",
                },
            },
        },
    )
    components.schema(
        "CompositeRequest",
        {
            "type": "object",
            "required": ["operations"],
            "properties": {
                "operations": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_OPERATIONS,
                    "items": _ref("CompositeOperation"),
                },
                "all_or_none": {
                    "type": "boolean",
                    "default": True,
                    "description": "With true, the first failure undoes every operation "
                    "(the answer is a 400 problem with the `results`); with false each "
                    "operation succeeds or fails alone.",
                },
            },
        },
    )
    components.schema(
        "CompositeResult",
        {
            "type": "object",
            "required": ["index", "ref", "status", "body"],
            "properties": {
                "index": {"type": "integer", "minimum": 0},
                "ref": {**ref_name, "type": ["string", "null"]},
                "status": {
                    "type": "integer",
                    "minimum": 200,
                    "maximum": 599,
                    "description": "As the operation's own endpoint answers (200, 201, 204, "
                    "or the error's status); 424 for an operation not run because an "
                    "earlier one failed (all-or-none).",
                },
                "body": {
                    "type": ["object", "null"],
                    "description": "The record (GET, POST, PATCH, PUT), the problem of a "
                    "failed operation, or null (DELETE, and operations not run).",
                },
            },
            "additionalProperties": False,
        },
    )
    components.schema(
        "CompositeResponse",
        {
            "type": "object",
            "required": ["results"],
            "properties": {
                "results": {
                    "type": "array",
                    "description": "One result per operation, in order.",
                    "items": _ref("CompositeResult"),
                }
            },
            "additionalProperties": False,
        },
    )
    components.schema(
        "CompositeProblem",
        {
            "description": "The batch was refused, or (all-or-none) an operation failed and "
            "nothing was saved: then `results` says which one.",
            "allOf": [_ref("Problem")],
            "properties": {
                "results": {"type": "array", "items": _ref("CompositeResult")},
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
    if "Unauthorized" in names:  # every endpoint behind the token checks api_enabled too
        names = (*names, "Forbidden")
    return {codes[name]: name for name in sorted(set(names), key=codes.__getitem__)}


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


def kind_schema_name(kind: Kind) -> str:
    """The component name of a metadata kind's definitions (``ValidationRuleDefinition``)."""
    return "".join(part.capitalize() for part in kind.name.split("_")) + "Definition"


def _add_metadata_schemas(spec: APISpec, kinds: list[Kind]) -> None:
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
                    name: _ref("Label") if "$ref" in properties[name] else properties[name]
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
                    "version; null when the object did not exist then (or was deleted).",
                    "anyOf": [_ref("MetadataObject"), {"type": "null"}],
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
                "description": "An object in the recycle bin is found too (with `status`).",
                "tags": tags,
                "responses": {
                    "200": _metadata_response("The object", _ref("MetadataObject")),
                    **_responses("Unauthorized", "NotFound"),
                },
            },
            "patch": {
                "operationId": "metadata_patch_object",
                "summary": "Change some attributes of an object (and add or replace fields); "
                "administrators only",
                "tags": tags,
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _ref("ObjectPatch")}},
                },
                "responses": {
                    "200": _metadata_response("The object as stored", _ref("MetadataObject")),
                    **_responses(*CHANGE_ERRORS, "NotFound", "Conflict", "PayloadTooLarge"),
                },
            },
            "put": {
                "operationId": "metadata_replace_object",
                "summary": "Replace an object's definition; fields left out go to the "
                "recycle bin; administrators only",
                "tags": tags,
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _ref("ObjectReplacement")}},
                },
                "responses": {
                    "200": _metadata_response("The object as stored", _ref("MetadataObject")),
                    **_responses(*CHANGE_ERRORS, "NotFound", "Conflict", "PayloadTooLarge"),
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
                        {"anyOf": [_ref("MetadataObject"), _ref("PurgedComponent")]},
                    ),
                    **_responses(*CHANGE_ERRORS, "NotFound"),
                },
            },
        },
    )
    spec.path(
        "/metadata/objects/{name}/restore",
        parameters=[name_param],
        operations={
            "post": {
                "operationId": "metadata_restore_object",
                "summary": "Bring an object back from the recycle bin; administrators only",
                "tags": tags,
                "responses": {
                    "200": _metadata_response("The restored object", _ref("MetadataObject")),
                    **_responses(*CHANGE_ERRORS, "NotFound"),
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
                "summary": "An object's revisions, newest first",
                "tags": tags,
                "responses": {
                    "200": _metadata_response("The revisions", _ref("MetadataHistory")),
                    **_responses("Unauthorized", "NotFound"),
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
                    "200": _metadata_response("The definition then", _ref("MetadataRevision")),
                    **_responses("Unauthorized", "NotFound"),
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
                    "200": _metadata_response("The differences", _ref("MetadataDiff")),
                    **_responses("BadRequest", "Unauthorized", "NotFound"),
                },
            }
        },
    )
    spec.path(
        "/metadata/objects/{name}/rollback",
        parameters=[name_param],
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
                    "200": _metadata_response("The object as stored", _ref("MetadataObject")),
                    **_responses(*CHANGE_ERRORS, "NotFound", "Conflict", "PayloadTooLarge"),
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
                "description": "A field in the recycle bin is found too (with `status`).",
                "tags": tags,
                "responses": {
                    "200": _metadata_response("The field", _ref("MetadataField")),
                    **_responses("Unauthorized", "NotFound"),
                },
            },
            "patch": {
                "operationId": "metadata_patch_field",
                "summary": "Change a field's options (its type too, where that is safe); "
                "administrators only",
                "tags": tags,
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _ref("FieldPatch")}},
                },
                "responses": {
                    "200": _metadata_response("The field as stored", _ref("MetadataField")),
                    **_responses(*CHANGE_ERRORS, "NotFound", "Conflict", "PayloadTooLarge"),
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
                        {"anyOf": [_ref("MetadataField"), _ref("PurgedComponent")]},
                    ),
                    **_responses(*CHANGE_ERRORS, "NotFound", "Conflict"),
                },
            },
        },
    )
    spec.path(
        "/metadata/objects/{name}/fields/{field_name}/restore",
        parameters=[name_param, field_param],
        operations={
            "post": {
                "operationId": "metadata_restore_field",
                "summary": "Bring a field back from the recycle bin; administrators only",
                "tags": tags,
                "responses": {
                    "200": _metadata_response("The restored field", _ref("MetadataField")),
                    **_responses(*CHANGE_ERRORS, "NotFound", "Conflict"),
                },
            }
        },
    )


CHANGE_ERRORS = ("BadRequest", "Unauthorized", "Forbidden")


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


def _add_kind_endpoints(spec: APISpec, kind: Kind) -> None:
    """The generic endpoints of one metadata kind: list, create, read, replace, remove."""
    plural, schema = kind.plural, _ref(kind_schema_name(kind))
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
                    **_responses("Unauthorized"),
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
                    **_responses(*CHANGE_ERRORS, "Conflict", "PayloadTooLarge"),
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
                    **_responses("Unauthorized", "NotFound"),
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
                    **_responses(*CHANGE_ERRORS, "NotFound", "PayloadTooLarge"),
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
                    **_responses("Unauthorized", "Forbidden", "NotFound"),
                },
            },
        },
    )


# --- composite, search and this document ---------------------------------------------


def _add_composite_endpoint(spec: APISpec) -> None:
    spec.path(
        "/composite",
        operations={
            "post": {
                "operationId": "composite",
                "summary": f"Run up to {MAX_OPERATIONS} record operations in one transaction",
                "description": "Operations run in order; later ones may use the results of "
                "earlier ones through `@{ref.field}`. With `all_or_none` (the default) the "
                "first failure undoes everything and the answer is a 400 problem with the "
                "`results`; otherwise each operation runs in a savepoint and fails alone.",
                "tags": ["composite"],
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _ref("CompositeRequest")}},
                },
                "responses": {
                    "200": {
                        "description": "Every operation ran (with all_or_none=false: some "
                        "may have failed, see each result's status)",
                        "content": {JSON: {"schema": _ref("CompositeResponse")}},
                    },
                    "400": {
                        "description": "The batch is malformed, or an operation failed and "
                        "nothing was saved (all-or-none)",
                        "content": {PROBLEM_JSON: {"schema": _ref("CompositeProblem")}},
                    },
                    **_responses("Unauthorized", "PayloadTooLarge"),
                },
            }
        },
    )


def _add_search_endpoint(spec: APISpec, model: OrgModel) -> None:
    objects: dict[str, Any] = {"type": "string", "minLength": 1}
    if model.objects:
        objects["enum"] = list(model.objects)
    spec.path(
        "/search",
        operations={
            "get": {
                "operationId": "search",
                "summary": "Find records by text across objects",
                "description": "Matches names and the text fields of searchable objects "
                "(substrings; words by prefix on PostgreSQL).",
                "tags": ["search"],
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "required": True,
                        "description": "The text to look for (surrounding spaces ignored).",
                        "schema": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": MAX_QUERY,
                            "pattern": r"\S",
                        },
                    },
                    {
                        "name": "objects",
                        "in": "query",
                        "description": "The objects to search, comma-separated; by default "
                        "every searchable object.",
                        "schema": {"type": "array", "items": objects},
                        "style": "form",
                        "explode": False,
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_RESULTS,
                            "default": 20,
                        },
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The hits",
                        "content": {JSON: {"schema": _ref("SearchResults")}},
                    },
                    **_responses("BadRequest", "Unauthorized"),
                },
            }
        },
    )


def _user_schemas(spec: APISpec) -> None:
    text_or_null = {"type": ["string", "null"]}
    spec.components.schema(
        "User",
        {
            "type": "object",
            "required": [
                "id",
                "email",
                "name",
                "active",
                "role",
                "manager_id",
                "profile",
                "time_zone",
                "locale",
                "created_at",
                "permission_sets",
            ],
            "properties": {
                "id": {"type": "string"},
                "email": {"type": "string"},
                "name": {"type": "string"},
                "active": {"type": "boolean"},
                "role": {**text_or_null, "description": "A role's name."},
                "manager_id": {**text_or_null, "description": "Another user's id."},
                "profile": {**text_or_null, "description": "A permission set's name."},
                "time_zone": text_or_null,
                "locale": text_or_null,
                "created_at": {"type": "string", "format": "date-time"},
                "permission_sets": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Extra permission sets, by name, sorted.",
                },
            },
            "additionalProperties": False,
        },
    )
    writable = {
        "email": {"type": "string", "description": "The login; stored in lower case."},
        "name": {"type": "string", "description": "By default the email's local part."},
        "password": {"type": "string", "minLength": MIN_PASSWORD_LENGTH},
        "active": {"type": "boolean"},
        "role": text_or_null,
        "manager_id": text_or_null,
        "profile": text_or_null,
        "permission_sets": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Replaces the user's extra permission sets.",
        },
        "time_zone": text_or_null,
        "locale": text_or_null,
    }
    spec.components.schema(
        "UserInput",
        {
            "type": "object",
            "required": ["email"],
            "properties": writable,
            "additionalProperties": False,
        },
    )
    spec.components.schema(
        "UserPatch",
        {
            "type": "object",
            "description": "The attributes to change. Without manage_users a user may change "
            "only their own name, time_zone, locale and password.",
            "properties": writable,
            "additionalProperties": False,
        },
    )


def _add_directory_endpoints(spec: APISpec) -> None:
    """Users, group and queue memberships, and the caller's API tokens."""
    _user_schemas(spec)
    tags = ["users"]
    user_param = {"name": "user_id", "in": "path", "required": True, "schema": {"type": "string"}}
    one_user = {"description": "The user", "content": {JSON: {"schema": _ref("User")}}}
    spec.path(
        "/users",
        operations={
            "get": {
                "operationId": "directory_list_users",
                "summary": "Every user (needs manage_users or view_setup)",
                "tags": tags,
                "responses": {
                    "200": {
                        "description": "The users, by email",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["users"],
                                    "properties": {
                                        "users": {"type": "array", "items": _ref("User")}
                                    },
                                    "additionalProperties": False,
                                }
                            }
                        },
                    },
                    **_responses("Unauthorized"),
                },
            },
            "post": {
                "operationId": "directory_create_user",
                "summary": "Add a user (needs manage_users)",
                "tags": tags,
                "requestBody": {"required": True, "content": {JSON: {"schema": _ref("UserInput")}}},
                "responses": {
                    "201": {
                        **one_user,
                        "headers": {
                            "Location": {
                                "description": "The user's URL.",
                                "schema": {"type": "string"},
                            }
                        },
                    },
                    **_responses("BadRequest", "Unauthorized", "Conflict", "PayloadTooLarge"),
                },
            },
        },
    )
    spec.path(
        "/users/{user_id}",
        parameters=[user_param],
        operations={
            "get": {
                "operationId": "directory_get_user",
                "summary": "A user (others need manage_users or view_setup)",
                "tags": tags,
                "responses": {"200": one_user, **_responses("Unauthorized", "NotFound")},
            },
            "patch": {
                "operationId": "directory_update_user",
                "summary": "Change a user (others, and assignments, need manage_users)",
                "tags": tags,
                "requestBody": {"required": True, "content": {JSON: {"schema": _ref("UserPatch")}}},
                "responses": {
                    "200": one_user,
                    **_responses(
                        "BadRequest", "Unauthorized", "NotFound", "Conflict", "PayloadTooLarge"
                    ),
                },
            },
        },
    )
    members = {
        "description": "The members' user ids, sorted",
        "content": {
            JSON: {
                "schema": {
                    "type": "object",
                    "required": ["members"],
                    "properties": {"members": {"type": "array", "items": {"type": "string"}}},
                    "additionalProperties": False,
                }
            }
        },
    }
    for plural, singular in (("groups", "group"), ("queues", "queue")):
        name_param = {
            "name": "name",
            "in": "path",
            "required": True,
            "description": f"The {singular}'s api_name.",
            "schema": {"type": "string"},
        }
        spec.path(
            f"/{plural}/{{name}}/members",
            parameters=[name_param],
            operations={
                "get": {
                    "operationId": f"directory_list_{singular}_members",
                    "summary": f"A {singular}'s members (needs manage_users or view_setup)",
                    "tags": tags,
                    "responses": {"200": members, **_responses("Unauthorized", "NotFound")},
                },
                "post": {
                    "operationId": f"directory_add_{singular}_member",
                    "summary": f"Add a user to a {singular} (needs manage_users)",
                    "tags": tags,
                    "requestBody": {
                        "required": True,
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["user_id"],
                                    "properties": {"user_id": {"type": "string"}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {**members, "description": "The members now"},
                        **_responses("BadRequest", "Unauthorized", "NotFound", "PayloadTooLarge"),
                    },
                },
            },
        )
        spec.path(
            f"/{plural}/{{name}}/members/{{user_id}}",
            parameters=[name_param, user_param],
            operations={
                "delete": {
                    "operationId": f"directory_remove_{singular}_member",
                    "summary": f"Take a user out of a {singular} (needs manage_users)",
                    "tags": tags,
                    "responses": {
                        "204": {"description": "Removed"},
                        **_responses("Unauthorized", "NotFound"),
                    },
                }
            },
        )
    token = {
        "type": "object",
        "required": ["id", "name", "created_at", "revoked_at"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "revoked_at": {"type": ["string", "null"], "format": "date-time"},
        },
        "additionalProperties": False,
    }
    spec.path(
        "/tokens",
        operations={
            "get": {
                "operationId": "directory_list_tokens",
                "summary": "The caller's API tokens (never their secrets)",
                "tags": tags,
                "responses": {
                    "200": {
                        "description": "The tokens, oldest first",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["tokens"],
                                    "properties": {"tokens": {"type": "array", "items": token}},
                                    "additionalProperties": False,
                                }
                            }
                        },
                    },
                    **_responses("Unauthorized"),
                },
            },
            "post": {
                "operationId": "directory_create_token",
                "summary": "A new API token for the caller",
                "tags": tags,
                "requestBody": {
                    "required": True,
                    "content": {
                        JSON: {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "name": {
                                        "type": "string",
                                        "maxLength": 120,
                                        "pattern": r"\S",
                                        "default": "API token",
                                    }
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "The token: `token` is shown this once only",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["id", "name", "token"],
                                    "properties": {
                                        "id": {"type": "string"},
                                        "name": {"type": "string"},
                                        "token": {"type": "string"},
                                    },
                                    "additionalProperties": False,
                                }
                            }
                        },
                    },
                    **_responses("BadRequest", "Unauthorized", "PayloadTooLarge"),
                },
            },
        },
    )
    spec.path(
        "/tokens/{token_id}",
        parameters=[
            {"name": "token_id", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        operations={
            "delete": {
                "operationId": "directory_revoke_token",
                "summary": "Revoke an API token (another user's needs manage_users)",
                "tags": tags,
                "responses": {
                    "204": {"description": "Revoked"},
                    **_responses("Unauthorized", "NotFound"),
                },
            }
        },
    )


def _add_audit_endpoints(spec: APISpec) -> None:
    limit = {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": AUDIT_LIMIT, "default": 50},
    }
    definition = {
        "anyOf": [{"type": "object"}, {"type": "null"}],
        "description": "The definition as stored (null where the component did not exist).",
    }
    spec.path(
        "/audit/setup",
        operations={
            "get": {
                "operationId": "audit_setup",
                "summary": "Who changed which metadata, when: newest first (needs view_setup)",
                "tags": ["audit"],
                "parameters": [
                    {
                        "name": "kind",
                        "in": "query",
                        "description": "Only changes of this kind (`object`, `field`, ...).",
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "before",
                        "in": "query",
                        "description": "Only changes before this metadata version.",
                        "schema": {"type": "integer", "minimum": 0},
                    },
                    limit,
                ],
                "responses": {
                    "200": {
                        "description": "The changes",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["changes"],
                                    "properties": {
                                        "changes": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "required": [
                                                    "revision",
                                                    "kind",
                                                    "name",
                                                    "action",
                                                    "by",
                                                    "at",
                                                    "before",
                                                    "after",
                                                ],
                                                "properties": {
                                                    "revision": {"type": "integer"},
                                                    "kind": {"type": "string"},
                                                    "name": {"type": "string"},
                                                    "action": {"type": "string"},
                                                    "by": {
                                                        "type": "object",
                                                        "required": ["id", "email"],
                                                        "properties": {
                                                            "id": {"type": "string"},
                                                            "email": {"type": ["string", "null"]},
                                                        },
                                                    },
                                                    "at": {"type": "string", "format": "date-time"},
                                                    "before": definition,
                                                    "after": definition,
                                                },
                                            },
                                        }
                                    },
                                    "additionalProperties": False,
                                }
                            }
                        },
                    },
                    **_responses("BadRequest", "Unauthorized"),
                },
            }
        },
    )
    spec.path(
        "/audit/logins",
        operations={
            "get": {
                "operationId": "audit_logins",
                "summary": "Logins, failures included, newest first (needs manage_users)",
                "tags": ["audit"],
                "parameters": [
                    {
                        "name": "email",
                        "in": "query",
                        "description": "Only the logins with this email.",
                        "schema": {"type": "string"},
                    },
                    limit,
                ],
                "responses": {
                    "200": {
                        "description": "The logins",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["logins"],
                                    "properties": {
                                        "logins": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "required": ["id", "email", "succeeded", "at"],
                                                "properties": {
                                                    "id": {"type": "string"},
                                                    "user_id": {"type": ["string", "null"]},
                                                    "email": {"type": "string"},
                                                    "succeeded": {"type": "boolean"},
                                                    "method": {"type": "string"},
                                                    "address": {"type": ["string", "null"]},
                                                    "user_agent": {"type": ["string", "null"]},
                                                    "at": {"type": "string", "format": "date-time"},
                                                },
                                            },
                                        }
                                    },
                                    "additionalProperties": False,
                                }
                            }
                        },
                    },
                    **_responses("BadRequest", "Unauthorized"),
                },
            }
        },
    )


def _add_document_endpoint(spec: APISpec) -> None:
    spec.path(
        "/openapi.json",
        operations={
            "get": {
                "operationId": "openapi_document",
                "summary": "This OpenAPI document, for the metadata as it is now",
                "tags": ["openapi"],
                "parameters": [
                    {
                        "name": "If-None-Match",
                        "in": "header",
                        "description": "The ETag of a copy you have.",
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The document",
                        "headers": {
                            VERSION_HEADER: "MetadataVersion",
                            "ETag": {
                                "description": "Changes with the metadata version.",
                                "schema": {"type": "string"},
                            },
                        },
                        "content": {JSON: {"schema": {"type": "object"}}},
                    },
                    "304": {"description": "Your copy is current"},
                    **_responses("Unauthorized"),
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
    _add_shares(spec, obj, label)
    for field_name, field in obj.fields.items():
        if field.type == "external_id" or field.definition.get("unique"):
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
                        "content": {JSON: {"schema": _ref("AggregateResult")}},
                    },
                    **_responses("BadRequest", "Unauthorized", "NotFound"),
                },
            }
        },
    )
    for relation_name, relation in relation_names(model, obj).items():
        if "/" in relation_name:
            continue  # cannot be one path segment: never served
        child = model.objects[relation.child]
        child_label = _text_label(child.definition.get("label"), child.api_name)
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
                            "content": {JSON: {"schema": _ref(names.derived(child, "page"))}},
                        },
                        **_responses("BadRequest", "Unauthorized", "NotFound"),
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
    value = _scalar(field.type, field.definition)
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
                "requestBody": {"required": True, "content": {JSON: {"schema": _ref(patch)}}},
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
                    **_responses(
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
                    **_responses("Unauthorized", "NotFound"),
                },
            },
            "post": {
                "operationId": f"share_{name}",
                "summary": f"Share a {label} record with a user, group or role",
                "description": "Needs edit access to the record; only objects whose sharing "
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
                    **_responses("BadRequest", "Unauthorized", "NotFound", "PayloadTooLarge"),
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
                    **_responses("Unauthorized", "NotFound"),
                },
            }
        },
    )


def relation_names(model: OrgModel, obj: ObjectModel) -> dict[str, Relation]:
    """The related lists of ``obj`` by name, as ``RecordSession.related`` resolves them.

    ``<child>.<field>`` always; the field's ``relationship_name`` too, or else the
    child's name when the child points at ``obj`` through one field only.
    """
    relations = model.relations_to.get(obj.api_name, ())
    per_child: dict[str, int] = {}
    for relation in relations:
        per_child[relation.child] = per_child.get(relation.child, 0) + 1
    names: dict[str, Relation] = {}
    for relation in relations:
        definition = model.objects[relation.child].fields[relation.field].definition
        names[f"{relation.child}.{relation.field}"] = relation
        if definition.get("relationship_name"):
            names[definition["relationship_name"]] = relation
        elif per_child[relation.child] == 1:
            names[relation.child] = relation
    return names


METRIC_PATTERN = r"^\s*(count|(" + "|".join(METRIC_FUNCTIONS) + r")\([^,]*[^,\s][^,]*\))\s*$"


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
