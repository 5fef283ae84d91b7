"""Renaming objects and fields, and the where-used list of a field (DESIGN §0, ADR 0016).

A rename changes metadata only: physical names stay. In the same change set every
definition that names the object or field is rewritten. What names what is declared
per kind on the registry (:meth:`KindRegistry.add_renamer`): this module declares
the references it knows without the expression language (lookup targets, roll-up
relations, permission sets, rules' objects, dependent picklists, name fields); the
runtime adds expressions (formulas, defaults, filters, conditions, criteria) and
later kinds add theirs. The same renamers answer "where is this field used?": the
places a rename would rewrite.

The old name is kept as an alias (``physical["alias"]``) so the record API still
answers to it, with a ``Deprecation`` header, until the component is renamed again,
the old name is taken by another component, or the alias is removed explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from crm_platform.core import Conflict, NotFound, ValidationFailed, utc_now
from crm_platform.fieldtypes import path_target, split_step

from .candidate import CandidateModel
from .kinds import FieldPath, KindRegistry
from .names import api_name_problem, field_name_problem
from .operations import active_object
from .store import ACTIVE, DELETED, PURGED, Component

RELATION_TYPES = frozenset({"lookup", "master_detail"})
PROBE = "zz_where_used_probe"  # the new name a where-used search renames to (never stored)


@dataclass(frozen=True)
class Rename:
    """A rename of an object (``object`` -> ``new``) or of its field (``old`` -> ``new``)."""

    kind: str  # "object" | "field"
    object: str  # the object's name before the change set
    old: str
    new: str


@dataclass(frozen=True)
class Usage:
    """One place that refers to a field: the component (kind, name) and where in it."""

    kind: str
    name: str
    where: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "where": self.where}


class RenameContext:
    """What a renamer needs: the rename, and the model as it was before it (to follow
    lookups through dotted paths by their old names)."""

    def __init__(self, model: CandidateModel, rename: Rename) -> None:
        self.model = model
        self.rename = rename

    def object_name(self, name: str) -> str:
        """``name`` after the rename (object renames change it)."""
        r = self.rename
        return r.new if r.kind == "object" and name == r.object else name

    def is_renamed_field(self, object_name: str, field_name: str) -> bool:
        r = self.rename
        return r.kind == "field" and object_name == r.object and field_name == r.old

    def field_name(self, object_name: str, field_name: str) -> str:
        """``field_name`` of ``object_name`` after the rename."""
        return self.rename.new if self.is_renamed_field(object_name, field_name) else field_name

    def rename_path(self, start: str, path: FieldPath) -> FieldPath:
        """A dotted field path read from object ``start``, with the rename applied wherever
        the path reaches what was renamed: a field (following lookups, and a polymorphic
        lookup where a step narrows it: ``related_to[account].industry``), or the object
        a step narrows to (``related_to[account]``). This is the one place paths are
        rewritten: expressions, merge fields and approver paths all come here."""
        out = []
        current: str | None = start
        for step in path:
            name, narrowed = split_step(step)
            renamed = self.field_name(current, name) if current else name
            out.append(renamed if narrowed is None else f"{renamed}[{self.object_name(narrowed)}]")
            current = self._target(current, name, narrowed) if current else None
        return tuple(out)

    def _target(self, object_name: str, field_name: str, narrowed: str | None = None) -> str | None:
        """The object a lookup step goes on to (before the rename), or None."""
        if field_name == "owner":
            return None  # the owner lookup goes to the users, which have no renamable fields
        comp = self.model.get("field", f"{object_name}.{field_name}")
        if comp is None or comp.definition["type"] not in RELATION_TYPES:
            return None
        return path_target(comp.definition, narrowed)


# --- the references this package knows ---------------------------------------------------


def _field_references(ctx: RenameContext, comp: Component, definition: Mapping[str, Any]):
    """Lookup targets, roll-up relations and summarised fields, controlling picklists."""
    out = dict(definition)
    places: list[str] = []
    if definition["type"] in RELATION_TYPES:
        if "target" in out and ctx.object_name(out["target"]) != out["target"]:
            out["target"] = ctx.object_name(out["target"])
            places.append("target")
        if "targets" in out:
            targets = [ctx.object_name(t) for t in out["targets"]]
            if targets != list(out["targets"]):
                out["targets"] = targets
                places.append("targets")
    if definition["type"] == "rollup_summary":
        child, link = definition["relation"].split(".", 1)
        relation = f"{ctx.object_name(child)}.{ctx.field_name(child, link)}"
        if relation != definition["relation"]:
            out["relation"] = relation
            places.append("relation")
        if "field" in definition and ctx.is_renamed_field(child, definition["field"]):
            out["field"] = ctx.rename.new
            places.append("field")
    controlling = definition.get("controlling_field")
    if controlling and ctx.is_renamed_field(comp.parent or "", controlling):
        out["controlling_field"] = ctx.rename.new
        places.append("controlling_field")
    return out, places


def _object_header(ctx: RenameContext, comp: Component, definition: Mapping[str, Any]):
    """An object's name field."""
    if ctx.is_renamed_field(comp.name, definition.get("name_field", "")):
        return {**definition, "name_field": ctx.rename.new}, ["name_field"]
    return definition, []


