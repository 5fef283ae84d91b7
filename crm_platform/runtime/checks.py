"""Metadata checks that need the expression language, registered on the kind registry.

Formulas, default expressions, roll-up filters and validation-rule conditions are
type-checked against the candidate model when they are saved — and again by
`crm metadata check` for what was stored before a rule existed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from crm_platform.expressions import EvalContext, ExpressionError, ValueType, check, parse
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import CandidateModel, KindRegistry, Problem

from .lockout import guard_permission_set_changes, refuse_removing_held_assignments
from .model import ModelCompiler, OrgModel
from .records.scope import ObjectScope

T = ValueType


class _CandidateScope:
    """An ObjectScope over the candidate model (compiled once per validation run)."""

    def __init__(self, model: CandidateModel, object_name: str, compiler: ModelCompiler) -> None:
        compiled = _compiled(model, compiler)
        self.scope = ObjectScope(compiled, compiled.objects[object_name], "postgresql")

    def resolve(self, path):
        return self.scope.resolve(path)


def _compiled(model: CandidateModel, compiler: ModelCompiler) -> OrgModel:
    """The candidate compiled like a live org (memoised for this validation run).

    The compiler reuses every object the change set leaves as it was, so this costs
    the changed objects, not the org.
    """
    if "compiled" not in model.memo:
        model.memo["compiled"] = compiler.compile(model.as_snapshot())
    return model.memo["compiled"]


def _expression_problem(
    source: str, scope, expected: ValueType | None, path: str
) -> Iterator[Problem]:
    try:
        check(parse(source), scope, expected)
    except ExpressionError as exc:
        yield (path, exc.detail)


def _has_expression(field: Mapping[str, Any]) -> bool:
    return (
        field["type"] == "formula"
        or "default_expression" in field
        or (field["type"] == "rollup_summary" and bool(field.get("filter")))
    )


class ExpressionChecks:
    """The expression validators, sharing one model compiler (see :func:`_compiled`)."""

    def __init__(self, compiler: ModelCompiler) -> None:
        self.compiler = compiler

    def scope(self, model: CandidateModel, object_name: str) -> _CandidateScope:
        return _CandidateScope(model, object_name, self.compiler)

    def object_expressions(
        self, model: CandidateModel, obj: Mapping[str, Any]
    ) -> Iterator[Problem]:
        """Formulas, default expressions and roll-up filters of one object."""
        if not any(_has_expression(f) for f in obj["fields"]):
            return  # nothing to type-check: do not compile the candidate for it
        scope = self.scope(model, obj["api_name"])
        for field in obj["fields"]:
            path = f"fields.{field['api_name']}"
            if field["type"] == "formula":
                expected = field_type(field["return_type"]).value_type
                problems = list(
                    _expression_problem(field["expression"], scope, expected, f"{path}.expression")
                )
                if not problems and _refers_to_itself(model, obj["api_name"], field["api_name"]):
                    problems.append((f"{path}.expression", "the formula refers to itself"))
                yield from problems
            if "default_expression" in field:
                yield from _expression_problem(
                    field["default_expression"], scope, None, f"{path}.default_expression"
                )
            if field["type"] == "rollup_summary" and field.get("filter"):
                child = field["relation"].split(".", 1)[0]
                if model.object(child) is not None:
                    yield from _expression_problem(
                        field["filter"], self.scope(model, child), T.BOOLEAN, f"{path}.filter"
                    )

    def validation_rule_condition(
        self, model: CandidateModel, rule: Mapping[str, Any]
    ) -> Iterator[Problem]:
        if model.object(rule["object"]) is None:
            return
        scope = self.scope(model, rule["object"])
        yield from _expression_problem(rule["condition"], scope, T.BOOLEAN, "condition")

    def sharing_rule_criteria(
        self, model: CandidateModel, rule: Mapping[str, Any]
    ) -> Iterator[Problem]:
        if "criteria" not in rule or model.object(rule["object"]) is None:
            return
        scope = self.scope(model, rule["object"])
        yield from _expression_problem(rule["criteria"], scope, T.BOOLEAN, "criteria")

    def rebuild_changed_sharing_rules(self, conn, changes, model: CandidateModel) -> None:
        """Apply hook: rebuild the share rows of criteria rules a change set touched."""
        touched = [c for c in changes if c.after.kind == "sharing_rule"]
        if not touched:
            return
        compiled = _compiled(model, self.compiler)
        from crm_platform.core.tables import org

        from .records.query import ExpressionCache, SelectBuilder
        from .security.shares import rebuild_rule

        settings = sa.select(org.c.time_zone, org.c.fiscal_year_start_month)
        zone, fiscal_start = conn.execute(settings.where(org.c.id == 1)).one()
        context = EvalContext.current(zone, fiscal_year_start_month=fiscal_start)
        for change in touched:
            name = change.after.name.split(".", 1)[1]
            object_name = change.after.definition["object"]
            obj = compiled.object(object_name)
            rule = next(
                (r for r in compiled.security.sharing_rules.get(object_name, ()) if r.name == name),
                None,
            )
            matching = None
            if rule is not None and rule.criteria and obj is not None:
                builder = SelectBuilder(
                    compiled, obj, context, conn.dialect.name, ExpressionCache()
                )
                _checked, condition = builder.expression(rule.criteria, T.BOOLEAN, "criteria")
                matching = (
                    sa.select(obj.table.c.id)
                    .select_from(builder.from_clause)
                    .where(obj.table.c.deleted_at.is_(None), condition)
                    .subquery()
                )
            active = rule if rule is not None and rule.criteria else None
            rebuild_rule(conn, object_name, name, obj, active, matching)


def _refers_to_itself(model: CandidateModel, object_name: str, field_name: str) -> bool:
    obj = model.object(object_name)
    formulas = {f["api_name"]: f for f in obj["fields"] if f["type"] == "formula"} if obj else {}
    seen: set[str] = set()
    stack = [field_name]
    while stack:
        current = stack.pop()
        parsed = parse(formulas[current]["expression"])
        for path in parsed.field_paths:
            name = path[0]
            if name == field_name and len(path) == 1:
                return True
            if len(path) == 1 and name in formulas and name not in seen:
                seen.add(name)
                stack.append(name)
    return False


# --- what expressions read, so a change set re-checks them when it changes ----------------


@lru_cache(maxsize=4096)
def _field_paths(source: str) -> frozenset[tuple[str, ...]]:
    """The field paths an expression names (none when it does not parse)."""
    try:
        return parse(source).field_paths
    except ExpressionError:
        return frozenset()


def object_paths(obj: Mapping[str, Any]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(object, path) read by an object's formulas, default expressions and roll-up filters."""
    for field in obj.get("fields", ()):
        sources = [field.get("expression"), field.get("default_expression")]
        for source in sources if field["type"] == "formula" else sources[1:]:
            for path in _field_paths(source) if source else ():
                yield (obj["api_name"], path)
        if field["type"] == "rollup_summary" and field.get("filter"):
            child = field["relation"].split(".", 1)[0]
            for path in _field_paths(field["filter"]):
                yield (child, path)


