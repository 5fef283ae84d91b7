"""What one user may do, computed at the start of a request from their assignments.

Permission sets add up: a profile is a set given as a base, more sets add to it.
Within a set, a field it does not name follows the set's object permission; a
field it names takes the read/edit it says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from crm_platform.core.tables import USER_PUBLIC_COLUMNS
from crm_platform.fieldtypes import OWNER, USER, field_type, path_target, split_step

from ..users import User
from .dependencies import SYSTEM_FIELD
from .model import ALL_POWERFUL, SYSTEM_PERMISSIONS, SecurityModel
from .principals import Principal, read_principal
from .scopes import SCOPED_SYSTEM_PERMISSIONS, RecordScope, scope_for

if TYPE_CHECKING:
    from ..model import OrgModel

OBJECT_OPERATIONS = ("read", "create", "edit", "delete", "view_all", "modify_all")
NO_ACCESS = dict.fromkeys(OBJECT_OPERATIONS, False)


@dataclass
class UserAccess:
    """The effective permissions and principals of one user (per request)."""

    user: User
    role: str | None
    system: frozenset[str]
    objects: Mapping[str, Mapping[str, bool]]
    field_grants: Mapping[tuple[str, str], tuple[bool, bool]]
    principals: frozenset[str]
    owner_ids: frozenset[str]
    subordinate_roles: frozenset[str]
    security: SecurityModel
    model: OrgModel
    # fields a set grants with read_derived: readable even when they are computed from
    # fields the user may not read (an admin's explicit choice)
    derived_grants: frozenset[tuple[str, str]] = frozenset()
    # a portal user's scope (ADR 0046): replaces sharing on every read; None for colleagues
    scope: RecordScope | None = None
    _readable: dict[tuple[str, str], bool] = field(default_factory=dict)

    # --- system and object permissions -----------------------------------------------
    @property
    def all_powerful(self) -> bool:
        return self.user.is_system or ALL_POWERFUL in self.system

    def has(self, permission: str) -> bool:
        return self.all_powerful or permission in self.system

    def can(self, object_name: str, operation: str) -> bool:
        """Object permission: read, create, edit, delete, view_all or modify_all."""
        if self.all_powerful:
            return True
        grants = self.objects.get(object_name, NO_ACCESS)
        if operation == "read" and self.sees_all(object_name):
            return True
        return bool(grants.get(operation))

    def sees_all(self, object_name: str) -> bool:
        """view_all / modify_all on the object, or view_all_data: sharing does not apply."""
        if self.all_powerful or "view_all_data" in self.system:
            return True
        grants = self.objects.get(object_name, NO_ACCESS)
        return bool(grants.get("view_all") or grants.get("modify_all"))

    def edits_all(self, object_name: str) -> bool:
        if self.all_powerful:
            return True
        return bool(self.objects.get(object_name, NO_ACCESS).get("modify_all"))

    # --- fields ---------------------------------------------------------------------
    def field_readable(self, object_name: str, field_name: str) -> bool:
        """THE decision whether the user may read a field; every output asks it (records,
        lists, filters, sorts, search, history, aggregates, errors, setup, OpenAPI).

        A field is readable with read on its object and a field grant. A formula or
        roll-up is readable only when every field it is computed from is readable too
        (directly, through formulas of formulas and the lookups of dotted paths: the
        closure is compiled once per metadata version), unless a permission set grants
        it with ``read_derived``. An encrypted field is readable masked; its plaintext
        needs :meth:`reads_plaintext` as well.
        """
        key = (object_name, field_name)
        found = self._readable.get(key)
        if found is None:
            found = self._readable[key] = self._compute_readable(object_name, field_name)
        return found

    def _compute_readable(self, object_name: str, field_name: str) -> bool:
        if not self.can(object_name, "read"):
            return False
        if self.all_powerful:
            return True
        if not self._granted(object_name, field_name):
            return False
        if (object_name, field_name) in self.derived_grants:
            return True
        return all(
            self.can(dep_object, "read")
            if dep_field == SYSTEM_FIELD
            else self._granted(dep_object, dep_field)
            for dep_object, dep_field in self.model.field_dependencies.get(
                (object_name, field_name), ()
            )
        )

    def _granted(self, object_name: str, field_name: str) -> bool:
        """Object read and the field's own grant (no derivation considered)."""
        if not self.can(object_name, "read"):
            return False
        if self.all_powerful:
            return True
        return self.field_grants.get((object_name, field_name), (False, False))[0]

    def reads_plaintext(self, object_name: str, field_name: str) -> bool:
        """Whether an encrypted field reads as plaintext (else masked): a readable field
        and the ``view_encrypted`` permission."""
        return self.field_readable(object_name, field_name) and self.has("view_encrypted")

    def hidden_dependencies(self, object_name: str, field_name: str) -> list[str]:
        """The fields a derived field is computed from that the user may not read
        (``object.field``; what a ``read_derived`` grant would reveal)."""
        return sorted(
            f"{o}.{f}"
            for o, f in self.model.field_dependencies.get((object_name, field_name), ())
            if f != SYSTEM_FIELD and not self._granted(o, f)
        )

    def path_readable(self, object_name: str, path: tuple[str, ...]) -> bool:
        """Every step of a dotted path is readable (the lookups and the field at the end).

        A lookup to ``user`` reads on into the user's public columns (the directory's own,
        readable by anyone who may read the lookup), and ``owner`` into the owning user's;
        a polymorphic lookup only when the step names one of its targets
        (``related_to[account]``).
        """
        obj = self.model.object(object_name)
        for index, step in enumerate(path):
            if obj is None:
                return False
            if step in SYSTEM_FIELD_NAMES and index == len(path) - 1:
                return self.can(obj.api_name, "read")
            name, narrowed = split_step(step)
            fld = obj.fields.get(name)
            if fld is None and step == OWNER:  # the owning user's public columns
                ends = index == len(path) - 2 and path[-1] in USER_PUBLIC_COLUMNS
                return ends and self.can(obj.api_name, "read")
            if fld is None:
                return False
            if not self.field_readable(obj.api_name, name):
                return False
            if index < len(path) - 1 and field_type(fld.type).relation:
                target = path_target(fld.definition, narrowed)
                if target == USER:
                    return index == len(path) - 2 and path[-1] in USER_PUBLIC_COLUMNS
                obj = self.model.object(target) if target is not None else None
            elif index < len(path) - 1:
                return field_type(fld.type).compound
        return True

    def field_editable(self, object_name: str, field_name: str) -> bool:
        if not self.can(object_name, "edit") and not self.can(object_name, "create"):
            return False
        if self.all_powerful:
            return True
        read, edit = self.field_grants.get((object_name, field_name), (False, False))
        # a field is written only by those who read it, except on an object they may
        # create but not read (a web form's guest): there, only what a set grants edit on
        return edit and (read or not self.can(object_name, "read"))

    def readable_fields(self, object_name: str) -> tuple[str, ...]:
        """The fields of the object the user may read, in the object's order
        (:meth:`field_readable` of each; every field for an all-powerful user)."""
        obj = self.model.object(object_name)
        if obj is None or not self.can(object_name, "read"):
            return ()
        if self.all_powerful:  # field_readable holds for every field: skip 500 calls
            return tuple(obj.fields)
        return tuple(n for n in obj.fields if self.field_readable(object_name, n))

    def hidden_fields(self, object_name: str) -> frozenset[str]:
        obj = self.model.object(object_name)
        if obj is None or self.all_powerful:
            return frozenset()
        return frozenset(n for n in obj.fields if not self.field_readable(object_name, n))


