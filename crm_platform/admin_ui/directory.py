"""Users, roles (a tree), groups and queues, through the directory services: add a user,
change their role, profile and permission sets, deactivate them, reset their password;
add and remove members. The no-lock-out rule holds here as in the API: a change that
would leave nobody able to administer the org is refused with its message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request
from flask_admin import expose
from flask_babel import gettext, lazy_gettext

from crm_platform.core import Conflict, Forbidden, NotFound, ValidationFailed
from crm_platform.runtime import directory

from .base import SetupView, label_map, problems_of

MEMBER_KINDS = ("groups", "queues")


class UsersView(SetupView):
    area_name = lazy_gettext("Users")
    area_url = "users"
    summary = lazy_gettext("Add users, give them a role and permission sets, reset passwords.")
    permission = "manage_users"

    @expose("/")
    def index(self, problems=None, form=None, status: int = 200) -> Any:
        with self.directory(write=False) as (conn, _model):
            users = directory.list_users(conn)
        return self.page(
            "setup/users.html",
            status=status,
            users=users,
            sets=self.metadata.list_components("permission_set"),
            roles=self.metadata.list_components("role"),
            problems=problems or {},
            form=form or {},
        )

    @expose("/", methods=["POST"])
    def create(self) -> Any:
        form = request.form
        data = {
            k: form.get(k, "").strip()
            for k in ("email", "name", "password", "profile", "role")
            if form.get(k, "").strip()
        }
        try:
            with self.directory() as (conn, model):
                user = directory.create_user_record(conn, model, data)
        except (ValidationFailed, Conflict) as error:
            return self.index(problems=problems_of(error), form=form, status=error.status)
        return self.saved(gettext("User added."), ".user", user_id=user["id"])

    @expose("/<user_id>")
    def user(self, user_id: str, problems=None, status: int = 200) -> Any:
        with self.directory(write=False) as (conn, _model):
            shown = directory.user_view(conn, user_id)
        return self.page(
            "setup/user.html",
            status=status,
            user=shown,
            sets=self.metadata.list_components("permission_set"),
            roles=self.metadata.list_components("role"),
            problems=problems or {},
            title=shown.get("name") or shown["email"],
        )

    @expose("/<user_id>", methods=["POST"])
    def update(self, user_id: str) -> Any:
        """Role, profile, permission sets, name and email, active."""
        return self._change(user_id, assignments(request.form), gettext("User saved."))

    @expose("/<user_id>/password", methods=["POST"])
    def password(self, user_id: str) -> Any:
        """An administrator's reset: no current password asked (the API's rule); every
        session of the user ends."""
        data = {"password": request.form.get("password", "")}
        return self._change(user_id, data, gettext("Password reset: the user's sessions ended."))

    def _change(self, user_id: str, data: dict[str, Any], message: str) -> Any:
        try:
            with self.directory() as (conn, model):
                directory.update_user_record(conn, model, user_id, data, may_manage=True)
        except (ValidationFailed, Conflict, Forbidden) as error:
            return self.user(user_id, problems=problems_of(error), status=error.status)
        return self.saved(message, ".user", user_id=user_id)


class TeamsView(SetupView):
    area_name = lazy_gettext("Roles, groups and queues")
    area_url = "teams"
    summary = lazy_gettext("The role hierarchy, and who is in each group and queue.")
    permission = "manage_users"

    @expose("/")
    def index(self, problems=None, status: int = 200) -> Any:
        roles = self.metadata.list_components("role")
        with self.directory(write=False) as (conn, model):
            users = {u["id"]: u for u in directory.list_users(conn)}
            members = {
                kind: {
                    c["api_name"]: directory.list_members(conn, model, kind, c["api_name"])
                    for c in self.metadata.list_components(kind[:-1])
                }
                for kind in MEMBER_KINDS
            }
        return self.page(
            "setup/teams.html",
            status=status,
            tree=role_tree(roles),
            roles=roles,
            defined={
                kind: {c["api_name"]: c for c in self.metadata.list_components(kind)}
                for kind in ("role", "group", "queue")
            },
            objects=[o["api_name"] for o in self.metadata.list_objects()],
            users=users,
            members=members,
            labels={
                c["api_name"]: self.viewer.label(c.get("label"), c["api_name"])
                for kind in ("role", "group", "queue")
                for c in self.metadata.list_components(kind)
            },
            problems=problems or {},
        )

    @expose("/roles", methods=["POST"])
    def create_role(self) -> Any:
        """A new role (the form's older address)."""
        return self.create("role")

    @expose("/<any(role, group, queue):kind>/new", methods=["POST"])
    def create(self, kind: str) -> Any:
        """A new role, group or queue (metadata: needs customize_application too)."""
        self._may_define(kind)
        definition = team_definition(kind, {"api_name": request.form.get("api_name", "").strip()})
        try:
            self.change(
                lambda m, who: m.put_component(kind, definition, author_id=who, create_only=True)
            )
        except (ValidationFailed, Conflict) as error:
            return self.index(problems=problems_of(error), status=error.status)
        return self.saved(ADDED[kind], ".index")

    @expose("/<any(role, group, queue):kind>/<name>", methods=["POST"])
    def update(self, kind: str, name: str) -> Any:
        """Relabel a role, group or queue; move a role under another; a queue's objects."""
        self._may_define(kind)
        definition = team_definition(kind, self.metadata.get_component(kind, name))
        try:
            self.change(lambda m, who: m.put_component(kind, definition, author_id=who))
        except (ValidationFailed, Conflict) as error:
            return self.index(problems=problems_of(error), status=error.status)
        return self.saved(gettext("Saved."), ".index")

    @expose("/<any(role, group, queue):kind>/<name>/delete", methods=["POST"])
    def delete(self, kind: str, name: str) -> Any:
        """Delete one (refused, with where it is used, while anything refers to it)."""
        self._may_define(kind)
        try:
            self.change(lambda m, who: m.remove_component(kind, name, author_id=who))
        except (ValidationFailed, Conflict) as error:
            return self.index(problems=problems_of(error), status=error.status)
        return self.saved(gettext("Deleted."), ".index")

    def _may_define(self, kind: str) -> None:
        if not self.viewer.access.has("customize_application"):
            raise Forbidden(
                gettext("Changing roles, groups and queues needs customize_application.")
            )

    @expose("/<any(groups, queues):kind>/<name>/members", methods=["POST"])
    def add_member(self, kind: str, name: str) -> Any:
        try:
            with self.directory() as (conn, model):
                directory.add_member(conn, model, kind, name, request.form.get("user_id") or None)
        except (ValidationFailed, NotFound) as error:
            return self.index(problems=problems_of(error), status=error.status)
        return self.saved(gettext("Member added."), ".index")

    @expose("/<any(groups, queues):kind>/<name>/members/<user_id>/remove", methods=["POST"])
    def remove_member(self, kind: str, name: str, user_id: str) -> Any:
        with self.directory() as (conn, model):
            directory.remove_member(conn, model, kind, name, user_id)
        return self.saved(gettext("Member removed."), ".index")


def assignments(form: Mapping[str, str]) -> dict[str, Any]:
    """A user's edit form as the directory service takes it (empty role or profile: none)."""
    data: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "email": form.get("email", "").strip(),
        "role": form.get("role") or None,
        "profile": form.get("profile") or None,
        "permission_sets": [
            k.split(":", 1)[1] for k, v in form.items() if k.startswith("set:") and v == "on"
        ],
        "active": form.get("active") == "on",
    }
    return data


