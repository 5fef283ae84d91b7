"""The dashboard builder's form: api_name, label in English and Chinese, description,
grid columns, and the components as a table of rows, one row each: its report (a
select), type (chart, metric or table), width, title in English and Chinese, position,
and the options of its type — a metric's aggregate, target and colour bands
(``20000 red, 60000 yellow, green``: each band's upper bound and colour, the last
band's bound left out), a table's row limit.

Rows are numbered in their input names (``c0_report``, ``c1_report``, …); the page
always ends with an empty spare row, so a component is added without JavaScript (a
small script adds more rows). A row whose report is emptied is removed; rows are saved
in the order of their position inputs. A refusal's paths (``components[2].report``)
name the definition's components, which :func:`dashboard_context` maps back to rows.

A dashboard the form cannot show opens in the YAML editor, so saving the form never
drops part of a definition: a chart component with its own axes (``chart``), labels or
titles in other languages than English and Chinese."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from crm_platform.reports.dashboard_kind import COMPONENT_TYPES, REPORT_KIND

from .base import LABEL_LANGUAGES, label_map, label_parts, org

FORM_KEYS = frozenset({"api_name", "label", "description", "columns", "components"})
COMPONENT_KEYS = frozenset(
    {"report", "type", "title", "width", "aggregate", "target", "bands", "limit"}
)
# a row's inputs, as ``c<row>_<input>``
ROW_INPUTS = (
    "position",
    "report",
    "type",
    "width",
    "title",
    "title_zh",
    "aggregate",
    "target",
    "bands",
    "limit",
)
# where a problem of a component's option is shown (its input in the row)
OPTION_INPUTS = {"chart": "type", "title": "title"}
_ROW = re.compile(r"^c(\d+)_report$")
_COMPONENT = re.compile(r"^components\[(\d+)\]$")


def dashboard_fits_form(stored: Mapping[str, Any] | None) -> bool:
    """Whether the form can show every part of ``stored`` (a new dashboard always fits)."""
    if not stored:
        return True
    if set(stored) - FORM_KEYS or not _label_fits(stored.get("label")):
        return False
    components = stored.get("components")
    if not isinstance(components, list):
        return False
    for item in components:
        if not isinstance(item, Mapping) or set(item) - COMPONENT_KEYS:
            return False
        if not _label_fits(item.get("title")):
            return False
        if not isinstance(item.get("bands", []), list):
            return False
        for band in item.get("bands", []):
            if not isinstance(band, Mapping) or set(band) - {"upto", "color"}:
                return False
    return True


def _label_fits(label: Any) -> bool:
    if isinstance(label, Mapping):
        return "en" in label and not set(label) - LABEL_LANGUAGES
    return True


def dashboard_form_values(stored: Mapping[str, Any] | None) -> dict[str, str]:
    """The form's inputs for a stored dashboard (a new one: 12 columns, no rows)."""
    if not stored:
        return {"columns": "12"}
    english, chinese = label_parts(stored.get("label"))
    out = {
        "api_name": str(stored.get("api_name", "")),
        "label": english,
        "label_zh": chinese,
        "description": str(stored.get("description", "")),
        "columns": _number_text(stored.get("columns")),
    }
    for index, item in enumerate(stored.get("components") or ()):
        title, title_zh = label_parts(item.get("title"))
        row = {
            "position": str(index + 1),
            "report": str(item.get("report", "")),
            "type": str(item.get("type", "")),
            "width": _number_text(item.get("width")),
            "title": title,
            "title_zh": title_zh,
            "aggregate": str(item.get("aggregate", "")),
            "target": _number_text(item.get("target")),
            "bands": bands_text(item.get("bands") or ()),
            "limit": _number_text(item.get("limit")),
        }
        out.update({f"c{index}_{key}": value for key, value in row.items()})
    return out


def dashboard_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """A dashboard definition from the form's inputs (the metadata service checks it):
    the rows with a report, in the order of their positions."""
    out: dict[str, Any] = {"api_name": form.get("api_name", "").strip()}
    if label := label_map(form.get("label", ""), form.get("label_zh", "")):
        out["label"] = label
    if description := form.get("description", "").strip():
        out["description"] = description
    if columns := form.get("columns", "").strip():
        out["columns"] = _number(columns)
    out["components"] = [_component(form, row) for row in _kept_rows(form)]
    return out


