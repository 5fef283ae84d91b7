"""Save-time checks of business hours and milestones against the candidate model."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_platform.expressions import ExpressionError, ValueType, parse
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import CandidateModel, Problem
from crm_platform.metadata.kinds import ComponentKey, FieldPath

from ..checks import WorkflowChecks
from .calendar import parse_window
from .compiled import HOURS


def hours_problems(model: CandidateModel, definition: Mapping[str, Any]) -> Iterator[Problem]:
    """A time zone that does not exist, a window that ends before it starts, no hours."""
    del model
    zone = definition.get("time_zone")
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            yield ("time_zone", f"no time zone '{zone}'")
    windows = 0
    for day, found in (definition.get("week") or {}).items():
        for index, text in enumerate(found):
            try:
                parse_window(text)
                windows += 1
            except ValueError as exc:
                yield (f"week.{day}[{index}]", str(exc))
    if not windows:
        yield ("week", "business hours need at least one opening window")


class MilestoneChecks:
    """The ``milestone`` kind's validator."""

    def __init__(self, checks: WorkflowChecks) -> None:
        self.checks = checks

    def __call__(self, model: CandidateModel, milestone: Mapping[str, Any]) -> Iterator[Problem]:
        name = milestone["object"]
        if model.object(name) is None:
            yield ("object", f"no object '{name}'")
            return
        yield from self._field(model, name, milestone["due_field"], "due_field", "datetime")
        if milestone.get("breached_field"):
            yield from self._field(
                model, name, milestone["breached_field"], "breached_field", "boolean"
            )
        hours = milestone.get("business_hours")
        if hours:
            comp = model.get(HOURS, hours)
            if comp is None or comp.status != "active":
                yield ("business_hours", f"no business hours '{hours}'")
        for key in ("start_when", "complete_when"):
            if milestone.get(key):
                yield from self.checks.condition(model, name, milestone[key], key)
        yield from self.checks._check(
            model, name, milestone["target_minutes"], ValueType.NUMBER, "target_minutes"
        )
        yield from self.checks.actions(model, name, milestone.get("actions", ()), "actions")

    def _field(
        self, model: CandidateModel, object_name: str, name: str, path: str, wanted: str
    ) -> Iterator[Problem]:
        found = self.checks.field(model, object_name, name)
        if found is None:
            yield (path, f"{object_name} has no field '{name}'")
        elif found["type"] != wanted:
            yield (path, f"'{name}' is not a {wanted} field")
        elif field_type(found["type"]).read_only:
            yield (path, f"'{name}' is read-only")


def references(milestone: Mapping[str, Any]) -> Iterator[ComponentKey]:
    """Its object, its business hours, the objects its actions create records of."""
    yield ("object", milestone["object"])
    if milestone.get("business_hours"):
        yield (HOURS, milestone["business_hours"])
    for action in milestone.get("actions", ()):
        if isinstance(action.get("object"), str):
            yield ("object", action["object"])


def paths(milestone: Mapping[str, Any]) -> Iterator[tuple[str, FieldPath]]:
    """(object, field path) of every field the milestone reads or writes."""
    start = milestone["object"]
    for key in ("due_field", "breached_field"):
        if milestone.get(key):
            yield (start, (milestone[key],))
    for key in ("start_when", "complete_when", "target_minutes"):
        for path in _read(milestone.get(key)):
            yield (start, path)
    for action in milestone.get("actions", ()):
        for field_name, source in (action.get("values") or {}).items():
            if not isinstance(action.get("object"), str) and not action.get("record"):
                yield (start, (field_name,))
            for path in _read(source):
                yield (start, path)


def _read(source: str | None) -> Sequence[FieldPath]:
    if not source:
        return ()
    try:
        return tuple(parse(source).field_paths)
    except ExpressionError:
        return ()
