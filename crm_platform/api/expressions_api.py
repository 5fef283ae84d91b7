"""``POST /expressions/check``: type-check an expression against an object, as a formula,
a rule or a filter would be, and answer its type or the error with its position.

Builders in the setup UI call it as the admin types. The check sees the object as the
caller may read it: a field they may not read is an unknown field, as everywhere.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from flask import Blueprint, Response, jsonify, request

from crm_platform.core import NotFound, ValidationFailed
from crm_platform.expressions import ExpressionError, check, parse
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import KindRegistry
from crm_platform.runtime import OrgModel
from crm_platform.runtime.records.query import ReadableScope
from crm_platform.runtime.records.scope import ObjectScope

from .auth import current_access, request_reading
from .jsonio import read_json
from .openapi import JSON, error_responses

bp = Blueprint("expressions_api", __name__)

MAX_SOURCE = 4000  # a formula's own limit (field.json)
# What the expression must give: a formula's result type, or a condition's boolean.
EXPECTED = (
    "text",
    "integer",
    "decimal",
    "currency",
    "percent",
    "boolean",
    "date",
    "datetime",
    "time",
)


@bp.post("/expressions/check")
def check_expression() -> Response:
    """``{object, expression, expected?}`` -> ``{valid, type}`` or ``{valid: false,
    message, position, line}``; a malformed request is a 400 naming the input."""
    body = read_json(request)
    if not isinstance(body, dict):
        raise ValidationFailed({"(root)": "expected a JSON object"})
    object_name, source, expected = body.get("object"), body.get("expression"), body.get("expected")
    errors: dict[str, str] = {}
    if not isinstance(object_name, str) or not object_name:
        errors["object"] = "required: the object the expression runs on"
    if not isinstance(source, str) or not source.strip():
        errors["expression"] = "required"
    elif len(source) > MAX_SOURCE:
        errors["expression"] = f"at most {MAX_SOURCE} characters"
    if expected is not None and expected not in EXPECTED:
        errors["expected"] = f"one of {', '.join(EXPECTED)}"
    if errors:
        raise ValidationFailed(errors)
    _conn, model = request_reading()
    access = current_access()
    obj = model.object(object_name)
    if obj is None or not access.can(object_name, "read"):
        raise NotFound(f"no object '{object_name}'")
    scope = ReadableScope(
        ObjectScope(model, obj, "postgresql"),
        lambda path: access.path_readable(object_name, path),
    )
    wanted = field_type(expected).value_type if expected else None
    try:
        checked = check(parse(source), scope, wanted)
    except ExpressionError as error:
        return jsonify(
            {
                "valid": False,
                "message": error.message,
                "reason": error.reason,
                "position": error.position,
                "line": error.line,
            }
        )
    return jsonify({"valid": True, "type": checked.value_type.value})


RESULT: dict[str, Any] = {
    "type": "object",
    "required": ["valid"],
    "properties": {
        "valid": {"type": "boolean"},
        "type": {
            "type": "string",
            "description": "The expression's type (when valid): text, number, boolean, "
            "date, datetime, time, multi.",
        },
        "message": {"type": "string", "description": "The error, its position included."},
        "reason": {"type": "string", "description": "The error without its position."},
        "position": {
            "type": ["integer", "null"],
            "description": "The 1-based character column of the error.",
        },
        "line": {"type": ["integer", "null"], "description": "The 1-based line of the error."},
    },
    "additionalProperties": False,
}


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``POST /expressions/check``."""
    del model, registry  # the same for every org
    spec.tag({"name": "expressions", "description": "The expression language's checker."})
    spec.path(
        "/expressions/check",
        operations={
            "post": {
                "operationId": "check_expression",
                "summary": "Type-check an expression against an object",
                "description": "Answers the expression's type, or the error with its "
                "position (a 200 either way). Fields the caller may not read are unknown.",
                "tags": ["expressions"],
                "requestBody": {
                    "required": True,
                    "content": {
                        JSON: {
                            "schema": {
                                "type": "object",
                                "required": ["object", "expression"],
                                "properties": {
                                    "object": {"type": "string", "minLength": 1},
                                    "expression": {
                                        "type": "string",
                                        "minLength": 1,
                                        "maxLength": MAX_SOURCE,
                                        "pattern": r"\S",
                                    },
                                    "expected": {
                                        "enum": list(EXPECTED),
                                        "description": "The type the expression must "
                                        "give (a formula's result type; boolean for a "
                                        "condition).",
                                    },
                                },
                                "additionalProperties": True,
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "The type, or the error and where it is",
                        "content": {JSON: {"schema": RESULT}},
                    },
                    **error_responses("BadRequest", "Unauthorized", "NotFound"),
                },
            }
        },
    )
