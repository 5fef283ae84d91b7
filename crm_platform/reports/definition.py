"""A report definition as typed data (the ``report`` kind's YAML, read once).

Nothing here touches the database or a user: :mod:`.report_kind` checks a definition
against the candidate model when it is saved, :mod:`.compiler` turns it into SQL as
one user. Both read it through :func:`read_definition`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crm_platform.runtime.records.aggregates import metric_problem, split_metric

FORMATS = ("tabular", "summary", "matrix")
CHART_TYPES = (
    "bar",
    "column",
    "line",
    "area",
    "pie",
    "donut",
    "funnel",
    "stacked_column",
    "stacked_bar",
)
MAX_GROUPINGS = 3
OWNER_GROUPINGS = frozenset({"owner", "owner_id"})  # group by the owning user
DEFAULT_LIMIT = 2000
MAX_LIMIT = 50_000
_NOT_IDENTIFIER = re.compile(r"[^0-9A-Za-z_]+")


@dataclass(frozen=True)
class Grouping:
    """A row or column grouping: ``text`` as written (its key), the field path, and
    the date bucket (``close_date by month``) when there is one."""

    text: str
    path: tuple[str, ...]
    bucket: str | None = None


@dataclass(frozen=True)
class Aggregate:
    """One figure per group: ``key`` is the text as written (``sum(amount)``) or the
    ``name`` of a map; ``name`` is what a summary formula calls it; ``where`` makes it
    conditional (only the rows where it holds count)."""

    key: str
    name: str
    function: str
    argument: str | None
    where: str | None = None
    label: Any = None


@dataclass(frozen=True)
class Formula:
    """A summary formula: computed per group from the aggregates, by name."""

    name: str
    expression: str
    label: Any = None
    type: str = "number"
    scale: int | None = None


@dataclass(frozen=True)
class Chart:
    type: str
    x: str
    y: tuple[str, ...]
    series: str | None = None
    title: Any = None


@dataclass(frozen=True)
class ReportDefinition:
    """A report as its author wrote it (see the kind's docstring for the YAML)."""

    api_name: str
    label: Any
    object: str
    format: str
    columns: tuple[str, ...]
    filter: str | None
    group_by: tuple[Grouping, ...]
    group_columns_by: tuple[Grouping, ...]
    aggregates: tuple[Aggregate, ...]
    formulas: tuple[Formula, ...]
    sort: tuple[str, ...]
    limit: int
    chart: Chart | None

    @property
    def groupings(self) -> tuple[Grouping, ...]:
        """Row groupings, then column groupings."""
        return self.group_by + self.group_columns_by

    def aggregate(self, key: str) -> Aggregate | None:
        """The aggregate a key or a name stands for."""
        return next((a for a in self.aggregates if key in (a.key, a.name)), None)


class DefinitionError(ValueError):
    """A definition part that cannot be read: (path, message)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def split_grouping(text: str) -> tuple[str, str | None]:
    """``close_date by month`` as (``close_date``, ``month``); a path alone as (path, None)."""
    head, sep, tail = text.strip().rpartition(" by ")
    if not sep:
        return text.strip(), None
    return head.strip(), tail.strip()


def grouping(text: str) -> Grouping:
    path, bucket = split_grouping(text)
    return Grouping(text.strip(), tuple(p for p in path.split(".")), bucket)


def parse_function(text: str, where: str) -> tuple[str, str | None]:
    """``count`` or ``sum(amount)`` as (function, argument), read by the runtime's
    :func:`split_metric` (one reading for the aggregate API and reports); a
    DefinitionError naming ``where`` otherwise."""
    found = split_metric(text)
    if found is None:
        raise DefinitionError(where, metric_problem(text, "an aggregate"))
    return found


def derived_name(function: str, argument: str | None) -> str:
    """The name a formula calls an aggregate written as a string: ``count``,
    ``sum_amount``, ``sum_account_annual_revenue``."""
    if argument is None:
        return function
    return f"{function}_{_NOT_IDENTIFIER.sub('_', argument).strip('_')}"


def read_aggregate(item: Any, index: int) -> Aggregate:
    where = f"aggregates[{index}]"
    if isinstance(item, str):
        function, argument = parse_function(item, where)
        return Aggregate(item.strip(), derived_name(function, argument), function, argument)
    if not isinstance(item, Mapping):
        raise DefinitionError(where, "an aggregate is a string or a map")
    function, argument = parse_function(str(item.get("of", "count")), f"{where}.of")
    name = str(item["name"])
    return Aggregate(name, name, function, argument, item.get("where"), item.get("label"))


def read_definition(definition: Mapping[str, Any]) -> ReportDefinition:
    """The typed definition (DefinitionError for an aggregate that cannot be read; the
    kind's JSON Schema has checked the shape)."""
    aggregates = definition.get("aggregates") or ["count"]
    chart = definition.get("chart")
    y = chart.get("y") if chart else None
    return ReportDefinition(
        api_name=definition["api_name"],
        label=definition.get("label", definition["api_name"]),
        object=definition["object"],
        format=definition.get("format", "tabular"),
        columns=tuple(definition.get("columns") or ()),
        filter=definition.get("filter") or None,
        group_by=tuple(grouping(g) for g in definition.get("group_by") or ()),
        group_columns_by=tuple(grouping(g) for g in definition.get("group_columns_by") or ()),
        aggregates=tuple(read_aggregate(a, i) for i, a in enumerate(aggregates)),
        formulas=tuple(
            Formula(
                f["name"],
                f["expression"],
                f.get("label"),
                f.get("type", "number"),
                f.get("scale"),
            )
            for f in definition.get("summary_formulas") or ()
        ),
        sort=tuple(definition.get("sort") or ()),
        limit=int(definition.get("limit", DEFAULT_LIMIT)),
        chart=Chart(
            chart["type"],
            chart["x"],
            tuple([y] if isinstance(y, str) else y or ()),
            chart.get("series"),
            chart.get("title"),
        )
        if chart
        else None,
    )
