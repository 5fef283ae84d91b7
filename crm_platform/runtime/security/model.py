"""The security metadata compiled per version: permission sets, roles, groups, queues, rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from crm_platform.metadata import Snapshot

SYSTEM_PERMISSIONS = (
    "customize_application",
    "manage_users",
    "manage_packs",
    "export_data",
    "api_enabled",
    "view_setup",
    "view_encrypted",
    "view_all_data",
    "modify_all_data",
    "transfer_records",
)
ADMIN_PERMISSION_SET = "system_administrator"
ALL_POWERFUL = "modify_all_data"  # holds every system permission (see UserAccess.has)


def grants_system(permission_set: Mapping[str, Any], permission: str) -> bool:
    """Whether a permission set's definition gives a system permission."""
    system = permission_set.get("system", ())
    return permission in system or ALL_POWERFUL in system


@dataclass(frozen=True)
class Role:
    name: str
    id: str
    parent: str | None


@dataclass(frozen=True)
class Queue:
    name: str
    id: str
    objects: tuple[str, ...]
    label: str | Mapping[str, str] | None = None  # what a record's ``_names`` shows


@dataclass(frozen=True)
class SharingRule:
    name: str
    object: str
    access: str  # read | edit
    share_with: str  # a principal key: role:<id>, sub:<id> or group:<id>
    criteria: str | None
    owned_by: tuple[str, str] | None  # (role | role_and_subordinates | group, name)

    @property
    def reason(self) -> str:
        return f"rule:{self.name}"


@dataclass(frozen=True)
class SecurityModel:
    """Everything access checks need from the metadata, for one version."""

    permission_sets: Mapping[str, Mapping[str, Any]]
    roles: Mapping[str, Role]
    groups: Mapping[str, str]  # name -> principal id
    queues: Mapping[str, Queue]
    sharing_rules: Mapping[str, tuple[SharingRule, ...]]  # by object

    def ancestors(self, role: str | None) -> list[str]:
        """The role and every role above it."""
        out: list[str] = []
        while role is not None and role in self.roles and role not in out:
            out.append(role)
            role = self.roles[role].parent
        return out

    def subordinates(self, role: str | None) -> frozenset[str]:
        """Every role below ``role`` (not the role itself)."""
        if role is None:
            return frozenset()
        below: set[str] = set()
        frontier = [role]
        children: dict[str, list[str]] = {}
        for r in self.roles.values():
            if r.parent:
                children.setdefault(r.parent, []).append(r.name)
        while frontier:
            for child in children.get(frontier.pop(), []):
                if child not in below:
                    below.add(child)
                    frontier.append(child)
        return frozenset(below)

    def principal_key(self, kind: str, name: str) -> str | None:
        """The share-row key of a role, role and subordinates, or group."""
        if kind in {"role", "role_and_subordinates"} and name in self.roles:
            prefix = "role" if kind == "role" else "sub"
            return f"{prefix}:{self.roles[name].id}"
        if kind == "group" and name in self.groups:
            return f"group:{self.groups[name]}"
        return None


def compile_security(snapshot: Snapshot) -> SecurityModel:
    """Build the security model of a snapshot (active components only)."""
    roles = {
        c.name: Role(c.name, c.id, c.definition.get("parent")) for c in snapshot.of_kind("role")
    }
    groups = {c.name: c.id for c in snapshot.of_kind("group")}
    queues = {
        c.name: Queue(c.name, c.id, tuple(c.definition["objects"]), c.definition.get("label"))
        for c in snapshot.of_kind("queue")
    }
    partial = SecurityModel(
        MappingProxyType({c.name: c.definition for c in snapshot.of_kind("permission_set")}),
        MappingProxyType(roles),
        MappingProxyType(groups),
        MappingProxyType(queues),
        MappingProxyType({}),
    )
    rules: dict[str, list[SharingRule]] = {}
    for comp in snapshot.of_kind("sharing_rule"):
        d = comp.definition
        ((kind, name),) = d["share_with"].items()
        key = partial.principal_key(kind, name)
        if key is None:
            continue
        owned_by = next(iter(d["owned_by"].items())) if "owned_by" in d else None
        rules.setdefault(d["object"], []).append(
            SharingRule(d["api_name"], d["object"], d["access"], key, d.get("criteria"), owned_by)
        )
    return SecurityModel(
        partial.permission_sets,
        partial.roles,
        partial.groups,
        partial.queues,
        MappingProxyType({k: tuple(v) for k, v in rules.items()}),
    )
