"""The parts every area of the document shares: problem+json errors, the bearer scheme,
the record parameters and headers, and the helpers that refer to them."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from crm_platform.api.problems import PROBLEM_JSON

JSON = "application/json"
ID_SCHEMA: dict[str, Any] = {
    "type": "string",
    "format": "uuid",
    "description": "A record id: a lowercase UUIDv7 (36 characters).",
}
ERROR_CODES = {
    "BadRequest": "400",
    "Unauthorized": "401",
    "Forbidden": "403",
    "NotFound": "404",
    "Conflict": "409",
    "PreconditionFailed": "412",
    "PayloadTooLarge": "413",
    "TooManyRequests": "429",
}


def ref(name: str) -> dict[str, str]:
    """A reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def error_responses(*names: str) -> dict[str, str]:
    """The error responses ``names`` (components), keyed by status code.

    Every endpoint behind the token checks api_enabled too, so ``Unauthorized``
    brings ``Forbidden`` along.
    """
    if "Unauthorized" in names:
        names = (*names, "Forbidden")
    return {ERROR_CODES[name]: name for name in sorted(set(names), key=ERROR_CODES.__getitem__)}


def add_common_components(spec: APISpec) -> None:
    """The bearer scheme, problem+json errors, the ETag and metadata version headers, and
    the record parameters (id, fields, deleted)."""
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
    problem = {PROBLEM_JSON: {"schema": ref("Problem")}}
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
        (
            "TooManyRequests",
            "Too many wrong passwords: wait the seconds `Retry-After` gives.",
        ),
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
            "lookups: `account.name`, a user's public columns: `account_manager.email`, a "
            "polymorphic lookup narrowed to one target: `related_to[account].industry`); by "
            "default every field. System fields always come.",
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
