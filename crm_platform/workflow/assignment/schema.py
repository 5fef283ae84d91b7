"""The JSON Schema of an assignment rule (``assignment_rules/<object>.<name>.yaml``)."""

from __future__ import annotations

from typing import Any

EXPRESSION = {"type": "string", "minLength": 1, "maxLength": 4000}
NAME = {"type": "string", "minLength": 1, "maxLength": 200}


def _target(key: str, description: str, **more: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": {key: NAME, **more},
        "required": [key, *more],
        "additionalProperties": False,
    }


ASSIGN_TO: dict[str, Any] = {
    "oneOf": [
        _target("user", "A user, by email."),
        _target("queue", "A queue that takes records of the rule's object."),
        _target("round_robin", "The active members of a group, in turn."),
        {
            **_target(
                "least_loaded",
                "The active member of a group who owns the fewest open records of the "
                "object; with `skill`, only members also in the group the skill "
                "expression names (skills are groups, such as skill_billing).",
                open=EXPRESSION,
            ),
            "properties": {"least_loaded": NAME, "open": EXPRESSION, "skill": EXPRESSION},
        },
    ]
}

ASSIGNMENT_RULE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "crm:assignment_rule",
    "title": "assignment_rule",
    "description": (
        "Who owns a record: ordered entries, the first whose `when` is true assigns it. "
        "The active rule of an object runs on every create; any rule runs on demand "
        "(POST /records/<object>/<id>/assign) or as an `assign` action."
    ),
    "type": "object",
    "required": ["api_name", "object", "entries"],
    "additionalProperties": False,
    "properties": {
        "api_name": {"type": "string"},
        "object": {"type": "string"},
        "label": {"$ref": "crm:label"},
        "description": {"type": "string", "maxLength": 1000},
        "active": {
            "type": "boolean",
            "description": "Runs on every create of the object (one active rule per object).",
        },
        "entries": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": {
                "type": "object",
                "required": ["assign_to"],
                "additionalProperties": False,
                "properties": {
                    "when": {**EXPRESSION, "description": "A condition; none matches always."},
                    "assign_to": ASSIGN_TO,
                    "notify": {
                        "type": "boolean",
                        "description": "Notify the new owner (default true).",
                    },
                },
            },
        },
    },
}
