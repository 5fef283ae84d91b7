"""``POST /composite``: a batch of record operations in one transaction."""

from __future__ import annotations

from apispec import APISpec
from flask import Blueprint, Response, jsonify, request

from crm_platform.metadata import KindRegistry
from crm_platform.runtime import OrgModel
from crm_platform.runtime.records.composite import MAX_OPERATIONS, parse_operations, run_composite

from . import aliases
from .auth import (
    current_access,
    current_org,
    current_user,
    take_request_writing,
    writes_in_request_transaction,
)
from .jsonio import read_json
from .openapi import JSON, error_responses, ref
from .problems import PROBLEM_JSON

bp = Blueprint("composite_api", __name__)
bp.after_request(aliases.add_deprecation_headers)


@bp.post("/composite")
@writes_in_request_transaction
def composite() -> Response:
    operations, all_or_none = parse_operations(read_json(request))
    records, writing = current_org().records, take_request_writing()
    with records.session(current_user(), access=current_access(), writing=writing) as session:
        operations = [aliases.operation(session.model, op) for op in operations]
        results = run_composite(session, operations, all_or_none)
    return jsonify({"results": results})


# --- its documentation --------------------------------------------------------------


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``POST /composite`` and the shapes of a batch and its results."""
    del model, registry  # the same for every model
    spec.tag({"name": "composite", "description": "Many record operations in one transaction."})
    _add_composite_schemas(spec)
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
                    "content": {JSON: {"schema": ref("CompositeRequest")}},
                },
                "responses": {
                    "200": {
                        "description": "Every operation ran (with all_or_none=false: some "
                        "may have failed, see each result's status)",
                        "content": {JSON: {"schema": ref("CompositeResponse")}},
                    },
                    "400": {
                        "description": "The batch is malformed, or an operation failed and "
                        "nothing was saved (all-or-none)",
                        "content": {PROBLEM_JSON: {"schema": ref("CompositeProblem")}},
                    },
                    **error_responses("Unauthorized", "PayloadTooLarge"),
                },
            }
        },
    )


def _any_case(word: str) -> str:
    """A regex matching ``word`` in any case (``[Gg][Ee][Tt]``): ECMA-262 has no inline flags."""
    return "".join(f"[{c.upper()}{c.lower()}]" for c in word)


def _add_composite_schemas(spec: APISpec) -> None:
    components = spec.components
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
            "additionalProperties": False,
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
                    "items": ref("CompositeOperation"),
                },
                "all_or_none": {
                    "type": "boolean",
                    "default": True,
                    "description": "With true, the first failure undoes every operation "
                    "(the answer is a 400 problem with the `results`); with false each "
                    "operation succeeds or fails alone.",
                },
            },
            "additionalProperties": False,
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
                    "items": ref("CompositeResult"),
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
            "allOf": [ref("Problem")],
            "properties": {
                "results": {"type": "array", "items": ref("CompositeResult")},
            },
        },
    )
