"""The triggers of one metadata version, compiled for the engine: indexed by object,
event and timing, with their schedules parsed (``model.extension("triggers")``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from crm_platform.expressions import ExpressionError, parse
from crm_platform.metadata.store import Snapshot

from .schema import AFTER_SAVE, SCHEDULED

PART = "triggers"
# Record columns a values dict built from a change lacks: a trigger whose expressions read
# them gets the record read back before its actions run.
STORED_ONLY = frozenset({"created_at", "created_by", "updated_at", "updated_by", "version"})
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_offset(text: str) -> timedelta:
    """``"-7d"`` → seven days earlier; units m, h, d, w (the schema checked the form)."""
    found = re.fullmatch(r"([+-]?)([0-9]{1,5})([mhdw])", text.strip())
    if found is None:
        raise ValueError(f"not an offset: {text!r}")
    sign, amount, unit = found.groups()
    delta = timedelta(**{_UNITS[unit]: int(amount)})
    return -delta if sign == "-" else delta


@dataclass(frozen=True)
class Schedule:
    """When a scheduled trigger runs: ``offset`` from the record's date ``field``."""

    field: str
    offset: timedelta


@dataclass(frozen=True)
class Trigger:
    """One active trigger, as the engine runs it."""

    name: str  # the component name, "<object>.<api_name>"
    object: str
    events: frozenset[str]
    actions: tuple[Mapping[str, Any], ...]
    timing: str = AFTER_SAVE
    when: str | None = None
    only_when_changed_to_meet: bool = False
    schedule: Schedule | None = None
    reads_stored_columns: bool = False

    @property
    def source(self) -> str:
        """How runs, errors and created records name it: ``trigger:<object>.<api_name>``."""
        return f"trigger:{self.name}"

    @classmethod
    def from_definition(cls, name: str, definition: Mapping[str, Any]) -> Trigger:
        """The trigger a (checked) definition describes; ValueError for a bad offset."""
        schedule = definition.get("schedule")
        return cls(
            name=name,
            object=definition["object"],
            events=frozenset(definition["events"]),
            actions=tuple(definition["actions"]),
            timing=definition.get("timing", AFTER_SAVE),
            when=definition.get("when"),
            only_when_changed_to_meet=bool(definition.get("only_when_changed_to_meet")),
            schedule=(
                Schedule(schedule["field"], parse_offset(schedule["offset"])) if schedule else None
            ),
            reads_stored_columns=bool(_names_read(definition) & STORED_ONLY),
        )


def _names_read(definition: Mapping[str, Any]) -> set[str]:
    sources = [definition.get("when")] + [
        source for action in definition["actions"] for source in action.get("values", {}).values()
    ]
    names: set[str] = set()
    for source in sources:
        if not source:
            continue
        try:
            names |= {path[0] for path in parse(source).field_paths}
        except ExpressionError:
            continue
    return names


@dataclass(frozen=True)
class CompiledTriggers:
    """The active triggers of a metadata version, by (object, event, timing)."""

    by_event: Mapping[tuple[str, str, str], tuple[Trigger, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    by_name: Mapping[str, Trigger] = field(default_factory=lambda: MappingProxyType({}))

    def on(self, object_name: str, event: str, timing: str) -> tuple[Trigger, ...]:
        """The triggers of ``object_name`` for ``event`` with ``timing``, by name."""
        return self.by_event.get((object_name, event, timing), ())

    def scheduled(self, object_name: str) -> tuple[Trigger, ...]:
        """Every scheduled trigger of the object (whatever events plan it)."""
        return tuple(
            t for t in self.by_name.values() if t.object == object_name and t.timing == SCHEDULED
        )

    @classmethod
    def of(cls, triggers: Iterable[Trigger]) -> CompiledTriggers:
        """The index of ``triggers`` (each event's triggers in name order)."""
        by_event: dict[tuple[str, str, str], list[Trigger]] = {}
        ordered = sorted(triggers, key=lambda t: t.name)
        for trigger in ordered:
            for event in trigger.events:
                by_event.setdefault((trigger.object, event, trigger.timing), []).append(trigger)
        return cls(
            MappingProxyType({key: tuple(found) for key, found in by_event.items()}),
            MappingProxyType({t.name: t for t in ordered}),
        )


def compile_triggers(snapshot: Snapshot, model: Any) -> CompiledTriggers:
    """The compiled-model part: active triggers of objects that exist in this version.

    Candidate models are compiled too, before their checks ran: a definition that cannot
    be compiled is left out here and refused, naming its path, by the checks."""
    found = []
    for comp in snapshot.of_kind("trigger"):
        definition = comp.definition
        if definition.get("active", True) is False or model.object(definition["object"]) is None:
            continue
        try:
            found.append(Trigger.from_definition(comp.name, definition))
        except (KeyError, TypeError, ValueError):
            continue
    return CompiledTriggers.of(found)
