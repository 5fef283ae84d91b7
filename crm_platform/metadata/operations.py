"""Edits a change set makes to the candidate model: create, update, delete, restore, purge.

Each edit checks the shape of its input (JSON Schema) and the component's state;
the cross-reference checks run once on the whole candidate afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_platform.core import Conflict, NotFound, ValidationFailed
from crm_platform.fieldtypes import field_type

from .candidate import CandidateModel
from .canonical import canonical_field, canonical_object, object_header
from .ddl import assign_columns
from .kinds import KindRegistry
from .names import OBJECT_TABLE_PREFIX, api_name_problem, choose_physical_name
from .store import ACTIVE, DELETED, PURGED, Component


def field_key(object_name: str, field_name: str) -> str:
    return f"{object_name}.{field_name}"


def require_shape(registry: KindRegistry, kind: str, raw: Any, prefix: str = "") -> None:
    """Refuse input that does not match the kind's JSON Schema, naming each path."""
    problems = registry.schema_problems(kind, raw, prefix)
    if problems:
        errors: dict[str, list[str]] = {}
        for path, message in problems:
            errors.setdefault(path, []).append(message)
        raise ValidationFailed(errors)


def require_unique_field_names(raw: Mapping[str, Any]) -> None:
    """Refuse a definition that names the same field twice."""
    seen: set[str] = set()
    errors = {}
    for index, field_def in enumerate(raw.get("fields", [])):
        name = field_def["api_name"]
        if name in seen:
            errors[f"fields[{index}].api_name"] = f"the field '{name}' is defined twice"
        seen.add(name)
    if errors:
        raise ValidationFailed(errors)


def active_object(model: CandidateModel, name: str) -> Component:
    comp = model.get("object", name)
    if comp is None:
        raise NotFound(f"no object '{name}'")
    if comp.status == DELETED:
        raise Conflict(f"object '{name}' is in the recycle bin: restore it first")
    return comp


def create_object(
    model: CandidateModel, registry: KindRegistry, raw: Mapping[str, Any], *, owner: str
) -> Component:
    """Add a new object and its fields."""
    require_shape(registry, "object", raw)
    require_unique_field_names(raw)
    name = raw["api_name"]
    existing = model.get("object", name)
    if existing is not None:
        where = " in the recycle bin" if existing.status == DELETED else ""
        raise Conflict(f"an object '{name}' already exists{where}")
    definition = canonical_object(raw)
    table = choose_physical_name(
        name, model.used_physical_names("object"), prefix=OBJECT_TABLE_PREFIX
    )
    comp = model.new_component(
        "object", name, object_header(definition), owner=owner, physical={"table": table}
    )
    for field_def in definition["fields"]:
        _create_field(model, comp, field_def, owner=owner)
    return comp


def update_object(
    model: CandidateModel,
    registry: KindRegistry,
    raw: Mapping[str, Any],
    *,
    owner: str,
    replace_fields: bool = False,
) -> Component:
    """Update an object: its header as given, and its fields upserted.

    With ``replace_fields`` the given fields are the whole list: fields left out
    go to the recycle bin and fields given that are there come back.
    """
    require_shape(registry, "object", raw)
    require_unique_field_names(raw)
    name = raw["api_name"]
    comp = active_object(model, name)
    stored = [dict(f.definition) for f in model.fields_of(name)]
    definition = canonical_object(raw, existing_fields=stored)
    comp = model.set_object_header(comp, definition)
    given = set()
    for field_def in definition["fields"]:
        given.add(field_def["api_name"])
        put_field(model, comp, field_def, owner=owner, restore=replace_fields)
    if replace_fields:
        for field_comp in model.fields_of(name):
            if field_comp.definition["api_name"] not in given:
                model.update(field_comp, status=DELETED)
    return comp