def _component(form: Mapping[str, str], row: int) -> dict[str, Any]:
    def value(key: str) -> str:
        return form.get(f"c{row}_{key}", "").strip()

    item: dict[str, Any] = {"report": value("report"), "type": value("type")}
    if width := value("width"):
        item["width"] = _number(width)
    if title := label_map(value("title"), value("title_zh")):
        item["title"] = title
    # an option filled in for another type is kept: the check names it beside its input
    if aggregate := value("aggregate"):
        item["aggregate"] = aggregate
    if target := value("target"):
        item["target"] = _number(target)
    if bands := value("bands"):
        item["bands"] = parse_bands(bands)
    if limit := value("limit"):
        item["limit"] = _number(limit)
    return item


def dashboard_context(form: Mapping[str, str]) -> dict[str, Any]:
    """The rows the page shows, in saved order then an empty spare row: each row's
    number (its inputs' names), its values, and the path of its component
    (``components[2]``, None for a row without a report) that refusals name."""
    numbers = _row_numbers(form)
    kept = _kept_rows(form)
    rows = []
    for place, number in enumerate(kept):
        rows.append(_row(form, number, f"components[{place}]"))
    rows += [_row(form, n, None) for n in numbers if n not in kept]
    if all(row["values"]["report"] for row in rows):
        spare = max(numbers, default=-1) + 1
        rows.append(_row(form, spare, None, position=str(len(kept) + 1)))
    return {
        "dashboard_rows": rows,
        "component_types": COMPONENT_TYPES,
        "reports": org().metadata.list_components(REPORT_KIND),
    }


def _row(
    form: Mapping[str, str], number: int, path: str | None, position: str = ""
) -> dict[str, Any]:
    values = {key: form.get(f"c{number}_{key}", "") for key in ROW_INPUTS}
    if position:
        values["position"] = position
    return {"number": number, "values": values, "path": path}


def component_input(parts: list[str]) -> str | None:
    """A refusal's path below ``components[2]`` as the key of the row's input it is
    shown beside: ``components[2].report``, ``components[2].bands`` for a band's
    problem, ``components[2].type`` for a chart's; ``components[2]`` for the row itself
    (None when the path names no component)."""
    for place, part in enumerate(parts):
        if _COMPONENT.match(part):
            rest = parts[place + 1 :]
            if not rest:
                return part
            option = rest[0].split("[")[0]
            return f"{part}.{OPTION_INPUTS.get(option, option)}"
    return None


def bands_text(bands: Any) -> str:
    """``[{upto: 20000, color: red}, {color: green}]`` as ``20000 red, green``."""
    items = []
    for band in bands:
        upto = band.get("upto")
        color = str(band.get("color", ""))
        items.append(color if upto is None else f"{_number_text(upto)} {color}")
    return ", ".join(items)


def parse_bands(text: str) -> list[dict[str, Any]]:
    """``20000 red, 60000 yellow, green`` as bands (a bound that is not a number is kept
    as typed, for the schema to refuse beside the input)."""
    bands: list[dict[str, Any]] = []
    for item in text.split(","):
        words = item.split()
        if not words:
            continue
        band: dict[str, Any] = {}
        if len(words) > 1:
            band["upto"] = _number(" ".join(words[:-1]))
        band["color"] = words[-1]
        bands.append(band)
    return bands


def _number(text: str) -> Any:
    """An integer or a decimal as typed (other text is kept for the schema to refuse)."""
    text = text.strip().replace(",", "")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def _number_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _row_numbers(form: Mapping[str, str]) -> list[int]:
    return sorted(int(m.group(1)) for key in form if (m := _ROW.match(key)))


def _kept_rows(form: Mapping[str, str]) -> list[int]:
    """The rows with a report, ordered by their position inputs (a row without a
    readable position goes last; rows of one position keep the order of their numbers)."""

    def order(number: int) -> tuple[float, int]:
        position = _number(form.get(f"c{number}_position", ""))
        return (float(position) if isinstance(position, (int, float)) else math.inf, number)

    kept = [n for n in _row_numbers(form) if form.get(f"c{n}_report", "").strip()]
    return sorted(kept, key=order)
