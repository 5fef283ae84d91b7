"""Assignment rules as compiled for one metadata version (``model.extension("assignment")``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from crm_platform.metadata import Snapshot

KIND = "assignment_rule"
EXTENSION = "assignment"
TARGET_KINDS = ("user", "queue", "round_robin", "least_loaded")


@dataclass(frozen=True)
class Target:
    """Where an entry sends a record: ``kind`` is user, queue, round_robin or least_loaded;
    ``name`` the user's email, the queue or the group; ``open`` least-loaded's count."""

    kind: str
    name: str
    open: str | None = None
    skill: str | None = None  # least_loaded: a text expression naming the skill's group

    @classmethod
    def parse(cls, assign_to: Mapping[str, Any]) -> Target:
        kind = next(k for k in TARGET_KINDS if k in assign_to)
        return cls(kind, assign_to[kind], assign_to.get("open"), assign_to.get("skill"))


@dataclass(frozen=True)
class Entry:
    index: int
    when: str | None
    target: Target
    notify: bool


@dataclass(frozen=True)
class Rule:
    name: str
    object: str
    active: bool
    entries: tuple[Entry, ...]

    @property
    def source(self) -> str:
        """How runs, notifications and errors name it."""
        return f"assignment_rule:{self.object}.{self.name}"

    def turn_counter(self, entry: Entry) -> str:
        """The counter row of a round-robin entry (``sys_counter``)."""
        return f"assignment:{self.object}.{self.name}#{entry.index}"


def rule_from(definition: Mapping[str, Any]) -> Rule:
    entries = tuple(
        Entry(i, e.get("when"), Target.parse(e["assign_to"]), e.get("notify", True))
        for i, e in enumerate(definition["entries"])
    )
    return Rule(
        definition["api_name"], definition["object"], definition.get("active", True), entries
    )


@dataclass(frozen=True)
class AssignmentRules:
    """Every assignment rule of a version, by object then name."""

    by_object: Mapping[str, Mapping[str, Rule]]

    def get(self, object_name: str, name: str) -> Rule | None:
        return self.by_object.get(object_name, {}).get(name)

    def active(self, object_name: str) -> Rule | None:
        """The rule that runs when a record of the object is created."""
        return next((r for r in self.by_object.get(object_name, {}).values() if r.active), None)


def compile_rules(snapshot: Snapshot, _model: Any) -> AssignmentRules:
    """The compiled-model part (registered with ``ModelCompiler.add_extension``)."""
    found: dict[str, dict[str, Rule]] = {}
    for comp in snapshot.of_kind(KIND):
        rule = rule_from(comp.definition)
        found.setdefault(rule.object, {})[rule.name] = rule
    return AssignmentRules(MappingProxyType({k: MappingProxyType(v) for k, v in found.items()}))


def rules_of(model: Any) -> AssignmentRules:
    """The assignment rules of a compiled model."""
    return model.extension(EXTENSION)
