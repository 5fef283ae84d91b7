"""Save-time checks of triggers against the candidate model, each problem named by its
path: the object and the schedule's date field exist, the criteria and every action's
expressions type-check, actions suit the timing, and no cycle of triggers can only recurse.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from crm_platform.expressions import ExpressionError, ValueType, parse
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import CandidateModel, Problem
from crm_platform.metadata.kinds import ComponentKey, FieldPath

from ..checks import WorkflowChecks
from ..mail.action import template_references
from .compiled import parse_offset
from .schema import AFTER_SAVE, BEFORE_SAVE, SCHEDULED

KIND = "trigger"
DATE_TYPES = (ValueType.DATE, ValueType.DATETIME)


class TriggerChecks:
    """The ``trigger`` kind's validator (registered on the kind registry)."""

    def __init__(self, checks: WorkflowChecks) -> None:
        self.checks = checks

    def __call__(self, model: CandidateModel, trigger: Mapping[str, Any]) -> Iterator[Problem]:
        object_name = trigger["object"]
        if model.object(object_name) is None:
            yield ("object", f"no object '{object_name}'")
            return
        timing = trigger.get("timing", AFTER_SAVE)
        yield from _timing_problems(trigger, timing)
        if trigger.get("schedule") and timing == SCHEDULED:
            yield from self._schedule_field(model, object_name, trigger["schedule"]["field"])
            yield from _offset(trigger["schedule"]["offset"])
        if trigger.get("when"):
            yield from self.checks.condition(model, object_name, trigger["when"], "when")
            if timing == SCHEDULED:
                yield from _no_prior_values(trigger["when"])
        actions = trigger["actions"]
        yield from self.checks.actions(
            model, object_name, actions, "actions", before_save=timing == BEFORE_SAVE
        )
        yield from _action_fit(trigger, timing)
        if timing == AFTER_SAVE:
            yield from _recursion(model, self.checks, trigger)

    def _schedule_field(
        self, model: CandidateModel, object_name: str, name: str
    ) -> Iterator[Problem]:
        found = self.checks.field(model, object_name, name)
        if found is None:
            yield ("schedule.field", f"{object_name} has no field '{name}'")
        elif field_type(found["type"]).value_type not in DATE_TYPES:
            yield ("schedule.field", f"'{name}' is not a date or datetime field")


def _no_prior_values(when: str) -> Iterator[Problem]:
    """A scheduled trigger's criteria are checked again when its run is due, when there is
    no change to compare with."""
    try:
        used = parse(when).functions & {"ISCHANGED", "PRIORVALUE"}
    except ExpressionError:
        return
    for name in sorted(used):
        yield (
            "when",
            f"{name} compares with a change, and a scheduled run has none: "
            "use only_when_changed_to_meet",
        )


def _offset(text: str) -> Iterator[Problem]:
    try:
        parse_offset(text)
    except ValueError:
        yield (
            "schedule.offset",
            f"'{text}' is not an offset: a whole number and a unit (m, h, d or w), such as -7d",
        )


def _timing_problems(trigger: Mapping[str, Any], timing: str) -> Iterator[Problem]:
    events = trigger["events"]
    if timing == BEFORE_SAVE and "delete" in events:
        yield ("events", "a before_save trigger runs on create and update, not delete")
    if timing == SCHEDULED:
        if not trigger.get("schedule"):
            yield ("schedule", "a scheduled trigger needs schedule: {field, offset}")
        if "delete" in events:
            yield (
                "events",
                "a scheduled trigger is planned on create and update "
                "(deleting the record cancels it)",
            )
    elif trigger.get("schedule"):
        yield ("schedule", "only a trigger with timing: scheduled takes a schedule")


def _action_fit(trigger: Mapping[str, Any], timing: str) -> Iterator[Problem]:
    """Actions that cannot work at this timing or on this event."""
    for index, action in enumerate(trigger["actions"]):
        if action.get("type") != "update_record":
            continue
        if timing == BEFORE_SAVE and action.get("record"):
            yield (
                f"actions[{index}].record",
                "before save, update_record sets fields of the record itself: "
                "update the parent with timing after_save",
            )
        if timing == AFTER_SAVE and "delete" in trigger["events"] and not action.get("record"):
            yield (
                f"actions[{index}]",
                "on delete the record is gone: update_record may only update a parent "
                "(record: <lookup field>)",
            )


