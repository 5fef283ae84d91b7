"""``GET /data-quality/<object>``: the data-quality report as the user sees it (ADR 0042)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from apispec import APISpec
from flask import Blueprint, Response, jsonify, request

from crm_platform.core import ValidationFailed
from crm_platform.metadata import KindRegistry
from crm_platform.quality import DEFAULT_STALE_DAYS, QualityReport, data_quality
from crm_platform.runtime import OrgModel

from . import aliases
from .auth import current_access, current_org, current_user, request_reading
from .openapi import JSON, error_responses, ref
from .params import query_params

bp = Blueprint("data_quality_api", __name__)
MAX_STALE_DAYS = 36_500


def report_body(report: QualityReport) -> dict[str, Any]:
    """The report as JSON (the API and ``crm data-quality --format json``)."""
    body = asdict(report)
    body["duplicate_clusters"] = [
        {"rule": name, "clusters": count} for name, count in report.duplicate_clusters.items()
    ]
    return body


@bp.get("/data-quality/<object_name>")
@query_params("stale_days")
def quality_report(object_name: str) -> Response:
    raw = request.args.get("stale_days", str(DEFAULT_STALE_DAYS))
    try:
        days = int(raw)
    except ValueError as exc:
        raise ValidationFailed({"stale_days": "must be an integer"}) from exc
    if not 1 <= days <= MAX_STALE_DAYS:
        raise ValidationFailed({"stale_days": f"must be between 1 and {MAX_STALE_DAYS}"})
    records, user, access = current_org().records, current_user(), current_access()
    with records.session(user, write=False, access=access, reading=request_reading()) as session:
        name = aliases.object_name(session.model, object_name)
        report = data_quality(session, name, stale_days=days)
    return jsonify(report_body(report))


# --- its documentation --------------------------------------------------------------

_COUNT = {"type": "integer", "minimum": 0}
_NAME = {"type": "string"}


def _items(properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "array",
        "description": description,
        "items": {
            "type": "object",
            "required": list(properties),
            "properties": properties,
            "additionalProperties": False,
        },
    }


QUALITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "object",
        "total",
        "stale_days",
        "stale",
        "fields",
        "uniqueness",
        "invalid",
        "duplicate_clusters",
        "skipped_rules",
    ],
    "additionalProperties": False,
    "properties": {
        "object": _NAME,
        "total": {**_COUNT, "description": "Live records the user may see."},
        "stale_days": {"type": "integer", "minimum": 1},
        "stale": {**_COUNT, "description": "Records not modified in `stale_days` days."},
        "fields": _items(
            {
                "field": _NAME,
                "filled": _COUNT,
                "completeness": {"type": "number", "minimum": 0, "maximum": 100},
            },
            "Completeness of each field the user may read (percent of the records with a "
            "value; blank text counts as empty).",
        ),
        "uniqueness": _items(
            {
                "field": _NAME,
                "filled": _COUNT,
                "distinct": _COUNT,
                "duplicate_values": _COUNT,
                "records_in_duplicates": _COUNT,
            },
            "Fields that should be unique (unique, external ids, fields exact duplicate "
            "rules compare), compared case- and space-insensitively.",
        ),
        "invalid": _items(
            {
                "field": _NAME,
                "kind": {
                    "enum": [
                        "malformed_email",
                        "malformed_phone",
                        "inactive_value",
                        "unknown_value",
                        "deleted_lookup",
                    ]
                },
                "count": _COUNT,
            },
            "Invalid values per field and kind.",
        ),
        "duplicate_clusters": _items(
            {"rule": _NAME, "clusters": _COUNT},
            "Likely duplicate clusters per duplicate rule the user may apply.",
        ),
        "skipped_rules": {
            "type": "array",
            "items": _NAME,
            "description": "Rules left out: they compare a field the user may not read.",
        },
    },
}


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``GET /data-quality/<object>`` for every object of the model."""
    del registry
    spec.tag({"name": "data quality", "description": "Figures a data steward watches."})
    spec.components.schema("DataQualityReport", QUALITY_SCHEMA)
    for name in model.objects:
        spec.path(
            f"/data-quality/{name}",
            operations={
                "get": {
                    "operationId": f"data_quality_{name}",
                    "summary": f"The data-quality report of {name} records",
                    "description": "Computed in SQL over the records the user may see; "
                    "fields the user may not read are not reported.",
                    "tags": ["data quality"],
                    "parameters": [
                        {
                            "name": "stale_days",
                            "in": "query",
                            "description": "Records not modified in this many days are stale.",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_STALE_DAYS,
                                "default": DEFAULT_STALE_DAYS,
                            },
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The report",
                            "content": {JSON: {"schema": ref("DataQualityReport")}},
                        },
                        **error_responses("BadRequest", "Unauthorized", "NotFound"),
                    },
                }
            },
        )
