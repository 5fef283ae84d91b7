"""The audit trail for administrators: setup changes and logins (field history is per record)."""

from __future__ import annotations

from dataclasses import asdict

from apispec import APISpec
from flask import Blueprint, Response, jsonify, request

from crm_platform.core import ValidationFailed
from crm_platform.core.inputs import MAX_SQL_INTEGER
from crm_platform.metadata import KindRegistry
from crm_platform.runtime import OrgModel, audit

from .auth import current_org, require_permission
from .openapi import JSON, error_responses
from .params import query_params

bp = Blueprint("audit_api", __name__, url_prefix="/audit")


def _limit() -> int:
    try:
        return int(request.args.get("limit", audit.DEFAULT_LIMIT))
    except ValueError as exc:
        raise ValidationFailed({"limit": "must be an integer"}) from exc


@bp.get("/setup")
@query_params("kind", "before", "limit")
@require_permission("view_setup")
def setup_audit() -> Response:
    """Who changed which metadata, when: newest first (``?kind=object&before=<version>``)."""
    limit = _limit()
    before = request.args.get("before")
    if before and not (before.isascii() and before.isdigit() and int(before) <= MAX_SQL_INTEGER):
        raise ValidationFailed({"before": "a metadata version"})
    query = audit.SetupChangeQuery(
        kind=request.args.get("kind") or None,
        before=int(before) if before else None,
        limit=limit,
    )
    with current_org().db.read() as conn:
        changes = audit.setup_changes(conn, query)
    return jsonify({"changes": [asdict(change) for change in changes]})


@bp.get("/logins")
@query_params("email", "limit")
@require_permission("manage_users")
def login_history() -> Response:
    """Logins, failures included, newest first (``?email=`` to narrow)."""
    query = audit.LoginQuery(email=request.args.get("email") or None, limit=_limit())
    with current_org().db.read() as conn:
        events = audit.login_history(conn, query)
    return jsonify({"logins": [asdict(event) for event in events]})


# --- its documentation --------------------------------------------------------------


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``/audit/setup`` and ``/audit/logins``."""
    del model, registry  # the same for every model
    spec.tag({"name": "audit", "description": "Setup changes and logins."})
    limit = {
        "name": "limit",
        "in": "query",
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": audit.MAX_LIMIT,
            "default": audit.DEFAULT_LIMIT,
        },
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
                    **error_responses("BadRequest", "Unauthorized"),
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
                    **error_responses("BadRequest", "Unauthorized"),
                },
            }
        },
    )
