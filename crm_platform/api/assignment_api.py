"""``POST /records/<object>/<id>/assign``: run an assignment rule on a record on demand.

Anyone who may edit the record may ask; the owner change itself is the automation's
(the system user's), so no transfer permission is needed — the rule decides the owner,
not the person asking.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apispec import APISpec
from flask import Blueprint, Response, jsonify, request

from crm_platform.core import ValidationFailed
from crm_platform.metadata import KindRegistry
from crm_platform.runtime import OrgModel
from crm_platform.workflow.assignment.engine import assign
from crm_platform.workflow.assignment.rules import Rule, rules_of

from . import aliases
from .auth import current_access, current_org, current_user
from .jsonio import read_json
from .openapi import JSON, error_responses
from .openapi.objects import text_label

bp = Blueprint("assignment_api", __name__, url_prefix="/records")


def _options() -> Mapping[str, Any]:
    """The body: none, or ``{"rule": <name>}``."""
    if not request.get_data():
        return {}
    data = read_json(request)
    if not isinstance(data, dict):
        raise ValidationFailed({"(body)": 'a JSON object, such as {"rule": "routing"}'})
    unknown = sorted(set(data) - {"rule"})
    if unknown:
        raise ValidationFailed({name: "unknown option (it takes rule)" for name in unknown})
    if "rule" in data and not (isinstance(data["rule"], str) and data["rule"]):
        raise ValidationFailed({"rule": "the name of an assignment rule of the object"})
    return data


def _rule(model: OrgModel, object_name: str, name: str | None) -> Rule:
    rules = rules_of(model)
    if name is None:
        found = rules.active(object_name)
        if found is None:
            raise ValidationFailed(
                {"rule": f"{object_name} has no active assignment rule: name one"}
            )
        return found
    found = rules.get(object_name, name)
    if found is None:
        raise ValidationFailed({"rule": f"no assignment rule '{name}' on {object_name}"})
    return found


@bp.post("/<object_name>/<record_id>/assign")
def assign_record(object_name: str, record_id: str) -> Response:
    """Give the record to the owner the rule picks (the object's active rule by default)."""
    options = _options()
    org = current_org()
    with org.records.session(current_user(), access=current_access()) as session:
        obj = session.object(aliases.object_name(session.model, object_name))
        session.require(obj, "edit")
        session.require_edit_access(obj, record_id)
        rule = _rule(session.model, obj.api_name, options.get("rule"))
        result = assign(session, obj, record_id, rule)
    return jsonify(result.as_json())


# --- its documentation --------------------------------------------------------------

RESULT = {
    "type": "object",
    "required": ["rule", "entry", "owner_id", "changed"],
    "additionalProperties": False,
    "properties": {
        "rule": {"type": "string", "description": "The rule that ran."},
        "entry": {
            "type": ["integer", "null"],
            "description": "The index of the entry that matched (null: none did).",
        },
        "owner_id": {"type": "string", "description": "The owner now (a user or a queue)."},
        "changed": {"type": "boolean", "description": "Whether the owner moved."},
    },
}


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``/records/<object>/{id}/assign`` for every object."""
    del registry
    for name, obj in model.objects.items():
        label = text_label(obj.definition.get("label"), name)
        spec.path(
            f"/records/{name}/{{id}}/assign",
            parameters=["record_id"],
            operations={
                "post": {
                    "operationId": f"assign_{name}",
                    "summary": f"Run an assignment rule on a {label} record",
                    "description": (
                        "Needs edit access to the record. Gives it to the owner the first "
                        "matching entry of the rule picks (the object's active rule unless "
                        "`rule` names another); the new owner is notified."
                    ),
                    "tags": [name],
                    "requestBody": {
                        "required": False,
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {"rule": {"type": "string", "minLength": 1}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "What the rule did",
                            "content": {JSON: {"schema": RESULT}},
                        },
                        **error_responses("BadRequest", "Unauthorized", "NotFound", "Conflict"),
                    },
                }
            },
        )
