"""What installing (or upgrading) packs would do against an org, changing nothing: the
components to create, change (with a readable diff) or leave, collisions with components
the pack does not own, the records it would load, and the problems it would meet.

The plan runs the very edit an install runs (``components.put_pack``) on a candidate
model through the metadata service's preview, so it shows what the install will do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crm_platform.core import Conflict
from crm_platform.metadata import LOCAL_OWNER, CandidateModel, KindRegistry
from crm_platform.metadata.history import diff_definitions

from .components import PackComponent, component_name, extends, locate_paths, put_pack
from .loader import Pack

CREATE, CHANGE, LEAVE = "create", "change", "leave"


@dataclass(frozen=True)
class PlanItem:
    """One component of a plan: what would happen to it, and the diff of a change."""

    pack: str
    kind: str
    name: str
    action: str
    diff: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = {"pack": self.pack, "kind": self.kind, "name": self.name, "action": self.action}
        if self.diff:
            out["diff"] = self.diff
        return out


@dataclass(frozen=True)
class Plan:
    """What an install would do; ``packs`` are (name, version) in install order."""

    packs: tuple[tuple[str, str], ...]
    items: tuple[PlanItem, ...]
    records: Mapping[str, int]
    collisions: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    already: tuple[str, ...] = field(default=())  # packs installed at this version already

    def count(self, action: str) -> int:
        return sum(item.action == action for item in self.items)

    @property
    def changes_anything(self) -> bool:
        return any(item.action != LEAVE for item in self.items) or any(self.records.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "packs": [{"name": n, "version": v} for n, v in self.packs],
            "already_installed": list(self.already),
            "summary": {a: self.count(a) for a in (CREATE, CHANGE, LEAVE)},
            "components": [item.as_dict() for item in self.items],
            "records": dict(self.records),
            "collisions": list(self.collisions),
            "problems": list(self.problems),
        }


def collisions(model: CandidateModel, registry: KindRegistry, packs: Sequence[Pack]) -> list[str]:
    """Components the packs define that exist already and belong to someone else (a local
    component, or another pack's): a pack never silently takes them over."""
    owners = {pack.name for pack in packs}
    found = []
    for pack in packs:
        for item in pack.definitions:
            name = component_name(registry, item)
            keys = (
                [] if item.kind == "object" and extends(model, pack, name) else [(item.kind, name)]
            )
            if item.kind == "object":
                keys += [
                    ("field", f"{name}.{f.get('api_name')}")
                    for f in item.definition.get("fields", [])
                ]
            for kind, key in keys:
                comp = model.get(kind, key)
                if comp is not None and comp.owner != pack.name:
                    who = "a local one" if comp.owner == LOCAL_OWNER else f"owned by {comp.owner}"
                    if comp.owner in owners and comp.owner != pack.name:
                        who = f"also defined by {comp.owner}"
                    found.append(f"{pack.name}: {kind} '{key}' exists already ({who})")
    return found


def refuse_collisions(model: CandidateModel, registry: KindRegistry, packs: Sequence[Pack]):
    found = collisions(model, registry, packs)
    if found:
        raise Conflict("; ".join(found), extra={"collisions": found})


def plan_install(
    org: Any, packs: Sequence[Pack], *, with_sample: bool = False, already: Sequence[str] = ()
) -> Plan:
    """The plan of installing ``packs`` (dependencies first) into ``org``, changing nothing."""
    registry = org.registry
    found: list[str] = []

    def edit(model: CandidateModel) -> dict[str, list[PackComponent]]:
        found.extend(collisions(model, registry, packs))
        return put_pack(model, registry, packs)

    result, problems = org.metadata.preview(edit)
    items = plan_items_from(result, org)
    records = {p.name: sum(1 for r in p.records if with_sample or not r.sample) for p in packs}
    located = [str(p) for p in locate_paths(problems, packs, registry)]
    return Plan(
        tuple((p.name, p.version) for p in packs),
        tuple(items),
        records,
        tuple(found),
        tuple(located),
        tuple(already),
    )


def plan_items_from(result: Any, org: Any) -> list[PlanItem]:
    """Plan items of a preview's result (its ``value`` is ``put_pack``'s components)."""
    before = {c.after.key: c.before for c in result.changes}
    after = {c.after.key: c.after for c in result.changes}
    items = []
    for pack_name, components in result.value.items():
        for comp in components:
            if comp.key not in after:
                items.append(PlanItem(pack_name, comp.kind, comp.name, LEAVE))
            elif before[comp.key] is None:
                items.append(PlanItem(pack_name, comp.kind, comp.name, CREATE))
            else:
                diff = diff_definitions(before[comp.key].definition, after[comp.key].definition)[
                    "text"
                ]
                action = CHANGE if diff else LEAVE
                items.append(PlanItem(pack_name, comp.kind, comp.name, action, diff))
    return items
