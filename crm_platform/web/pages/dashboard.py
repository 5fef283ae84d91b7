"""The dashboard on the home page: the app's own, else the first the viewer may read,
every component run as the viewer by the reports layer (a component whose report they
may not run shows its refusal; the others still show). Charts and metrics are the
reports layer's SVG, inlined as images with their title as the text alternative, so
the page costs no request per chart and needs no script."""

from __future__ import annotations

from base64 import b64encode
from dataclasses import dataclass
from typing import Any

from crm_platform.reports.dashboards import dashboard_data, readable_dashboards
from crm_platform.ui import App

from .context import Viewer


@dataclass(frozen=True)
class Cell:
    """One component as the home page shows it."""

    index: int
    type: str  # chart | metric | table
    title: str
    width: int  # of the dashboard's columns
    image: str | None = None  # a data: URL of the SVG (chart, metric)
    error: str | None = None  # why the viewer cannot see it
    headers: tuple[str, ...] = ()  # a table's
    rows: tuple[tuple[Any, ...], ...] = ()


@dataclass(frozen=True)
class HomeDashboard:
    name: str
    label: str
    columns: int
    cells: tuple[Cell, ...]


def choose_dashboard(session, app: App) -> str | None:
    """The app's dashboard when the viewer may read it, else the first they may read."""
    readable = [d.api_name for d in readable_dashboards(session)]
    if app.dashboard in readable:
        return app.dashboard
    return readable[0] if readable else None


def home_dashboard(session, v: Viewer, app: App) -> HomeDashboard | None:
    """The dashboard for the home page, run as the viewer (None when there is none)."""
    name = choose_dashboard(session, app)
    if name is None:
        return None
    data = dashboard_data(session, name, v.choose)
    cells = tuple(_cell(c, data["label"]) for c in data["components"])
    return HomeDashboard(name, data["label"], data["columns"], cells)


def _cell(component: dict[str, Any], dashboard: str) -> Cell:
    result = component.get("result") or {}
    title = component.get("title") or result.get("label") or component.get("report") or dashboard
    base = {
        "index": component["index"],
        "type": component["type"],
        "title": title,
        "width": component["width"],
    }
    if "error" in component:
        return Cell(**base, error=component["error"].get("detail") or component["error"]["title"])
    if component.get("svg"):
        encoded = b64encode(component["svg"].encode()).decode("ascii")
        return Cell(**base, image=f"data:image/svg+xml;base64,{encoded}")
    headers, rows = _table(result)
    return Cell(**base, headers=headers, rows=rows)


def _table(result: dict[str, Any]) -> tuple[tuple[str, ...], tuple[tuple[Any, ...], ...]]:
    """A table component: its groups with their figures, else its detail rows."""
    aggregates = result.get("aggregates", [])
    if result.get("groups"):
        headers = (
            *(g["label"] for g in result.get("groupings", [])[:1]),
            *(a["label"] for a in aggregates),
        )
        rows = tuple(
            (g["key"]["label"], *(g["values"].get(a["key"]) for a in aggregates))
            for g in result["groups"]
        )
        return headers, rows
    headers = tuple(c["label"] for c in result.get("columns", []))
    return headers, tuple(tuple(r["values"]) for r in result.get("rows", []))
