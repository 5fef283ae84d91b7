"""The ``dashboard`` kind: a grid of report components, checked when saved.

```yaml
# dashboards/sales_dashboard.yaml
api_name: sales_dashboard
label: {en: Sales dashboard, zh: 销售仪表板}
columns: 12                       # grid width
components:
  - {report: pipeline_by_stage, type: chart, title: {en: Pipeline}, width: 6}
  - {report: won_by_month, type: chart, width: 6,
     chart: {type: line, x: "close_date by month", y: "sum(amount)"}}
  - {report: win_rate_by_owner, type: table, width: 6, limit: 10}
  - {report: pipeline_by_stage, type: metric, aggregate: "sum(amount)", target: 1000000,
     bands: [{upto: 500000, color: red}, {upto: 900000, color: yellow}, {color: green}],
     width: 3}
```

A chart component draws its report's chart, or the ``chart`` it gives (axes among the
report's groupings and aggregates); a table lists the report's groups (and up to
``limit`` detail rows); a metric shows one aggregate's grand total against ``target``,
coloured by the first band whose ``upto`` it does not pass.

The reports extension registers it: :func:`register_dashboard_kind`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from crm_platform.metadata import CandidateModel, Kind, KindRegistry, Problem, Snapshot
from crm_platform.metadata.renames import RenameContext
from crm_platform.runtime.model import ModelCompiler, OrgModel

from .charts import NAMED_COLORS, Band
from .definition import CHART_TYPES, DefinitionError, ReportDefinition, read_definition
from .renames import rename_report
from .results import ChartSpec

KIND = "dashboard"
PLURAL = "dashboards"
EXTENSION = "dashboards"
REPORT_KIND = "report"
COMPONENT_TYPES = ("chart", "table", "metric")
MAX_COMPONENTS = 50
MAX_COLUMNS = 24
DEFAULT_COLUMNS = 12
DEFAULT_TABLE_ROWS = 10
MAX_TABLE_ROWS = 2000
COLOR = {
    "anyOf": [
        {"enum": sorted(NAMED_COLORS)},
        {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"},
    ],
    "description": "A named colour or #rrggbb.",
}
AXES = {
    "type": "object",
    "required": ["type", "x", "y"],
    "additionalProperties": False,
    "properties": {
        "type": {"enum": list(CHART_TYPES)},
        "x": {"type": "string", "minLength": 1},
        "y": {
            "anyOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "minItems": 1, "maxItems": 10, "items": {"type": "string"}},
            ]
        },
        "series": {"type": "string", "minLength": 1},
        "title": {"$ref": "crm:label"},
    },
}
SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "crm:dashboard",
    "title": KIND,
    "description": "A grid of report components: charts, tables and metrics.",
    "type": "object",
    "required": ["api_name", "components"],
    "additionalProperties": False,
    "properties": {
        "api_name": {"type": "string"},
        "label": {"$ref": "crm:label"},
        "description": {"type": "string", "maxLength": 1000},
        "columns": {"type": "integer", "minimum": 1, "maximum": MAX_COLUMNS},
        "components": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_COMPONENTS,
            "items": {
                "type": "object",
                "required": ["report", "type"],
                "additionalProperties": False,
                "properties": {
                    "report": {"type": "string", "minLength": 1},
                    "type": {"enum": list(COMPONENT_TYPES)},
                    "title": {"$ref": "crm:label"},
                    "width": {"type": "integer", "minimum": 1, "maximum": MAX_COLUMNS},
                    "chart": AXES,
                    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_TABLE_ROWS},
                    "aggregate": {"type": "string", "minLength": 1},
                    "target": {"type": "number"},
                    "bands": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 10,
                        "items": {
                            "type": "object",
                            "required": ["color"],
                            "additionalProperties": False,
                            "properties": {"upto": {"type": "number"}, "color": COLOR},
                        },
                    },
                },
            },
        },
    },
}
# the options each component type takes beyond report, type, title and width
TYPE_OPTIONS: Mapping[str, frozenset[str]] = {
    "chart": frozenset({"chart"}),
    "table": frozenset({"limit"}),
    "metric": frozenset({"aggregate", "target", "bands"}),
}
COMMON_OPTIONS = frozenset({"report", "type", "title", "width"})


@dataclass(frozen=True)
class Component:
    """One cell of the grid: a report shown as a chart, a table or a metric."""

    index: int
    report: str
    type: str
    width: int
    title: Any = None  # a label (text or by language)
    chart: ChartSpec | None = None  # a chart's own axes (else the report's chart)
    chart_title: Any = None
    limit: int = DEFAULT_TABLE_ROWS
    aggregate: str | None = None
    target: float | None = None
    bands: tuple[Band, ...] = ()


@dataclass(frozen=True)
class Dashboard:
    """A dashboard as its author wrote it, read."""

    api_name: str
    label: Any
    columns: int
    components: tuple[Component, ...]


def read_dashboard(definition: Mapping[str, Any]) -> Dashboard:
    """The typed dashboard (its shape checked by the kind's schema)."""
    columns = int(definition.get("columns", DEFAULT_COLUMNS))
    return Dashboard(
        api_name=definition["api_name"],
        label=definition.get("label", definition["api_name"]),
        columns=columns,
        components=tuple(
            _component(index, item, columns) for index, item in enumerate(definition["components"])
        ),
    )


def _component(index: int, item: Mapping[str, Any], columns: int) -> Component:
    chart = item.get("chart")
    return Component(
        index=index,
        report=item["report"],
        type=item["type"],
        width=int(item.get("width", columns)),
        title=item.get("title"),
        chart=chart_spec(chart) if chart else None,
        chart_title=chart.get("title") if chart else None,
        limit=int(item.get("limit", DEFAULT_TABLE_ROWS)),
        aggregate=item.get("aggregate"),
        target=float(item["target"]) if item.get("target") is not None else None,
        bands=tuple(
            Band(b["color"], float(b["upto"]) if b.get("upto") is not None else None)
            for b in item.get("bands") or ()
        ),
    )


def chart_spec(chart: Mapping[str, Any]) -> ChartSpec:
    """A chart's axes as the result contract's :class:`ChartSpec` (title aside)."""
    y = chart["y"]
    return ChartSpec(
        chart["type"], chart["x"], tuple([y] if isinstance(y, str) else y), chart.get("series")
    )


# --- save-time checks -----------------------------------------------------------------


def report_keys(report: ReportDefinition) -> tuple[set[str], dict[str, str]]:
    """A report's grouping keys, and what names each figure: every aggregate's key and
    formula name, every summary formula's name, each to the key its results carry."""
    groupings = {g.text for g in report.groupings}
    figures = {a.key: a.key for a in report.aggregates}
    figures.update({a.name: a.key for a in report.aggregates if a.name not in figures})
    figures.update({f.name: f.name for f in report.formulas})
    return groupings, figures


def dashboard_problems(model: CandidateModel, definition: Mapping[str, Any]) -> Iterator[Problem]:
    """Each component's report exists, its options fit its type, a metric's aggregate
    and a chart's axes are the report's, bands climb, widths fit the grid."""
    columns = int(definition.get("columns", DEFAULT_COLUMNS))
    for index, item in enumerate(definition.get("components") or ()):
        where = f"components[{index}]"
        kind = item.get("type")
        for option in sorted(set(item) - COMMON_OPTIONS - TYPE_OPTIONS.get(kind, frozenset())):
            yield (f"{where}.{option}", f"'{option}' is not an option of a {kind} component")
        if int(item.get("width", columns)) > columns:
            yield (f"{where}.width", f"wider than the dashboard's {columns} columns")
        if kind == "metric":
            if not item.get("aggregate"):
                yield (f"{where}.aggregate", "a metric names the aggregate it shows")
            yield from _band_problems(item.get("bands") or (), where)
        comp = model.get(REPORT_KIND, str(item.get("report")))
        if comp is None:
            yield (f"{where}.report", f"no report '{item.get('report')}'")
            continue
        try:
            report = read_definition(comp.definition)
        except DefinitionError:
            continue  # the report's own check names what is wrong with it
        yield from _uses_of(report, item, where)


def _uses_of(report: ReportDefinition, item: Mapping[str, Any], where: str) -> Iterator[Problem]:
    groupings, figures = report_keys(report)
    name = report.api_name
    aggregate = item.get("aggregate") if item.get("type") == "metric" else None
    if aggregate and aggregate not in figures:
        yield (f"{where}.aggregate", f"'{aggregate}' is not an aggregate of {name}")
    if item.get("type") != "chart":
        return
    chart = item.get("chart")
    if chart is None:
        if report.chart is None:
            yield (f"{where}.chart", f"report {name} has no chart: give one here")
        return
    if chart["x"] not in groupings:
        yield (f"{where}.chart.x", f"'{chart['x']}' is not a grouping of {name}")
    for y in chart_spec(chart).y:
        if y not in figures:
            yield (f"{where}.chart.y", f"'{y}' is not an aggregate of {name}")
    series = chart.get("series")
    if series is not None and series not in groupings:
        yield (f"{where}.chart.series", f"'{series}' is not a grouping of {name}")
    if series is not None and series == chart["x"]:
        yield (f"{where}.chart.series", "must differ from chart.x")


def _band_problems(bands: Any, where: str) -> Iterator[Problem]:
    last = None
    for index, band in enumerate(bands):
        upto = band.get("upto")
        if upto is None and index != len(bands) - 1:
            yield (f"{where}.bands[{index}].upto", "only the last band may leave out upto")
        if upto is not None and last is not None and upto <= last:
            yield (f"{where}.bands[{index}].upto", "bands climb: each upto above the last")
        last = upto if upto is not None else last


def dashboard_references(definition: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The reports a dashboard shows: a change to one re-checks the dashboard."""
    names = {str(c.get("report")) for c in definition.get("components") or ()}
    return [(REPORT_KIND, name) for name in sorted(names)]


# --- renames ----------------------------------------------------------------------------


def rename_dashboard(
    ctx: RenameContext, comp: Any, definition: Mapping[str, Any]
) -> tuple[Mapping[str, Any], list[str]]:
    """A field rename that changes a report's grouping or aggregate keys
    (``sum(amount)`` -> ``sum(deal_value)``, ``sum_amount`` -> ``sum_deal_value``)
    changes them where a component names them: its chart's axes, its metric."""
    del comp
    if ctx.rename.kind != "field":
        return definition, []
    places: list[str] = []
    components = []
    for index, item in enumerate(definition.get("components") or ()):
        keys = renamed_keys(ctx, str(item.get("report")))
        new = dict(item)
        where = f"components[{index}]"
        if keys and item.get("aggregate") in keys:
            new["aggregate"] = keys[item["aggregate"]]
            places.append(f"{where}.aggregate")
        chart = item.get("chart")
        if keys and chart:
            new_chart = dict(chart)
            for axis in ("x", "series"):
                if chart.get(axis) in keys:
                    new_chart[axis] = keys[chart[axis]]
                    places.append(f"{where}.chart.{axis}")
            y = chart["y"]
            ys = [y] if isinstance(y, str) else list(y)
            new_y = [keys.get(v, v) for v in ys]
            if new_y != ys:
                new_chart["y"] = new_y[0] if isinstance(y, str) else new_y
                places.append(f"{where}.chart.y")
            new["chart"] = new_chart
        components.append(new)
    return ({**definition, "components": components}, places) if places else (definition, [])


def renamed_keys(ctx: RenameContext, report_name: str) -> dict[str, str]:
    """The report's keys the rename changes, old -> new (the report's own renamer
    decides: groupings by position, aggregates' keys and formula names)."""
    comp = ctx.model.get(REPORT_KIND, report_name)
    if comp is None:
        return {}
    try:
        before = read_definition(comp.definition)
        after = read_definition(rename_report(ctx, comp, comp.definition)[0])
    except DefinitionError:
        return {}
    keys: dict[str, str] = {}
    for old, new in zip(before.groupings, after.groupings, strict=False):
        if old.text != new.text:
            keys[old.text] = new.text
    for old, new in zip(before.aggregates, after.aggregates, strict=False):
        if old.key != new.key:
            keys[old.key] = new.key
        if old.name != new.name:
            keys[old.name] = new.name
    return keys


# --- the compiled part ----------------------------------------------------------------


@dataclass(frozen=True)
class DashboardsModel:
    """The dashboards of one metadata version (``model.extension('dashboards')``)."""

    dashboards: Mapping[str, Dashboard]


def compile_dashboards(snapshot: Snapshot, model: OrgModel) -> DashboardsModel:
    """Every dashboard, read (a component whose report is gone answers with an error)."""
    del model
    found = {comp.name: read_dashboard(comp.definition) for comp in snapshot.of_kind(KIND)}
    return DashboardsModel(MappingProxyType(dict(sorted(found.items()))))


def dashboards_model(model: OrgModel) -> DashboardsModel:
    """The compiled dashboards of a model (none when the extension is not attached)."""
    return model.extensions.get(EXTENSION) or DashboardsModel(MappingProxyType({}))


def register_dashboard_kind(registry: KindRegistry, compiler: ModelCompiler) -> None:
    """Register the kind, its checks, references, renamer and compiled part (called by
    the reports extension's ``register``, after the report kind)."""
    registry.register_kind(Kind(KIND, PLURAL, SCHEMA))
    registry.add_validator(KIND, dashboard_problems)
    registry.add_references(KIND, dashboard_references)
    registry.add_renamer(KIND, rename_dashboard)
    compiler.add_extension(EXTENSION, compile_dashboards)


@dataclass(frozen=True)
class DashboardKind:
    """The ``dashboard`` kind, as the reports extension registers its kinds."""

    def register(self, registry: KindRegistry, compiler: ModelCompiler) -> None:
        register_dashboard_kind(registry, compiler)
