"""Charts of report results, rendered on the server as self-contained SVG (pygal).

A chart reads a :class:`ReportResult` through a :class:`ChartSpec`: ``x`` names a row
grouping (or, in a matrix, a column grouping), ``y`` one or more aggregate keys and
``series`` an optional second grouping. Category and series names are the groups'
labels, already in the reader's language, so the SVG needs no translation here.

The SVG must be viewable with nothing else: pygal's default points at a JavaScript
file on a CDN and writes its config in a ``<script>``; both go (``js=[]``, and the SVG
is read back and written again without scripts and comments — the comments carry
pygal's home URLs), so the document holds no URL but the SVG namespace and works
inside ``<img>``, a mail or an offline page. The metric component (a value against a
target with colour bands) is drawn directly with ElementTree: a bullet bar is clearer
than a pygal gauge and needs no more; so is the funnel (``funnel.py``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from crm_platform.core import ValidationFailed

from .definition import CHART_TYPES
from .funnel import render_funnel
from .results import ChartSpec, Group, GroupKey, ReportColumn, ReportResult

SVG_NS = "http://www.w3.org/2000/svg"
# one value per category, each category a slice: only the first y aggregate is drawn
SLICED = frozenset({"pie", "donut", "funnel"})
BLANK = "—"  # a group of blank values (or a lookup the reader may not see)
FONTS = '"Noto Sans", "Segoe UI", "PingFang SC", "Microsoft YaHei", Arial, sans-serif'


@cache
def _style() -> Any:
    """pygal's style for every chart, built on the first chart: pygal (and lxml under
    it) is imported only by a process that draws one, not by every API worker."""
    from pygal.style import Style

    return Style(
        font_family=FONTS,
        label_font_family=FONTS,
        major_label_font_family=FONTS,
        value_font_family=FONTS,
        value_label_font_family=FONTS,
        tooltip_font_family=FONTS,
        title_font_family=FONTS,
        legend_font_family=FONTS,
        no_data_font_family=FONTS,
        background="white",
        plot_background="white",
    )


# the colours a dashboard metric's band may name (hex colours are taken as they are)
NAMED_COLORS: Mapping[str, str] = {
    "red": "#d9534f",
    "orange": "#f0883e",
    "yellow": "#f0c419",
    "green": "#3fa34d",
    "blue": "#3572b0",
    "grey": "#9e9e9e",
    "gray": "#9e9e9e",
}


@dataclass(frozen=True)
class Series:
    """One line, bar colour or slice set: its name and a value per category."""

    name: str
    values: tuple[float | None, ...]
    scale: int = 0


@dataclass(frozen=True)
class ChartData:
    """What a chart draws: category labels along x and the series over them."""

    type: str
    title: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]


@dataclass(frozen=True)
class Band:
    """A metric's colour band: values up to ``upto`` (the last band: any value)."""

    color: str
    upto: float | None = None


@dataclass(frozen=True)
class Metric:
    """A single figure against a target, coloured by the band it falls in."""

    label: str
    value: float | None
    target: float | None = None
    bands: tuple[Band, ...] = ()
    type: str = "number"
    scale: int = 0
    symbol: str | None = None  # the org's currency's, shown before a currency figure


# --- from a result to chart data ------------------------------------------------------


def chart_data(result: ReportResult, spec: ChartSpec | None = None) -> ChartData:
    """The categories and series ``spec`` (the report's chart when None) draws from
    ``result``; 400 naming ``chart.x``/``chart.y``/``chart.series`` when an axis is not
    one of the result's groupings or aggregates."""
    spec = spec or result.chart
    if spec is None:
        raise ValidationFailed({"chart": f"report '{result.name}' has no chart"})
    if spec.type not in CHART_TYPES:
        raise ValidationFailed({"chart.type": f"must be one of: {', '.join(CHART_TYPES)}"})
    aggregates = {a.key: a for a in result.aggregates}
    for key in spec.y:
        if key not in aggregates:
            raise ValidationFailed({"chart.y": f"'{key}' is not an aggregate of the report"})
    y = spec.y[:1] if spec.type in SLICED else spec.y
    points = list(_points(result, spec))
    categories = _ordered(p[0] for p in points)
    if spec.series is not None:
        # a series grouping: one series per group of it, for the (first) y aggregate
        names = _ordered(p[1] for p in points)
        table = {(p[0], p[1]): p[2].get(y[0]) for p in points}
        scale = aggregates[y[0]].scale or 0
        series = tuple(
            Series(name, tuple(_number(table.get((c, name))) for c in categories), scale)
            for name in names
        )
    else:
        table = {p[0]: p[2] for p in points}
        series = tuple(
            Series(
                aggregates[k].label,
                tuple(_number(table[c].get(k)) for c in categories),
                aggregates[k].scale or 0,
            )
            for k in y
        )
    return ChartData(
        type=spec.type,
        title=spec.title or result.label,
        categories=categories,
        series=series,
    )


