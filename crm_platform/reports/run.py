"""Running a report as a user: :func:`run_report` (rows, groups, totals) and
:func:`stream_report` (an export's rows, read from a server-side cursor)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from typing import Any

from crm_platform.core import NotFound, ValidationFailed
from crm_platform.metadata import Chooser
from crm_platform.runtime.records.context import RecordContext

from .compiler import ReportPlan
from .definition import MAX_LIMIT, ReportDefinition
from .grouping import GroupedRows, build_tree, key_label, value_columns
from .report_kind import reports_model
from .results import ChartSpec, Group, ReportColumn, ReportResult, ReportRow, ReportStream

STREAM_BATCH = 1000  # rows fetched from the cursor at a time


def _chooser(ctx: RecordContext, choose: Chooser | None) -> Chooser:
    if choose is not None:
        return choose
    default = ctx.model.default_language
    return lambda offered: default if default in offered else None


def report_definition(ctx: RecordContext, name: str) -> ReportDefinition:
    """The report named ``name`` (404 when there is none)."""
    found = reports_model(ctx.model).reports.get(name)
    if found is None:
        raise NotFound(f"no report '{name}'")
    return found


def readable_reports(ctx: RecordContext) -> list[ReportDefinition]:
    """The reports whose object the user may read, by name."""
    found = reports_model(ctx.model).reports
    return [d for _, d in sorted(found.items()) if ctx.access.can(d.object, "read")]


def _limit(definition: ReportDefinition, limit: int | None) -> int:
    if limit is None:
        return definition.limit
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed({"limit": f"must be an integer from 1 to {MAX_LIMIT}"})
    return limit


def run_report(
    ctx: RecordContext,
    name: str,
    *,
    filter: str | None = None,
    limit: int | None = None,
    choose: Chooser | None = None,
) -> ReportResult:
    """The report ``name`` run as ``ctx``'s user: detail rows (at most ``limit``, else the
    definition's), groups with subtotals, the grand total. ``filter`` is ANDed with the
    report's. 404 for an unknown report, 403 when the user may not read its object, 400
    naming the part for a field they may not read (as for an unknown one).
    ``choose`` picks the labels' language (the org's default when not given)."""
    definition = report_definition(ctx, name)
    cap = _limit(definition, limit)
    plan = ReportPlan(ctx, definition, _chooser(ctx, choose), filter)
    grouped = GroupedRows(plan, list(ctx.conn.execute(plan.grouped_query()).mappings()))
    groups, column_keys, total = build_tree(plan, grouped)
    rows: list[ReportRow] = []
    truncated = False
    if plan.columns:
        found = list(ctx.conn.execute(plan.detail_query(cap + 1)).mappings())
        truncated = len(found) > cap
        for row in found[:cap]:
            rows.append(
                ReportRow(
                    tuple(row[f"v{i}"] for i in range(len(plan.columns))),
                    tuple(row[f"g{i}"] for i in range(len(plan.groupings))),
                    row["record_id"],
                    _names(plan, row),
                )
            )
    chart = definition.chart
    return ReportResult(
        name=definition.api_name,
        label=plan.label(definition.label, definition.api_name),
        format=definition.format,
        columns=tuple(c.column for c in plan.columns),
        groupings=tuple(g.column for g in plan.groupings),
        column_groupings=tuple(g.column for g in plan.column_groupings),
        aggregates=value_columns(plan),
        rows=tuple(rows),
        rows_truncated=truncated,
        groups=groups,
        column_keys=column_keys,
        total=total,
        chart=ChartSpec(
            chart.type,
            chart.x,
            chart.y,
            chart.series,
            plan.label(chart.title, "") or None,
        )
        if chart
        else None,
        filters={k: v for k, v in (("report", definition.filter), ("runtime", filter)) if v},
    )


def stream_report(
    ctx: RecordContext,
    name: str,
    *,
    filter: str | None = None,
    choose: Chooser | None = None,
) -> ReportStream:
    """An export of the report as ``ctx``'s user, every row (no cap).

    A tabular or summary report with columns gives its detail rows, its groupings'
    values first (a lookup's name, a picklist's label), read from a server-side cursor
    a batch at a time: iterate ``rows`` while ``ctx``'s transaction is open. A matrix,
    or a summary without columns, gives one line per group (per cell in a matrix) with
    its aggregates. Checks as :func:`run_report`."""
    definition = report_definition(ctx, name)
    plan = ReportPlan(ctx, definition, _chooser(ctx, choose), filter)
    label = plan.label(definition.label, definition.api_name)
    if plan.columns and not plan.column_groupings:
        header = (*(g.column for g in plan.groupings), *(c.column for c in plan.columns))
        return ReportStream(definition.api_name, label, header, _detail_rows(ctx, plan))
    grouped = GroupedRows(plan, list(ctx.conn.execute(plan.grouped_query()).mappings()))
    groups, column_keys, _total = build_tree(plan, grouped)
    values = value_columns(plan)
    header = (*(g.column for g in plan.all_groupings), *values)
    lines: list[tuple[Any, ...]] = []
    for path, group in _leaves(groups, ()):
        keys = tuple(_shown(g.key) for g in path)
        if column_keys:
            for cell in group.by_column:
                columns = tuple(_shown(k) for k in cell.keys)
                lines.append((*keys, *columns, *(cell.values.get(v.key) for v in values)))
        else:
            lines.append((*keys, *(group.values.get(v.key) for v in values)))
    return ReportStream(definition.api_name, label, header, lines)


def _shown(key) -> Any:
    return key.label if key is not None and key.label is not None else None


def _leaves(
    groups: tuple[Group, ...], path: tuple[Group, ...]
) -> Iterator[tuple[tuple[Group, ...], Group]]:
    for group in groups:
        if group.groups:
            yield from _leaves(group.groups, (*path, group))
        else:
            yield (*path, group), group


def _names(plan: ReportPlan, row: Mapping[str, Any]) -> dict[str, str | None]:
    """The names of the records a row's lookup columns point at (see ReportRow)."""
    names: dict[str, str | None] = {}
    for index, column in enumerate(plan.columns):
        value = row[f"v{index}"]
        if column.name is None or value is None:
            continue
        name = row[f"n{index}"]
        if name is None and column.queues:
            name = column.queues.get(value)  # an owning queue, named by its label
        names[column.column.key] = name if name is None else str(name)
    return names