def _rule_object_and_field(ctx: RenameContext, comp: Component, definition: Mapping[str, Any]):
    """A validation or sharing rule's object, and the field a validation rule points at."""
    out = dict(definition)
    places = []
    if ctx.object_name(definition["object"]) != definition["object"]:
        out["object"] = ctx.object_name(definition["object"])
        places.append("object")
    if "field" in definition and ctx.is_renamed_field(definition["object"], definition["field"]):
        out["field"] = ctx.rename.new
        places.append("field")
    return out, places


def _permission_set(ctx: RenameContext, comp: Component, definition: Mapping[str, Any]):
    """Object permissions by object name, field permissions by ``object.field``."""
    out = dict(definition)
    places = []
    if "objects" in definition:
        objects = {ctx.object_name(k): v for k, v in definition["objects"].items()}
        places += [f"objects.{k}" for k in definition["objects"] if ctx.object_name(k) != k]
        out["objects"] = objects
    if "fields" in definition:
        fields = {}
        for key, grants in definition["fields"].items():
            object_name, field_name = key.split(".", 1)
            new_key = f"{ctx.object_name(object_name)}.{ctx.field_name(object_name, field_name)}"
            if new_key != key:
                places.append(f"fields.{key}")
            fields[new_key] = grants
        out["fields"] = fields
    return out, places


def _queue(ctx: RenameContext, comp: Component, definition: Mapping[str, Any]):
    """The objects a queue takes records of."""
    objects = [ctx.object_name(name) for name in definition["objects"]]
    if objects == list(definition["objects"]):
        return definition, []
    return {**definition, "objects": objects}, ["objects"]


KIND_RENAMERS = [
    ("field", _field_references),
    ("object", _object_header),
    ("validation_rule", _rule_object_and_field),
    ("sharing_rule", _rule_object_and_field),
    ("permission_set", _permission_set),
    ("queue", _queue),
]


# --- rewriting and where-used ------------------------------------------------------------


def _live_components(model: CandidateModel, kinds: Iterable[str]) -> list[Component]:
    """Active and deleted components of ``kinds`` (a deleted field comes back as it was)."""
    wanted = set(kinds)
    return [
        comp
        for comp in model.components.values()
        if comp.kind in wanted
        and comp.status in {ACTIVE, DELETED}
        and model.get(comp.kind, comp.name) is comp
    ]


def rewrites(
    model: CandidateModel, registry: KindRegistry, rename: Rename
) -> list[tuple[Component, Mapping[str, Any], list[str]]]:
    """Every component a rename changes: (component, new definition, places changed)."""
    ctx = RenameContext(model, rename)
    found = []
    for comp in _live_components(model, registry.renamers):
        definition: Mapping[str, Any] = comp.definition
        places: list[str] = []
        for renamer in registry.renamers[comp.kind]:
            definition, more = renamer(ctx, comp, definition)
            places += more
        if places:
            found.append((comp, definition, places))
    return found


def field_usages(
    model: CandidateModel, registry: KindRegistry, object_name: str, field_name: str
) -> list[Usage]:
    """Every component that refers to the field, and where (the field itself left out)."""
    own_key = ("field", f"{object_name}.{field_name}")
    rename = Rename("field", object_name, field_name, PROBE)
    usages = []
    for comp, _definition, places in rewrites(model, registry, rename):
        if comp.key == own_key:
            continue
        usages.extend(Usage(comp.kind, comp.name, where) for where in places)
    return sorted(usages, key=lambda u: (u.kind, u.name, u.where))