def _points(result: ReportResult, spec: ChartSpec) -> Iterator[tuple[str, str | None, Mapping]]:
    """(category, series name, aggregates) for every cell the chart draws, in the
    result's order. x and series may each be a row grouping or a column grouping."""
    rows = [g.key for g in result.groupings]
    cols = [g.key for g in result.column_groupings]
    if spec.x not in rows and spec.x not in cols:
        raise ValidationFailed({"chart.x": f"'{spec.x}' is not a grouping of the report"})
    if spec.series is not None and spec.series not in rows and spec.series not in cols:
        raise ValidationFailed({"chart.series": f"'{spec.series}' is not a grouping of the report"})
    if spec.series == spec.x:
        raise ValidationFailed({"chart.series": "must differ from chart.x"})
    used = [k for k in (spec.x, spec.series) if k in rows]
    depth = max((rows.index(k) + 1 for k in used), default=0)
    by_column = spec.x in cols or spec.series in cols
    # the tree's root: the grand total over the top-level groups (``total.groups`` is
    # not relied on: the result holds the top level in ``groups``)
    root = Group(None, result.total.values, result.groups, result.total.by_column)
    for path, group in _walk(root, depth):
        labels = {rows[i]: _label(key) for i, key in enumerate(path)}
        # a level neither axis names (x is the second grouping, say) names its groups
        # in the category so that they stay apart
        extra = [labels[rows[i]] for i in range(depth) if rows[i] not in used]
        if not by_column:
            yield _category(labels[spec.x], extra), labels.get(spec.series or ""), group.values
            continue
        for cell in group.by_column:
            col_labels = {cols[i]: _label(key) for i, key in enumerate(cell.keys)}
            col_extra = [col_labels[k] for k in cols if k not in (spec.x, spec.series)]
            both = {**labels, **col_labels}
            yield (
                _category(both[spec.x], extra + col_extra),
                both.get(spec.series or ""),
                cell.values,
            )


def _walk(group: Group, depth: int) -> Iterator[tuple[tuple[GroupKey, ...], Group]]:
    """The groups ``depth`` levels down the tree, each with the keys of its path."""
    if depth == 0:
        yield (), group
        return
    for child in group.groups:
        for path, leaf in _walk(child, depth - 1):
            yield (child.key, *path), leaf  # type: ignore[misc]


def _label(key: GroupKey | None) -> str:
    if key is None or key.label in (None, ""):
        return BLANK
    return str(key.label)


def _category(label: str, extra: Sequence[str]) -> str:
    return " · ".join([*extra, label])


def _ordered(items: Iterator[Any]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(items))


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    return None


# --- rendering ---------------------------------------------------------------------------


def render_chart(
    result: ReportResult,
    spec: ChartSpec | None = None,
    *,
    width: int = 800,
    height: int = 450,
    no_data: str = "No data",
) -> str:
    """The chart of ``result`` (its own, or ``spec``) as a self-contained SVG document."""
    return render_data(chart_data(result, spec), width=width, height=height, no_data=no_data)


