"""The OpenAPI description of ``/reports`` (the list, one definition, a run)."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from crm_platform.metadata import KindRegistry
from crm_platform.reports.definition import MAX_LIMIT
from crm_platform.runtime import OrgModel

from .openapi import JSON, error_responses, ref

_TEXT = {"type": "string"}
_MAYBE_TEXT = {"type": ["string", "null"]}
_VALUE = {"description": "A number, text, boolean, ISO date or datetime, or null."}
_COLUMN = {
    "type": "object",
    "required": ["key", "label", "type"],
    "properties": {
        "key": {
            **_TEXT,
            "description": "As the definition names it: `account.name`, "
            "`close_date by month`, `sum(amount)`, a summary formula's name.",
        },
        "label": _TEXT,
        "type": {**_TEXT, "description": "The field type, or number, percent, date..."},
        "scale": {"type": "integer", "description": "Decimal places of a number."},
    },
    "additionalProperties": False,
}
_KEY = {
    "type": "object",
    "required": ["value", "label"],
    "properties": {
        "value": {
            **_VALUE,
            "description": "The stored value, a lookup's id, a bucket's "
            "first day; null for the group of blank values (and for a record the "
            "caller cannot see).",
        },
        "label": {**_MAYBE_TEXT, "description": "What a person reads for the value."},
    },
    "additionalProperties": False,
}
_VALUES = {
    "type": "object",
    "description": "Aggregates and summary formulas by key.",
    "additionalProperties": _VALUE,
}
_CELLS = {
    "type": "array",
    "description": "A matrix: the aggregates per column group, in `column_keys` order.",
    "items": {
        "type": "object",
        "required": ["keys", "values"],
        "properties": {"keys": {"type": "array", "items": _KEY}, "values": _VALUES},
        "additionalProperties": False,
    },
}
_TOTAL = {
    "type": "object",
    "required": ["values", "by_column"],
    "properties": {"values": _VALUES, "by_column": _CELLS, "column_subtotals": _CELLS},
    "additionalProperties": False,
}
RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A report's answer for the caller, computed in SQL with their sharing "
    "and field-level security.",
    "required": [
        "report",
        "label",
        "format",
        "columns",
        "groupings",
        "column_groupings",
        "aggregates",
        "rows",
        "rows_truncated",
        "groups",
        "column_keys",
        "total",
        "chart",
    ],
    "properties": {
        "report": _TEXT,
        "label": _TEXT,
        "format": {"enum": ["tabular", "summary", "matrix"]},
        "columns": {"type": "array", "items": _COLUMN},
        "groupings": {"type": "array", "items": _COLUMN},
        "column_groupings": {"type": "array", "items": _COLUMN},
        "aggregates": {"type": "array", "items": _COLUMN},
        "rows": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["values", "group", "id", "names"],
                "properties": {
                    "values": {"type": "array", "items": _VALUE},
                    "group": {"type": "array", "items": _VALUE},
                    "id": _MAYBE_TEXT,
                    "names": {
                        "type": "object",
                        "description": "A lookup column's key -> the name of the record "
                        "its value (an id) points at, as a record's `_names` (null when "
                        "the caller may not read the name).",
                        "additionalProperties": _MAYBE_TEXT,
                    },
                },
                "additionalProperties": False,
            },
        },
        "rows_truncated": {"type": "boolean"},
        "groups": {"type": "array", "items": ref("ReportGroup")},
        "column_keys": {"type": "array", "items": {"type": "array", "items": _KEY}},
        "total": _TOTAL,
        "chart": {
            "type": ["object", "null"],
            "required": ["type", "x", "y"],
            "properties": {
                "type": _TEXT,
                "x": _TEXT,
                "y": {"type": "array", "items": _TEXT},
                "series": _TEXT,
                "title": _TEXT,
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}
GROUP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["key", "values", "groups", "by_column"],
    "properties": {
        "key": _KEY,
        "values": _VALUES,
        "groups": {"type": "array", "items": ref("ReportGroup")},
        "by_column": _CELLS,
        "column_subtotals": {
            **_CELLS,
            "description": "A matrix with two column groupings: the figures per value "
            "of the first one (each cell has one key).",
        },
    },
    "additionalProperties": False,
}
SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "label", "object", "format"],
    "properties": {
        "name": _TEXT,
        "label": _TEXT,
        "object": _TEXT,
        "format": {"enum": ["tabular", "summary", "matrix"]},
        "description": _TEXT,
    },
    "additionalProperties": False,
}


def _json(description: str, schema: Any) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``/reports``, ``/reports/{name}`` and ``/reports/{name}/run``."""
    del model, registry  # the same for every model
    spec.tag({"name": "reports", "description": "Reports run as the caller."})
    spec.components.schema("ReportResult", RESULT_SCHEMA)
    spec.components.schema("ReportGroup", GROUP_SCHEMA)
    spec.components.schema("ReportSummary", SUMMARY_SCHEMA)
    name = {"name": "name", "in": "path", "required": True, "schema": _TEXT}
    spec.path(
        "/reports",
        operations={
            "get": {
                "operationId": "reports_list",
                "summary": "The reports whose object the caller may read",
                "tags": ["reports"],
                "responses": {
                    "200": _json(
                        "The reports, by name",
                        {
                            "type": "object",
                            "required": ["reports"],
                            "properties": {
                                "reports": {"type": "array", "items": ref("ReportSummary")}
                            },
                            "additionalProperties": False,
                        },
                    ),
                    **error_responses("Unauthorized"),
                },
            }
        },
    )
    spec.path(
        "/reports/{name}",
        parameters=[name],
        operations={
            "get": {
                "operationId": "reports_get",
                "summary": "A report's definition (`label` in the caller's language, "
                "`labels` every language)",
                "tags": ["reports"],
                "responses": {
                    "200": _json("The definition", {"type": "object"}),
                    **error_responses("Unauthorized", "NotFound"),
                },
            }
        },
    )
    spec.path(
        "/reports/{name}/run",
        parameters=[name],
        operations={
            "post": {
                "operationId": "reports_run",
                "summary": "Run a report as the caller: rows, groups, subtotals, total",
                "tags": ["reports"],
                "requestBody": {
                    "required": False,
                    "content": {
                        JSON: {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "filter": {
                                        "type": "string",
                                        "description": "An expression ANDed with the "
                                        "report's filter, e.g. `amount > 1000`.",
                                    },
                                    "limit": {
                                        "type": "integer",
                                        "minimum": 1,
                                        "maximum": MAX_LIMIT,
                                        "description": "Detail rows at most (the "
                                        "report's limit when not given).",
                                    },
                                },
                                "additionalProperties": False,
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json("The report's answer", ref("ReportResult")),
                    **error_responses("BadRequest", "Unauthorized", "NotFound"),
                },
            }
        },
    )
