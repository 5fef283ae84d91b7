"""Milestones and business hours as compiled for one metadata version
(``model.extension("milestones")``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from crm_platform.metadata import Snapshot

from .calendar import BusinessHours

MILESTONE = "milestone"
HOURS = "business_hours"
PART = "milestones"


@dataclass(frozen=True)
class Milestone:
    """One active milestone, as the engine runs it."""

    name: str  # "<object>.<api_name>"
    object: str
    target_minutes: str
    due_field: str
    complete_when: str
    start_when: str | None = None
    business_hours: str | None = None
    breached_field: str | None = None
    actions: tuple[Mapping[str, Any], ...] = ()

    @property
    def source(self) -> str:
        """How runs and errors name it: ``milestone:<object>.<api_name>``."""
        return f"milestone:{self.name}"

    @classmethod
    def from_definition(cls, name: str, definition: Mapping[str, Any]) -> Milestone:
        return cls(
            name=name,
            object=definition["object"],
            target_minutes=definition["target_minutes"],
            due_field=definition["due_field"],
            complete_when=definition["complete_when"],
            start_when=definition.get("start_when"),
            business_hours=definition.get("business_hours"),
            breached_field=definition.get("breached_field"),
            actions=tuple(definition.get("actions", ())),
        )


@dataclass(frozen=True)
class CompiledMilestones:
    """The active milestones by object, and every calendar by name."""

    by_object: Mapping[str, tuple[Milestone, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    hours: Mapping[str, BusinessHours] = field(default_factory=lambda: MappingProxyType({}))

    def of(self, object_name: str) -> tuple[Milestone, ...]:
        return self.by_object.get(object_name, ())

    def named(self, name: str) -> Milestone | None:
        object_name = name.partition(".")[0]
        return next((m for m in self.of(object_name) if m.name == name), None)


def compile_milestones(snapshot: Snapshot, model: Any) -> CompiledMilestones:
    """The compiled-model part; a definition that does not compile is left out (its
    checks refuse it, naming the path)."""
    hours: dict[str, BusinessHours] = {}
    for comp in snapshot.of_kind(HOURS):
        try:
            hours[comp.name] = BusinessHours.from_definition(comp.definition, model.time_zone)
        except (KeyError, TypeError, ValueError):
            continue
    found: dict[str, list[Milestone]] = {}
    for comp in sorted(snapshot.of_kind(MILESTONE), key=lambda c: c.name):
        definition = comp.definition
        if definition.get("active", True) is False or model.object(definition["object"]) is None:
            continue
        try:
            milestone = Milestone.from_definition(comp.name, definition)
        except (KeyError, TypeError):
            continue
        found.setdefault(milestone.object, []).append(milestone)
    return CompiledMilestones(
        MappingProxyType({k: tuple(v) for k, v in found.items()}), MappingProxyType(hours)
    )
