"""What is refused when an approval process is saved, naming the path: an unknown object,
field, role, queue, group or user, an expression that does not type-check, an action
that does not fit the object."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import ValidationFailed
from crm_platform.core.tables import users
from crm_platform.fieldtypes import USER
from crm_platform.metadata import ACTIVE, CandidateModel, Problem
from crm_platform.runtime.users import normalise_email

from ..checks import WorkflowChecks
from .definition import KIND

OWNER = "owner_id"
RELATIONS = frozenset({"lookup", "master_detail"})
ACTION_LISTS = ("on_submit", "on_approve", "on_reject", "on_recall")
NAMED_APPROVERS = {"role": "role", "queue": "queue", "group": "group"}


class ProcessChecks:
    """The save-time validator of the kind (the candidate model only: users are data,
    checked by :func:`check_users` in the change set's transaction)."""

    def __init__(self, checks: WorkflowChecks) -> None:
        self.checks = checks

    def __call__(self, model: CandidateModel, process: Mapping[str, Any]) -> Iterator[Problem]:
        object_name = process["object"]
        if model.object(object_name) is None:
            yield ("object", f"no object '{object_name}'")
            return
        if entry := process.get("entry"):
            yield from self.checks.condition(model, object_name, entry, "entry")
        yield from self._steps(model, object_name, process["steps"])
        for key in ACTION_LISTS:
            yield from self.checks.actions(model, object_name, process.get(key, ()), key)

    def _steps(
        self, model: CandidateModel, object_name: str, steps: Sequence[Mapping[str, Any]]
    ) -> Iterator[Problem]:
        seen: set[str] = set()
        for index, step in enumerate(steps):
            path = f"steps[{index}]"
            if step["name"] in seen:
                yield (f"{path}.name", f"another step is called '{step['name']}'")
            seen.add(step["name"])
            if when := step.get("when"):
                yield from self.checks.condition(model, object_name, when, f"{path}.when")
            yield from self._approver(model, object_name, step["approver"], f"{path}.approver")

    def _approver(
        self, model: CandidateModel, object_name: str, approver: Mapping[str, Any], path: str
    ) -> Iterator[Problem]:
        ((kind, value),) = approver.items()
        if kind in NAMED_APPROVERS:
            found = model.get(NAMED_APPROVERS[kind], value)
            if found is None or found.status != ACTIVE:
                yield (f"{path}.{kind}", f"no {kind} '{value}'")
        elif kind == "field" and (problem := self._user_path(model, object_name, value)):
            yield (f"{path}.field", problem)

    def _user_path(self, model: CandidateModel, object_name: str, path: str) -> str | None:
        """Why ``path`` (lookups followed) does not lead to a user, or None when it does."""
        if path == OWNER:
            return None
        steps = path.split(".")
        current = object_name
        for index, step in enumerate(steps):
            found = self.checks.field(model, current, step)
            if found is None or found["type"] not in RELATIONS:
                return f"{current} has no lookup field '{step}'"
            target = found.get("target")
            if index == len(steps) - 1:
                return None if target == USER else f"'{path}' is not a lookup to a user"
            if not isinstance(target, str) or model.object(target) is None:
                return f"'{step}' does not lead to one object"
            current = target
        return None


def user_emails(process: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(path, email) of every user a process names."""
    for index, step in enumerate(process.get("steps", ())):
        if "user" in step.get("approver", {}):
            yield (f"steps[{index}].approver.user", step["approver"]["user"])
    if "escalate_to" in process:
        yield ("escalate_to", process["escalate_to"])


def check_users(conn: Connection, changes: tuple[Any, ...], _model: Any) -> None:
    """Apply hook: every user an approval process names is an active user (users are
    data, so this runs in the change set's transaction, which a refusal rolls back)."""
    errors: dict[str, str] = {}
    for change in changes:
        comp = change.after
        if comp.kind != KIND or comp.status != ACTIVE:
            continue
        for path, email in user_emails(comp.definition):
            if _active_user(conn, email) is None:
                errors[f"{comp.name}.{path}"] = f"no active user '{email}'"
    if errors:
        raise ValidationFailed(errors)


def _active_user(conn: Connection, email: str) -> str | None:
    return conn.execute(
        sa.select(users.c.id).where(
            users.c.email == normalise_email(email),
            users.c.active.is_(True),
            users.c.is_system.is_(False),
        )
    ).scalar()


def user_by_email(conn: Connection, email: str) -> str | None:
    """The id of the active user with this email (how processes name users)."""
    return _active_user(conn, email)
