"""Charts render on the server as SVG that holds everything it needs: read back with
ElementTree, their series, category labels and values are the report's."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from decimal import Decimal

import pytest

from crm_platform.core import ValidationFailed
from crm_platform.reports import ChartSpec
from crm_platform.reports.charts import (
    CHART_TYPES,
    Band,
    Metric,
    band_color,
    chart_data,
    metric_of,
    render_chart,
    render_metric,
)

from .output_samples import amount_by_owner_and_stage, forecast_matrix, pipeline_by_stage

NS = {"svg": "http://www.w3.org/2000/svg"}
URL = re.compile(r"https?://[^\s\"'<>)]+")


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def urls(svg: str) -> set[str]:
    return set(URL.findall(svg))


def legend(root: ET.Element) -> list[str]:
    return [t.text for t in root.iterfind(".//svg:g[@class='legends']//svg:text", NS)]


def plotted(root: ET.Element) -> list[list[tuple[str | None, str]]]:
    """Each series of the plot: (x label, value text) of each of its points."""
    plot = root.find(".//svg:g[@class='plot']", NS)
    out = []
    for series in plot.iterfind("svg:g", NS):
        if "series" not in (series.get("class") or ""):
            continue
        points = []
        for point in series.iter():
            descs = {d.get("class"): d.text for d in point.findall("svg:desc", NS)}
            if "value" in descs:
                points.append((descs.get("x_label"), descs["value"]))
        out.append(points)
    return out


def test_a_funnel_shows_each_stage_in_the_readers_language_with_its_amount():
    svg = render_chart(pipeline_by_stage())
    root = parse(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}" + "svg"
    assert root.findtext("svg:title", namespaces=NS) == "按阶段的销售管道"
    # each stage is a band of the funnel, top to bottom in the report's order, its width
    # proportional to its amount; the blank stage has no amount, so no band
    bands = root.findall("svg:g[@class='band']", NS)
    described = [
        (b.findtext("svg:desc[@class='label']", namespaces=NS),
         b.findtext("svg:desc[@class='value']", namespaces=NS))
        for b in bands
    ]  # fmt: skip
    assert described == [("潜在客户", "300,000.00"), ("谈判", "450,000.50")]
    widths = [float(b.find("svg:rect", NS).get("width")) for b in bands]
    assert widths[0] / widths[1] == pytest.approx(300_000 / 450_000.5, rel=1e-3)
    tops = [float(b.find("svg:rect", NS).get("y")) for b in bands]
    assert tops == sorted(tops)
    assert urls(svg) == {"http://www.w3.org/2000/svg"}


@pytest.mark.parametrize("chart_type", CHART_TYPES)
def test_every_chart_type_renders_without_script_or_external_reference(chart_type):
    spec = ChartSpec(chart_type, "stage", ("count", "sum(amount)"))
    svg = render_chart(pipeline_by_stage(spec))
    root = parse(svg)
    assert urls(svg) == {"http://www.w3.org/2000/svg"}
    assert not list(root.iter("{http://www.w3.org/2000/svg}script"))
    assert "<!--" not in svg and "href" not in svg
    assert "潜在客户" in svg and "谈判" in svg


def test_a_column_chart_has_a_series_per_aggregate_over_the_stages():
    spec = ChartSpec("column", "stage", ("count", "sum(amount)"), title="Deals")
    root = parse(render_chart(pipeline_by_stage(spec)))
    assert root.findtext("svg:title", namespaces=NS) == "Deals"
    assert legend(root) == ["记录数", "金额合计"]
    counts, amounts = plotted(root)
    # the blank stage reads as a dash; the blank amount is no point at all
    assert counts == [("潜在客户", "3"), ("谈判", "2"), ("—", "1")]
    assert amounts == [("潜在客户", "300,000.00"), ("谈判", "450,000.50")]
    x_labels = [t.text for t in root.iterfind(".//svg:g[@class='axis x']//svg:text", NS)]
    assert x_labels == ["潜在客户", "谈判", "—"]


def test_an_axis_of_millions_reads_as_grouped_digits_not_in_exponent_form():
    spec = ChartSpec("column", "stage", ("sum(amount)",))
    result = pipeline_by_stage(spec)
    millions = tuple(
        replace(g, values={**g.values, "sum(amount)": Decimal(12_000_000)}) for g in result.groups
    )
    root = parse(render_chart(replace(result, groups=millions)))
    y_axis = [g for g in root.iter(f"{{{NS['svg']}}}g") if g.get("class", "").startswith("axis y")]
    y_labels = [t.text for g in y_axis for t in g.iterfind(".//svg:text", NS)]
    assert "12,000,000" in y_labels
    assert not [label for label in y_labels if "e+" in (label or "")]


def test_a_second_grouping_makes_the_series_of_a_stacked_column():
    data = chart_data(amount_by_owner_and_stage())
    assert data.categories == ("Ann", "Bob")
    assert [(s.name, s.values) for s in data.series] == [
        ("潜在客户", (10.0, None)),
        ("谈判", (20.0, 5.0)),
    ]
    root = parse(render_chart(amount_by_owner_and_stage()))
    assert legend(root) == ["潜在客户", "谈判"]
    # stacked: Bob's missing prospecting amount stacks as nothing
    assert plotted(root) == [
        [("Ann", "10.00"), ("Bob", "0.00")],
        [("Ann", "20.00"), ("Bob", "5.00")],
    ]


def test_x_may_be_the_second_grouping_and_series_the_first():
    spec = ChartSpec("line", "stage", ("sum(amount)",), series="owner")
    data = chart_data(amount_by_owner_and_stage(), spec)
    assert data.categories == ("潜在客户", "谈判")
    assert [(s.name, s.values) for s in data.series] == [
        ("Ann", (10.0, 20.0)),
        ("Bob", (None, 5.0)),
    ]


def test_a_matrix_draws_its_column_groups():
    data = chart_data(forecast_matrix())
    assert data.categories == ("2026 Q1", "2026 Q2")
    assert [(s.name, s.values) for s in data.series] == [
        ("Ann", (100.0, 200.0)),
        ("Bob", (50.0, 0.0)),
    ]
    # by owner alone: each owner's row total
    spec = ChartSpec("bar", "owner", ("sum(amount)",))
    by_owner = chart_data(forecast_matrix(), spec)
    assert by_owner.categories == ("Ann", "Bob")
    assert by_owner.series[0].values == (300.0, 50.0)


@pytest.mark.parametrize(
    ("spec", "place"),
    [
        (ChartSpec("column", "owner", ("count",)), "chart.x"),
        (ChartSpec("column", "stage", ("sum(probability)",)), "chart.y"),
        (ChartSpec("column", "stage", ("count",), series="owner"), "chart.series"),
        (ChartSpec("radar", "stage", ("count",)), "chart.type"),
    ],
)
def test_an_axis_the_report_does_not_have_is_refused_naming_it(spec, place):
    with pytest.raises(ValidationFailed) as caught:
        chart_data(pipeline_by_stage(), spec)
    assert place in caught.value.extra["errors"]


def test_a_metric_is_coloured_by_its_band_and_marks_its_target():
    bands = (Band("red", 500_000), Band("yellow", 900_000), Band("green"))
    assert band_color(100, bands) == "red"
    assert band_color(500_000, bands) == "red"
    assert band_color(750_000.5, bands) == "yellow"
    assert band_color(2_000_000, bands) == "green"
    assert band_color(None, bands) is None

    metric = metric_of(pipeline_by_stage(), "sum(amount)", target=1_000_000.0, bands=bands)
    assert metric.value == 750_000.5 and metric.label == "金额合计"
    svg = render_metric(metric)
    root = parse(svg)
    value = root.find("svg:text[@class='value']", NS)
    assert value.text == "750,000.50"
    assert value.get("fill") == "#f0c419"  # yellow: above 500,000, up to 900,000
    assert root.find("svg:text[@class='label']", NS).text == "金额合计"
    assert root.find("svg:text[@class='target']", NS).text == "/ 1,000,000.00"
    band_widths = [float(r.get("width")) for r in root.iterfind("svg:rect[@class='band']", NS)]
    assert [round(w) for w in band_widths] == [184, 147, 37]  # 0-500k, 500k-900k, 900k-1M
    target = root.find("svg:line[@class='target']", NS)
    assert float(target.get("x1")) == pytest.approx(16 + 368)
    assert urls(svg) == {"http://www.w3.org/2000/svg"}


def test_a_metric_without_a_value_shows_a_dash_in_grey():
    root = parse(render_metric(Metric("Won", None, target=10, bands=(Band("#123456"),))))
    value = root.find("svg:text[@class='value']", NS)
    assert value.text == "—" and value.get("fill") == "#9e9e9e"
    assert root.find("svg:rect[@class='bar']", NS) is None


def test_a_percent_metric_reads_with_its_sign():
    metric = Metric("Win rate", 42.456, target=50, type="percent", scale=1)
    root = parse(render_metric(metric))
    assert root.find("svg:text[@class='value']", NS).text == "42.5%"


def test_a_currency_metric_reads_with_the_currency_symbol():
    metric = Metric("Open pipeline", 1_250_000, target=2_000_000, type="currency", symbol="€")
    root = parse(render_metric(metric))
    assert root.find("svg:text[@class='value']", NS).text == "€1,250,000"
    assert root.find("svg:text[@class='target']", NS).text == "/ €2,000,000"
    loss = Metric("Net", -1500.5, type="currency", scale=2, symbol="$")
    assert parse(render_metric(loss)).find("svg:text[@class='value']", NS).text == "-$1,500.50"


def test_a_report_without_a_chart_has_none_to_draw():
    result = pipeline_by_stage()
    no_chart = type(result)(**{**result.__dict__, "chart": None})
    with pytest.raises(ValidationFailed, match="has no chart"):
        render_chart(no_chart)


def test_a_hostile_label_stays_text_in_the_svg():
    from crm_platform.reports import Group, GroupKey

    result = pipeline_by_stage(ChartSpec("column", "stage", ("count",)))
    evil = '</text><script>alert(1)</script><image href="https://evil.example/x"/>'
    groups = (Group(GroupKey("x", evil), {"count": 1}),)
    hostile = type(result)(**{**result.__dict__, "groups": groups, "label": evil})
    svg = render_chart(hostile)
    root = parse(svg)
    assert not list(root.iter("{http://www.w3.org/2000/svg}script"))
    assert not list(root.iter("{http://www.w3.org/2000/svg}image"))
    assert root.findtext("svg:title", namespaces=NS) == evil  # shown as written
    assert evil in [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