def render_data(data: ChartData, *, width: int = 800, height: int = 450, no_data: str) -> str:
    """Chart data as SVG, with no script and no external reference."""
    if data.type == "funnel":
        series = data.series[0] if data.series else None
        values = series.values if series else ()
        return render_funnel(
            data.title,
            list(zip(data.categories, values, strict=True)),
            width=width,
            height=height,
            fonts=FONTS,
            formatted=_formatter(series.scale if series else 0),
            no_data=no_data,
        )
    chart = _pygal_chart(data.type, width, height, no_data)
    chart.title = data.title
    if data.type in SLICED:
        # each category is a slice: pygal draws a series per slice
        scale = data.series[0].scale if data.series else 0
        for index, category in enumerate(data.categories):
            values = [s.values[index] for s in data.series]
            if all(v is None for v in values):
                continue  # no figure, no slice (pygal would draw it as 0)
            chart.add(
                category,
                values if len(values) > 1 else values[0],
                formatter=_formatter(scale),
            )
    else:
        chart.x_labels = list(data.categories)
        for series in data.series:
            chart.add(series.name, list(series.values), formatter=_formatter(series.scale))
    return self_contained(chart.render(is_unicode=True))


def _axis_number(value: Any) -> str:
    """An axis label: thousands grouped, no trailing zeros (``400,000``, ``0.5``), and
    never in exponent form (``12,000,000``, not ``1.2e+07``, which ``g`` writes from a
    million on); 15 significant digits hide a float's binary noise (``0.30000000000000004``)."""
    return format(value, ",.15g") if isinstance(value, int | float) else str(value)


def _formatter(scale: int):
    return lambda value: format_number(value, "number", scale)


def _pygal_chart(kind: str, width: int, height: int, no_data: str) -> Any:
    import pygal  # here, not at the top: see _style

    common = {
        "js": [],  # no CDN script: the SVG is complete without JavaScript
        "style": _style(),
        "width": width,
        "height": height,
        "disable_xml_declaration": True,
        "print_values": kind in SLICED,
        "no_data_text": no_data,
        "truncate_legend": 40,
        "x_label_rotation": 0 if kind in SLICED else 20,
        "legend_at_bottom": True,
        "print_zeroes": kind not in SLICED,  # a blank slice prints no 0
        "value_formatter": _axis_number,
    }
    makers = {
        "bar": lambda: pygal.HorizontalBar(**common),
        "column": lambda: pygal.Bar(**common),
        "line": lambda: pygal.Line(**common),
        "area": lambda: pygal.Line(fill=True, **common),
        "pie": lambda: pygal.Pie(**common),
        "donut": lambda: pygal.Pie(inner_radius=0.45, **common),
        "stacked_column": lambda: pygal.StackedBar(**common),
        "stacked_bar": lambda: pygal.HorizontalStackedBar(**common),
    }
    return makers[kind]()


def self_contained(svg: str) -> str:
    """The SVG read back and written again by ElementTree, whatever pygal wrote it
    with (xml.etree, or lxml when installed, which declares the xlink namespace
    unused): comments (pygal's home URLs) and processing instructions are dropped by
    the parser, ``<script>`` elements (pygal's config) here, and only the namespaces
    in use are declared."""
    root = ET.fromstring(svg)
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == f"{{{SVG_NS}}}script":
                parent.remove(child)
    ET.register_namespace("", SVG_NS)
    return ET.tostring(root, encoding="unicode")


def format_number(
    value: Any, type_: str = "number", scale: int | None = 0, symbol: str | None = None
) -> str:
    """A figure as a person reads it: thousands grouped, the column's decimals, ``%``
    after a percent, the currency's ``symbol`` before a currency (``$``, ``€``, ``¥``).
    Blank for no value."""
    number = _number(value)
    if number is None:
        return ""
    text = f"{number:,.{scale or 0}f}"
    if type_ == "percent":
        return f"{text}%"
    if type_ == "currency" and symbol:
        return f"-{symbol}{text[1:]}" if text.startswith("-") else f"{symbol}{text}"
    return text


# --- the metric component ---------------------------------------------------------------


def band_color(value: float | None, bands: Sequence[Band]) -> str | None:
    """The colour of the first band whose ``upto`` the value does not pass (the last
    band without ``upto`` takes the rest); None without a value or a band."""
    if value is None:
        return None
    for band in bands:
        if band.upto is None or value <= band.upto:
            return band.color
    return None


def css_color(color: str | None) -> str:
    """A band colour as SVG paints it (named colours of :data:`NAMED_COLORS`, or hex)."""
    if color is None:
        return NAMED_COLORS["grey"]
    return NAMED_COLORS.get(color, color)


