"""The report builder's form: a report definition as inputs an admin fills in (object,
format, columns, groupings, aggregates, a filter checked as typed, sort, limit, chart)
and back. A report using what the form cannot show (summary formulas, aggregates with
their own filter, a chart series or title, labels in other languages) opens in the YAML
editor instead, so saving the form never drops part of a definition."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_platform.reports import CHART_TYPES, FORMATS

from .base import label_fits_form

# The keys the form edits; a stored report with any other key is edited as YAML.
FORM_KEYS = frozenset(
    {
        "api_name",
        "label",
        "description",
        "object",
        "format",
        "columns",
        "filter",
        "group_by",
        "group_columns_by",
        "aggregates",
        "sort",
        "limit",
        "chart",
    }
)
LIST_KEYS = ("columns", "group_by", "group_columns_by", "aggregates", "sort")


def report_fits_form(stored: Mapping[str, Any] | None) -> bool:
    """Whether the form can show every part of ``stored`` (a new report always fits)."""
    if not stored:
        return True
    if set(stored) - FORM_KEYS:
        return False
    if not label_fits_form(stored.get("label")):
        return False
    if any(not isinstance(a, str) for a in stored.get("aggregates", [])):
        return False
    chart = stored.get("chart") or {}
    return not (set(chart) - {"type", "x", "y"})


def report_form_values(stored: Mapping[str, Any] | None) -> dict[str, str]:
    """The form's inputs for a stored report (empty ones for a new report)."""
    if not stored:
        return {"format": "tabular", "aggregates": "count"}
    label = stored.get("label") or ""
    labels = dict(label) if isinstance(label, Mapping) else {"en": label}
    chart = stored.get("chart") or {}
    y = chart.get("y", "")
    out = {
        "api_name": stored.get("api_name", ""),
        "object": stored.get("object", ""),
        "label": labels.get("en", ""),
        "label_zh": labels.get("zh", ""),
        "description": stored.get("description", ""),
        "format": stored.get("format", "tabular"),
        "filter": stored.get("filter", ""),
        "limit": str(stored.get("limit", "")),
        "chart_type": chart.get("type", ""),
        "chart_x": chart.get("x", ""),
        "chart_y": ", ".join(y) if isinstance(y, list) else y,
    }
    for key in LIST_KEYS:
        out[key] = ", ".join(stored.get(key, []))
    return out


def report_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """A report definition from the form's inputs (the metadata service checks it)."""
    out: dict[str, Any] = {
        "api_name": form.get("api_name", "").strip(),
        "object": form.get("object", "").strip(),
    }
    english, chinese = form.get("label", "").strip(), form.get("label_zh", "").strip()
    if chinese:
        out["label"] = {"en": english or chinese, "zh": chinese}
    elif english:
        out["label"] = english
    if description := form.get("description", "").strip():
        out["description"] = description
    if (shape := form.get("format", "tabular")) != "tabular":
        out["format"] = shape
    for key in LIST_KEYS:
        if items := _items(form.get(key, "")):
            out[key] = items
    if condition := form.get("filter", "").strip():
        out["filter"] = condition
    if limit := form.get("limit", "").strip():
        out["limit"] = int(limit) if limit.isdigit() else limit  # the schema names a bad one
    if chart_type := form.get("chart_type", "").strip():
        y = _items(form.get("chart_y", ""))
        out["chart"] = {
            "type": chart_type,
            "x": form.get("chart_x", "").strip(),
            "y": y[0] if len(y) == 1 else y,
        }
    return out


def report_choices() -> dict[str, tuple[str, ...]]:
    """The formats and chart types the form's selects offer."""
    return {"formats": FORMATS, "chart_types": CHART_TYPES}


def _items(text: str) -> list[str]:
    """``name, account.name, sum(amount)`` as a list (commas inside brackets kept)."""
    items, depth, current = [], 0, []
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return [i for i in items if i]
