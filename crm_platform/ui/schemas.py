"""The JSON Schemas of the end-user app's kinds: ``layout``, ``list_view`` and ``app``.

```yaml
# layouts/opportunity.default.yaml
api_name: default
object: opportunity
sections:
  - {label: Deal, columns: 2, fields: [name, account, amount, stage, close_date]}
  - {label: Discount, fields: [discount, {field: discount_reason, required_if: "discount > 10"}]}
related: [{relation: task.what, columns: [name, due_date, status]}]
# list_views/opportunity.open_pipeline.yaml
api_name: open_pipeline
object: opportunity
columns: [name, account.name, amount, stage, close_date]
filter: "stage != 'Closed Lost'"
sort: [close_date]
scope: mine
# apps/sales.yaml
api_name: sales
label: {en: Sales, zh: 销售}
tabs: [home, account, contact, opportunity]
```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EXPRESSION = {"type": "string", "minLength": 1, "maxLength": 4000}
PATH = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"^[a-z_][a-z0-9_.\[\]]*$"}
SORT_ITEM = {
    "type": "string",
    "minLength": 1,
    "maxLength": 201,
    "pattern": r"^-?[a-z_][a-z0-9_.]*$",
}
CONDITIONS = ("visible_if", "required_if", "read_only_if")

_LAYOUT_FIELD = {
    "oneOf": [
        {"type": "string", "minLength": 1, "maxLength": 40},
        {
            "type": "object",
            "required": ["field"],
            "additionalProperties": False,
            "properties": {
                "field": {"type": "string", "minLength": 1, "maxLength": 40},
                **{name: EXPRESSION for name in CONDITIONS},
            },
        },
    ]
}

_SECTION = {
    "type": "object",
    "required": ["fields"],
    "additionalProperties": False,
    "properties": {
        "label": {"$ref": "crm:label"},
        "columns": {"enum": [1, 2]},
        "fields": {"type": "array", "minItems": 1, "maxItems": 200, "items": _LAYOUT_FIELD},
    },
}

_SECTIONS = {"type": "array", "minItems": 1, "maxItems": 50, "items": _SECTION}

LAYOUT_SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "crm:layout",
    "title": "layout",
    "description": "How an object's record page and forms are laid out: sections of one or "
    "two columns of fields (optionally grouped in tabs), and related lists.",
    "type": "object",
    "required": ["api_name", "object"],
    "additionalProperties": False,
    "properties": {
        "api_name": {"type": "string"},
        "object": {"type": "string"},
        "label": {"$ref": "crm:label"},
        "description": {"type": "string", "maxLength": 1000},
        "create": {
            "type": "boolean",
            "description": "Used to create records (default true): then every required "
            "field the user must fill is in it.",
        },
        "sections": _SECTIONS,
        "tabs": {
            "type": "array",
            "minItems": 1,
            "maxItems": 20,
            "items": {
                "type": "object",
                "required": ["label", "sections"],
                "additionalProperties": False,
                "properties": {"label": {"$ref": "crm:label"}, "sections": _SECTIONS},
            },
        },
        "related": {
            "type": "array",
            "maxItems": 30,
            "items": {
                "type": "object",
                "required": ["relation"],
                "additionalProperties": False,
                "properties": {
                    "relation": {
                        "type": "string",
                        "pattern": r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$",
                    },
                    "label": {"$ref": "crm:label"},
                    "columns": {"type": "array", "minItems": 1, "maxItems": 12, "items": PATH},
                    "sort": {"type": "array", "maxItems": 5, "items": SORT_ITEM},
                },
            },
        },
    },
    "oneOf": [{"required": ["sections"]}, {"required": ["tabs"]}],
}

LIST_VIEW_SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "crm:list_view",
    "title": "list_view",
    "description": "A saved list of an object's records: columns, a filter, a sort, a scope "
    "(mine, my team's, all) and an optional Kanban grouping by a picklist.",
    "type": "object",
    "required": ["api_name", "object", "columns"],
    "additionalProperties": False,
    "properties": {
        "api_name": {"type": "string"},
        "object": {"type": "string"},
        "label": {"$ref": "crm:label"},
        "description": {"type": "string", "maxLength": 1000},
        "columns": {"type": "array", "minItems": 1, "maxItems": 20, "items": PATH},
        "filter": EXPRESSION,
        "sort": {"type": "array", "maxItems": 5, "items": SORT_ITEM},
        "scope": {"enum": ["mine", "team", "all"]},
        "kanban_by": {"type": "string", "minLength": 1, "maxLength": 40},
    },
}

APP_SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "crm:app",
    "title": "app",
    "description": "An app of the end-user UI: its label and its tabs (``home`` and objects).",
    "type": "object",
    "required": ["api_name", "tabs"],
    "additionalProperties": False,
    "properties": {
        "api_name": {"type": "string"},
        "label": {"$ref": "crm:label"},
        "description": {"type": "string", "maxLength": 1000},
        "tabs": {
            "type": "array",
            "minItems": 1,
            "maxItems": 30,
            "uniqueItems": True,
            "items": {"type": "string", "minLength": 2, "maxLength": 40},
        },
        "views": {
            "type": "object",
            "maxProperties": 30,
            "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 80},
            "description": "The list view each object tab opens, by object (``{opportunity: "
            "projects}``); a tab not named opens the object's first list view.",
        },
        "position": {"type": "integer", "minimum": 0, "maximum": 1000},
        "dashboard": {
            "type": "string",
            "minLength": 1,
            "description": "The dashboard its home page shows (else the first the user may read).",
        },
        "profiles": {
            "type": "array",
            "uniqueItems": True,
            "items": {"type": "string", "minLength": 1},
            "description": "The permission sets (as profile or assigned) whose users see the app "
            "(absent: everyone who may read one of its tabs); a user's first app is their home.",
        },
    },
}
