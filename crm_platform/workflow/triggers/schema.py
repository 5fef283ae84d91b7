"""The ``trigger`` kind's JSON Schema: what a trigger definition may say (its cross-checks
against the model are in :mod:`.checks`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..checks import action_schemas

EVENTS = ("create", "update", "delete")
BEFORE_SAVE, AFTER_SAVE, SCHEDULED = "before_save", "after_save", "scheduled"
TIMINGS = (BEFORE_SAVE, AFTER_SAVE, SCHEDULED)


def action_item_schema() -> Mapping[str, Any]:
    """One action: its ``type`` first, then that type's own schema (an ``if``/``then``
    per type rather than a bare ``oneOf``, so an error names the option that is wrong)."""
    branches = action_schemas()
    names = [branch["properties"]["type"]["const"] for branch in branches]
    return {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": names}},
        "allOf": [
            {
                "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                "then": branch,
            }
            for name, branch in zip(names, branches, strict=True)
        ],
    }


def trigger_schema() -> Mapping[str, Any]:
    """The schema, with one ``oneOf`` branch per action type known when it is built."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "crm:trigger",
        "title": "trigger",
        "description": "Actions run when records of an object are created, updated or "
        "deleted and meet a condition: before save, after save, or at an offset from "
        "a date field.",
        "type": "object",
        "required": ["api_name", "object", "events", "actions"],
        "additionalProperties": False,
        "properties": {
            "api_name": {"type": "string"},
            "object": {"type": "string"},
            "label": {"$ref": "crm:label"},
            "description": {"type": "string", "maxLength": 1000},
            "active": {"type": "boolean"},
            "events": {
                "type": "array",
                "items": {"enum": list(EVENTS)},
                "minItems": 1,
                "uniqueItems": True,
            },
            "when": {"type": "string", "minLength": 1, "maxLength": 4000},
            "only_when_changed_to_meet": {"type": "boolean"},
            "timing": {"enum": list(TIMINGS)},
            "schedule": {
                "type": "object",
                "required": ["field", "offset"],
                "additionalProperties": False,
                "properties": {
                    "field": {"type": "string", "minLength": 1},
                    "offset": {"type": "string", "minLength": 1, "maxLength": 10},
                },
            },
            "actions": {
                "type": "array",
                "minItems": 1,
                "maxItems": 50,
                "items": action_item_schema(),
            },
        },
    }
