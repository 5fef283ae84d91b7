"""The ``assignment_rule`` kind: its schema, save-time checks, compiled part and handler."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import Conflict, ValidationFailed
from crm_platform.core.tables import users
from crm_platform.expressions import ExpressionError, parse
from crm_platform.metadata import CandidateModel, Kind, KindRegistry, Problem
from crm_platform.metadata.renames import RenameContext
from crm_platform.runtime.model import ModelCompiler
from crm_platform.runtime.records.events import EventContext, RecordEvent
from crm_platform.runtime.renames import rewrite_expression

from .engine import assign
from .rules import EXTENSION, KIND, Target, compile_rules, rules_of
from .schema import ASSIGNMENT_RULE_SCHEMA

if TYPE_CHECKING:
    from crm_platform.runtime import Org

    from ..checks import WorkflowChecks
    from ..service import Automation


class AssignmentRuleKind:
    """Registers the kind (``assignment_rules/``) and runs the active rule on create."""

    def register(
        self, registry: KindRegistry, compiler: ModelCompiler, checks: WorkflowChecks
    ) -> None:
        registry.register_kind(Kind(KIND, "assignment_rules", ASSIGNMENT_RULE_SCHEMA, True))
        registry.add_validator(KIND, lambda model, rule: rule_problems(model, rule, checks))
        registry.add_references(KIND, rule_references)
        registry.add_paths(KIND, rule_paths)
        registry.add_renamer(KIND, rename_in_rule)
        registry.add_apply_hook(check_users)
        registry.add_apply_hook(refuse_rules_in_use)
        compiler.add_extension(EXTENSION, compile_rules)

    def attach(self, org: Org, automation: Automation) -> None:
        del automation  # assignment needs no background work
        org.records.events.on(RecordEvent.AFTER_CREATE, assign_on_create, name="assignment")


def assign_on_create(ctx: EventContext) -> None:
    """Give each new record to the owner its object's active rule picks."""
    rule = rules_of(ctx.model).active(ctx.object.api_name)
    if rule is None:
        return
    for change in ctx.changes:
        if change.after is not None and not change.cascaded:
            assign(ctx.services, ctx.object, change.record_id, rule)


# --- save-time checks ---------------------------------------------------------------


def rule_problems(
    model: CandidateModel, rule: Mapping[str, Any], checks: WorkflowChecks
) -> Iterator[Problem]:
    """Unknown object, queue or group; a queue that does not take the object; conditions
    and load counts that do not type-check; a second active rule on the object."""
    object_name = rule["object"]
    if model.object(object_name) is None:
        yield ("object", f"no object '{object_name}'")
        return
    if rule.get("active", True):
        others = [
            c.definition["api_name"]
            for c in model.of_kind(KIND)
            if c.definition["object"] == object_name
            and c.definition["api_name"] != rule["api_name"]
            and c.definition.get("active", True)
        ]
        if others:
            yield (
                "active",
                f"'{others[0]}' is already the active assignment rule of {object_name}: "
                "deactivate it first (one rule runs on create)",
            )
    for index, entry in enumerate(rule["entries"]):
        path = f"entries[{index}]"
        if "when" in entry:
            yield from checks.condition(model, object_name, entry["when"], f"{path}.when")
        yield from _target_problems(model, object_name, entry["assign_to"], path, checks)


def _target_problems(
    model: CandidateModel,
    object_name: str,
    assign_to: Mapping[str, Any],
    path: str,
    checks: WorkflowChecks,
) -> Iterator[Problem]:
    target = Target.parse(assign_to)
    where = f"{path}.assign_to.{target.kind}"
    if target.kind == "queue":
        queue = model.get("queue", target.name)
        if queue is None or queue.status != "active":
            yield (where, f"no queue '{target.name}'")
        elif object_name not in queue.definition["objects"]:
            yield (where, f"queue '{target.name}' does not take {object_name} records")
    elif target.kind in {"round_robin", "least_loaded"}:
        group = model.get("group", target.name)
        if group is None or group.status != "active":
            yield (where, f"no group '{target.name}'")
    if target.open is not None:
        yield from checks.condition(model, object_name, target.open, f"{path}.assign_to.open")
    if target.skill is not None:
        yield from checks.expression(
            model, object_name, target.skill, None, f"{path}.assign_to.skill"
        )


