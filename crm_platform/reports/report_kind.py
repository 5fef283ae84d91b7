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
from crm_platform.metadata import CandidateModel, Kind, KindRegistry, Problem, Snapshot
from crm_platform.runtime.checks import ExpressionChecks
from crm_platform.runtime.model import ModelCompiler, OrgModel
from crm_platform.runtime.records.aggregates import METRIC_FUNCTIONS as FUNCTIONS

from .buckets import BUCKETS
from .definition import (
    CHART_TYPES,
    FORMATS,
    MAX_GROUPINGS,
    MAX_LIMIT,
    OWNER_GROUPINGS,
    DefinitionError,
    Grouping,
    ReportDefinition,
    read_definition,
)

KIND = "report"
PLURAL = "reports"
EXTENSION = "reports"
T = ValueType
# What a grouping cannot be on: values too long or too many to be a group's key.
UNGROUPABLE = frozenset({"long_text", "rich_text", "multi_picklist", "json", "encrypted_text"})
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
        from .renames import rename_report, report_paths

        registry.add_paths(KIND, report_paths)
        registry.add_renamer(KIND, rename_report)
        compiler.add_extension(EXTENSION, compile_reports)
