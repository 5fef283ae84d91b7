"""How the approvals API (``approvals_api``) is documented: the actions on a record's
approval, its history, and the current user's pending decisions."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from crm_platform.metadata import KindRegistry
from crm_platform.runtime import OrgModel

from .openapi import ID_SCHEMA, JSON, error_responses, ref

TAGS = ["approvals"]
WHEN = {"type": "string", "format": "date-time"}
OPTIONAL_WHEN = {"type": ["string", "null"], "format": "date-time"}
TEXT_OR_NULL = {"type": ["string", "null"]}
PARAMETERS = [
    {
        "name": "name",
        "in": "path",
        "required": True,
        "description": "The object's API name.",
        "schema": {"type": "string"},
    },
    {"name": "id", "in": "path", "required": True, "schema": dict(ID_SCHEMA)},
]
ACTIONS: list[tuple[str, str, str, dict[str, Any], tuple[str, ...]]] = [
    (
        "submit",
        "Submit the record for approval",
        "The submitter needs edit access to the record. Without `process`, the first "
        "active process (by name) whose entry criteria the record meets is used. 409 when "
        "the record is pending already or meets no entry criteria, or when a step has no "
        "approver (e.g. the submitter has no manager).",
        {"process": {"type": "string"}, "comment": {"type": "string", "maxLength": 4000}},
        ("BadRequest", "Unauthorized", "NotFound", "Conflict", "PayloadTooLarge"),
    ),
    (
        "approve",
        "Approve the step waiting on you",
        "403 when you are not an approver of the current step; 409 when nothing is "
        "pending, or the step (your part of it) was decided already. `step`, when given, "
        "must name the current step.",
        {"comment": {"type": "string", "maxLength": 4000}, "step": {"type": "string"}},
        ("BadRequest", "Unauthorized", "NotFound", "Conflict", "PayloadTooLarge"),
    ),
    (
        "reject",
        "Reject the step waiting on you (the whole approval is rejected)",
        "403 when you are not an approver of the current step; 409 when nothing is "
        "pending, or the step was decided already.",
        {"comment": {"type": "string", "maxLength": 4000}, "step": {"type": "string"}},
        ("BadRequest", "Unauthorized", "NotFound", "Conflict", "PayloadTooLarge"),
    ),
    (
        "recall",
        "Recall the pending approval (unlocks the record)",
        "The submitter, or whoever holds modify_all on the object.",
        {"comment": {"type": "string", "maxLength": 4000}},
        ("BadRequest", "Unauthorized", "NotFound", "Conflict", "PayloadTooLarge"),
    ),
    (
        "reassign",
        "Hand a pending decision to another user",
        "An approver hands on their own decision; whoever holds modify_all on the object "
        "anyone's (`from`: whose, needed when several approvers wait).",
        {
            "to": {"type": "string", "description": "The new approver: a user id or email."},
            "from": {"type": "string", "description": "The approver whose decision moves."},
            "comment": {"type": "string", "maxLength": 4000},
        },
        ("BadRequest", "Unauthorized", "NotFound", "Conflict", "PayloadTooLarge"),
    ),
]


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """A record's approval (submit, approve, reject, recall, reassign, history) and the
    current user's pending decisions."""
    del model, registry  # the same for every model
    spec.tag({"name": "approvals", "description": "Approval processes: submit, decide, track."})
    _schemas(spec)
    state = {
        "description": "The record's approvals",
        "content": {JSON: {"schema": ref("ApprovalState")}},
    }
    for action, summary, description, properties, errors in ACTIONS:
        body = {"type": "object", "properties": properties, "additionalProperties": False}
        if action == "reassign":
            body["required"] = ["to"]
        spec.path(
            f"/records/{{name}}/{{id}}/approval/{action}",
            parameters=PARAMETERS,
            operations={
                "post": {
                    "operationId": f"approval_{action}",
                    "summary": summary,
                    "description": description,
                    "tags": TAGS,
                    "requestBody": {
                        "required": action == "reassign",
                        "content": {JSON: {"schema": body}},
                    },
                    "responses": {"200": state, **error_responses(*errors)},
                }
            },
        )
    spec.path(
        "/records/{name}/{id}/approval",
        parameters=PARAMETERS,
        operations={
            "get": {
                "operationId": "approval_history",
                "summary": "The record's approvals: steps, approvers and full history",
                "tags": TAGS,
                "responses": {"200": state, **error_responses("Unauthorized", "NotFound")},
            }
        },
    )
    spec.path(
        "/approvals/pending",
        operations={
            "get": {
                "operationId": "approvals_pending",
                "summary": "The decisions waiting for the current user, oldest first",
                "tags": TAGS,
                "responses": {
                    "200": {
                        "description": "Pending decisions",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["pending"],
                                    "properties": {
                                        "pending": {
                                            "type": "array",
                                            "items": ref("PendingApproval"),
                                        }
                                    },
                                    "additionalProperties": False,
                                }
                            }
                        },
                    },
                    **error_responses("Unauthorized"),
                },
            }
        },
    )


