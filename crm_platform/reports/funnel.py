"""A sales funnel drawn as SVG by hand: one centred band per stage, top to bottom in the
report's order, its width proportional to the stage's figure.

pygal's ``Funnel`` draws each series as a wedge growing along x (a comparison of
series, not a pipeline's stages), so a report's funnel is drawn here instead, with the
same self-contained rules as every chart: no script, no external reference, text in
the reader's language.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence

SVG_NS = "http://www.w3.org/2000/svg"
PALETTE = ("#2b5f96", "#3572b0", "#4a8bc9", "#7bb9e3", "#98cceb", "#b5ddf2", "#cfe8f6")
DARK = 3  # the first colours are dark: their figures are written in white (AA contrast)
MAX_BAND = 56
TITLE_HEIGHT = 44
GAP = 6


def render_funnel(
    title: str,
    stages: Sequence[tuple[str, float]],
    *,
    width: int,
    height: int,
    fonts: str,
    formatted: Callable[[float], str],
    no_data: str,
) -> str:
    """The funnel of ``stages`` ((label, figure) pairs, in order) as an SVG document."""
    svg = ET.Element(
        f"{{{SVG_NS}}}svg",
        {
            "viewBox": f"0 0 {width} {height}",
            "width": str(width),
            "height": str(height),
            "class": "crm-funnel",
            "font-family": fonts,
        },
    )
    ET.SubElement(svg, f"{{{SVG_NS}}}title").text = title
    ET.SubElement(svg, f"{{{SVG_NS}}}rect", _box(0, 0, width, height, fill="white"))
    _text(svg, width / 2, 28, title, size=16, cls="title")
    drawn = [(label, value) for label, value in stages if value is not None and value > 0]
    if not drawn:
        _text(svg, width / 2, height / 2, no_data, size=16, cls="no-data")
        return _written(svg)
    widest = max(value for _label, value in drawn)
    band_height = min((height - TITLE_HEIGHT - GAP * len(drawn)) / len(drawn), MAX_BAND)
    usable = width * 0.62  # room on the left for the stages' names
    centre = width - usable / 2 - 16
    for index, (label, value) in enumerate(drawn):
        y = TITLE_HEIGHT + index * (band_height + GAP)
        band_width = max(usable * value / widest, 2.0)
        group = ET.SubElement(svg, f"{{{SVG_NS}}}g", {"class": "band"})
        ET.SubElement(group, f"{{{SVG_NS}}}title").text = f"{label}: {formatted(value)}"
        ET.SubElement(group, f"{{{SVG_NS}}}desc", {"class": "label"}).text = label
        ET.SubElement(group, f"{{{SVG_NS}}}desc", {"class": "value"}).text = formatted(value)
        fill = PALETTE[index % len(PALETTE)]
        ET.SubElement(
            group,
            f"{{{SVG_NS}}}rect",
            _box(centre - band_width / 2, y, band_width, band_height, fill=fill, rx="3"),
        )
        middle = y + band_height / 2 + 5
        _text(group, 16, middle, label, size=14, cls="stage", anchor="start")
        ink = "#fff" if index % len(PALETTE) < DARK else "#111"
        _text(group, centre, middle, formatted(value), size=14, cls="figure", fill=ink)
    return _written(svg)


def _written(svg: ET.Element) -> str:
    ET.register_namespace("", SVG_NS)
    return ET.tostring(svg, encoding="unicode")


def _box(x: float, y: float, w: float, h: float, **attrs: str) -> dict[str, str]:
    return {"x": f"{x:.2f}", "y": f"{y:.2f}", "width": f"{w:.2f}", "height": f"{h:.2f}", **attrs}


def _text(
    parent: ET.Element,
    x: float,
    y: float,
    text: str,
    *,
    size: int,
    cls: str,
    fill: str = "#333",
    anchor: str = "middle",
) -> None:
    attrs = {
        "x": f"{x:.2f}",
        "y": f"{y:.2f}",
        "font-size": str(size),
        "class": cls,
        "fill": fill,
        "text-anchor": anchor,
    }
    ET.SubElement(parent, f"{{{SVG_NS}}}text", attrs).text = text
