"""What running a report gives: typed, immutable data between the compiler and its
outputs (the JSON API, charts, dashboards, CSV and XLSX exports).

A report's answer has up to three parts, all computed in SQL as the running user:

* ``rows``: detail records (a tabular report, or a summary report that lists
  columns), in the report's order, each with the keys of the groups it falls in;
* ``groups``: the row groupings as a tree, each group with its aggregates (and, in a
  matrix, its aggregates per column group);
* ``total``: the grand total, a group without a key.

An export does not hold the whole answer: :class:`ReportStream` yields rows one at a
time from the database cursor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ReportColumn:
    """A detail column, a grouping or an aggregate, as its reader sees it.

    ``key`` is what the definition says (``account.name``, ``close_date by month``,
    ``sum(amount)``, a summary formula's name); ``type`` is the field type of the
    value (``text``, ``currency``, ``date``, ``picklist``, ``lookup``...) or, for a
    computed value, ``number``, ``percent``, ``date``, ``datetime``, ``text`` or
    ``boolean``; ``scale`` the decimal places of a number."""

    key: str
    label: str
    type: str
    scale: int | None = None


@dataclass(frozen=True)
class GroupKey:
    """The value a group is keyed by and what a person reads for it: a picklist
    value and its label, a lookup's id and the record's name, a month's first day
    and ``2026-03``. ``value`` None is the group of blank values."""

    value: Any
    label: str | None


@dataclass(frozen=True)
class ColumnCell:
    """A matrix's aggregates for one column group (``keys``: one per column grouping)
    within a row group (or within the grand total: the column totals)."""

    keys: tuple[GroupKey, ...]
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Group:
    """A row group (the grand total when ``key`` is None): its aggregates by
    aggregate key, its subgroups at the next grouping level, and in a matrix its
    aggregates per column group, in ``ReportResult.column_keys`` order.

    A matrix with two or more column groupings also has ``column_subtotals``: the
    aggregates per value of the first column grouping (a cell's ``keys`` then hold one
    key), in that grouping's order."""

    key: GroupKey | None
    values: Mapping[str, Any]
    groups: tuple[Group, ...] = ()
    by_column: tuple[ColumnCell, ...] = ()
    column_subtotals: tuple[ColumnCell, ...] = ()


@dataclass(frozen=True)
class ReportRow:
    """A detail record: its values in ``ReportResult.columns`` order and the keys of
    the groups it falls in, one per row grouping (empty in a tabular report).

    A lookup column's value is the id of the record it points at (as the reader sees
    it: null when they cannot); ``names`` maps such a column's key to that record's
    name, as a record's ``_names`` does (null when the reader may not read the name)."""

    values: tuple[Any, ...]
    group: tuple[Any, ...] = ()
    record_id: str | None = None
    names: Mapping[str, str | None] = field(default_factory=dict)

    def shown(self, columns: Sequence[ReportColumn]) -> tuple[Any, ...]:
        """The values as a person reads them: a lookup's name in place of its id."""
        return tuple(
            self.names.get(c.key) if c.key in self.names else v
            for c, v in zip(columns, self.values, strict=True)
        )


@dataclass(frozen=True)
class ChartSpec:
    """A chart of a report: ``x`` is a grouping key, ``y`` one or more aggregate keys,
    ``series`` an optional second grouping (stacked or grouped bars, lines)."""

    type: str
    x: str
    y: tuple[str, ...]
    series: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class ReportResult:
    """A report's answer for one user (see the module's docstring)."""

    name: str
    label: str
    format: str  # tabular | summary | matrix
    columns: tuple[ReportColumn, ...]
    groupings: tuple[ReportColumn, ...]
    column_groupings: tuple[ReportColumn, ...]
    aggregates: tuple[ReportColumn, ...]
    rows: tuple[ReportRow, ...]
    rows_truncated: bool
    groups: tuple[Group, ...]
    column_keys: tuple[tuple[GroupKey, ...], ...]
    total: Group
    chart: ChartSpec | None = None
    filters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportStream:
    """An export's rows, read from the database cursor as they are written: the
    header columns and an iterable of value tuples in that order."""

    name: str
    label: str
    columns: tuple[ReportColumn, ...]
    rows: Iterable[tuple[Any, ...]]
