"""A dashboard's data as one user sees it: each component's report run as that user.

A component whose report the user may not run (its object unreadable, a field of it
hidden, the report gone) answers with an ``error`` (the problem the API would give)
and the other components still answer: one missing permission does not blank a
whole dashboard.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from babel.numbers import get_currency_symbol

from crm_platform.core import CrmError, NotFound, ValidationFailed
from crm_platform.metadata import Chooser, resolve_label
from crm_platform.runtime.records.context import RecordContext

from .charts import Metric, band_color, chart_data, metric_of, render_data, render_metric
from .dashboard_kind import Component, Dashboard, dashboards_model, report_keys
from .export import org_export_options
from .report_kind import reports_model
from .results import ChartSpec, ReportResult
from .run import result_json, run_report

READER_LOCALES = ("en", "zh")  # the languages whose way of writing a currency we know
SUMMARY_ONLY = 1  # a chart or a metric reads groups and totals: fetch one detail row at most


@dataclass(frozen=True)
class ComponentView:
    """A component's answer: its JSON (with ``error`` when its report could not run)
    and, for a chart or a metric, its SVG."""

    body: Mapping[str, Any]
    svg: str | None = None


def find_dashboard(ctx: RecordContext, name: str) -> Dashboard:
    """The dashboard ``name`` (404 when there is none)."""
    found = dashboards_model(ctx.model).dashboards.get(name)
    if found is None:
        raise NotFound(f"no dashboard '{name}'")
    return found


def list_dashboards(ctx: RecordContext, choose: Chooser) -> list[dict[str, Any]]:
    """Every dashboard: its name, label and number of components."""
    return [
        {
            "name": name,
            "label": resolve_label(d.label, choose),
            "components": len(d.components),
        }
        for name, d in dashboards_model(ctx.model).dashboards.items()
    ]


def dashboard_data(ctx: RecordContext, name: str, choose: Chooser) -> dict[str, Any]:
    """The dashboard with every component's data as ``ctx``'s user (SVG inline)."""
    dashboard = find_dashboard(ctx, name)
    runs = Runs(ctx, choose)  # components of one report share its run
    components = []
    for component in dashboard.components:
        view = component_view(ctx, dashboard, component, choose, runs)
        body = dict(view.body)
        if view.svg is not None:
            body["svg"] = view.svg
        components.append(body)
    return {
        "dashboard": dashboard.api_name,
        "label": resolve_label(dashboard.label, choose),
        "columns": dashboard.columns,
        "components": components,
    }


def component_svg(ctx: RecordContext, name: str, index: int, choose: Chooser) -> str:
    """The SVG of component ``index`` (404 for a table or no such component; the
    error of its report, 403 or 400, when the user may not run it)."""
    dashboard = find_dashboard(ctx, name)
    if not 0 <= index < len(dashboard.components):
        raise NotFound(f"dashboard '{name}' has no component {index}")
    component = dashboard.components[index]
    if component.type == "table":
        raise NotFound(f"component {index} of dashboard '{name}' is a table: it has no SVG")
    return _render(ctx, component, choose, Runs(ctx, choose)).svg or ""


class Runs:
    """The runs of one dashboard's answer, each report run once per row limit (a
    report's error is its components' error)."""

    def __init__(self, ctx: RecordContext, choose: Chooser) -> None:
        self.ctx = ctx
        self.choose = choose
        self.found: dict[tuple[str, int], ReportResult | CrmError] = {}

    def __call__(self, report: str, limit: int) -> ReportResult:
        key = (report, limit)
        if key not in self.found:
            try:
                self.found[key] = run_report(self.ctx, report, limit=limit, choose=self.choose)
            except CrmError as error:
                self.found[key] = error
        found = self.found[key]
        if isinstance(found, CrmError):
            raise found
        return found


def component_view(
    ctx: RecordContext,
    dashboard: Dashboard,
    component: Component,
    choose: Chooser,
    runs: Runs | None = None,
) -> ComponentView:
    """One component's answer (an ``error`` entry when its report cannot run)."""
    head = {
        "index": component.index,
        "type": component.type,
        "report": component.report,
        "width": component.width,
        "title": resolve_label(component.title, choose) if component.title else None,
    }
    if component.type != "table":
        head["svg_url"] = (
            f"/api/v1/dashboards/{dashboard.api_name}/components/{component.index}.svg"
        )
    try:
        view = _render(ctx, component, choose, runs or Runs(ctx, choose))
    except CrmError as error:
        return ComponentView({**head, "error": error.to_problem()})
    return ComponentView({**head, **view.body}, view.svg)


