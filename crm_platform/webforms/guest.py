"""The guest user of a web form: the author of the records its posts create.

One user per form (``web-form.<name>@guest.invalid``), kept by a metadata apply hook in
the same transaction as the form: created when the form is, given the form's guest
permission set as its profile and nothing else, deactivated when the form goes. It has no
password (so it cannot sign in), no API token and no ``api_enabled`` permission; a
submission acts with exactly the form's set whatever else someone gave the user since
(:func:`guest_access`), so the guest can create the form's object and read nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import utc_now
from crm_platform.core.tables import group_members, queue_members, user_permission_sets, users
from crm_platform.metadata import ACTIVE, CandidateModel
from crm_platform.runtime import OrgModel, User, create_user, find_user, revoke_user_tokens
from crm_platform.runtime.security import access_for
from crm_platform.runtime.security.principals import Principal

from .kind import KIND, WebForm, guest_email


def keep_guest_users(conn: Connection, changes: Sequence[Any], model: CandidateModel) -> None:
    """Apply hook: each form saved has its guest user, holding only the form's set; the
    guest of a deleted or deactivated form is deactivated."""
    del model
    for change in changes:
        comp = change.after
        if comp.kind != KIND:
            continue
        definition = comp.definition
        live = comp.status == ACTIVE and definition.get("active", True)
        email = guest_email(comp.name)
        if live:
            _ensure_guest(conn, email, comp.name, definition["guest_permission_set"])
        else:
            conn.execute(
                users.update()
                .where(users.c.email == email)
                .values(active=False, updated_at=utc_now())
            )


def _ensure_guest(conn: Connection, email: str, form: str, permission_set: str) -> None:
    found = find_user(conn, email)
    if found is None:
        create_user(conn, email=email, name=f"Web form guest ({form})", profile=permission_set)
        return
    conn.execute(
        users.update()
        .where(users.c.id == found.id)
        .values(
            active=True,
            profile=permission_set,
            password_hash=None,
            role=None,
            manager_id=None,
            updated_at=utc_now(),
        )
    )
    # whatever was added by hand since: the guest holds the form's set and nothing else
    for table in (user_permission_sets, group_members, queue_members):
        conn.execute(sa.delete(table).where(table.c.user_id == found.id))
    revoke_user_tokens(conn, found.id)


def guest_user(conn: Connection, form: WebForm) -> User | None:
    """The form's guest user, when it is active."""
    found = find_user(conn, form.guest_email)
    return found if found is not None and found.active else None


def guest_access(user: User, form: WebForm, model: OrgModel):
    """The guest's access for one submission: the form's set alone."""
    principal = Principal(user, profile=form.guest_permission_set)
    return access_for(principal, model, model.security, user=user)
