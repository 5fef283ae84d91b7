"""The ``report`` kind: its JSON Schema, save-time checks, field paths, renames and
compiled part (DESIGN §8; ``reports/<api_name>.yaml``, ``/api/v1/metadata/reports``).

```yaml
api_name: pipeline_by_stage
label: {en: Pipeline by stage, zh: 按阶段的销售管道}
object: opportunity
format: summary                       # tabular (default) | summary | matrix
columns: [name, account.name, amount, close_date]
filter: "is_closed == False"
group_by: [stage]                     # up to 3; a matrix adds group_columns_by (1..2)
aggregates: [count, sum(amount), {name: won, of: count, where: "is_won"}]
summary_formulas: [{name: win_rate, expression: "won / count * 100", type: percent}]
sort: ["-sum(amount)"]
chart: {type: funnel, x: stage, y: sum(amount)}
```

A definition is checked when saved, each problem named by its path in the
definition: unknown field paths, aggregates on what they cannot sum, groupings on
long text, a chart axis that is neither a grouping nor an aggregate, a filter that
does not type-check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from crm_platform.expressions import ExpressionError, FieldInfo, MappingScope, ValueType, check
from crm_platform.expressions import parse as parse_expression
from crm_platform.expressions.rename import rename_paths
from crm_platform.metadata import CandidateModel, Kind, KindRegistry, Problem, Snapshot
from crm_platform.metadata.renames import RenameContext
from crm_platform.runtime.checks import ExpressionChecks
from crm_platform.runtime.model import ModelCompiler, OrgModel

from .definition import (
    BUCKETS,
    CHART_TYPES,
    FORMATS,
    FUNCTIONS,
    MAX_GROUPINGS,
    MAX_LIMIT,
    DefinitionError,
    Grouping,
    ReportDefinition,
    derived_name,
    parse_function,
    read_definition,
    split_grouping,
)

KIND = "report"
PLURAL = "reports"
EXTENSION = "reports"
T = ValueType
# What a grouping cannot be on: values too long or too many to be a group's key.
UNGROUPABLE = frozenset({"long_text", "rich_text", "multi_picklist", "json", "encrypted_text"})
OWNER_GROUPINGS = frozenset({"owner", "owner_id"})
_TEXT = {"type": "string", "minLength": 1, "maxLength": 2000}
_GROUPINGS = {"type": "array", "items": _TEXT}

SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "crm:report",
    "title": KIND,
    "description": "A report: records of one object filtered, grouped and summed in SQL as "
    "the user who runs it (their sharing and field access apply).",
    "type": "object",
    "required": ["api_name", "object"],
    "additionalProperties": False,
    "properties": {
        "api_name": {"type": "string"},
        "label": {"$ref": "crm:label"},
        "description": {"type": "string", "maxLength": 1000},
        "object": {"type": "string"},
        "format": {"enum": list(FORMATS)},
        "columns": {"type": "array", "items": _TEXT, "maxItems": 100},
        "filter": {"type": "string", "maxLength": 10_000},
        "group_by": _GROUPINGS,
        "group_columns_by": _GROUPINGS,
        "aggregates": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "oneOf": [
                    _TEXT,
                    {
                        "type": "object",
                        "required": ["name"],
                        "additionalProperties": False,
                        "properties": {
                            "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                            "of": _TEXT,
                            "where": {"type": "string", "maxLength": 10_000},
                            "label": {"$ref": "crm:label"},
                        },
                    },
                ]
            },
        },
        "summary_formulas": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "required": ["name", "expression"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                    "label": {"$ref": "crm:label"},
                    "expression": {"type": "string", "minLength": 1, "maxLength": 10_000},
                    "type": {"enum": ["number", "percent", "currency"]},
                    "scale": {"type": "integer", "minimum": 0, "maximum": 10},
                },
            },
        },
        "sort": {"type": "array", "items": _TEXT, "maxItems": 10},
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        "chart": {
            "type": "object",
            "required": ["type", "x", "y"],
            "additionalProperties": False,
            "properties": {
                "type": {"enum": list(CHART_TYPES)},
                "x": _TEXT,
                "y": {"oneOf": [_TEXT, {"type": "array", "items": _TEXT, "minItems": 1}]},
                "series": _TEXT,
                "title": {"$ref": "crm:label"},
            },
        },
    },
}


# --- save-time checks -------------------------------------------------------------------


class ReportChecks:
    """The checks of one report definition against the candidate model."""

    def __init__(self, compiler: ModelCompiler) -> None:
        self.expressions = ExpressionChecks(compiler)

    def __call__(self, model: CandidateModel, definition: Mapping[str, Any]) -> Iterator[Problem]:
        object_name = definition["object"]
        if model.object(object_name) is None:
            yield ("object", f"no object '{object_name}'")
            return
        try:
            report = read_definition(definition)
        except DefinitionError as exc:
            yield (exc.path, exc.message)
            return
        scope = self.expressions.scope(model, object_name).scope
        yield from _shape_problems(report)
        for index, column in enumerate(report.columns):
            path = tuple(column.strip().split("."))
            if scope.walk(path) is None:
                yield (f"columns[{index}]", f"unknown field '{column}' on {object_name}")
        for where, items in (
            ("group_by", report.group_by),
            ("group_columns_by", report.group_columns_by),
        ):
            for index, item in enumerate(items):
                problem = _grouping_problem(scope, object_name, item)
                if problem:
                    yield (f"{where}[{index}]", problem)
        yield from _aggregate_problems(scope, report)
        yield from _formula_problems(report)
        if report.filter:
            yield from _expression_problems(scope, report.filter, T.BOOLEAN, "filter")
        yield from _sort_problems(scope, report)
        yield from _chart_problems(report)


def _shape_problems(report: ReportDefinition) -> Iterator[Problem]:
    if report.group_columns_by and report.format != "matrix":
        yield ("group_columns_by", "only a matrix report groups columns: set format: matrix")
    if report.format == "matrix":
        if not report.group_by:
            yield ("group_by", "a matrix needs at least one row grouping")
        if not 1 <= len(report.group_columns_by) <= 2:
            yield ("group_columns_by", "a matrix needs one or two column groupings")
    if report.format == "summary" and not report.group_by:
        yield ("group_by", "a summary report needs at least one grouping")
    if report.format == "tabular" and report.group_by:
        yield ("group_by", "a tabular report has no groupings: set format: summary")
    if len(report.group_by) > MAX_GROUPINGS:
        yield ("group_by", f"at most {MAX_GROUPINGS} groupings")
    names = [a.name for a in report.aggregates] + [f.name for f in report.formulas]
    for name in sorted({n for n in names if names.count(n) > 1}):
        yield ("aggregates", f"two aggregates or formulas are named '{name}'")


def _grouping_problem(scope, object_name: str, item: Grouping) -> str | None:
    """Why a grouping cannot be (None when it can)."""
    path = item.path
    if item.bucket is not None and item.bucket not in BUCKETS:
        return f"unknown date bucket '{item.bucket}': use {', '.join(BUCKETS)}"
    if len(path) == 1 and path[0] in OWNER_GROUPINGS:
        return "a date bucket needs a date or datetime field" if item.bucket else None
    walked = scope.walk(path)
    if walked is None:
        return f"unknown field '{'.'.join(path)}' on {object_name}"
    info = scope.resolve(path)
    fld = walked.field
    type_name = fld.type if fld is not None and walked.sub is None else None
    if type_name in UNGROUPABLE or info is None or info.value_type in {T.MULTI, T.ANY}:
        return f"cannot group by '{'.'.join(path)}': a {type_name or 'compound'} field"
    if item.bucket is not None and info.value_type not in {T.DATE, T.DATETIME}:
        return f"a date bucket needs a date or datetime field: '{'.'.join(path)}' is not one"
    return None


def _expression_problems(
    scope, source: str, expected: ValueType | None, where: str
) -> Iterator[Problem]:
    try:
        check(parse_expression(source), scope, expected)
    except ExpressionError as exc:
        yield (where, exc.detail)


def argument_problem(function: str, value_type: ValueType, argument: str) -> str | None:
    """Why ``function`` cannot aggregate a value of ``value_type`` (None when it can)."""
    if function in {"sum", "avg"} and value_type is not T.NUMBER:
        return f"{function} needs a number: '{argument}' is {value_type.label}"
    if function in {"min", "max"} and value_type not in {T.NUMBER, T.DATE, T.DATETIME}:
        return f"{function} needs a number or a date: '{argument}' is {value_type.label}"
    if value_type in {T.MULTI, T.ANY}:
        return f"cannot aggregate '{argument}'"
    return None


def _aggregate_problems(scope, report: ReportDefinition) -> Iterator[Problem]:
    for index, aggregate in enumerate(report.aggregates):
        where = f"aggregates[{index}]"
        if aggregate.function not in FUNCTIONS:
            continue
        if aggregate.argument is not None:
            try:
                checked = check(parse_expression(aggregate.argument), scope, None)
            except ExpressionError as exc:
                yield (where, exc.detail)
            else:
                problem = argument_problem(
                    aggregate.function, checked.value_type, aggregate.argument
                )
                if problem:
                    yield (where, problem)
        if aggregate.where:
            yield from _expression_problems(scope, aggregate.where, T.BOOLEAN, f"{where}.where")


def formula_scope(report: ReportDefinition) -> MappingScope:
    """What a summary formula may name: the aggregates, by name, as numbers."""
    return MappingScope({(a.name,): FieldInfo(T.NUMBER, scale=4) for a in report.aggregates})


def _formula_problems(report: ReportDefinition) -> Iterator[Problem]:
    scope = formula_scope(report)
    for index, formula in enumerate(report.formulas):
        where = f"summary_formulas[{index}].expression"
        try:
            parsed = parse_expression(formula.expression)
        except ExpressionError as exc:
            yield (where, exc.detail)
            continue
        unknown = sorted(".".join(p) for p in parsed.field_paths if scope.resolve(p) is None)
        if unknown:
            yield (where, f"unknown aggregate '{unknown[0]}'")
            continue
        yield from _expression_problems(scope, formula.expression, T.NUMBER, where)


def _keys(report: ReportDefinition) -> tuple[set[str], set[str]]:
    """The grouping keys and the aggregate keys (with names and formula names)."""
    groupings = {g.text for g in report.groupings}
    aggregates = {a.key for a in report.aggregates} | {a.name for a in report.aggregates}
    return groupings, aggregates | {f.name for f in report.formulas}


def _sort_problems(scope, report: ReportDefinition) -> Iterator[Problem]:
    groupings, aggregates = _keys(report)
    for index, item in enumerate(report.sort):
        key = item.strip().lstrip("+-").strip()
        if key in groupings or key in aggregates:
            continue
        yield from _expression_problems(scope, key, None, f"sort[{index}]")


def _chart_problems(report: ReportDefinition) -> Iterator[Problem]:
    chart = report.chart
    if chart is None:
        return
    groupings, aggregates = _keys(report)
    if chart.x not in groupings:
        yield ("chart.x", f"'{chart.x}' is not one of the report's groupings")
    for value in chart.y:
        if value not in aggregates:
            yield ("chart.y", f"'{value}' is not one of the report's aggregates")
    if chart.series is not None and chart.series not in groupings:
        yield ("chart.series", f"'{chart.series}' is not one of the report's groupings")


# --- what a report reads, and renames ---------------------------------------------------


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


# --- the compiled part ------------------------------------------------------------------


@dataclass(frozen=True)
class ReportsModel:
    """The reports of one metadata version (``model.extension('reports')``), read."""

    reports: Mapping[str, ReportDefinition]
    definitions: Mapping[str, Mapping[str, Any]]  # as stored


def compile_reports(snapshot: Snapshot, model: OrgModel) -> ReportsModel:
    """Every report whose object exists, read (one that cannot be read is left out:
    it was checked when saved)."""
    found: dict[str, ReportDefinition] = {}
    definitions: dict[str, Mapping[str, Any]] = {}
    for comp in snapshot.of_kind(KIND):
        if model.object(comp.definition["object"]) is None:
            continue
        try:
            found[comp.name] = read_definition(comp.definition)
        except DefinitionError:
            continue
        definitions[comp.name] = comp.definition
    return ReportsModel(MappingProxyType(found), MappingProxyType(definitions))


def reports_model(model: OrgModel) -> ReportsModel:
    """The compiled reports of a model (none when the extension is not attached)."""
    return model.extensions.get(EXTENSION) or ReportsModel(
        MappingProxyType({}), MappingProxyType({})
    )


@dataclass(frozen=True)
class ReportKind:
    """Registers the kind, its checks, references, paths, renamer and compiled part."""

    def register(self, registry: KindRegistry, compiler: ModelCompiler) -> None:
        registry.register_kind(Kind(KIND, PLURAL, SCHEMA))
        registry.add_validator(KIND, ReportChecks(compiler))
        registry.add_references(KIND, lambda d: [("object", d["object"])])
        registry.add_paths(KIND, report_paths)
        registry.add_renamer(KIND, rename_report)
        compiler.add_extension(EXTENSION, compile_reports)