def patch_object(
    model: CandidateModel,
    registry: KindRegistry,
    name: str,
    partial: Mapping[str, Any],
    *,
    owner: str,
) -> Component:
    """Change some header attributes of an object (and upsert any fields given)."""
    if not isinstance(partial, Mapping):
        raise ValidationFailed({"(root)": "expected a JSON object"})
    if "api_name" in partial and partial["api_name"] != name:
        raise ValidationFailed({"api_name": "an object's api_name cannot be changed here"})
    comp = active_object(model, name)
    raw = {**comp.definition, **partial, "api_name": name}
    return update_object(model, registry, raw, owner=owner)


def set_object_status(model: CandidateModel, name: str, status: str) -> Component:
    comp = model.get("object", name)
    if comp is None:
        raise NotFound(f"no object '{name}'")
    return model.update(comp, status=status)


def purge_object(model: CandidateModel, name: str, confirm: str | None) -> None:
    """Remove an object, its table and its data for good (``confirm`` must repeat its name)."""
    comp = model.get("object", name)
    if comp is None:
        raise NotFound(f"no object '{name}'")
    _require_confirmation(confirm, name)
    for field_comp in model.fields_of(name, include_deleted=True):
        model.update(field_comp, status=PURGED)
    model.update(comp, status=PURGED)


def put_field(
    model: CandidateModel,
    obj: Component,
    definition: Mapping[str, Any],
    *,
    owner: str,
    restore: bool = False,
) -> Component:
    """Create the field, or replace the definition of the existing one."""
    existing = model.get("field", field_key(obj.name, definition["api_name"]))
    if existing is None:
        return _create_field(model, obj, definition, owner=owner)
    if existing.status == DELETED and not restore:
        raise Conflict(
            f"field '{definition['api_name']}' is in the recycle bin: restore or purge it first"
        )
    return model.update(existing, definition=dict(definition), status=ACTIVE)


def add_field(
    model: CandidateModel, registry: KindRegistry, object_name: str, raw: Any, *, owner: str
) -> Component:
    """Add one new field to an object."""
    obj = active_object(model, object_name)
    require_shape(registry, "field", raw)
    definition = canonical_field(raw)
    existing = model.get("field", field_key(object_name, definition["api_name"]))
    if existing is not None:
        where = " in the recycle bin" if existing.status == DELETED else ""
        raise Conflict(f"a field '{definition['api_name']}' already exists{where}")
    return _create_field(model, obj, definition, owner=owner)


def patch_field(
    model: CandidateModel,
    registry: KindRegistry,
    object_name: str,
    field_name: str,
    partial: Any,
    *,
    owner: str,
) -> Component:
    """Change options of an existing field (its type too, where that is safe)."""
    obj = active_object(model, object_name)
    comp = _live_field(model, object_name, field_name)
    if not isinstance(partial, Mapping):
        raise ValidationFailed({"(root)": "expected a JSON object"})
    if "api_name" in partial and partial["api_name"] != field_name:
        raise ValidationFailed({"api_name": "a field's api_name cannot be changed here"})
    raw = {**comp.definition, **partial, "api_name": field_name}
    if "type" in partial and partial["type"] != comp.definition["type"]:
        raw = {k: v for k, v in raw.items() if k in _portable_options(partial)}
    require_shape(registry, "field", raw)
    return put_field(model, obj, canonical_field(raw), owner=owner)


def _portable_options(partial: Mapping[str, Any]) -> set[str]:
    """On a type change, keep only options every type has plus the ones given."""
    common = {
        "api_name",
        "label",
        "description",
        "help_text",
        "required",
        "track_history",
        "searchable",
    }
    return common | set(partial)


def set_field_status(model: CandidateModel, object_name: str, field_name: str, status: str):
    active_object(model, object_name)
    comp = model.get("field", field_key(object_name, field_name))
    if comp is None:
        raise NotFound(f"no field '{field_name}' on '{object_name}'")
    return model.update(comp, status=status)


