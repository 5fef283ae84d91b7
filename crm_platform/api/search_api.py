"""``GET /search?q=...``: find records across searchable objects."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from flask import Blueprint, Response, jsonify, request

from crm_platform.core import ValidationFailed
from crm_platform.metadata import KindRegistry
from crm_platform.runtime import OrgModel
from crm_platform.runtime.records.search import MAX_QUERY

from .auth import current_access, current_org, current_user
from .openapi import ID_SCHEMA, JSON, error_responses, ref
from .params import query_params

bp = Blueprint("search_api", __name__)
MAX_RESULTS = 100


@bp.get("/search")
@query_params("q", "objects", "limit")
def search() -> Response:
    objects = [o for o in request.args.get("objects", "").split(",") if o.strip()] or None
    try:
        limit = int(request.args.get("limit", 20))
    except ValueError as exc:
        raise ValidationFailed({"limit": "must be an integer"}) from exc
    if not 1 <= limit <= MAX_RESULTS:
        raise ValidationFailed({"limit": f"must be between 1 and {MAX_RESULTS}"})
    with current_org().records.session(
        current_user(), write=False, access=current_access()
    ) as session:
        hits = session.search(request.args.get("q", ""), objects, limit)
    return jsonify({"results": hits})


# --- its documentation --------------------------------------------------------------


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``GET /search``: its parameters follow the model's objects."""
    del registry  # the same for every set of kinds
    spec.tag({"name": "search", "description": "Records across objects, by text."})
    components = spec.components
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
                        "content": {JSON: {"schema": ref("SearchResults")}},
                    },
                    **error_responses("BadRequest", "Unauthorized"),
                },
            }
        },
    )