def metric_of(result: ReportResult, aggregate: str, **options: Any) -> Metric:
    """The metric of ``aggregate``'s grand total in ``result`` (400 when the report has
    no such aggregate)."""
    column = _aggregate(result, aggregate)
    return Metric(
        label=options.pop("label", None) or column.label,
        value=_number(result.total.values.get(aggregate)),
        type=column.type,
        scale=column.scale or 0,
        **options,
    )


def _aggregate(result: ReportResult, key: str) -> ReportColumn:
    for column in result.aggregates:
        if column.key == key:
            return column
    raise ValidationFailed({"aggregate": f"'{key}' is not an aggregate of report {result.name}"})


def render_metric(metric: Metric, *, width: int = 400, height: int = 180) -> str:
    """A metric as SVG: its label, the figure in its band's colour and a bullet bar
    (the bands behind, the value in front, a mark at the target)."""
    color = css_color(band_color(metric.value, metric.bands))
    svg = ET.Element(
        f"{{{SVG_NS}}}svg",
        {
            "viewBox": f"0 0 {width} {height}",
            "width": str(width),
            "height": str(height),
            "class": "crm-metric",
            "font-family": FONTS,
        },
    )
    ET.SubElement(svg, f"{{{SVG_NS}}}title").text = metric.label
    ET.SubElement(svg, f"{{{SVG_NS}}}rect", _box(0, 0, width, height, fill="white"))
    _text(svg, 16, 30, metric.label, size=16, cls="label", fill="#333")
    figure = format_number(metric.value, metric.type, metric.scale, metric.symbol) or BLANK
    _text(svg, 16, 86, figure, size=44, cls="value", fill=color)
    scale_max = _scale_max(metric)
    bar_x, bar_w, bar_y = 16, width - 32, 110
    start = 0.0
    for band in metric.bands:  # the bands behind, lighter
        end = scale_max if band.upto is None else min(band.upto, scale_max)
        if end > start:
            box = _box(bar_x + _at(start, scale_max, bar_w), bar_y, 0, 28)
            box["width"] = f"{_at(end, scale_max, bar_w) - _at(start, scale_max, bar_w):.2f}"
            box.update({"fill": css_color(band.color), "fill-opacity": "0.3", "class": "band"})
            ET.SubElement(svg, f"{{{SVG_NS}}}rect", box)
            start = end
    if metric.value is not None:
        value_w = _at(max(min(metric.value, scale_max), 0.0), scale_max, bar_w)
        attrs = _box(bar_x, bar_y + 8, value_w, 12, fill=color)
        ET.SubElement(svg, f"{{{SVG_NS}}}rect", {**attrs, "class": "bar"})
    if metric.target is not None:
        x = bar_x + _at(metric.target, scale_max, bar_w)
        mark = {"x1": f"{x:.2f}", "x2": f"{x:.2f}", "y1": str(bar_y - 4), "y2": str(bar_y + 32)}
        ET.SubElement(
            svg, f"{{{SVG_NS}}}line", {**mark, "stroke": "#222", "stroke-width": "3"}
        ).set("class", "target")
        target = format_number(metric.target, metric.type, metric.scale, metric.symbol)
        _text(svg, width - 16, 160, f"/ {target}", size=14, cls="target", fill="#555", end=True)
    ET.register_namespace("", SVG_NS)
    return ET.tostring(svg, encoding="unicode")


def _scale_max(metric: Metric) -> float:
    candidates = [metric.value or 0.0, metric.target or 0.0]
    candidates += [b.upto for b in metric.bands if b.upto is not None]
    return max(candidates) or 1.0


def _at(value: float, scale_max: float, width: float) -> float:
    return max(0.0, value) / scale_max * width


def _box(x: float, y: float, w: float, h: float, **attrs: str) -> dict[str, str]:
    return {"x": f"{x:.2f}", "y": f"{y:.2f}", "width": f"{w:.2f}", "height": f"{h:.2f}", **attrs}


def _text(
    parent: ET.Element, x: float, y: float, text: str, *, size: int, cls: str, fill: str, end=False
) -> None:
    attrs = {"x": str(x), "y": str(y), "font-size": str(size), "class": cls, "fill": fill}
    if end:
        attrs["text-anchor"] = "end"
    ET.SubElement(parent, f"{{{SVG_NS}}}text", attrs).text = text
