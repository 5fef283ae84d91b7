"""What a change set can affect: the components its validation must look at (DESIGN §0).

A change set is validated against the candidate model it would produce, but only
where the change can make a difference: the components it changes, the objects
whose fields it changes, and every component that refers to one of those — a
lookup or master-detail pointing at a changed object, a roll-up over it, a rule
or permission set naming it, an expression whose field path walks through it.
What refers to what is declared per kind on the registry (:meth:`add_references`
for direct references, :meth:`add_paths` for expressions, registered by the
runtime); a kind with validators but no declared references is checked on every
change set. The rest of the org was valid before and reads nothing that changed,
so it is valid still.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crm_platform.fieldtypes import path_target, split_step

from .kinds import ComponentKey, FieldPath, KindRegistry
from .operations import field_key
from .store import ACTIVE, Component

if TYPE_CHECKING:
    from .candidate import CandidateModel

RELATION_TYPES = frozenset({"lookup", "master_detail"})


@dataclass(frozen=True)
class ValidationScope:
    """The active objects and the components of other kinds a validation run checks."""

    objects: tuple[str, ...]
    components: tuple[Component, ...]


def whole_model(model: CandidateModel, registry: KindRegistry) -> ValidationScope:
    """Everything: for re-checking stored metadata against today's rules."""
    others = [
        comp for kind in registry.validators if kind != "object" for comp in model.of_kind(kind)
    ]
    return ValidationScope(tuple(c.name for c in model.of_kind("object")), tuple(others))


class ReferenceIndex:
    """The references of each object, remembered by the components they were read from.

    An object's references come from its own fields; the candidate shares the
    snapshot's field groups for objects no edit touched, so most lookups here are
    an identity check. One per metadata service; safe to share between threads.
    """

    def __init__(self) -> None:
        self._known: dict[str, tuple[Component, Mapping[str, Component], Any]] = {}
        self._lock = threading.Lock()

    def of_object(
        self, model: CandidateModel, registry: KindRegistry, header: Component
    ) -> tuple[frozenset[ComponentKey], tuple[tuple[str, FieldPath], ...]]:
        """(direct references, expression paths) of one active object of the candidate."""
        fields = model.group("field", header.name)
        known = self._known.get(header.name)
        if known is not None and known[0] is header and known[1] is fields:
            return known[2]
        definition = model.object(header.name) or {}
        found = (
            frozenset(_references(registry, "object", definition)),
            tuple(_paths(registry, "object", definition)),
        )
        if fields is model.base.groups.get(("field", header.name)) and header is model.base.get(
            "object", header.name
        ):
            # remembered only for the snapshot's own (immutable) components, never an edit's
            with self._lock:
                self._known[header.name] = (header, fields, found)
        return found


def change_scope(
    model: CandidateModel, registry: KindRegistry, index: ReferenceIndex
) -> ValidationScope:
    """What the candidate's changes can affect, for :func:`validate_candidate`."""
    changed = {change.after.key for change in model.changes()}
    touched_objects = {
        comp_name if kind == "object" else model.components[(kind, comp_name)].parent
        for kind, comp_name in changed
        if kind in {"object", "field"}
    }
    dirty = changed | {("object", name) for name in touched_objects if name}

    def affected(keys: Iterable[ComponentKey], paths: Iterable[tuple[str, FieldPath]]) -> bool:
        return not dirty.isdisjoint(keys) or any(
            not touched_objects.isdisjoint(reach(model, start, path)) for start, path in paths
        )

    objects = []
    for header in model.of_kind("object"):
        if header.name in touched_objects or affected(*index.of_object(model, registry, header)):
            objects.append(header.name)
    components = []
    for kind in registry.validators:
        if kind == "object":
            continue
        declared = kind in registry.references
        for comp in model.of_kind(kind):
            if (
                comp.key in changed
                or not declared
                or affected(
                    _references(registry, kind, comp.definition),
                    _paths(registry, kind, comp.definition),
                )
            ):
                components.append(comp)
    return ValidationScope(tuple(objects), tuple(components))


def reach(model: CandidateModel, start: str, path: FieldPath) -> set[str]:
    """The objects a field path reads, following lookups from ``start`` (a polymorphic one
    only where the path narrows it to a target: ``related_to[account].industry``)."""
    visited = {start}
    current = start
    for step in path[:-1]:
        name, narrowed = split_step(step)  # related_to[account]: one target of several
        comp = model.get("field", field_key(current, name))
        if comp is None or comp.status != ACTIVE:
            break
        definition = comp.definition
        target = path_target(definition, narrowed)
        if definition["type"] not in RELATION_TYPES or target is None:
            break
        current = target
        visited.add(current)
    return visited


def _references(
    registry: KindRegistry, kind: str, definition: Mapping[str, Any]
) -> Iterable[ComponentKey]:
    for finder in registry.references.get(kind, ()):
        yield from finder(definition)


def _paths(
    registry: KindRegistry, kind: str, definition: Mapping[str, Any]
) -> Iterable[tuple[str, FieldPath]]:
    for finder in registry.paths.get(kind, ()):
        yield from finder(definition)


# --- the references of this package's kinds ----------------------------------------------


def object_references(obj: Mapping[str, Any]) -> Iterable[ComponentKey]:
    """Objects an object's fields point at: lookup targets and roll-up children."""
    for field in obj.get("fields", ()):
        if field["type"] in RELATION_TYPES:
            for target in field.get("targets") or [field["target"]]:
                yield ("object", target)
        elif field["type"] == "rollup_summary":
            yield ("object", field["relation"].split(".", 1)[0])


def _rule_references(rule: Mapping[str, Any]) -> Iterable[ComponentKey]:
    yield ("object", rule["object"])


def _sharing_rule_references(rule: Mapping[str, Any]) -> Iterable[ComponentKey]:
    from .kind_checks import PRINCIPAL_KINDS

    yield ("object", rule["object"])
    for key in ("owned_by", "share_with"):
        for principal_kind, name in (rule.get(key) or {}).items():
            yield (PRINCIPAL_KINDS[principal_kind], name)


def _permission_set_references(permission_set: Mapping[str, Any]) -> Iterable[ComponentKey]:
    for object_name in permission_set.get("objects", {}):
        yield ("object", object_name)
    for key in permission_set.get("fields", {}):
        yield ("object", key.split(".", 1)[0])


def _queue_references(queue: Mapping[str, Any]) -> Iterable[ComponentKey]:
    for name in queue["objects"]:
        yield ("object", name)


def _role_references(role: Mapping[str, Any]) -> Iterable[ComponentKey]:
    # the parent only: a loop through a changed role is found when that role is checked
    if role.get("parent"):
        yield ("role", role["parent"])


KIND_REFERENCES = {
    "object": object_references,
    "validation_rule": _rule_references,
    "sharing_rule": _sharing_rule_references,
    "permission_set": _permission_set_references,
    "queue": _queue_references,
    "role": _role_references,
    "group": lambda _definition: (),
}