def _render(ctx: RecordContext, component: Component, choose: Chooser, runs: Runs) -> ComponentView:
    if component.type == "table":
        result = runs(component.report, component.limit)
        return ComponentView({"result": result_json(result)})
    result = runs(component.report, SUMMARY_ONLY)
    summary = _summary_json(result)
    if component.type == "metric":
        metric = _metric(ctx, component, result, choose)
        key = figure_key(ctx, component.report, component.aggregate or "")
        body = {
            "label": metric.label,
            "value": result.total.values.get(key),  # exact, as the run's JSON has it
            "target": metric.target,
            "color": band_color(metric.value, metric.bands),
            "aggregate": component.aggregate,
            "result": summary,
        }
        return ComponentView(body, render_metric(metric))
    spec = component_chart(ctx, component, result)
    if spec is None:
        raise ValidationFailed({"chart": f"report '{component.report}' has no chart"})
    data = chart_data(result, spec)
    if component.title:
        data = replace(data, title=resolve_label(component.title, choose))
    return ComponentView({"result": summary}, render_data(data, no_data="—"))


def _metric(
    ctx: RecordContext, component: Component, result: ReportResult, choose: Chooser
) -> Metric:
    key = figure_key(ctx, component.report, component.aggregate or "")
    title = resolve_label(component.title, choose) if component.title else None
    return metric_of(
        result,
        key,
        label=title,
        target=component.target,
        bands=component.bands,
        symbol=currency_symbol(ctx, choose),
    )


def currency_symbol(ctx: RecordContext, choose: Chooser) -> str | None:
    """The org's currency's symbol as the reader's language writes it (USD: ``$`` in
    English, ``US$`` in Chinese; CNY: ``CN¥``, ``¥``)."""
    code = org_export_options(ctx).currency
    if not code:
        return None
    return get_currency_symbol(code, locale=choose(READER_LOCALES) or READER_LOCALES[0])


def component_chart(
    ctx: RecordContext, component: Component, result: ReportResult
) -> ChartSpec | None:
    """The chart a component draws: its own axes, else its report's (titled)."""
    spec = component.chart or result.chart
    if spec is None:
        return None
    return chart_with_keys(ctx, component.report, spec)


def chart_with_keys(ctx: RecordContext, report: str, spec: ChartSpec) -> ChartSpec:
    """``spec`` with every y naming its figure by the key results carry (a chart may
    name an aggregate by its formula name, ``sum_amount`` for ``sum(amount)``)."""
    y = tuple(figure_key(ctx, report, key) for key in spec.y)
    return ChartSpec(spec.type, spec.x, y, spec.series, spec.title)


def figure_key(ctx: RecordContext, report: str, name: str) -> str:
    """The key a report's results carry for the aggregate or formula ``name``."""
    definition = reports_model(ctx.model).reports.get(report)
    if definition is None:
        return name
    return report_keys(definition)[1].get(name, name)


def _summary_json(result: ReportResult) -> dict[str, Any]:
    """A run's JSON without its detail rows (a chart or a metric reads groups only)."""
    body = result_json(result)
    body.pop("rows", None)
    body.pop("rows_truncated", None)
    return body


def readable_dashboards(ctx: RecordContext) -> list[Dashboard]:
    """The dashboards the user may read, by name: those with a component whose report
    reads an object the user may read (the others would show only errors)."""
    reports = reports_model(ctx.model).reports

    def runnable(component: Component) -> bool:
        report = reports.get(component.report)
        return report is not None and ctx.access.can(report.object, "read")

    return [
        d
        for _name, d in sorted(dashboards_model(ctx.model).dashboards.items())
        if any(runnable(c) for c in d.components)
    ]
