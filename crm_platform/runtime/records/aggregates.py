"""Grouped figures computed in SQL (count, sum, avg, min, max, count_distinct) with the
user's sharing and field access applied, like a list. The reports compiler builds on
:func:`plan_metrics` and :func:`aggregate_query`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from crm_platform.core import ValidationFailed, quantize
from crm_platform.expressions import CheckedExpression, ValueType

from ..model import ObjectModel
from .context import RecordContext
from .query import SelectBuilder

METRIC_FUNCTIONS = ("count", "sum", "avg", "min", "max", "count_distinct")


@dataclass(frozen=True)
class Metric:
    """One requested figure: as asked (``sum(amount)``), its function and checked argument."""

    text: str
    function: str
    argument: CheckedExpression | None


def split_metric(text: str) -> tuple[str, str | None] | None:
    """``count`` or ``sum(amount)`` as (function, argument); None when it is neither.
    The one reading of a figure, for the aggregate API and the reports."""
    source = text.strip()
    if source == "count":
        return "count", None
    head, _, rest = source.partition("(")
    head = head.strip()
    if head in METRIC_FUNCTIONS and rest.endswith(")") and rest[:-1].strip():
        return head, rest[:-1].strip()
    return None


def metric_problem(text: str, noun: str = "a metric") -> str:
    """What is wrong with a figure :func:`split_metric` cannot read."""
    choices = "|".join(METRIC_FUNCTIONS[1:])
    return f"'{text}' is not {noun}: use count or {choices}(field)"


def parse_metric(metric: str) -> tuple[str, str | None]:
    """``count`` or ``sum(amount)`` as (function, argument); a 400 naming ``metrics`` else."""
    found = split_metric(metric)
    if found is None:
        raise ValidationFailed({"metrics": metric_problem(metric)})
    return found


def plan_metrics(builder: SelectBuilder, metrics: list[str]) -> tuple[list[Metric], list[Any]]:
    """The metrics checked against the object, and their SQL columns (``m:i``, ``c:i``)."""
    if not metrics:
        raise ValidationFailed({"metrics": "name at least one metric, e.g. count"})
    plan: list[Metric] = []
    columns: list[Any] = []
    for metric in metrics:
        function, argument = parse_metric(metric)
        label = f"m:{len(plan)}"
        if function == "count" and argument is None:
            columns.append(sa.func.count().label(label))
            plan.append(Metric(metric, "count", None))
            continue
        checked, expr = builder.expression(argument, None, "metrics")
        if function in {"sum", "avg"} and checked.value_type is not ValueType.NUMBER:
            raise ValidationFailed({"metrics": f"{function} needs a number: '{argument}'"})
        if function == "avg":
            columns.append(sa.func.sum(expr).label(label))
            columns.append(sa.func.count(expr).label(f"c:{len(plan)}"))
        elif function == "count_distinct":
            columns.append(sa.func.count(sa.distinct(expr)).label(label))
        elif function == "count":
            columns.append(sa.func.count(expr).label(label))
        else:
            columns.append(getattr(sa.func, function)(expr).label(label))
        plan.append(Metric(metric, function, checked))
    return plan, columns


def metric_value(row: Any, index: int, metric: Metric) -> Any:
    """A metric's value from a result row (averages divided exactly here)."""
    value = row[f"m:{index}"]
    if metric.function == "avg":
        count = row[f"c:{index}"]
        scale = (metric.argument.scale or 0) + 4 if metric.argument else 4
        value = quantize(Decimal(value) / count, scale) if count else None
    return value


def aggregate(
    ctx: RecordContext,
    object_name: str,
    group_by: list[str],
    metrics: list[str],
    where: str | None,
) -> list[dict[str, Any]]:
    """Grouped figures of the records the user may read, groups in ascending order."""
    obj = ctx.object(object_name)
    ctx.require(obj, "read")
    if not metrics:
        raise ValidationFailed({"metrics": "name at least one metric, e.g. count"})
    builder = ctx.builder(obj)
    groups = [(g, builder.expression(g, None, "group_by")) for g in group_by]
    for name, (checked, _expr) in groups:
        if checked.value_type in {ValueType.MULTI, ValueType.ANY}:
            raise ValidationFailed({"group_by": f"cannot group by '{name}'"})
    plan, metric_columns = plan_metrics(builder, metrics)
    group_columns = [expr.label(f"g:{i}") for i, (_, (_c, expr)) in enumerate(groups)]
    query = aggregate_query(ctx, obj, builder, [*group_columns, *metric_columns], where)
    if groups:
        group_exprs = [expr for _, (_c, expr) in groups]
        query = query.group_by(*group_exprs).order_by(*[e.asc().nulls_last() for e in group_exprs])
    out = []
    for row in ctx.conn.execute(query).mappings():
        item = {name: row[f"g:{i}"] for i, (name, _) in enumerate(groups)}
        for index, metric in enumerate(plan):
            item[metric.text] = metric_value(row, index, metric)
        out.append(item)
    return out


def aggregate_query(
    ctx: RecordContext, obj: ObjectModel, builder: SelectBuilder, columns, where: str | None
):
    """SELECT ``columns`` over the live records the user may read, filtered by ``where``."""
    conditions = [obj.table.c.deleted_at.is_(None), *ctx.visible(obj)]
    if where:
        conditions.append(builder.expression(where, ValueType.BOOLEAN, "where")[1])
    return sa.select(*columns).select_from(builder.from_clause).where(*conditions)
