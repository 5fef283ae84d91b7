"""The candidate model: a working copy of a snapshot that a change set edits and validates."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from crm_platform.core import new_id

from .canonical import object_header
from .store import ACTIVE, DELETED, PURGED, Component, ComponentChange, Snapshot


class CandidateModel:
    """The metadata as a change set would leave it.

    Starts as a copy of a :class:`Snapshot`; edits replace components; :meth:`changes`
    lists what differs from the snapshot. Validators read it through the query methods.
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self.base = snapshot
        self.components: dict[tuple[str, str], Component] = dict(snapshot.components)
        self._objects: dict[str, dict[str, Any]] | None = None
        # Components by (kind, parent), kept current by put(): edits stay O(1) in org size.
        self._children: dict[tuple[str, str | None], dict[str, Component]] = {}
        for comp in self.components.values():
            self._children.setdefault((comp.kind, comp.parent), {})[comp.name] = comp
        # What validators derive from the candidate once per run (cleared on every edit).
        self.memo: dict[str, Any] = {}

    # --- queries -----------------------------------------------------------------
    def get(self, kind: str, name: str) -> Component | None:
        comp = self.components.get((kind, name))
        return None if comp is None or comp.status == PURGED else comp

    def objects(self) -> Mapping[str, dict[str, Any]]:
        """Every active object's full definition (header plus active fields, in order)."""
        if self._objects is None:
            fields: dict[str, list[Component]] = {}
            for comp in self.components.values():
                if comp.kind == "field" and comp.status == ACTIVE and comp.parent:
                    fields.setdefault(comp.parent, []).append(comp)
            self._objects = {}
            for comp in self.components.values():
                if comp.kind == "object" and comp.status == ACTIVE:
                    own = sorted(fields.get(comp.name, []), key=lambda c: (c.position, c.name))
                    self._objects[comp.name] = {
                        **comp.definition,
                        "fields": [dict(f.definition) for f in own],
                    }
        return self._objects

    def object(self, name: str) -> dict[str, Any] | None:
        return self.objects().get(name)

    def has_object(self, name: str) -> bool:
        return name in self.objects()

    def of_kind(self, kind: str) -> list[Component]:
        return [c for c in self.components.values() if c.kind == kind and c.status == ACTIVE]

    def fields_of(self, object_name: str, *, include_deleted: bool = False) -> list[Component]:
        wanted = {ACTIVE, DELETED} if include_deleted else {ACTIVE}
        found = [
            c for c in self._children.get(("field", object_name), {}).values() if c.status in wanted
        ]
        return sorted(found, key=lambda c: (c.position, c.name))

    def field_count(self, object_name: str) -> int:
        return len(self.fields_of(object_name, include_deleted=True))

    def master_path(self, start: str, goal: str) -> bool:
        """Whether ``goal`` is ``start`` or one of its masters, following master_detail up."""
        seen: set[str] = set()
        frontier = [start]
        while frontier:
            current = frontier.pop()
            if current == goal:
                return True
            if current in seen:
                continue
            seen.add(current)
            obj = self.object(current)
            for f in obj["fields"] if obj else []:
                if f["type"] == "master_detail":
                    frontier.append(f["target"])
        return False

    def used_physical_names(self, kind: str, parent: str | None = None) -> set[str]:
        """Physical names taken by live components (deleted ones keep theirs)."""
        taken: set[str] = set()
        for comp in self._children.get((kind, parent), {}).values():
            if comp.status == PURGED:
                continue
            if kind == "object":
                taken.add(comp.physical["table"])
            else:
                taken.update(comp.physical.get("columns", {}).values())
                taken.update(comp.physical.get("retired_columns", []))
        return taken

    # --- edits -------------------------------------------------------------------
    def put(self, comp: Component) -> None:
        """Add or replace a component."""
        previous = self.components.get(comp.key)
        if previous is not None and previous.parent != comp.parent:
            self._children.get((previous.kind, previous.parent), {}).pop(previous.name, None)
        self.components[comp.key] = comp
        self._children.setdefault((comp.kind, comp.parent), {})[comp.name] = comp
        self._objects = None
        self.memo.clear()

    def new_component(
        self,
        kind: str,
        name: str,
        definition: Mapping[str, Any],
        *,
        parent: str | None = None,
        owner: str,
        physical: Mapping[str, Any] | None = None,
    ) -> Component:
        """A component that does not exist yet, placed after its siblings."""
        siblings = [c.position for c in self._children.get((kind, parent), {}).values()]
        comp = Component(
            id=new_id(),
            kind=kind,
            name=name,
            parent=parent,
            owner=owner,
            status=ACTIVE,
            position=max(siblings, default=-1) + 1,
            definition=dict(definition),
            physical=dict(physical or {}),
            revision=1,
        )
        self.put(comp)
        return comp

    def update(self, comp: Component, **changes: Any) -> Component:
        """Replace fields of a component; a no-op change leaves it untouched."""
        updated = comp.evolve(**changes)
        if updated.state() != comp.state() or updated.physical != comp.physical:
            base = self.base.components.get(comp.key)
            revision = (base.revision if base else 0) + 1
            updated = updated.evolve(revision=revision)
            self.put(updated)
        return updated

    def set_object_header(self, comp: Component, definition: Mapping[str, Any]) -> Component:
        return self.update(comp, definition=object_header(definition))

    # --- outcome -----------------------------------------------------------------
    def changes(self) -> list[ComponentChange]:
        """Components that differ from the snapshot, objects before their fields."""
        out = []
        for key, comp in self.components.items():
            before = self.base.components.get(key)
            if before is not None and before.id != comp.id:
                # a purged component replaced by a new one of the same name
                out.append(ComponentChange(before, before.evolve(status=PURGED)))
                before = None
            if before is None or before.state() != comp.state() or before.physical != comp.physical:
                out.append(ComponentChange(before, comp))
        order = {"object": 0, "field": 1}
        return sorted(out, key=lambda ch: (order.get(ch.after.kind, 2), ch.after.position))

    def iter_active_objects(self) -> Iterator[Mapping[str, Any]]:
        yield from self.objects().values()