SYSTEM_FIELD_NAMES = frozenset(
    {"id", "owner_id", "created_at", "created_by", "updated_at", "updated_by", "version"}
)


def load_access(conn: Connection, user: User, model: OrgModel, security: SecurityModel):
    """Compute a user's access from their profile, extra sets, role, groups and queues
    (read in one statement)."""
    principal = read_principal(conn, user.id)
    return access_for(principal or Principal(user), model, security, user=user)


def access_for(
    principal: Principal,
    model: OrgModel,
    security: SecurityModel,
    *,
    user: User | None = None,
) -> UserAccess:
    """The access a principal's assignments give under the compiled model (no SQL);
    ``user`` is the acting user when the caller already holds it."""
    user = user or principal.user
    role = principal.role
    set_names = [principal.profile] if principal.profile else []
    set_names += principal.permission_sets
    sets = [security.permission_sets[n] for n in set_names if n in security.permission_sets]
    system = frozenset(p for s in sets for p in s.get("system", []) if p in SYSTEM_PERMISSIONS)
    scope = scope_for(principal, model)
    if scope is not None:  # a portal user: no setup, no "see all", whatever the sets say
        system = system & SCOPED_SYSTEM_PERMISSIONS
    principals = {user.id}
    principals.update(
        f"group:{security.groups[g]}" for g in principal.groups if g in security.groups
    )
    if role in security.roles:
        principals.add(f"role:{security.roles[role].id}")
        principals.update(f"sub:{security.roles[a].id}" for a in security.ancestors(role))
    owner_ids = {user.id}
    owner_ids.update(security.queues[q].id for q in principal.queues if q in security.queues)
    objects, field_grants, derived_grants = _grants(
        set_names, sets, model, security, scoped=scope is not None
    )
    return UserAccess(
        user=user,
        role=role if role in security.roles else None,
        system=system,
        objects=objects,
        field_grants=field_grants,
        derived_grants=derived_grants,
        principals=frozenset(principals),
        owner_ids=frozenset(owner_ids),
        subordinate_roles=security.subordinates(role),
        security=security,
        model=model,
        scope=scope,
    )


MAX_CACHED_GRANTS = 1_000  # combinations of permission sets kept per metadata version


