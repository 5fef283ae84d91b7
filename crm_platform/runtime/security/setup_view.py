"""Setup as one user may see it: the metadata read endpoints and the OpenAPI document show
a user who does not administer the org only the objects and fields they may read.

Setup viewers (``customize_application`` or ``view_setup``, and administrators) see
everything. Everyone else sees:

- objects they may read, with only the fields :meth:`UserAccess.field_readable` allows;
- in those fields, nothing that names what they may not read: a formula or roll-up
  opened by ``read_derived`` loses its expression (filter, summarised field); a
  dependent picklist whose controlling field is hidden loses ``controlling_field`` and
  ``valid_for``; a default expression over hidden fields is left out;
- validation rules whose condition (and field) they may read entirely;
- no other kind (permission sets, roles, groups, queues, sharing rules): those are the
  org's security design, setup viewers only. A kind is setup-only until it says here
  how to show it per user.

Docs: ``docs/adr/0019-confidential-fields.md``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from crm_platform.expressions import ExpressionError, parse

from .access import UserAccess

if TYPE_CHECKING:
    from ..model import FieldModel, ObjectModel, OrgModel

SETUP_PERMISSIONS = ("customize_application", "view_setup")
PER_USER_KINDS = frozenset({"object", "field", "validation_rule"})


def sees_setup(access: UserAccess) -> bool:
    """Whether the user sees every definition (an administrator or a setup viewer)."""
    return any(access.has(p) for p in SETUP_PERMISSIONS)


def object_visible(access: UserAccess, object_name: str) -> bool:
    """Whether the object's definition is shown to the user."""
    return sees_setup(access) or (
        access.model.object(object_name) is not None and access.can(object_name, "read")
    )


def object_definition(access: UserAccess, definition: Mapping[str, Any]) -> dict[str, Any] | None:
    """An object's definition (with ``fields``) as the user may see it; None when hidden."""
    name = definition["api_name"]
    if sees_setup(access):
        return dict(definition)
    if not object_visible(access, name):
        return None
    fields = [field_definition(access, name, f) for f in definition.get("fields", ())]
    return {**definition, "fields": [f for f in fields if f is not None]}


def field_definition(
    access: UserAccess, object_name: str, definition: Mapping[str, Any]
) -> dict[str, Any] | None:
    """A field's definition as the user may see it; None when the field is hidden."""
    if sees_setup(access):
        return dict(definition)
    name = definition["api_name"]
    if not object_visible(access, object_name) or not access.field_readable(object_name, name):
        return None
    shown = dict(definition)
    if access.hidden_dependencies(object_name, name):
        for key in ("expression", "field", "filter"):
            shown.pop(key, None)
    controlling = shown.get("controlling_field")
    if controlling and not access.field_readable(object_name, controlling):
        shown.pop("controlling_field")
        shown["values"] = [_without_valid_for(value) for value in shown.get("values", ())]
    if shown.get("default_expression") and not _paths_readable(
        access, object_name, shown["default_expression"]
    ):
        shown.pop("default_expression")
    return shown


def _without_valid_for(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: v for k, v in value.items() if k != "valid_for"}
    return value


def component_visible(access: UserAccess, kind: str, definition: Mapping[str, Any]) -> bool:
    """Whether a component of a kind other than object/field is shown to the user."""
    if sees_setup(access):
        return True
    check = KIND_CHECKS.get(kind)
    return check is not None and check(access, definition)


def kind_visible(access: UserAccess, kind: str) -> bool:
    """Whether the user may list a kind at all (setup-only kinds answer 403)."""
    return sees_setup(access) or kind in KIND_CHECKS


def _rule_visible(access: UserAccess, definition: Mapping[str, Any]) -> bool:
    object_name = definition["object"]
    if not object_visible(access, object_name):
        return False
    field = definition.get("field")
    if field and not access.field_readable(object_name, field):
        return False
    return _paths_readable(access, object_name, definition["condition"])


def _paths_readable(access: UserAccess, object_name: str, source: str) -> bool:
    try:
        paths = parse(source).field_paths
    except ExpressionError:
        return False
    return all(access.path_readable(object_name, p) for p in paths)


KIND_CHECKS: Mapping[str, Callable[[UserAccess, Mapping[str, Any]], bool]] = MappingProxyType(
    {"validation_rule": _rule_visible}
)


# --- the compiled model as one user may see it (the OpenAPI document) --------------------


def visible_model(model: OrgModel, access: UserAccess) -> OrgModel:
    """The compiled model with only what the user may read (the model itself for setup
    viewers); its tables are the model's own, only objects and fields are left out."""
    if sees_setup(access):
        return model
    objects: dict[str, ObjectModel] = {}
    for name, obj in model.objects.items():
        if not access.can(name, "read"):
            continue
        fields: dict[str, FieldModel] = {}
        for field_name, fld in obj.fields.items():
            shown = field_definition(access, name, fld.definition)
            if shown is not None:
                same = shown == dict(fld.definition)
                definition = fld.definition if same else MappingProxyType(shown)
                fields[field_name] = dataclasses.replace(fld, definition=definition)
        objects[name] = dataclasses.replace(obj, fields=MappingProxyType(fields))
    relations = {
        target: tuple(r for r in found if r.child in objects and r.field in objects[r.child].fields)
        for target, found in model.relations_to.items()
        if target in objects
    }
    rollups = {
        child: tuple(
            r for r in found if r.parent in objects and r.field in objects[r.parent].fields
        )
        for child, found in model.rollups_over.items()
        if child in objects
    }
    rules = {
        name: tuple(r for r in found if _rule_visible(access, r))
        for name, found in model.validation_rules.items()
        if name in objects
    }
    return dataclasses.replace(
        model,
        objects=MappingProxyType(objects),
        relations_to=MappingProxyType(relations),
        rollups_over=MappingProxyType(rollups),
        validation_rules=MappingProxyType(rules),
    )


def audience_key(model: OrgModel, access: UserAccess) -> tuple[Any, ...]:
    """What the user's OpenAPI document depends on: every user with the same key gets
    the same document (setup viewers share one)."""
    if sees_setup(access):
        return ("all",)
    return tuple(
        (name, field_name, access.hidden_dependencies(name, field_name) != [])
        for name, obj in model.objects.items()
        if access.can(name, "read")
        for field_name in obj.fields
        if access.field_readable(name, field_name)
    )


def derived_grant_warnings(model: OrgModel, definition: Mapping[str, Any]) -> list[str]:
    """What an admin is told when a permission set opens derived fields (read_derived):
    the fields whose values its holders will see through them."""
    warnings = []
    for name, grant in sorted(definition.get("fields", {}).items()):
        if not grant.get("read_derived"):
            continue
        object_name, _, field_name = name.partition(".")
        deps = sorted(
            f"{o}.{f}" for o, f in model.field_dependencies.get((object_name, field_name), ()) if f
        )
        if deps:
            warnings.append(
                f"read_derived on {name}: its holders see a value computed from "
                f"{', '.join(deps)}, even where they may not read those fields"
            )
    return warnings