def _obj(properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


def _schemas(spec: APISpec) -> None:
    components = spec.components
    user = {
        "anyOf": [
            _obj({"id": {"type": "string"}, "name": TEXT_OR_NULL}, "A user."),
            {"type": "null"},
        ]
    }
    components.schema("ApprovalUser", user)
    components.schema(
        "ApprovalStep",
        _obj(
            {
                "name": {"type": "string"},
                "status": {"enum": ["pending", "approved", "rejected", "skipped", "recalled"]},
                "mode": {"enum": ["first_response", "unanimous"]},
                "started_at": WHEN,
                "decided_at": OPTIONAL_WHEN,
                "escalated": {"type": "boolean"},
                "approvers": {
                    "type": "array",
                    "items": _obj(
                        {
                            "user": ref("ApprovalUser"),
                            "status": {
                                "enum": [
                                    "pending",
                                    "approved",
                                    "rejected",
                                    "reassigned",
                                    "escalated",
                                    "closed",
                                ]
                            },
                            "comment": TEXT_OR_NULL,
                            "decided_at": OPTIONAL_WHEN,
                        },
                        "An approver of the step and their decision.",
                    ),
                },
            },
            "A step the approval went through (skipped when its criteria were false).",
        ),
    )
    components.schema(
        "ApprovalHistoryEntry",
        _obj(
            {
                "at": WHEN,
                "action": {
                    "enum": [
                        "submitted",
                        "approved",
                        "rejected",
                        "recalled",
                        "reassigned",
                        "escalated",
                        "skipped",
                    ]
                },
                "step": TEXT_OR_NULL,
                "user": ref("ApprovalUser"),
                "target": ref("ApprovalUser"),
                "comment": TEXT_OR_NULL,
            },
            "What happened: who, when, on which step, with their comment (`target`: who "
            "a reassignment or escalation named).",
        ),
    )
    components.schema(
        "ApprovalRequest",
        _obj(
            {
                "id": {"type": "string"},
                "process": {"type": "string"},
                "status": {"enum": ["pending", "approved", "rejected", "recalled"]},
                "locked": {"type": "boolean"},
                "current_step": TEXT_OR_NULL,
                "submitted_by": ref("ApprovalUser"),
                "submitted_at": WHEN,
                "decided_at": OPTIONAL_WHEN,
                "steps": {"type": "array", "items": ref("ApprovalStep")},
                "history": {"type": "array", "items": ref("ApprovalHistoryEntry")},
            },
            "One submission of the record.",
        ),
    )
    components.schema(
        "ApprovalState",
        _obj(
            {
                "object": {"type": "string"},
                "record_id": {"type": "string"},
                "pending": {"type": "boolean"},
                "requests": {"type": "array", "items": ref("ApprovalRequest")},
            },
            "A record's approvals, newest first.",
        ),
    )
    components.schema(
        "PendingApproval",
        _obj(
            {
                "request_id": {"type": "string"},
                "process": {"type": "string"},
                "object": {"type": "string"},
                "record_id": {"type": "string"},
                "step": {"type": "string"},
                "mode": {"enum": ["first_response", "unanimous"]},
                "submitted_by": ref("ApprovalUser"),
                "submitted_at": WHEN,
                "assigned_at": WHEN,
            },
            "A decision waiting for the current user.",
        ),
    )
