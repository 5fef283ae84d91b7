"""The OpenAPI description of ``/automation`` (runs, retry, delivery check)."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from crm_platform.metadata import KindRegistry
from crm_platform.runtime import OrgModel
from crm_platform.workflow import outbox
from crm_platform.workflow.runs import DEFAULT_LIMIT, MAX_LIMIT, STATUS_WORDS

from .openapi import JSON, error_responses, ref

_TIME = {"type": "string", "format": "date-time"}
_MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}
_MAYBE_TEXT = {"type": ["string", "null"]}

RUN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "One run of the automation outbox (a webhook, an email, a scheduled "
    "trigger's actions...).",
    "required": ["id", "job", "source", "status", "late", "due_at", "attempts", "step"],
    "properties": {
        "id": {"type": "string"},
        "job": {"type": "string", "description": "The job type: webhook, email, ping..."},
        "source": {"type": "string", "description": "What asked for it, e.g. trigger:..."},
        "object": _MAYBE_TEXT,
        "record_id": _MAYBE_TEXT,
        "payload": {"type": "object"},
        "status": {"type": "string", "enum": list(outbox.STATUSES)},
        "late": {"type": "boolean", "description": "It started long after it was due."},
        "due_at": _TIME,
        "attempts": {"type": "integer"},
        "step": {"type": "integer", "description": "The step a retry starts at."},
        "error": {**_MAYBE_TEXT, "description": "Why the last attempt failed."},
        "failed_step": {**_MAYBE_TEXT, "description": "The action that failed."},
        "idempotency_key": {"type": "string"},
        "user_id": {"type": "string"},
        "created_at": _TIME,
        "started_at": _MAYBE_TIME,
        "finished_at": _MAYBE_TIME,
        "delivered_by": {
            "type": "string",
            "description": "A delivered ping: the worker (host:pid) that delivered it.",
        },
    },
}


def _run_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": ref("AutomationRun")}}}


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``/automation/runs``, ``/automation/runs/{id}``, its retry, and ``/automation/ping``."""
    del model, registry  # the same for every model
    spec.tag({"name": "automation", "description": "Automation runs (administrators)."})
    spec.components.schema("AutomationRun", RUN_SCHEMA)
    run_id = {"name": "run_id", "in": "path", "required": True, "schema": {"type": "string"}}
    spec.path(
        "/automation/runs",
        operations={
            "get": {
                "operationId": "automation_runs",
                "summary": "Automation runs, newest first (administrators)",
                "tags": ["automation"],
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "description": "Only runs with one of these statuses (comma-separated "
                        f"or repeated): {', '.join(STATUS_WORDS)}; `late` lists runs that "
                        "started late.",
                        "schema": {"type": "string"},
                        "examples": {"failed": {"value": "failed"}},
                    },
                    {"name": "source", "in": "query", "schema": {"type": "string"}},
                    {"name": "record_id", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "before",
                        "in": "query",
                        "description": "The `next` of the previous page.",
                        "schema": {"type": "string"},
                    },
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
                ],
                "responses": {
                    "200": {
                        "description": "The runs",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["runs", "next"],
                                    "properties": {
                                        "runs": {"type": "array", "items": ref("AutomationRun")},
                                        "next": {
                                            **_MAYBE_TEXT,
                                            "description": "`before` for the next page",
                                        },
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
        "/automation/runs/{run_id}",
        parameters=[run_id],
        operations={
            "get": {
                "operationId": "automation_run",
                "summary": "One automation run (administrators)",
                "tags": ["automation"],
                "responses": {
                    "200": _run_response("The run"),
                    **error_responses("Unauthorized", "NotFound"),
                },
            }
        },
    )
    spec.path(
        "/automation/runs/{run_id}/retry",
        parameters=[run_id],
        operations={
            "post": {
                "operationId": "automation_retry",
                "summary": "Queue a failed run again, from the action that failed",
                "tags": ["automation"],
                "responses": {
                    "200": _run_response("The run, queued again"),
                    **error_responses("Unauthorized", "NotFound", "Conflict"),
                },
            }
        },
    )
    spec.path(
        "/automation/ping",
        operations={
            "post": {
                "operationId": "automation_ping",
                "summary": "Check delivery: queue a ping run that a worker records",
                "tags": ["automation"],
                "requestBody": {
                    "required": False,
                    "content": {
                        JSON: {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "hold": {
                                        "type": "number",
                                        "minimum": 0,
                                        "description": "Seconds the worker holds the run "
                                        "before it answers (under the run lease).",
                                    }
                                },
                                "additionalProperties": False,
                            }
                        }
                    },
                },
                "responses": {
                    "202": _run_response("The ping run, queued"),
                    **error_responses("BadRequest", "Unauthorized"),
                },
            }
        },
    )
