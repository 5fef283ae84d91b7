"""The permission matrix: permission sets × objects (read, create, edit, delete, view
all, modify all) with each set's system permissions, and per object a field grid (read,
edit). Each save is one change set over every set it changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request
from flask_admin import expose
from flask_babel import gettext, lazy_gettext

from crm_platform.core import Conflict, ValidationFailed
from crm_platform.fieldtypes import field_type
from crm_platform.runtime.security import SYSTEM_PERMISSIONS

from .base import SetupView, problems_of
from .drafts import default_grant

OBJECT_PERMISSIONS = ("read", "create", "edit", "delete", "view_all", "modify_all")


class PermissionsView(SetupView):
    area_name = lazy_gettext("Permission sets")
    area_url = "permissions"
    summary = lazy_gettext("Who may read, create, edit and delete what; system permissions.")
    permission = "customize_application"

    @expose("/")
    def index(self, problems=None, status: int = 200) -> Any:
        return self.page(
            "setup/permissions.html",
            status=status,
            sets=self.metadata.list_components("permission_set"),
            objects=self.metadata.list_objects(),
            object_permissions=OBJECT_PERMISSIONS,
            system_permissions=SYSTEM_PERMISSIONS,
            problems=problems or {},
        )

    @expose("/", methods=["POST"])
    def save(self) -> Any:
        objects = [o["api_name"] for o in self.metadata.list_objects()]
        changed = []
        for permission_set in self.metadata.list_components("permission_set"):
            after = matrix_from_form(permission_set, objects, request.form)
            if after != permission_set:
                changed.append(("permission_set", after))
        return self._apply(changed, ".index")

    @expose("/fields/<name>")
    def fields(self, name: str, problems=None, status: int = 200) -> Any:
        obj = self.metadata.get_object(name)
        sets = [s for s in self.metadata.list_components("permission_set") if _opens(s, name)]
        grid = {
            s["api_name"]: {
                f["api_name"]: field_grant(s, name, f["api_name"]) for f in obj["fields"]
            }
            for s in sets
        }
        return self.page(
            "setup/field_permissions.html",
            status=status,
            obj=obj,
            sets=sets,
            grid=grid,
            # computed or numbered fields are never edited: no Edit box to tick for them
            computed={f["api_name"] for f in obj["fields"] if field_type(f["type"]).read_only},
            problems=problems or {},
            title=gettext(
                "Field access on %(object)s", object=self.viewer.label(obj.get("label"), name)
            ),
        )

    @expose("/fields/<name>", methods=["POST"])
    def save_fields(self, name: str) -> Any:
        obj = self.metadata.get_object(name)
        fields = [f["api_name"] for f in obj["fields"]]
        changed = []
        for permission_set in self.metadata.list_components("permission_set"):
            if not _opens(permission_set, name):
                continue
            after = fields_from_form(permission_set, name, fields, request.form)
            if after != permission_set:
                changed.append(("permission_set", after))
        return self._apply(changed, ".fields", name=name)

    def _apply(self, changed: list[tuple[str, dict]], endpoint: str, **values: Any) -> Any:
        """One change set for every set the form changed (nothing when none did)."""
        if changed:
            try:
                self.change(lambda m, who: m.apply_definitions(changed, author_id=who))
            except (ValidationFailed, Conflict) as error:
                problems = problems_of(error)
                if endpoint == ".fields":
                    return self.fields(values["name"], problems=problems, status=error.status)
                return self.index(problems=problems, status=error.status)
        return self.saved(gettext("Permissions saved."), endpoint, **values)


def _opens(permission_set: Mapping[str, Any], object_name: str) -> bool:
    grant = permission_set.get("objects", {}).get(object_name, {})
    return bool(grant.get("read") or grant.get("view_all") or grant.get("modify_all"))


def matrix_from_form(
    permission_set: Mapping[str, Any], objects: list[str], form: Mapping[str, str]
) -> dict[str, Any]:
    """The set after the matrix's boxes: its object grants (only what is ticked) and its
    system permissions; grants on objects the matrix does not show are kept."""
    name = permission_set["api_name"]
    grants = {k: v for k, v in permission_set.get("objects", {}).items() if k not in objects}
    for object_name in objects:
        ticked = {
            p: True for p in OBJECT_PERMISSIONS if form.get(f"obj:{name}:{object_name}:{p}") == "on"
        }
        if ticked:
            grants[object_name] = ticked
    system = [p for p in SYSTEM_PERMISSIONS if form.get(f"sys:{name}:{p}") == "on"]
    after: dict[str, Any] = {
        k: v for k, v in permission_set.items() if k not in ("objects", "system")
    }
    if grants:
        after["objects"] = grants
    if system:
        after["system"] = system
    return _same_or(permission_set, after)


def field_grant(
    permission_set: Mapping[str, Any], object_name: str, field_name: str
) -> dict[str, bool]:
    """What the set grants on the field (its entry, else what it gives anyway)."""
    default = default_grant(permission_set, object_name)
    explicit = permission_set.get("fields", {}).get(f"{object_name}.{field_name}", {})
    read = explicit.get("read", default["read"])
    return {"read": read, "edit": read and explicit.get("edit", default["edit"])}


def fields_from_form(
    permission_set: Mapping[str, Any], object_name: str, fields: list[str], form: Mapping[str, str]
) -> dict[str, Any]:
    """The set after the field grid: an entry only where the grid differs from what the
    set gives anyway (``read_derived`` and other keys of an entry are kept)."""
    name = permission_set["api_name"]
    default = default_grant(permission_set, object_name)
    entries = dict(permission_set.get("fields", {}))
    for field_name in fields:
        key = f"{object_name}.{field_name}"
        read = form.get(f"fld:{name}:{field_name}:read") == "on"
        edit = read and form.get(f"fld:{name}:{field_name}:edit") == "on"
        if field_grant(permission_set, object_name, field_name) == {"read": read, "edit": edit}:
            continue  # granted as before: its entry stays as written (``{read: false}``)
        kept = {k: v for k, v in entries.get(key, {}).items() if k not in ("read", "edit")}
        if {"read": read, "edit": edit} == default and not kept:
            entries.pop(key, None)
        else:
            entries[key] = {**kept, "read": read, "edit": edit}
    after = {k: v for k, v in permission_set.items() if k != "fields"}
    if entries:
        after["fields"] = entries
    return _same_or(permission_set, after)


def _same_or(before: Mapping[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``before`` itself when nothing changed but the spelling of a grant (``false``
    entries left out), so an untouched set is not rewritten."""
    return dict(before) if _normal(before) == _normal(after) else after


def _normal(definition: Mapping[str, Any]) -> Any:
    out = dict(definition)
    out["objects"] = {
        k: {p: True for p, v in g.items() if v} for k, g in definition.get("objects", {}).items()
    }
    out["objects"] = {k: v for k, v in out["objects"].items() if v}
    out["system"] = sorted(definition.get("system", []))
    out["fields"] = dict(definition.get("fields", {}))
    return out
