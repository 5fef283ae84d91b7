"""In-app notifications of the current user: list (unread first), mark read."""

from __future__ import annotations

from apispec import APISpec
from flask import Blueprint, Response, jsonify, request

from crm_platform.core import ValidationFailed
from crm_platform.metadata import KindRegistry
from crm_platform.runtime import OrgModel
from crm_platform.workflow import notifications as inbox

from .auth import current_org, current_user
from .openapi import JSON, error_responses
from .params import query_params

bp = Blueprint("notifications_api", __name__, url_prefix="/notifications")


def _limit() -> int:
    raw = request.args.get("limit", str(inbox.DEFAULT_LIMIT))
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= inbox.MAX_LIMIT:
        raise ValidationFailed({"limit": f"an integer between 1 and {inbox.MAX_LIMIT}"})
    return int(raw)


def _unread_only() -> bool:
    raw = request.args.get("unread", "false").lower()
    if raw not in {"true", "false", "1", "0"}:
        raise ValidationFailed({"unread": "true or false"})
    return raw in {"true", "1"}


@bp.get("")
@query_params("unread", "limit", "cursor")
def list_notifications() -> Response:
    """The current user's notifications: unread first, newest first within each."""
    with current_org().db.read() as conn:
        page = inbox.list_for(
            conn,
            current_user().id,
            unread_only=_unread_only(),
            limit=_limit(),
            cursor=request.args.get("cursor") or None,
        )
    return jsonify(
        {
            "notifications": page.notifications,
            "next_cursor": page.next_cursor,
            "unread": page.unread,
        }
    )


@bp.post("/<notification_id>/read")
@query_params()
def mark_read(notification_id: str) -> Response:
    org = current_org()
    with org.db.write() as conn:
        found = inbox.mark_read(conn, current_user().id, notification_id, org.clock())
    return jsonify(found)


@bp.post("/read")
@query_params()
def mark_all_read() -> Response:
    """Every unread notification of the current user, read."""
    org = current_org()
    with org.db.write() as conn:
        marked = inbox.mark_all_read(conn, current_user().id, org.clock())
    return jsonify({"marked": marked})


# --- its documentation --------------------------------------------------------------

NOTIFICATION = {
    "type": "object",
    "required": ["id", "message", "object", "record_id", "source", "read", "created_at"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string"},
        "message": {"type": "string"},
        "object": {"type": ["string", "null"], "description": "The record's object."},
        "record_id": {"type": ["string", "null"]},
        "source": {
            "type": "string",
            "description": "What sent it, e.g. `assignment_rule:case.routing`.",
        },
        "read": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
        "read_at": {"type": ["string", "null"], "format": "date-time"},
    },
}


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``/notifications``, ``/notifications/{id}/read`` and ``/notifications/read``."""
    del model, registry  # the same for every model
    spec.tag({"name": "notifications", "description": "The current user's notifications."})
    spec.components.schema("Notification", NOTIFICATION)
    one = {"content": {JSON: {"schema": {"$ref": "#/components/schemas/Notification"}}}}
    spec.path(
        "/notifications",
        operations={
            "get": {
                "operationId": "notifications",
                "summary": "My notifications: unread first, newest first (keyset pages)",
                "tags": ["notifications"],
                "parameters": [
                    {"name": "unread", "in": "query", "schema": {"type": "boolean"}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": inbox.MAX_LIMIT,
                            "default": inbox.DEFAULT_LIMIT,
                        },
                    },
                    {
                        "name": "cursor",
                        "in": "query",
                        "description": "The `next_cursor` of the previous page.",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "A page of notifications",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["notifications", "next_cursor", "unread"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "notifications": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/Notification"},
                                        },
                                        "next_cursor": {"type": ["string", "null"]},
                                        "unread": {
                                            "type": "integer",
                                            "description": "How many are unread in all.",
                                        },
                                    },
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
        "/notifications/{id}/read",
        parameters=[
            {
                "name": "id",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
            }
        ],
        operations={
            "post": {
                "operationId": "notification_read",
                "summary": "Mark one of my notifications read",
                "tags": ["notifications"],
                "responses": {
                    "200": {"description": "The notification", **one},
                    **error_responses("BadRequest", "Unauthorized", "NotFound"),
                },
            }
        },
    )
    spec.path(
        "/notifications/read",
        operations={
            "post": {
                "operationId": "notifications_read",
                "summary": "Mark all my notifications read",
                "tags": ["notifications"],
                "responses": {
                    "200": {
                        "description": "How many were unread",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["marked"],
                                    "properties": {"marked": {"type": "integer"}},
                                }
                            }
                        },
                    },
                    **error_responses("BadRequest", "Unauthorized"),
                },
            }
        },
    )