# --- a cycle of triggers that can only recurse ---------------------------------------------


def _always_fires(trigger: Mapping[str, Any], event: str) -> bool:
    """Whether nothing in the trigger's criteria can stop it firing on ``event``."""
    if trigger.get("active", True) is False or trigger.get("timing", AFTER_SAVE) != AFTER_SAVE:
        return False
    if event not in trigger["events"]:
        return False
    when = (trigger.get("when") or "").strip()
    if when and when != "True":
        return False
    # with no criteria, "changed to meet" happens only when the record is created
    return not trigger.get("only_when_changed_to_meet") or event == "create"


def _writes(
    model: CandidateModel, checks: WorkflowChecks, trigger: Mapping[str, Any]
) -> Iterator[tuple[int, str, str]]:
    """(action index, object, event) of each record change the trigger's actions make."""
    for index, action in enumerate(trigger["actions"]):
        kind = action.get("type")
        if kind == "update_record":
            target = trigger["object"]
            if action.get("record"):
                target = checks.lookup_target(model, trigger["object"], action["record"]) or ""
            yield (index, target, "update")
        elif kind == "create_record":
            yield (index, action["object"], "create")


def _recursion(
    model: CandidateModel, checks: WorkflowChecks, trigger: Mapping[str, Any]
) -> Iterator[Problem]:
    """A problem on the first action that starts a chain of criteria-less triggers leading
    back to this one: such a chain can only recurse until the runtime bound stops it."""
    own = f"{trigger['object']}.{trigger['api_name']}"
    others = {c.name: c.definition for c in model.of_kind(KIND) if c.name != own}
    everyone = {**others, own: trigger}
    for index, target, event in _writes(model, checks, trigger):
        chain = _path_back(model, checks, everyone, own, target, event, [own])
        if chain is not None:
            yield (
                f"actions[{index}]",
                "this action starts a cycle of triggers that can only recurse ("
                + " → ".join(chain)
                + "): give one of them criteria (when) that stop it",
            )
            return


def _path_back(
    model: CandidateModel,
    checks: WorkflowChecks,
    everyone: Mapping[str, Mapping[str, Any]],
    goal: str,
    target: str,
    event: str,
    chain: list[str],
) -> list[str] | None:
    for name, other in everyone.items():
        if other["object"] != target or not _always_fires(other, event):
            continue
        if name == goal:
            return [*chain, name]
        if name in chain:
            continue
        for _index, next_target, next_event in _writes(model, checks, other):
            found = _path_back(
                model, checks, everyone, goal, next_target, next_event, [*chain, name]
            )
            if found is not None:
                return found
    return None


# --- what a trigger refers to, so a change set re-checks it ----------------------------------


def references(trigger: Mapping[str, Any]) -> Iterator[ComponentKey]:
    """The objects a trigger names (its own and those its actions create records of) and
    the email templates it sends: deleting one still in use is refused."""
    yield ("object", trigger["object"])
    for action in trigger.get("actions", ()):
        if isinstance(action.get("object"), str):
            yield ("object", action["object"])
    yield from template_references(trigger.get("actions", ()))


def paths(trigger: Mapping[str, Any]) -> Iterator[tuple[str, FieldPath]]:
    """(object, field path) of every field the trigger reads or writes."""
    start = trigger["object"]
    if trigger.get("schedule"):
        yield (start, (trigger["schedule"]["field"],))
    for path in _read(trigger.get("when")):
        yield (start, path)
    for action in trigger.get("actions", ()):
        for name, source in (action.get("values") or {}).items():
            if isinstance(action.get("object"), str):
                yield (action["object"], (name,))
            elif action.get("record"):
                yield (start, (action["record"], name))
            else:
                yield (start, (name,))
            for path in _read(source):
                yield (start, path)


def _read(source: str | None) -> Sequence[FieldPath]:
    if not source:
        return ()
    try:
        return tuple(parse(source).field_paths)
    except ExpressionError:
        return ()
