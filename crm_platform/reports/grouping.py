"""The grouped query's rows as the result's tree: groups, subtotals, the grand total,
a matrix's cells per column group, summary formulas and the groups' order.

The rows are few (one per group, not per record); nothing here filters: what a reader
may see was decided in SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from functools import cmp_to_key
from typing import Any

from crm_platform.core import quantize
from crm_platform.expressions import EvalContext, ExpressionError, ValueType, check, evaluate
from crm_platform.expressions import parse as parse_expression
from crm_platform.expressions.numbers import round_half_away

from .compiler import CompiledGrouping, ReportPlan
from .report_kind import formula_scope
from .results import ColumnCell, Group, GroupKey, ReportColumn

Key = tuple[Any, ...]
EMPTY_COUNTS = frozenset({"count", "count_distinct"})
DEFAULT_FORMULA_SCALE = 2


class GroupedRows:
    """The grouped query's answer, by grouping set: (row key prefix, column key) -> values."""

    def __init__(self, plan: ReportPlan, rows: Sequence[Mapping[str, Any]]) -> None:
        self.plan = plan
        count = len(plan.all_groupings)
        rows_count = len(plan.groupings)
        self.values: dict[tuple[Key, Key | None], dict[str, Any]] = {}
        self.labels: dict[tuple[int, Any], str | None] = {}
        self.formulas = [
            (f, check(parse_expression(f.expression), formula_scope(plan.definition), None))
            for f in plan.definition.formulas
        ]
        for row in rows:
            mask = row["gset"] or 0
            kept = [i for i in range(count) if not mask & (1 << (count - 1 - i))]
            row_keys = tuple(row[f"g{i}"] for i in kept if i < rows_count)
            column_keys = tuple(row[f"g{i}"] for i in kept if i >= rows_count)
            for i in kept:
                if plan.all_groupings[i].display.name is not None:
                    self.labels[(i, row[f"g{i}"])] = row[f"l{i}"]
            # every column grouping (a cell), the first ones (a column subtotal), or none
            self.values[(row_keys, column_keys or None)] = self._values(row)

    def _values(self, row: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        names: dict[str, Any] = {}
        for index, aggregate in enumerate(self.plan.aggregates):
            value = row[f"m{index}"]
            if aggregate.spec.function == "avg":
                count = row[f"c{index}"]
                value = quantize(Decimal(value) / count, aggregate.scale or 4) if count else None
            out[aggregate.spec.key] = value
            names[aggregate.spec.name] = value
        self._formulas(out, names)
        return out

    def _formulas(self, out: dict[str, Any], names: Mapping[str, Any]) -> None:
        context = self.plan.ctx.context
        for formula, checked in self.formulas:
            out[formula.name] = formula_value(checked, names, context, formula.scale)

    def empty(self) -> dict[str, Any]:
        """The values of a matrix cell no record falls in."""
        out: dict[str, Any] = {}
        names: dict[str, Any] = {}
        for aggregate in self.plan.aggregates:
            value = 0 if aggregate.spec.function in EMPTY_COUNTS else None
            out[aggregate.spec.key] = names[aggregate.spec.name] = value
        self._formulas(out, names)
        return out

    def key(self, index: int, value: Any) -> GroupKey:
        """A group's key: its value and what a person reads for it."""
        grouping = self.plan.all_groupings[index]
        return GroupKey(value, key_label(grouping, value, self.labels.get((index, value))))


def formula_value(
    checked, names: Mapping[str, Any], context: EvalContext, scale: int | None
) -> Decimal | None:
    """A summary formula from a group's aggregates (division by zero gives null)."""
    try:
        value = evaluate(checked, lambda path: _number(names.get(path[0])), context)
    except ExpressionError:
        return None
    if value is None or checked.value_type is not ValueType.NUMBER:
        return value
    return round_half_away(value, DEFAULT_FORMULA_SCALE if scale is None else scale)


def _number(value: Any) -> Any:
    return Decimal(value) if isinstance(value, int) and not isinstance(value, bool) else value


def key_label(grouping: CompiledGrouping, value: Any, name: str | None) -> str | None:
    """What a person reads for a group's value: a picklist value's label, a lookup's
    name (blank when the reader may not see it), a bucket's label."""
    if value is None:
        return None
    display = grouping.display
    if display.name is not None:
        if name is None and display.queues:
            return display.queues.get(value)
        return name
    if display.picklist is not None:
        return display.picklist.get(value, str(value))
    if grouping.bucket is not None:
        return bucket_text(grouping, value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def bucket_text(grouping: CompiledGrouping, value: Any) -> str:
    """``2026-03``, ``2026 Q1``, ``FY2026``: a bucket named by its first day."""
    from .buckets import bucket_label

    return bucket_label(value, grouping.bucket or "day", grouping.fiscal_start_month)


# --- the tree -----------------------------------------------------------------------------


def build_tree(
    plan: ReportPlan, grouped: GroupedRows
) -> tuple[tuple[Group, ...], tuple[tuple[GroupKey, ...], ...], Group]:
    """The row groups (sorted), the column keys (sorted) and the grand total."""
    width = len(plan.column_groupings)
    column_keys = _column_keys(plan, grouped, width)
    keyed_columns = _keyed(plan, grouped, column_keys)
    subtotal_keys = [k for w in range(1, width) for k in _column_keys(plan, grouped, w)]
    keyed_subtotals = _keyed(plan, grouped, subtotal_keys)

    def cells(prefix: Key) -> tuple[ColumnCell, ...]:
        return tuple(
            ColumnCell(keys, grouped.values.get((prefix, c)) or grouped.empty())
            for c, keys in zip(column_keys, keyed_columns, strict=True)
        )

    def subtotals(prefix: Key) -> tuple[ColumnCell, ...]:
        return tuple(
            ColumnCell(keys, grouped.values.get((prefix, c)) or grouped.empty())
            for c, keys in zip(subtotal_keys, keyed_subtotals, strict=True)
        )

    def level(prefix: Key) -> tuple[Group, ...]:
        depth = len(prefix)
        if depth >= len(plan.groupings):
            return ()
        found = [
            r[depth]
            for (r, c) in grouped.values
            if c is None and len(r) == depth + 1 and r[:depth] == prefix
        ]
        ordered = sort_keys(
            plan,
            (plan.groupings[depth],),
            [(v,) for v in found],
            lambda k: grouped.values.get((prefix + k, None)),
        )
        return tuple(
            Group(
                grouped.key(depth, value),
                grouped.values[((*prefix, value), None)],
                level((*prefix, value)),
                cells((*prefix, value)),
                subtotals((*prefix, value)),
            )
            for (value,) in ordered
        )

    total_values = grouped.values.get(((), None)) or grouped.empty()
    total = Group(None, total_values, (), cells(()), subtotals(()))
    return level(()), keyed_columns, total


def _column_keys(plan: ReportPlan, grouped: GroupedRows, width: int) -> list[Key]:
    """The keys of the first ``width`` column groupings that have records, in order."""
    if not width:
        return []
    found = {c for (r, c) in grouped.values if r == () and c is not None and len(c) == width}
    return sort_keys(
        plan, plan.column_groupings[:width], list(found), lambda c: grouped.values.get(((), c))
    )


def _keyed(
    plan: ReportPlan, grouped: GroupedRows, keys: list[Key]
) -> tuple[tuple[GroupKey, ...], ...]:
    offset = len(plan.groupings)
    return tuple(tuple(grouped.key(offset + i, v) for i, v in enumerate(k)) for k in keys)


def sort_keys(
    plan: ReportPlan,
    groupings: Sequence[CompiledGrouping],
    keys: list[Key],
    values_of: Callable[[Key], Mapping[str, Any] | None],
) -> list[Key]:
    """Sibling groups in the report's order: by an aggregate the sort names, else by
    their values (a picklist in its values' order; blank last)."""
    grouping_keys = {g.spec.text for g in plan.all_groupings}
    aggregate_sort = next(
        ((k, d) for k, d in plan.group_sorts.items() if k not in grouping_keys), None
    )

    def by_value(a: Key, b: Key) -> int:
        for grouping, x, y in zip(groupings, a, b, strict=True):
            descending = plan.group_sorts.get(grouping.spec.text, False)
            result = compare(position(grouping, x), position(grouping, y), descending)
            if result:
                return result
        return 0

    def by_aggregate(a: Key, b: Key) -> int:
        assert aggregate_sort is not None
        key, descending = aggregate_sort
        va = (values_of(a) or {}).get(key)
        vb = (values_of(b) or {}).get(key)
        return compare(va, vb, descending) or by_value(a, b)

    order: Callable[[Key, Key], int] = by_aggregate if aggregate_sort else by_value
    return sorted(keys, key=cmp_to_key(order))


def position(grouping: CompiledGrouping, value: Any) -> Any:
    picklist = grouping.display.picklist
    if picklist and value is not None:
        order = list(picklist)
        return order.index(value) if value in order else len(order)
    return value


def compare(a: Any, b: Any, descending: bool) -> int:
    """Blank last, whatever the direction."""
    if a is None or b is None:
        return (a is None) - (b is None)
    if a == b:
        return 0
    result = -1 if a < b else 1
    return -result if descending else result


def value_columns(plan: ReportPlan) -> tuple[ReportColumn, ...]:
    """The aggregates' columns, then the summary formulas'."""
    out = [a.column for a in plan.aggregates]
    for formula in plan.definition.formulas:
        label = plan.label(formula.label, formula.name)
        scale = DEFAULT_FORMULA_SCALE if formula.scale is None else formula.scale
        out.append(ReportColumn(formula.name, label, formula.type, scale))
    return tuple(out)
