"""JSON Schemas of the ``business_hours`` and ``milestone`` kinds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..triggers.schema import action_item_schema
from .calendar import DAYS

EXPRESSION = {"type": "string", "minLength": 1, "maxLength": 4000}
WINDOW = {"type": "string", "pattern": r"^\s*[0-2][0-9]:[0-5][0-9]\s*-\s*[0-2][0-9]:[0-5][0-9]\s*$"}

BUSINESS_HOURS_SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "crm:business_hours",
    "title": "business_hours",
    "description": "Working hours a service-level target counts: opening windows per "
    "weekday and closed holidays, in a time zone (the org's when not given).",
    "type": "object",
    "required": ["api_name", "week"],
    "additionalProperties": False,
    "properties": {
        "api_name": {"type": "string"},
        "label": {"$ref": "crm:label"},
        "description": {"type": "string", "maxLength": 1000},
        "time_zone": {"type": "string", "minLength": 1, "maxLength": 64},
        "week": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {day: {"type": "array", "items": WINDOW, "maxItems": 10} for day in DAYS},
        },
        "holidays": {
            "type": "array",
            "maxItems": 1000,
            "uniqueItems": True,
            "items": {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
        },
    },
}


def milestone_schema() -> Mapping[str, Any]:
    """The milestone schema (its actions are those triggers take)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "crm:milestone",
        "title": "milestone",
        "description": "A service-level timer on records of an object: started when "
        "`start_when` holds, due `target_minutes` (working minutes of `business_hours`) "
        "later — the due time is stored in `due_field` — stopped when `complete_when` "
        "holds; if it is still running when due, `breached_field` is set and the actions run.",
        "type": "object",
        "required": ["api_name", "object", "target_minutes", "due_field", "complete_when"],
        "additionalProperties": False,
        "properties": {
            "api_name": {"type": "string"},
            "object": {"type": "string"},
            "label": {"$ref": "crm:label"},
            "description": {"type": "string", "maxLength": 1000},
            "active": {"type": "boolean"},
            "start_when": {
                **EXPRESSION,
                "description": "When the timer starts (default: as the record is created).",
            },
            "target_minutes": {
                **EXPRESSION,
                "description": "A number expression on the record: the target in minutes "
                "(it may read a related entitlement, e.g. entitlement.response_minutes).",
            },
            "business_hours": {"type": "string", "minLength": 1},
            "due_field": {"type": "string", "minLength": 1},
            "complete_when": EXPRESSION,
            "breached_field": {"type": "string", "minLength": 1},
            "actions": {"type": "array", "maxItems": 50, "items": action_item_schema()},
        },
    }