ADDED = {
    "role": lazy_gettext("Role added."),
    "group": lazy_gettext("Group added."),
    "queue": lazy_gettext("Queue added."),
}


def team_definition(kind: str, stored: Mapping[str, Any]) -> dict[str, Any]:
    """``stored`` (a role, group or queue) with the form's label, and a role's parent or a
    queue's objects; an empty input removes what it sets."""
    definition = dict(stored)
    form = request.form
    if "label_en" in form or "label_zh" in form:
        label = label_map(form.get("label_en", ""), form.get("label_zh", ""))
        if label:
            definition["label"] = label
        else:
            definition.pop("label", None)
    if kind == "role" and "parent" in form:
        if form["parent"]:
            definition["parent"] = form["parent"]
        else:
            definition.pop("parent", None)
    if kind == "queue":
        definition["objects"] = form.getlist("objects")
    return definition


def role_tree(roles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Roles as a forest: each ``{role, children}``, roots first, in definition order."""
    names = {r["api_name"] for r in roles}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for r in roles:
        parent = r.get("parent") if r.get("parent") in names else None
        children.setdefault(parent, []).append(r)

    def grow(parent: str | None, seen: frozenset[str]) -> list[dict[str, Any]]:
        return [
            {"role": r, "children": grow(r["api_name"], seen | {r["api_name"]})}
            for r in children.get(parent, [])
            if r["api_name"] not in seen
        ]

    return grow(None, frozenset())
