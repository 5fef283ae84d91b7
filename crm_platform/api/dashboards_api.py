"""Dashboards: ``GET /dashboards``, ``GET /dashboards/<name>`` (every component's data
as the viewing user) and ``GET /dashboards/<name>/components/<index>.svg``."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from flask import Blueprint, Response, jsonify

from crm_platform.metadata import KindRegistry
from crm_platform.reports.dashboards import component_svg, dashboard_data, list_dashboards
from crm_platform.runtime import OrgModel

from .languages import label_chooser
from .openapi import JSON, error_responses, ref
from .records_api import query_params
from .report_outputs_api import SVG, reading_session

bp = Blueprint("dashboards_api", __name__, url_prefix="/dashboards")


@bp.get("")
@query_params()
def list_all() -> Response:
    """Every dashboard, by name."""
    with reading_session() as ctx:
        return jsonify({"dashboards": list_dashboards(ctx, label_chooser())})


@bp.get("/<name>")
@query_params()
def show(name: str) -> Response:
    """The dashboard and each component's data (an ``error`` where the user may not run
    the component's report)."""
    with reading_session() as ctx:
        return jsonify(dashboard_data(ctx, name, label_chooser()))


@bp.get("/<name>/components/<int:index>.svg")
@query_params()
def component(name: str, index: int) -> Response:
    """A chart or metric component as SVG (404 for a table)."""
    with reading_session() as ctx:
        svg = component_svg(ctx, name, index, label_chooser())
    response = Response(svg, mimetype=SVG)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


# --- its documentation --------------------------------------------------------------


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``/dashboards``, ``/dashboards/{name}`` and its components' SVG."""
    del model, registry  # the same for every model
    spec.tag({"name": "dashboards", "description": "Grids of report charts, tables and metrics."})
    problem = ref("Problem")
    spec.components.schema(
        "DashboardComponent",
        {
            "type": "object",
            "description": "A component's data as the viewing user: a chart's SVG and "
            "groups, a table's run, a metric's value and band colour — or `error`, the "
            "problem its report gave this user (the other components still answer).",
            "required": ["index", "type", "report", "width"],
            "properties": {
                "index": {"type": "integer", "minimum": 0},
                "type": {"enum": ["chart", "table", "metric"]},
                "report": {"type": "string"},
                "width": {"type": "integer", "minimum": 1},
                "title": {"type": ["string", "null"]},
                "svg_url": {"type": "string", "description": "The component's SVG."},
                "svg": {"type": "string", "description": "A chart's or metric's SVG."},
                "result": {
                    "type": "object",
                    "description": "The report's run (a chart's and a metric's without "
                    "detail rows), as POST /reports/{name}/run answers it.",
                },
                "label": {"type": "string"},
                "value": {"type": ["number", "null"]},
                "target": {"type": ["number", "null"]},
                "color": {"type": ["string", "null"], "description": "The value's band."},
                "aggregate": {"type": "string"},
                "error": problem,
            },
        },
    )
    name: dict[str, Any] = {
        "name": "name",
        "in": "path",
        "required": True,
        "description": "The dashboard's api_name.",
        "schema": {"type": "string"},
    }
    spec.path(
        "/dashboards",
        operations={
            "get": {
                "operationId": "list_dashboards",
                "summary": "Every dashboard",
                "tags": ["dashboards"],
                "responses": {
                    "200": {
                        "description": "The dashboards",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["dashboards"],
                                    "properties": {
                                        "dashboards": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "required": ["name", "label", "components"],
                                                "properties": {
                                                    "name": {"type": "string"},
                                                    "label": {"type": "string"},
                                                    "components": {"type": "integer"},
                                                },
                                            },
                                        }
                                    },
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
        "/dashboards/{name}",
        operations={
            "get": {
                "operationId": "get_dashboard",
                "summary": "A dashboard with every component's data as the viewing user",
                "tags": ["dashboards"],
                "parameters": [name],
                "responses": {
                    "200": {
                        "description": "The dashboard",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["dashboard", "label", "columns", "components"],
                                    "properties": {
                                        "dashboard": {"type": "string"},
                                        "label": {"type": "string"},
                                        "columns": {"type": "integer"},
                                        "components": {
                                            "type": "array",
                                            "items": ref("DashboardComponent"),
                                        },
                                    },
                                }
                            }
                        },
                    },
                    **error_responses("BadRequest", "Unauthorized", "NotFound"),
                },
            }
        },
    )
    spec.path(
        "/dashboards/{name}/components/{index}.svg",
        operations={
            "get": {
                "operationId": "dashboard_component_svg",
                "summary": "A chart or metric component as SVG (404 for a table)",
                "tags": ["dashboards"],
                "parameters": [
                    name,
                    {
                        "name": "index",
                        "in": "path",
                        "required": True,
                        "description": "The component's place in the dashboard, from 0.",
                        "schema": {"type": "integer", "minimum": 0},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The component",
                        "content": {SVG: {"schema": {"type": "string"}}},
                    },
                    **error_responses("BadRequest", "Unauthorized", "NotFound"),
                },
            }
        },
    )