def purge_field(model: CandidateModel, object_name: str, field_name: str, confirm: str | None):
    """Remove a field, its columns and its data for good (``confirm`` repeats its name)."""
    active_object(model, object_name)
    comp = model.get("field", field_key(object_name, field_name))
    if comp is None:
        raise NotFound(f"no field '{field_name}' on '{object_name}'")
    _require_confirmation(confirm, field_name)
    model.update(comp, status=PURGED)


def _live_field(model: CandidateModel, object_name: str, field_name: str) -> Component:
    comp = model.get("field", field_key(object_name, field_name))
    if comp is None:
        raise NotFound(f"no field '{field_name}' on '{object_name}'")
    if comp.status == DELETED:
        raise Conflict(f"field '{field_name}' is in the recycle bin: restore it first")
    return comp


def _require_confirmation(confirm: str | None, name: str) -> None:
    if confirm != name:
        raise ValidationFailed(
            {"confirm": f"purging deletes the data for good: confirm with the name '{name}'"}
        )


def _create_field(
    model: CandidateModel, obj: Component, definition: Mapping[str, Any], *, owner: str
) -> Component:
    taken = model.used_physical_names("field", obj.name)
    storage = rollup_storage(model, definition) if definition["type"] == "rollup_summary" else None
    physical = assign_columns(definition, taken, obj.physical["table"], storage)
    return model.new_component(
        "field",
        field_key(obj.name, definition["api_name"]),
        definition,
        parent=obj.name,
        owner=owner,
        physical=physical,
    )


def rollup_storage(model: CandidateModel, definition: Mapping[str, Any]) -> dict[str, Any]:
    """The column type of a roll-up, fixed at creation from the field it summarises."""
    if definition["function"] == "count" or "field" not in definition:
        return {"storage": "integer"}
    child_name = definition["relation"].split(".", 1)[0]
    child = model.get("field", field_key(child_name, definition["field"]))
    if child is None:
        return {"storage": "integer"}
    if child.definition["type"] == "rollup_summary":
        spec = dict(child.physical.get("storage") or {"storage": "integer"})
    else:
        spec = field_type(child.definition["type"]).storage_spec(child.definition)
    if spec["storage"] == "decimal" and definition["function"] == "sum":
        spec["precision"] = 18
    return spec


def settle_rollup_storage(model: CandidateModel) -> None:
    """Fix the column type of roll-ups created in this change set.

    Done once all edits are in, so a roll-up over an object created later in the
    same change set (a pack, a YAML folder) sees the field it summarises.
    """
    for change in model.changes():
        comp = change.after
        is_new_field = change.before is None and comp.kind == "field" and comp.status == ACTIVE
        if is_new_field and comp.definition["type"] == "rollup_summary":
            storage = rollup_storage(model, comp.definition)
            model.update(comp, physical={**comp.physical, "storage": storage})


def put_component(
    model: CandidateModel,
    registry: KindRegistry,
    kind_name: str,
    raw: Any,
    *,
    owner: str,
    create_only: bool = False,
) -> Component:
    """Create or replace a component of a generic kind (validation rules, and later others)."""
    kind = registry.kind(kind_name)
    if not isinstance(raw, Mapping):
        raise ValidationFailed({"(root)": "expected a JSON object"})
    require_shape(registry, kind_name, raw)
    if problem := api_name_problem(raw["api_name"]):
        raise ValidationFailed({"api_name": problem})
    name = kind.component_name(raw)
    parent = raw.get("object") if kind.per_object else None
    existing = model.get(kind_name, name)
    if existing is None:
        return model.new_component(kind_name, name, dict(raw), parent=parent, owner=owner)
    if create_only:
        raise Conflict(f"a {kind_name} '{name}' already exists")
    return model.update(existing, definition=dict(raw), status=ACTIVE)


def remove_component(model: CandidateModel, kind_name: str, name: str) -> None:
    comp = model.get(kind_name, name)
    if comp is None:
        raise NotFound(f"no {kind_name} '{name}'")
    model.update(comp, status=PURGED)
