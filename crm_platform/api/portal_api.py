"""The customer portal's admin endpoints: invite a contact, and the portal's setting
(what portal users see: their own cases or their account's). ADR 0046."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from flask import Blueprint, Response, jsonify, request

from crm_platform.core import ValidationFailed
from crm_platform.metadata import KindRegistry
from crm_platform.portal import SHARINGS, invite_contact, portal_sharing, set_portal_sharing
from crm_platform.runtime import OrgModel

from .auth import current_org, current_user, require_permission
from .jsonio import read_json
from .openapi import JSON, error_responses
from .params import query_params

bp = Blueprint("portal_api", __name__, url_prefix="/portal")


def _body() -> dict[str, Any]:
    data = read_json(request)
    if not isinstance(data, dict):
        raise ValidationFailed({"": "send a JSON object"})
    return data


@bp.post("/invitations")
@query_params()
@require_permission("manage_users")
def invite() -> tuple[Response, int]:
    """Invite a contact (``{"contact": "<id or email>"}``): the link is in the answer, once."""
    data = _body()
    unknown = sorted(set(data) - {"contact"})
    if unknown:
        raise ValidationFailed(dict.fromkeys(unknown, "unknown member"))
    reference = data.get("contact")
    if not isinstance(reference, str):
        raise ValidationFailed({"contact": "a contact id or email (text)"})
    invitation = invite_contact(current_org(), current_user(), reference)
    body = invitation.as_json()
    body["url"] = request.host_url.rstrip("/") + invitation.path
    return jsonify(body), 201


@bp.get("/settings")
@query_params()
@require_permission("manage_users")
def settings() -> Response:
    with current_org().db.read() as conn:
        return jsonify({"sharing": portal_sharing(conn)})


@bp.put("/settings")
@query_params()
@require_permission("manage_users")
def change_settings() -> Response:
    data = _body()
    unknown = sorted(set(data) - {"sharing"})
    if unknown:
        raise ValidationFailed(dict.fromkeys(unknown, "unknown member"))
    with current_org().db.write() as conn:
        return jsonify({"sharing": set_portal_sharing(conn, data.get("sharing"))})


# --- its documentation --------------------------------------------------------------

INVITATION = {
    "type": "object",
    "required": ["user_id", "email", "contact_id", "token", "path", "url", "expires_at"],
    "additionalProperties": False,
    "properties": {
        "user_id": {"type": "string", "description": "The portal user."},
        "email": {"type": "string", "description": "Their login (the contact's email)."},
        "contact_id": {"type": "string"},
        "token": {"type": "string", "description": "Shown once; stored only as SHA-256."},
        "path": {"type": "string", "description": "Where they set their password."},
        "url": {"type": "string"},
        "expires_at": {"type": "string", "format": "date-time"},
        "new_user": {"type": "boolean", "description": "False when re-invited."},
    },
}
SETTINGS = {
    "type": "object",
    "required": ["sharing"],
    "additionalProperties": False,
    "properties": {
        "sharing": {
            "enum": list(SHARINGS),
            "description": "What portal users see: their own cases (`contact`) or every "
            "case of their account (`account`).",
        }
    },
}


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``/portal/invitations`` and ``/portal/settings``."""
    del model, registry  # the same for every model
    spec.tag({"name": "portal", "description": "The customer portal: invitations, setting."})
    spec.components.schema("PortalInvitation", INVITATION)
    spec.components.schema("PortalSettings", SETTINGS)
    settings_body = {"content": {JSON: {"schema": {"$ref": "#/components/schemas/PortalSettings"}}}}
    spec.path(
        "/portal/invitations",
        operations={
            "post": {
                "operationId": "portal_invite",
                "summary": "Invite a contact to the portal (needs manage_users)",
                "tags": ["portal"],
                "requestBody": {
                    "required": True,
                    "content": {
                        JSON: {
                            "schema": {
                                "type": "object",
                                "required": ["contact"],
                                "additionalProperties": False,
                                "properties": {
                                    "contact": {
                                        "type": "string",
                                        "description": "The contact's id or email.",
                                    }
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "The invitation, with its one-time link",
                        "content": {
                            JSON: {"schema": {"$ref": "#/components/schemas/PortalInvitation"}}
                        },
                    },
                    **error_responses(
                        "BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict"
                    ),
                },
            }
        },
    )
    spec.path(
        "/portal/settings",
        operations={
            "get": {
                "operationId": "portal_settings",
                "summary": "The portal's setting (needs manage_users)",
                "tags": ["portal"],
                "responses": {
                    "200": {"description": "The setting", **settings_body},
                    **error_responses("Unauthorized", "Forbidden"),
                },
            },
            "put": {
                "operationId": "portal_change_settings",
                "summary": "Change what portal users see (needs manage_users)",
                "tags": ["portal"],
                "requestBody": {"required": True, **settings_body},
                "responses": {
                    "200": {"description": "The setting", **settings_body},
                    **error_responses("BadRequest", "Unauthorized", "Forbidden"),
                },
            },
        },
    )