def _rule_paths(key: str):
    def paths(rule: Mapping[str, Any]) -> Iterator[tuple[str, tuple[str, ...]]]:
        for path in _field_paths(rule[key]) if rule.get(key) else ():
            yield (rule["object"], path)

    return paths


def register_runtime_checks(registry: KindRegistry, compiler: ModelCompiler | None = None) -> None:
    """Add the expression checks, the share-row hook and the no-lock-out guard to a
    registry (once, at start-up).

    ``compiler`` is best the org's model cache's, so that the candidate compiled for a
    check reuses what the live model compiled.
    """
    from .renames import register_expression_renamers

    # first: its apply hook moves platform rows before others rebuild from them
    register_expression_renamers(registry)
    checks = ExpressionChecks(compiler or ModelCompiler())
    registry.add_validator("object", checks.object_expressions)
    registry.add_validator("validation_rule", checks.validation_rule_condition)
    registry.add_validator("sharing_rule", checks.sharing_rule_criteria)
    registry.add_paths("object", object_paths)
    registry.add_paths("validation_rule", _rule_paths("condition"))
    registry.add_paths("sharing_rule", _rule_paths("criteria"))
    registry.add_apply_hook(checks.rebuild_changed_sharing_rules)
    registry.add_apply_hook(guard_permission_set_changes)
    registry.add_apply_hook(refuse_removing_held_assignments)
