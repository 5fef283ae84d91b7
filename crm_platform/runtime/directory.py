"""Users and their assignments (profile, extra permission sets, role, manager, group and
queue memberships): platform data with an API, checked against the metadata they name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import Conflict, Forbidden, NotFound, ValidationFailed, utc_now
from crm_platform.core.tables import (
    USER_PUBLIC_COLUMNS,
    group_members,
    queue_members,
    user_permission_sets,
    users,
)

from .lockout import USER_COLUMNS_THAT_MATTER, ensure_an_administrator
from .model import OrgModel
from .passwords import hash_password, password_problem
from .records.user_shares import reshare_after_user_change
from .security.model import ADMIN_PERMISSION_SET
from .sessions import end_sessions
from .tokens import revoke_user_tokens
from .users import create_user, normalise_email

PUBLIC_COLUMNS = USER_PUBLIC_COLUMNS  # one list: core.tables keeps it beside the table
SELF_SERVICE = frozenset({"name", "time_zone", "locale", "password"})
EDITABLE = frozenset(
    {
        "email",
        "name",
        "active",
        "role",
        "manager_id",
        "profile",
        "permission_sets",
        "time_zone",
        "locale",
        "password",
    }
)


def user_view(conn: Connection, user_id: str) -> dict[str, Any]:
    row = (
        conn.execute(
            sa.select(*[users.c[c] for c in PUBLIC_COLUMNS], users.c.created_at).where(
                users.c.id == user_id, users.c.is_system.is_(False)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no user '{user_id}'")
    view = dict(row)
    view["permission_sets"] = sorted(
        r[0]
        for r in conn.execute(
            sa.select(user_permission_sets.c.permission_set).where(
                user_permission_sets.c.user_id == user_id
            )
        )
    )
    return view


def list_users(conn: Connection) -> list[dict[str, Any]]:
    ids = conn.execute(
        sa.select(users.c.id).where(users.c.is_system.is_(False)).order_by(users.c.email)
    ).scalars()
    return [user_view(conn, user_id) for user_id in ids]


def _check_assignments(conn: Connection, model: OrgModel, data: Mapping[str, Any]) -> None:
    security = model.security
    mistyped = {
        key: "must be text"
        for key in ("role", "profile", "manager_id", "time_zone", "locale", "password")
        if key in data and data[key] is not None and not isinstance(data[key], str)
    }
    if mistyped:
        raise ValidationFailed(mistyped)
    errors: dict[str, str] = {}
    if data.get("role") is not None and data["role"] not in security.roles:
        errors["role"] = f"no role '{data['role']}'"
    if data.get("profile") is not None and data["profile"] not in security.permission_sets:
        errors["profile"] = f"no permission set '{data['profile']}'"
    sets = data.get("permission_sets", [])
    if not isinstance(sets, list) or not all(isinstance(s, str) for s in sets):
        errors["permission_sets"] = "a list of permission set names"
    else:
        missing = [s for s in sets if s not in security.permission_sets]
        if missing:
            errors["permission_sets"] = f"no permission set {', '.join(missing)}"
    manager = data.get("manager_id")
    if (
        manager is not None
        and not conn.execute(
            sa.select(users.c.id).where(users.c.id == manager, users.c.is_system.is_(False))
        ).first()
    ):
        errors["manager_id"] = "no user with this id"
    for key in ("name", "email"):
        if key in data and (not isinstance(data[key], str) or not data[key].strip()):
            errors[key] = "must be non-empty text"
    if "active" in data and not isinstance(data["active"], bool):
        errors["active"] = "must be true or false"
    if errors:
        raise ValidationFailed(errors)


def create_user_record(conn: Connection, model: OrgModel, data: Any) -> dict[str, Any]:
    """Add a user with their assignments."""
    if not isinstance(data, Mapping) or not isinstance(data.get("email"), str):
        raise ValidationFailed({"email": "required"})
    unknown = set(data) - EDITABLE
    if unknown:
        raise ValidationFailed({k: "unknown field" for k in sorted(unknown)})
    _check_assignments(conn, model, data)
    user = create_user(
        conn,
        email=data["email"],
        name=data.get("name"),
        password=data.get("password"),
        profile=data.get("profile"),
        role=data.get("role"),
        manager_id=data.get("manager_id"),
    )
    extra = {k: data[k] for k in ("time_zone", "locale", "active") if k in data}
    if extra:
        conn.execute(users.update().where(users.c.id == user.id).values(extra))
    _set_permission_sets(conn, user.id, data.get("permission_sets", []))
    return user_view(conn, user.id)


def update_user_record(
    conn: Connection, model: OrgModel, user_id: str, data: Any, *, may_manage: bool
) -> dict[str, Any]:
    """Change a user. Without manage_users a user may change only their own name, time
    zone, locale and password (the caller checks the current password). A new password
    or a deactivation ends the user's UI sessions; a deactivation also revokes their API
    tokens for good."""
    if not isinstance(data, Mapping):
        raise ValidationFailed({"(root)": "expected a JSON object"})
    unknown = set(data) - EDITABLE
    if unknown:
        raise ValidationFailed({k: "unknown field" for k in sorted(unknown)})
    if not may_manage and set(data) - SELF_SERVICE:
        refused = sorted(set(data) - SELF_SERVICE)
        raise Forbidden(f"changing {', '.join(refused)} needs the manage_users permission")
    user_view(conn, user_id)
    _check_assignments(conn, model, data)
    values: dict[str, Any] = {k: data[k] for k in PUBLIC_COLUMNS if k in data and k != "id"}
    if "email" in values:
        values["email"] = normalise_email(values["email"])
        clash = conn.execute(
            sa.select(users.c.id).where(users.c.email == values["email"], users.c.id != user_id)
        ).first()
        if clash:
            raise Conflict(f"a user '{values['email']}' already exists")
    if "password" in data:
        if not isinstance(data["password"], str) or (problem := password_problem(data["password"])):
            raise ValidationFailed(
                {"password": problem if isinstance(data["password"], str) else "must be text"}
            )
        values["password_hash"] = hash_password(data["password"])
    if values:
        values["updated_at"] = utc_now()
        conn.execute(users.update().where(users.c.id == user_id).values(values))
        # criteria rules reading this user's columns (account_manager.role) follow the change
        reshare_after_user_change(conn, model, user_id, values)
    if "permission_sets" in data:
        _set_permission_sets(conn, user_id, data["permission_sets"])
    if "password" in data or data.get("active") is False:
        end_sessions(conn, user_id)  # a new password or a deactivation signs out everywhere
    if data.get("active") is False:
        # for good: reactivating the user later must not revive these tokens
        revoke_user_tokens(conn, user_id)
    if USER_COLUMNS_THAT_MATTER & set(data):
        ensure_an_administrator(conn)
    return user_view(conn, user_id)


def grant_administration(conn: Connection, model: OrgModel, email: str) -> dict[str, Any]:
    """Recovery for an org nobody can administer (``crm user grant-admin``): give the user
    the system administrator permission set and make them active again.

    It only adds, so it never needs the no-lock-out check; the caller makes sure the set
    exists and holds every system permission first.
    """
    row = conn.execute(
        sa.select(users.c.id).where(
            users.c.email == normalise_email(email), users.c.is_system.is_(False)
        )
    ).first()
    if row is None:
        raise NotFound(f"no user '{normalise_email(email)}'")
    user_id = row[0]
    conn.execute(
        users.update().where(users.c.id == user_id).values(active=True, updated_at=utc_now())
    )
    reshare_after_user_change(conn, model, user_id, ["active"])
    held = user_permission_sets.c.permission_set == ADMIN_PERMISSION_SET
    if not conn.execute(
        sa.select(user_permission_sets.c.user_id).where(
            user_permission_sets.c.user_id == user_id, held
        )
    ).first():
        conn.execute(
            user_permission_sets.insert().values(
                user_id=user_id, permission_set=ADMIN_PERMISSION_SET
            )
        )
    return user_view(conn, user_id)


def _set_permission_sets(conn: Connection, user_id: str, names: list[str]) -> None:
    conn.execute(user_permission_sets.delete().where(user_permission_sets.c.user_id == user_id))
    if names:
        conn.execute(
            user_permission_sets.insert(),
            [{"user_id": user_id, "permission_set": n} for n in sorted(set(names))],
        )


MEMBERSHIPS = {"groups": (group_members, "group_name"), "queues": (queue_members, "queue_name")}


def _membership(model: OrgModel, kind: str, name: str):
    table, column = MEMBERSHIPS[kind]
    known = model.security.groups if kind == "groups" else model.security.queues
    if name not in known:
        raise NotFound(f"no {kind[:-1]} '{name}'")
    return table, table.c[column]


def list_members(conn: Connection, model: OrgModel, kind: str, name: str) -> list[str]:
    table, column = _membership(model, kind, name)
    return sorted(r[0] for r in conn.execute(sa.select(table.c.user_id).where(column == name)))


def add_member(conn: Connection, model: OrgModel, kind: str, name: str, user_id: Any) -> None:
    table, column = _membership(model, kind, name)
    if not isinstance(user_id, str):
        raise ValidationFailed({"user_id": "required"})
    user_view(conn, user_id)
    exists = conn.execute(
        sa.select(table.c.user_id).where(column == name, table.c.user_id == user_id)
    ).first()
    if not exists:
        conn.execute(table.insert().values({column.name: name, "user_id": user_id}))


def remove_member(conn: Connection, model: OrgModel, kind: str, name: str, user_id: str) -> None:
    table, column = _membership(model, kind, name)
    if not conn.execute(table.delete().where(column == name, table.c.user_id == user_id)).rowcount:
        raise NotFound(f"'{user_id}' is not a member of '{name}'")
