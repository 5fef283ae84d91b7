"""Automation's email for administrators: ``GET /api/v1/automation/mail``.

Every message automation sent, kept (no SMTP server configured) or failed, newest
first. The messages hold record data as their recipients could read it, so listing
them needs ``view_all_data`` (an administrator holds it).
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from flask import Blueprint, Response, jsonify, request

from crm_platform.core import ValidationFailed
from crm_platform.metadata import KindRegistry
from crm_platform.runtime import OrgModel
from crm_platform.workflow.mail import STATUSES, list_messages
from crm_platform.workflow.mail.store import DEFAULT_LIMIT, MAX_LIMIT

from .auth import current_org, require_permission
from .openapi import JSON, error_responses
from .params import query_params

bp = Blueprint("mail_api", __name__, url_prefix="/automation")

PERMISSION = "view_all_data"


def _limit() -> int:
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationFailed({"limit": f"an integer from 1 to {MAX_LIMIT}"})
    return int(raw)


def _statuses() -> list[str]:
    wanted = [s for raw in request.args.getlist("status") for s in raw.split(",") if s]
    unknown = [s for s in wanted if s not in STATUSES]
    if unknown:
        raise ValidationFailed({"status": f"'{unknown[0]}' is not one of: {', '.join(STATUSES)}"})
    return wanted


@bp.get("/mail")
@query_params("status", "record_id", "before", "limit")
@require_permission(PERMISSION)
def mail() -> Response:
    """Messages, newest first (``?status=kept&record_id=...&before=<id>&limit=50``)."""
    limit = _limit()
    with current_org().db.read() as conn:
        found = list_messages(
            conn,
            statuses=_statuses(),
            record_id=request.args.get("record_id") or None,
            limit=limit,
            before=request.args.get("before") or None,
        )
    last = found[-1].id if len(found) == limit else None
    return jsonify({"messages": [m.as_json() for m in found], "next": last})


# --- its documentation --------------------------------------------------------------

NULLABLE_TEXT = {"type": ["string", "null"]}
MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "status", "template", "to", "cc", "subject", "body_text", "created_at"],
    "properties": {
        "id": {"type": "string"},
        "run_id": NULLABLE_TEXT,
        "status": {"type": "string", "enum": list(STATUSES)},
        "template": {"type": "string"},
        "source": {"type": "string", "description": "What sent it (trigger:<object>.<name>...)."},
        "object": NULLABLE_TEXT,
        "record_id": NULLABLE_TEXT,
        "sender": {**NULLABLE_TEXT, "description": "The From address it went out with."},
        "to": {"type": "array", "items": {"type": "string"}},
        "cc": {"type": "array", "items": {"type": "string"}},
        "subject": {"type": "string"},
        "body_text": {"type": "string"},
        "body_html": NULLABLE_TEXT,
        "message_id": {"type": "string", "description": "The Message-ID header."},
        "error": {**NULLABLE_TEXT, "description": "Why it failed, or what the server refused."},
        "created_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
    },
    "additionalProperties": False,
}


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``/automation/mail``."""
    del model, registry  # the same for every model
    spec.tag({"name": "mail", "description": "Email sent by automation."})
    parameters = [
        {
            "name": "status",
            "in": "query",
            "description": "Only messages in these statuses (repeat, or comma-separated).",
            "schema": {"type": "string"},
        },
        {
            "name": "record_id",
            "in": "query",
            "description": "Only the messages about this record.",
            "schema": {"type": "string"},
        },
        {
            "name": "before",
            "in": "query",
            "description": "The next page: the `next` id of the previous one.",
            "schema": {"type": "string"},
        },
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        },
    ]
    page = {
        "type": "object",
        "required": ["messages", "next"],
        "properties": {
            "messages": {"type": "array", "items": MESSAGE_SCHEMA},
            "next": {**NULLABLE_TEXT, "description": "Pass as `before` for the next page."},
        },
        "additionalProperties": False,
    }
    spec.path(
        "/automation/mail",
        operations={
            "get": {
                "operationId": "automation_mail",
                "summary": f"Email automation sent, kept or failed, newest first "
                f"(needs {PERMISSION})",
                "tags": ["mail"],
                "parameters": parameters,
                "responses": {
                    "200": {"description": "The messages", "content": {JSON: {"schema": page}}},
                    **error_responses("BadRequest", "Unauthorized"),
                },
            }
        },
    )
