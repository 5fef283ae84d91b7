"""The ``assign`` action (run an assignment rule on the record) and the ``notify`` action
(an in-app notification to a user, the owner, or a queue's or group's members)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crm_platform.core import Conflict
from crm_platform.expressions import ExpressionError, parse
from crm_platform.metadata import CandidateModel, Problem
from crm_platform.runtime.security import load_access
from crm_platform.runtime.users import find_user, get_user

from .. import notifications
from ..actions import ActionChecks, ActionContext
from .engine import assign, object_label
from .rules import KIND, rules_of

OWNER = "owner"


@dataclass(frozen=True)
class AssignAction:
    """``{type: assign, rule: <name>}``: give the record to the owner the rule picks (the
    object's active rule when ``rule`` is left out)."""

    name: str = "assign"
    before_save: bool = False
    schema: Mapping[str, Any] = field(
        default_factory=lambda: {
            "type": "object",
            "properties": {
                "type": {"const": "assign"},
                "rule": {"type": "string", "minLength": 1},
            },
            "required": ["type"],
            "additionalProperties": False,
        }
    )

    def check(
        self,
        model: CandidateModel,
        object_name: str,
        action: Mapping[str, Any],
        path: str,
        checks: ActionChecks,
    ) -> Iterable[Problem]:
        del checks
        rules = [c.definition for c in model.of_kind(KIND) if c.definition["object"] == object_name]
        if "rule" in action:
            if not any(r["api_name"] == action["rule"] for r in rules):
                yield (f"{path}.rule", f"no assignment rule '{action['rule']}' on {object_name}")
        elif not any(r.get("active", True) for r in rules):
            yield (f"{path}.rule", f"{object_name} has no active assignment rule: name one")

    def run(self, ctx: ActionContext, action: Mapping[str, Any]) -> None:
        rules = rules_of(ctx.model)
        name = action.get("rule")
        rule = rules.get(ctx.object.api_name, name) if name else rules.active(ctx.object.api_name)
        if rule is None:
            wanted = f"'{name}'" if name else "active"
            raise Conflict(
                f"{ctx.path}: the {wanted} assignment rule of {ctx.object.api_name} "
                "no longer exists; nothing was saved"
            )
        assign(ctx.system, ctx.object, ctx.record_id, rule)  # type: ignore[arg-type]


@dataclass(frozen=True)
class NotifyAction:
    """``{type: notify, to: owner | <expression>, message: <expression>}``: an in-app
    notification. ``to`` gives a user (an id such as a user lookup, or an email), a queue
    or a group (their active members); ``owner`` is the record's owner."""

    name: str = "notify"
    before_save: bool = False
    # options holding expressions (a rename rewrites them: see action_renames)
    expressions: tuple[str, ...] = ("to", "message")
    schema: Mapping[str, Any] = field(
        default_factory=lambda: {
            "type": "object",
            "properties": {
                "type": {"const": "notify"},
                "to": {"type": "string", "minLength": 1, "maxLength": 4000},
                "message": {"type": "string", "minLength": 1, "maxLength": 4000},
            },
            "required": ["type", "to", "message"],
            "additionalProperties": False,
        }
    )

    def check(
        self,
        model: CandidateModel,
        object_name: str,
        action: Mapping[str, Any],
        path: str,
        checks: ActionChecks,
    ) -> Iterable[Problem]:
        problems: list[Problem] = []
        if action["to"] != OWNER:
            problems += checks.expression(model, object_name, action["to"], None, f"{path}.to")
        problems += checks.expression(
            model, object_name, action["message"], None, f"{path}.message"
        )
        return problems

    def run(self, ctx: ActionContext, action: Mapping[str, Any]) -> None:
        people = _recipients(ctx, action["to"])
        if not people:
            return
        message = ctx.evaluate(action["message"])
        text = "" if message is None else str(message)
        paths = _paths(action["message"])
        generic = f"An update on a {object_label(ctx.object)} record"
        for person in people:
            readable = text and _may_read(ctx, person, paths)
            notifications.notify(
                ctx.conn,
                [person],
                text if readable else generic,
                source=ctx.source,
                now=ctx.now,
                object_name=ctx.object.api_name,
                record_id=ctx.record_id,
            )


def _recipients(ctx: ActionContext, to: str) -> list[str]:
    value = ctx.values.get("owner_id") if to == OWNER else ctx.evaluate(to)
    if not isinstance(value, str) or not value:
        return []
    if "@" in value:
        user = find_user(ctx.conn, value)
        return notifications.active_users(ctx.conn, [user.id]) if user else []
    return notifications.recipients(ctx.conn, ctx.model.security, value)


def _paths(source: str) -> frozenset[tuple[str, ...]]:
    try:
        return parse(source).field_paths
    except ExpressionError:
        return frozenset()


def _may_read(ctx: ActionContext, user_id: str, paths: Iterable[tuple[str, ...]]) -> bool:
    """Whether the recipient may read every field the message is made from: a message
    never tells anyone what field-level security hides from them."""
    user = get_user(ctx.conn, user_id)
    if user is None:
        return False
    access = load_access(ctx.conn, user, ctx.model, ctx.model.security)
    return all(access.path_readable(ctx.object.api_name, path) for path in paths)