def _shown_value(plan: ReportPlan, row: Mapping[str, Any], index: int) -> Any:
    """A column's value as a person reads it: a lookup's name in place of its id."""
    column = plan.columns[index]
    if column.name is None:
        return row[f"v{index}"]
    name = row[f"n{index}"]
    if name is None and column.queues and row[f"v{index}"] is not None:
        return column.queues.get(row[f"v{index}"])
    return name


def _detail_rows(ctx: RecordContext, plan: ReportPlan) -> Iterator[tuple[Any, ...]]:
    """The detail rows from a server-side cursor: the statement runs now (an error is
    raised here, before an export starts writing), rows are fetched as they are read."""
    query = plan.detail_query(None).execution_options(yield_per=STREAM_BATCH)
    result = ctx.conn.execute(query).mappings()
    columns = len(plan.columns)

    def rows() -> Iterator[tuple[Any, ...]]:
        with result:
            for row in result:
                keys = tuple(
                    key_label(g, row[f"g{i}"], row.get(f"l{i}"))
                    for i, g in enumerate(plan.groupings)
                )
                yield (*keys, *(_shown_value(plan, row, i) for i in range(columns)))

    return rows()


# --- JSON ---------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def _column_json(column: ReportColumn) -> dict[str, Any]:
    out: dict[str, Any] = {"key": column.key, "label": column.label, "type": column.type}
    if column.scale is not None:
        out["scale"] = column.scale
    return out


def _key_json(key) -> dict[str, Any]:
    return {"value": _plain(key.value), "label": key.label}


def _values_json(values) -> dict[str, Any]:
    return {k: _plain(v) for k, v in values.items()}


def _group_json(group: Group) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if group.key is not None:
        out["key"] = _key_json(group.key)
    out["values"] = _values_json(group.values)
    if group.key is not None:
        out["groups"] = [_group_json(g) for g in group.groups]
    out["by_column"] = [_cell_json(cell) for cell in group.by_column]
    if group.column_subtotals:
        out["column_subtotals"] = [_cell_json(cell) for cell in group.column_subtotals]
    return out


def _cell_json(cell) -> dict[str, Any]:
    return {"keys": [_key_json(k) for k in cell.keys], "values": _values_json(cell.values)}


def result_json(result: ReportResult) -> dict[str, Any]:
    """A run as the API answers it (dates in ISO 8601; numbers stay Decimal)."""
    chart = result.chart
    return {
        "report": result.name,
        "label": result.label,
        "format": result.format,
        "columns": [_column_json(c) for c in result.columns],
        "groupings": [_column_json(c) for c in result.groupings],
        "column_groupings": [_column_json(c) for c in result.column_groupings],
        "aggregates": [_column_json(c) for c in result.aggregates],
        "rows": [
            {
                "values": [_plain(v) for v in row.values],
                "group": [_plain(v) for v in row.group],
                "id": row.record_id,
                "names": dict(row.names),
            }
            for row in result.rows
        ],
        "rows_truncated": result.rows_truncated,
        "groups": [_group_json(g) for g in result.groups],
        "column_keys": [[_key_json(k) for k in keys] for keys in result.column_keys],
        "total": _group_json(result.total),
        "chart": None
        if chart is None
        else {
            "type": chart.type,
            "x": chart.x,
            "y": list(chart.y),
            **({"series": chart.series} if chart.series else {}),
            **({"title": chart.title} if chart.title else {}),
        },
    }
