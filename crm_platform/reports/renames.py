"""What a report reads, and how a rename rewrites it (see ``metadata.renames``): its
object; columns and groupings (paths); aggregates, conditions, the filter and sort
expressions; and the keys that name an aggregate or grouping in ``sort`` and ``chart``,
and the derived names (``sum_amount``) summary formulas use."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from crm_platform.expressions import ExpressionError
from crm_platform.expressions import parse as parse_expression
from crm_platform.expressions.rename import rename_paths
from crm_platform.metadata.renames import RenameContext

from .definition import (
    OWNER_GROUPINGS,
    DefinitionError,
    derived_name,
    parse_function,
    split_grouping,
)


def _expression_paths(source: str | None) -> Iterator[tuple[str, ...]]:
    if not source:
        return
    try:
        yield from parse_expression(source).field_paths
    except ExpressionError:
        return


def report_paths(definition: Mapping[str, Any]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(object, path) of every field a report reads: a change to an object a path walks
    through re-validates it."""
    start = definition["object"]
    for column in definition.get("columns") or ():
        yield (start, tuple(column.strip().split(".")))
    for text in [*(definition.get("group_by") or ()), *(definition.get("group_columns_by") or ())]:
        path = tuple(split_grouping(text)[0].split("."))
        if not (len(path) == 1 and path[0] in OWNER_GROUPINGS):
            yield (start, path)
    for item in definition.get("aggregates") or ():
        of = item if isinstance(item, str) else str(item.get("of", "count"))
        try:
            _function, argument = parse_function(of, "aggregates")
        except DefinitionError:
            continue
        for path in _expression_paths(argument):
            yield (start, path)
        if isinstance(item, Mapping):
            for path in _expression_paths(item.get("where")):
                yield (start, path)
    for path in _expression_paths(definition.get("filter")):
        yield (start, path)
    for item in definition.get("sort") or ():
        for path in _expression_paths(item.strip().lstrip("+-").strip()):
            yield (start, path)


class _Renaming:
    """A rename applied to one report: paths, expressions, and the keys that name them."""

    def __init__(self, ctx: RenameContext, start: str) -> None:
        self.ctx = ctx
        self.start = start
        self.keys: dict[str, str] = {}  # an aggregate's or grouping's key, old -> new
        self.names: dict[str, str] = {}  # an aggregate's formula name, old -> new

    def path(self, text: str) -> str:
        path = tuple(text.strip().split("."))
        return ".".join(self.ctx.rename_path(self.start, path))

    def expression(self, source: str) -> str:
        if self.ctx.rename.kind != "field":
            return source
        try:
            return rename_paths(source, lambda p: self.ctx.rename_path(self.start, p))
        except ExpressionError:
            return source  # names nothing; its own check reports it

    def grouping(self, text: str) -> str:
        path, bucket = split_grouping(text)
        if len(path.split(".")) == 1 and path in OWNER_GROUPINGS:
            return text
        new = self.path(path) + (f" by {bucket}" if bucket else "")
        if new != path + (f" by {bucket}" if bucket else ""):
            self.keys[text] = new
            return new
        return text

    def function(self, text: str) -> str:
        try:
            function, argument = parse_function(text, "aggregates")
        except DefinitionError:
            return text
        if argument is None:
            return text
        renamed = self.expression(argument)
        if renamed == argument:
            return text
        self.names[derived_name(function, argument)] = derived_name(function, renamed)
        return f"{function}({renamed})"

    def key(self, text: str) -> str:
        sign = text[: len(text) - len(text.lstrip("+-"))]
        key = text[len(sign) :].strip()
        if key in self.keys:
            return sign + self.keys[key]
        return sign + self.expression(key) if key not in self.names else text

    def formula(self, source: str) -> str:
        if not self.names:
            return source
        try:
            return rename_paths(source, lambda p: (self.names.get(p[0], p[0]), *p[1:]))
        except ExpressionError:
            return source


def rename_report(
    ctx: RenameContext, comp: Any, definition: Mapping[str, Any]
) -> tuple[Mapping[str, Any], list[str]]:
    """The report with a rename of its object or of a field it names applied, and the
    places it changed (the where-used list shows them)."""
    del comp
    start = definition["object"]
    out: dict[str, Any] = dict(definition)
    places: list[str] = []
    if ctx.object_name(start) != start:
        out["object"] = ctx.object_name(start)
        places.append("object")
    if ctx.rename.kind != "field":
        return out, places
    r = _Renaming(ctx, start)

    def each(key: str, rewrite) -> None:
        items = definition.get(key)
        if not items:
            return
        new = [rewrite(item) for item in items]
        for index, (old, item) in enumerate(zip(items, new, strict=True)):
            if old != item:
                places.append(f"{key}[{index}]")
        out[key] = new

    each("columns", r.path)
    each("group_by", r.grouping)
    each("group_columns_by", r.grouping)

    def aggregate(item: Any) -> Any:
        if isinstance(item, str):
            new = r.function(item)
            if new != item:
                r.keys[item.strip()] = new
            return new
        new_item = dict(item)
        if "of" in item:
            new_item["of"] = r.function(item["of"])
        if item.get("where"):
            new_item["where"] = r.expression(item["where"])
        return new_item

    each("aggregates", aggregate)
    if definition.get("filter"):
        new = r.expression(definition["filter"])
        if new != definition["filter"]:
            out["filter"] = new
            places.append("filter")
    each("sort", r.key)
    formulas = definition.get("summary_formulas")
    if formulas:
        out["summary_formulas"] = []
        for index, formula in enumerate(formulas):
            new = r.formula(formula["expression"])
            if new != formula["expression"]:
                places.append(f"summary_formulas[{index}].expression")
            out["summary_formulas"].append({**formula, "expression": new})
    chart = definition.get("chart")
    if chart:
        new_chart = dict(chart)
        for key in ("x", "series"):
            if key in chart and chart[key] in r.keys:
                new_chart[key] = r.keys[chart[key]]
                places.append(f"chart.{key}")
        y = chart["y"]
        ys = [y] if isinstance(y, str) else list(y)
        new_y = [r.keys.get(v, v) for v in ys]
        if new_y != ys:
            new_chart["y"] = new_y[0] if isinstance(y, str) else new_y
            places.append("chart.y")
        out["chart"] = new_chart
    return (out, places) if places else (definition, [])