def refuse_if_used(
    model: CandidateModel, registry: KindRegistry, object_name: str, field_name: str
) -> None:
    """409 with the where-used list when other live components refer to the field
    (a component in the recycle bin does not hold it: it is checked when restored)."""
    usages = [
        u
        for u in field_usages(model, registry, object_name, field_name)
        if not _is_deleted(model, u)
    ]
    if usages:
        raise Conflict(
            f"field '{field_name}' is used by {len(usages)} component(s): change them first",
            extra={"usages": [u.as_dict() for u in usages]},
        )


def _is_deleted(model: CandidateModel, usage: Usage) -> bool:
    comp = model.components.get((usage.kind, usage.name))
    return comp is not None and comp.status == DELETED


def rename_field(
    model: CandidateModel, registry: KindRegistry, object_name: str, old: str, new: Any
) -> Component:
    """Rename a field of an active object and rewrite every reference to it."""
    if (problem := field_name_problem(new)) is not None:
        raise ValidationFailed({"api_name": problem})
    active_object(model, object_name)
    comp = model.get("field", f"{object_name}.{old}")
    if comp is None:
        raise NotFound(f"no field '{old}' on '{object_name}'")
    if comp.status != ACTIVE:
        raise Conflict(f"field '{old}' is in the recycle bin: restore it first")
    if model.get("field", f"{object_name}.{new}") is not None:
        raise Conflict(f"a field '{new}' already exists on '{object_name}'")
    _apply_rewrites(model, registry, Rename("field", object_name, old, new))
    comp = model.components[comp.key]
    _drop_alias(model, model.group("field", object_name).values(), new)
    definition = {**comp.definition, "api_name": new}
    model.renamed_definitions[comp.id] = definition
    moved = model.move(comp, f"{object_name}.{new}", parent=object_name, definition=definition)
    return model.update(moved, physical=_with_alias(moved.physical, old))


def rename_object(model: CandidateModel, registry: KindRegistry, old: str, new: Any) -> Component:
    """Rename an object: its fields and per-object components move with it, and every
    reference to it is rewritten."""
    if (problem := api_name_problem(new)) is not None:
        raise ValidationFailed({"api_name": problem})
    comp = active_object(model, old)
    if model.get("object", new) is not None:
        raise Conflict(f"an object '{new}' already exists")
    _apply_rewrites(model, registry, Rename("object", old, old, new))
    for kind in registry.kinds.values():
        if kind.name == "field" or kind.per_object:
            for child in list(model.group(kind.name, old).values()):
                if child.status != PURGED and model.get(child.kind, child.name) is child:
                    suffix = child.name.split(".", 1)[1]
                    model.move(child, f"{new}.{suffix}", parent=new)
    comp = model.components[comp.key]
    _drop_alias(model, model.group("object", None).values(), new)
    moved = model.move(comp, new, parent=None, definition={**comp.definition, "api_name": new})
    return model.update(moved, physical=_with_alias(moved.physical, old))


def _apply_rewrites(model: CandidateModel, registry: KindRegistry, rename: Rename) -> None:
    # all computed against the model before the rename, then applied
    for comp, definition, _places in rewrites(model, registry, rename):
        model.update(comp, definition=dict(definition))
        model.renamed_definitions[comp.id] = dict(definition)


def _with_alias(physical: Mapping[str, Any], old: str) -> dict[str, Any]:
    return {**physical, "alias": {"name": old, "since": utc_now().isoformat()}}


def _drop_alias(model: CandidateModel, siblings: Iterable[Component], name: str) -> None:
    """A name taken by a rename stops being another component's alias."""
    for sibling in list(siblings):
        alias = sibling.physical.get("alias")
        if alias and alias["name"] == name and sibling.status != PURGED:
            model.update(
                sibling, physical={k: v for k, v in sibling.physical.items() if k != "alias"}
            )


def remove_alias(model: CandidateModel, kind: str, name: str, alias: str) -> Component:
    """End the deprecation period of an old name now."""
    comp = model.get(kind, name)
    if comp is None or (comp.physical.get("alias") or {}).get("name") != alias:
        raise NotFound(f"'{alias}' is not an old name of {kind} '{name}'")
    return model.update(comp, physical={k: v for k, v in comp.physical.items() if k != "alias"})
