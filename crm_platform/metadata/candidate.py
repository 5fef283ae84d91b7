"""The candidate model: a working copy of a snapshot that a change set edits and validates."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterator, Mapping
from typing import Any

from crm_platform.core import new_id
from crm_platform.fieldtypes import sub_columns

from .canonical import object_header
from .store import ACTIVE, DELETED, PURGED, Component, ComponentChange, Snapshot


class CandidateModel:
    """The metadata as a change set would leave it.

    An overlay on a :class:`Snapshot`: edits replace components in the overlay only,
    so starting a change set and each edit cost nothing in the size of the org;
    :meth:`changes` lists what differs from the snapshot. Validators read it through
    the query methods.
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self.base = snapshot
        self._edits: dict[tuple[str, str], Component] = {}
        # Reads see the edits first, then the snapshot.
        self.components: Mapping[tuple[str, str], Component] = ChainMap(
            self._edits, snapshot.components
        )
        # Groups (kind, parent) an edit touched, copied from the snapshot's on first write.
        self._groups: dict[tuple[str, str | None], dict[str, Component]] = {}
        self._objects: dict[str, dict[str, Any]] = {}  # assembled definitions, per object
        # What validators derive from the candidate once per run (cleared on every edit).
        self.memo: dict[str, Any] = {}
        # Renames: the key each moved component had in the snapshot, by its new key; the
        # old keys hold a purged stand-in (same id) so reads no longer find the old name.
        self._origins: dict[tuple[str, str], tuple[str, str]] = {}
        self._tombstones: set[tuple[str, str]] = set()
        # Definitions as renames left them, by component id: what a rename changed is
        # names only, so DDL planning compares later edits against these.
        self.renamed_definitions: dict[str, Mapping[str, Any]] = {}
        # What a type change was told about values that do not convert, by component id.
        self.conversion_options: dict[str, Any] = {}

    # --- queries -----------------------------------------------------------------
    def get(self, kind: str, name: str) -> Component | None:
        comp = self.components.get((kind, name))
        return None if comp is None or comp.status == PURGED else comp

    def group(self, kind: str, parent: str | None) -> Mapping[str, Component]:
        """The components of ``kind`` under ``parent`` (purged ones included), by name.

        A group no edit touched is the snapshot's own mapping, so callers may cache
        what they derive from it by its identity.
        """
        key = (kind, parent)
        found = self._groups.get(key)
        return found if found is not None else self.base.groups.get(key, {})

    def objects(self) -> Mapping[str, dict[str, Any]]:
        """Every active object's full definition (header plus active fields, in order)."""
        found = {}
        for comp in self.of_kind("object"):
            definition = self.object(comp.name)
            if definition is not None:
                found[comp.name] = definition
        return found

    def object(self, name: str) -> dict[str, Any] | None:
        """One active object's full definition (header plus active fields, in order)."""
        found = self._objects.get(name)
        if found is None:
            comp = self.get("object", name)
            if comp is None or comp.status != ACTIVE:
                return None
            own = self.fields_of(name)
            found = {**comp.definition, "fields": [dict(f.definition) for f in own]}
            self._objects[name] = found
        return found

    def has_object(self, name: str) -> bool:
        comp = self.get("object", name)
        return comp is not None and comp.status == ACTIVE

    def of_kind(self, kind: str) -> list[Component]:
        """The active components of ``kind``, in creation order."""
        groups = {key for key in self.base.groups if key[0] == kind}
        groups.update(key for key in self._groups if key[0] == kind)
        found = [c for key in groups for c in self.group(*key).values() if c.status == ACTIVE]
        return sorted(found, key=lambda c: (c.position, c.name))

    def fields_of(self, object_name: str, *, include_deleted: bool = False) -> list[Component]:
        wanted = {ACTIVE, DELETED} if include_deleted else {ACTIVE}
        found = [c for c in self.group("field", object_name).values() if c.status in wanted]
        return sorted(found, key=lambda c: (c.position, c.name))

    def field_count(self, object_name: str) -> int:
        return sum(c.status != PURGED for c in self.group("field", object_name).values())

    def column_count(self, object_name: str) -> int:
        """The columns the object's fields hold in its table (deleted fields' and retired
        ones included: they stay until the field is purged)."""
        return sum(
            len(sub_columns(c.definition)) + len(c.physical.get("retired_columns", ()))
            for c in self.group("field", object_name).values()
            if c.status != PURGED
        )

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
        for comp in self.group(kind, parent).values():
            if comp.status == PURGED:
                continue
            if kind == "object":
                taken.add(comp.physical["table"])
            else:
                taken.update(comp.physical.get("columns", {}).values())
                taken.update(comp.physical.get("retired_columns", []))
        return taken

    def as_snapshot(self) -> Snapshot:
        """The candidate as a snapshot (version -1), sharing what no edit touched."""
        return self.base.advanced(-1, self._edits.values())

    def base_of(self, comp: Component) -> Component | None:
        """The snapshot's version of ``comp`` (under its old name when it was renamed)."""
        found = self.base.components.get(self._origins.get(comp.key, comp.key))
        return found if found is not None and found.id == comp.id else None

    def renamed(self) -> dict[tuple[str, str], tuple[str, str]]:
        """The components this change set renamed: new key -> key in the snapshot."""
        return dict(self._origins)

    # --- edits -------------------------------------------------------------------
    def move(
        self,
        comp: Component,
        name: str,
        *,
        parent: str | None,
        definition: Mapping[str, Any] | None = None,
    ) -> Component:
        """Rename a component (its key, and its parent for the fields of a renamed object).

        The component keeps its id, physical names and history; the old key reads as
        absent from now on.
        """
        old_key = comp.key
        origin = self._origins.pop(old_key, old_key)
        if old_key in self.base.components and self.base.components[old_key].id == comp.id:
            stand_in = comp.evolve(status=PURGED)
            self._edits[old_key] = stand_in
            self._own_group(comp.kind, comp.parent)[comp.name] = stand_in
            self._tombstones.add(old_key)
        else:  # created or moved in this change set: nothing to leave behind
            self._edits.pop(old_key, None)
            self._own_group(comp.kind, comp.parent).pop(comp.name, None)
        self._forget(comp)
        moved = comp.evolve(
            name=name, parent=parent, definition=dict(definition or comp.definition)
        )
        base = self.base.components.get(origin)
        if base is not None and base.id == comp.id:
            self._origins[moved.key] = origin
            moved = moved.evolve(revision=base.revision + 1)
        self.put(moved)
        return moved

    def put(self, comp: Component) -> None:
        """Add or replace a component."""
        self._tombstones.discard(comp.key)
        previous = self.components.get(comp.key)
        if previous is not None and previous.parent != comp.parent:
            self._own_group(previous.kind, previous.parent).pop(previous.name, None)
            self._forget(previous)
        self._edits[comp.key] = comp
        self._own_group(comp.kind, comp.parent)[comp.name] = comp
        self._forget(comp)
        self.memo.clear()

    def _own_group(self, kind: str, parent: str | None) -> dict[str, Component]:
        key = (kind, parent)
        if key not in self._groups:
            self._groups[key] = dict(self.base.groups.get(key, {}))
        return self._groups[key]

    def _forget(self, comp: Component) -> None:
        """Drop the assembled definition an edit of ``comp`` makes stale."""
        if comp.kind == "object":
            self._objects.pop(comp.name, None)
        elif comp.kind == "field" and comp.parent is not None:
            self._objects.pop(comp.parent, None)

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
        siblings = [c.position for c in self.group(kind, parent).values()]
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
            base = self.base_of(comp)
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
        moved_ids = {self.base.components[origin].id for origin in self._origins.values()}
        for key, comp in self._edits.items():
            if key in self._tombstones:
                continue  # the old name of a renamed component: its change is under the new
            before = self.base.components.get(self._origins.get(key, key))
            if before is not None and before.id != comp.id and before.id in moved_ids:
                before = None  # a new component under a name that was renamed away
            if before is not None and before.id != comp.id:
                # a purged component replaced by a new one of the same name
                out.append(ComponentChange(before, before.evolve(status=PURGED)))
                before = None
            if (
                before is None
                or before.state() != comp.state()
                or before.physical != comp.physical
                or before.name != comp.name
            ):
                out.append(ComponentChange(before, comp))
        order = {"object": 0, "field": 1}
        return sorted(out, key=lambda ch: (order.get(ch.after.kind, 2), ch.after.position))

    def iter_active_objects(self) -> Iterator[Mapping[str, Any]]:
        yield from self.objects().values()
