"""Cross-reference checks of the kinds beyond objects: rules, permission sets, roles, sharing.

They read the candidate model only; checks that need the expression language are
registered by the runtime (``crm_platform.runtime.checks``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .kinds import Problem

if TYPE_CHECKING:
    from .candidate import CandidateModel

PRINCIPAL_KINDS = {"role": "role", "role_and_subordinates": "role", "group": "group"}


def _field_names(obj: Mapping[str, Any]) -> set[str]:
    return {f["api_name"] for f in obj["fields"]}


def validation_rule_targets(model: CandidateModel, rule: Mapping[str, Any]) -> Iterator[Problem]:
    obj = model.object(rule["object"])
    if obj is None:
        yield ("object", f"no object '{rule['object']}'")
        return
    if "field" in rule and rule["field"] not in _field_names(obj):
        yield ("field", f"no field '{rule['field']}' on '{rule['object']}'")


def permission_set_references(
    model: CandidateModel, permission_set: Mapping[str, Any]
) -> Iterator[Problem]:
    for object_name, grants in permission_set.get("objects", {}).items():
        if model.object(object_name) is None:
            yield (f"objects.{object_name}", f"no object '{object_name}'")
        elif grants.get("edit") and not grants.get("read"):
            yield (f"objects.{object_name}", "edit needs read")
        elif grants.get("delete") and not grants.get("read"):
            yield (f"objects.{object_name}", "delete needs read")
        # create without read is a write-only grant (a web form's guest): it writes only
        # the fields granted edit explicitly and reads nothing back
    for key, grants in permission_set.get("fields", {}).items():
        object_name, field_name = key.split(".", 1)
        obj = model.object(object_name)
        if obj is None or field_name not in _field_names(obj):
            yield (f"fields.{key}", f"no field '{key}'")
        elif grants.get("edit") and grants.get("read") is False:
            yield (f"fields.{key}", "edit needs read")


def role_parent(model: CandidateModel, role: Mapping[str, Any]) -> Iterator[Problem]:
    parent = role.get("parent")
    if parent is None:
        return
    seen = {role["api_name"]}
    current: str | None = parent
    while current is not None:
        comp = model.get("role", current)
        if comp is None or comp.status != "active":
            yield ("parent", f"no role '{current}'")
            return
        if current in seen:
            yield ("parent", f"the role hierarchy would loop through '{current}'")
            return
        seen.add(current)
        current = comp.definition.get("parent")


def queue_objects(model: CandidateModel, queue: Mapping[str, Any]) -> Iterator[Problem]:
    for name in queue["objects"]:
        if model.object(name) is None:
            yield ("objects", f"no object '{name}'")


def sharing_rule_references(model: CandidateModel, rule: Mapping[str, Any]) -> Iterator[Problem]:
    obj = model.object(rule["object"])
    if obj is None:
        yield ("object", f"no object '{rule['object']}'")
        return
    if obj["sharing"] in {"public_read_write", "controlled_by_parent"}:
        yield (
            "object",
            f"'{rule['object']}' is {obj['sharing']}: sharing rules cannot open it further",
        )
    for key in ("owned_by", "share_with"):
        yield from _principal_problems(model, rule.get(key), key)


def _principal_problems(model: CandidateModel, principal, path: str) -> Iterable[Problem]:
    if not principal:
        return []
    ((kind, name),) = principal.items()
    comp = model.get(PRINCIPAL_KINDS[kind], name)
    if comp is None or comp.status != "active":
        return [(f"{path}.{kind}", f"no {PRINCIPAL_KINDS[kind]} '{name}'")]
    return []