def check_users(conn: Connection, changes: Sequence[Any], model: CandidateModel) -> None:
    """Apply hook: users are data, not metadata, so the users a rule names are looked up
    in the change set's own transaction (an unknown or inactive one refuses it)."""
    errors: dict[str, str] = {}
    for change in changes:
        comp = change.after
        if comp.kind != KIND or comp.status != "active":
            continue
        for index, entry in enumerate(comp.definition["entries"]):
            email = entry["assign_to"].get("user")
            if email is not None and not _active_user(conn, email):
                path = f"{comp.name}.entries[{index}].assign_to.user"
                errors[path] = f"no active user '{email}'"
    if errors:
        raise ValidationFailed(errors)


def _active_user(conn: Connection, email: str) -> bool:
    query = sa.select(users.c.id).where(
        users.c.email == email.strip().lower(),
        users.c.active.is_(True),
        users.c.is_system.is_(False),
    )
    return conn.execute(query).first() is not None


def refuse_rules_in_use(conn: Connection, changes: Sequence[Any], model: CandidateModel) -> None:
    """Apply hook: a rule deleted while an ``assign`` action of another definition (a
    trigger, an approval process) names it, or the last active rule of an object made
    inactive or deleted while an ``assign`` action relies on it, is refused (409) with the
    list of what uses it — as deleting a field still in use is."""
    del conn
    gone: list[tuple[str, str, bool]] = []  # (object, rule, whether "the active rule" goes)
    for change in changes:
        if change.after.kind != KIND or change.before is None:
            continue
        before = change.before.definition
        was_active = before.get("active", True)
        if change.after.status != "active":
            gone.append((before["object"], before["api_name"], was_active))
        elif was_active and not change.after.definition.get("active", True):
            gone.append((before["object"], "", True))
    usages = [
        u for object_name, name, active in gone for u in _uses(model, object_name, name, active)
    ]
    if usages:
        raise Conflict(
            f"the assignment rule is used by {len(usages)} action(s): change them first",
            extra={"usages": usages},
        )


def _uses(model: CandidateModel, object_name: str, name: str, active: bool) -> list[dict]:
    still_active = any(
        c.definition["object"] == object_name and c.definition.get("active", True)
        for c in model.of_kind(KIND)
    )
    found = []
    for comp in list(model.components.values()):
        if comp.kind in {KIND, "object", "field"} or comp.status != "active":
            continue
        if (
            comp.definition.get("object") != object_name
            or model.get(comp.kind, comp.name) is not comp
        ):
            continue
        for where, action in _assign_actions(comp.definition, ""):
            named = action.get("rule")
            if (name and named == name) or (named is None and active and not still_active):
                found.append({"kind": comp.kind, "name": comp.name, "where": where})
    return found


def _assign_actions(node: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every ``{type: assign}`` action inside a definition, with its path."""
    if isinstance(node, Mapping):
        if node.get("type") == "assign":
            yield path, node
        for key, value in node.items():
            yield from _assign_actions(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _assign_actions(value, f"{path}[{index}]")


# --- what a rule refers to (so a change to those re-checks it) ------------------------


def rule_references(rule: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    yield ("object", rule["object"])
    for entry in rule.get("entries", ()):
        target = Target.parse(entry["assign_to"])
        if target.kind == "queue":
            yield ("queue", target.name)
        elif target.kind != "user":
            yield ("group", target.name)


def _field_paths(source: str) -> frozenset[tuple[str, ...]]:
    try:
        return parse(source).field_paths
    except ExpressionError:
        return frozenset()  # names nothing; its own check reports it


def rule_paths(rule: Mapping[str, Any]) -> Iterator[tuple[str, tuple[str, ...]]]:
    for entry in rule.get("entries", ()):
        assign_to = entry["assign_to"]
        for source in (entry.get("when"), assign_to.get("open"), assign_to.get("skill")):
            for path in _field_paths(source) if source else ():
                yield (rule["object"], path)


def rename_in_rule(ctx: RenameContext, comp: Any, definition: Mapping[str, Any]):
    """A renamed object or field, rewritten in the rule (its object, conditions and load
    counts); the places are what the where-used list of a field shows."""
    del comp
    start = definition["object"]
    out = {**definition, "object": ctx.object_name(start)}
    places = ["object"] if out["object"] != start else []
    entries = []
    for index, entry in enumerate(definition["entries"]):
        entry = dict(entry)
        when = entry.get("when")
        if when and (new := rewrite_expression(ctx, when, start)) != when:
            entry["when"] = new
            places.append(f"entries[{index}].when")
        open_count = entry["assign_to"].get("open")
        if open_count and (new := rewrite_expression(ctx, open_count, start)) != open_count:
            entry["assign_to"] = {**entry["assign_to"], "open": new}
            places.append(f"entries[{index}].assign_to.open")
        entries.append(entry)
    out["entries"] = entries
    return (out, places) if places else (definition, [])