def _grants(
    set_names: list[str], sets, model: OrgModel, security: SecurityModel, *, scoped: bool
) -> tuple:
    """The object, field and derived grants of a combination of permission sets: a pure
    function of the sets and the version (the field grants walk every field of every
    object the sets grant), so kept per version in the model's runtime cache. Callers
    only read them. For a scoped (portal) user the grants are narrowed: no view_all or
    modify_all, and only the fields a set names as readable (an allow-list, so a field
    added later stays hidden from customers until an admin opens it)."""

    def build() -> tuple:
        objects = _object_grants(sets, scoped=scoped)
        return objects, _field_grants(sets, model, scoped=scoped), _derived_grants(sets)

    if security is not model.security:  # sets from elsewhere than this version
        return build()
    key = (scoped, *set_names)
    cache = model.runtime_cache.setdefault("grants", {})
    found = cache.get(key)
    if found is None:
        if len(cache) > MAX_CACHED_GRANTS:
            cache.clear()
        found = cache[key] = build()
    return found


def _object_grants(
    sets: list[Mapping[str, Any]], *, scoped: bool = False
) -> dict[str, dict[str, bool]]:
    out: dict[str, dict[str, bool]] = {}
    for permission_set in sets:
        for object_name, grants in permission_set.get("objects", {}).items():
            current = out.setdefault(object_name, dict(NO_ACCESS))
            for operation in OBJECT_OPERATIONS:
                current[operation] = current[operation] or bool(grants.get(operation))
            if scoped:  # a scope decides which records: never "all of them"
                current["view_all"] = current["modify_all"] = False
            if current["modify_all"]:
                current.update(dict.fromkeys(OBJECT_OPERATIONS, True))
            elif current["view_all"]:
                current["read"] = True
    return out


def _derived_grants(sets: list[Mapping[str, Any]]) -> frozenset[tuple[str, str]]:
    """The derived fields a set explicitly opens (``read_derived: true``)."""
    return frozenset(
        tuple(name.split(".", 1))  # type: ignore[misc]
        for permission_set in sets
        for name, grant in permission_set.get("fields", {}).items()
        if grant.get("read_derived") and grant.get("read", True)
    )


def _field_grants(
    sets, model: OrgModel, *, scoped: bool = False
) -> dict[tuple[str, str], tuple[bool, bool]]:
    out: dict[tuple[str, str], tuple[bool, bool]] = {}
    for permission_set in sets:
        objects = permission_set.get("objects", {})
        named = permission_set.get("fields", {})
        for object_name, grants in objects.items():
            obj = model.object(object_name)
            if obj is None:
                continue
            if not _reads_object(grants):
                if grants.get("create"):
                    _write_only_grants(out, object_name, obj, named)
                continue
            object_edit = bool(
                grants.get("edit") or grants.get("create") or grants.get("modify_all")
            )
            for field_name in obj.fields:
                explicit = named.get(f"{object_name}.{field_name}")
                if explicit is None and scoped:
                    continue  # a portal user reads only the fields a set names
                read = _reads_field(explicit, scoped=scoped)
                edit = read and (explicit or {}).get("edit", object_edit)
                old_read, old_edit = out.get((object_name, field_name), (False, False))
                out[(object_name, field_name)] = (old_read or read, old_edit or edit)
    return out


def _reads_object(grants: Mapping[str, Any]) -> bool:
    """Whether a set's grants on an object let its holders read records of it."""
    return bool(grants.get("read") or grants.get("view_all") or grants.get("modify_all"))


def _reads_field(explicit: Mapping[str, Any] | None, *, scoped: bool) -> bool:
    """Whether a set that reads an object lets its holders read one of its fields, given
    what the set says of the field (None: nothing). A colleague reads a field the set
    does not name; a portal user only the fields a set names (an allow-list)."""
    if explicit is None:
        return not scoped
    return bool(explicit.get("read", True))


def field_read_signature(
    permission_sets: Mapping[str, Mapping[str, Any]], object_name: str, field_name: str
) -> tuple[tuple[str, bool, bool], ...]:
    """Which permission sets let their holders read a stored field, and to whom: (set,
    read by a colleague holding it, read by a portal user holding it), sets in name
    order. Every user's :meth:`UserAccess.field_readable` of such a field follows from
    these alone (an all-powerful user reads every field), so two fields of an object
    with the same signature are readable by exactly the same users — what lets the
    search index keep them in one entry. (A field computed from others also follows
    its sources; no such field is stored text.)"""
    key = f"{object_name}.{field_name}"
    signature = []
    for name in sorted(permission_sets):
        permission_set = permission_sets[name]
        grants = permission_set.get("objects", {}).get(object_name)
        if not grants or not _reads_object(grants):
            continue
        explicit = permission_set.get("fields", {}).get(key)
        colleague = _reads_field(explicit, scoped=False)
        portal = _reads_field(explicit, scoped=True)
        if colleague or portal:
            signature.append((name, colleague, portal))
    return tuple(signature)


def _write_only_grants(out, object_name: str, obj, named: Mapping[str, Any]) -> None:
    """Create without read (a web form's guest): the fields a set grants ``edit`` on
    explicitly may be written, none read."""
    for field_name in obj.fields:
        if named.get(f"{object_name}.{field_name}", {}).get("edit"):
            old_read, _old_edit = out.get((object_name, field_name), (False, False))
            out[(object_name, field_name)] = (old_read, True)
