"""No lock-out: every change that could take administration away from the last person who
holds it runs :func:`ensure_an_administrator` inside its own transaction.

An administrator here is an active, non-system user whose profile and permission sets
give both ``customize_application`` (change the setup) and ``manage_users`` (give
someone else access). Without one, no token and no session can repair the org; only
``crm user grant-admin`` (database access) can.

Two racing changes must not both pass while each still sees the other's administrator:
the check first takes the org row's lock (the one metadata change sets hold), then reads
assignments and permission sets as committed at that moment. On PostgreSQL's READ
COMMITTED each statement sees what committed before it, so the second change re-checks
after the first committed; SQLite's ``BEGIN IMMEDIATE`` already runs writers one at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import Conflict
from crm_platform.core.tables import metadata_components, user_permission_sets, users
from crm_platform.metadata import ACTIVE, CandidateModel, lock_version

from .security.model import ADMIN_PERMISSION_SET, grants_system

ADMINISTRATION = ("customize_application", "manage_users")
# What a user change must set to possibly take administration away from someone.
USER_COLUMNS_THAT_MATTER = frozenset({"active", "profile", "permission_sets", "role"})


class WouldLockOut(Conflict):
    """The change would leave the org without anyone able to administer it."""

    title = "Would lock out every administrator"


def ensure_an_administrator(
    conn: Connection, permission_sets: Mapping[str, Mapping[str, Any]] | None = None
) -> None:
    """Refuse (409) unless some active user still holds every permission of ADMINISTRATION.

    Call it inside the transaction of the change, after the change's own writes.
    ``permission_sets`` are the definitions the change is about to store (a metadata
    change set passes its candidate's); by default the stored ones are read.
    """
    lock_version(conn)  # serialises with other guarded changes and metadata change sets
    if permission_sets is None:
        permission_sets = _stored_permission_sets(conn)
    holding = {
        permission: [n for n, d in permission_sets.items() if grants_system(d, permission)]
        for permission in ADMINISTRATION
    }
    conditions = []
    for names in holding.values():
        if not names:
            _refuse()
        extra_set = (
            sa.select(user_permission_sets.c.user_id)
            .where(
                user_permission_sets.c.user_id == users.c.id,
                user_permission_sets.c.permission_set.in_(names),
            )
            .exists()
        )
        conditions.append(sa.or_(users.c.profile.in_(names), extra_set))
    query = (
        sa.select(users.c.id)
        .where(users.c.active.is_(True), users.c.is_system.is_(False), *conditions)
        .limit(1)
    )
    if conn.execute(query).first() is None:
        _refuse()


def _refuse() -> None:
    raise WouldLockOut(
        "this change would leave no active user holding "
        + " and ".join(ADMINISTRATION)
        + f": give another active user the {ADMIN_PERMISSION_SET} permission set first",
        extra={"required_permissions": list(ADMINISTRATION)},
    )


def _stored_permission_sets(conn: Connection) -> dict[str, Mapping[str, Any]]:
    rows = conn.execute(
        sa.select(metadata_components.c.name, metadata_components.c.definition).where(
            metadata_components.c.kind == "permission_set",
            metadata_components.c.status == ACTIVE,
        )
    )
    return {name: definition for name, definition in rows}


def _takes_away(change) -> bool:
    """Whether a change set's change of a permission set removes an ADMINISTRATION
    permission it gave (an edit, a delete or a purge)."""
    if change.after.kind != "permission_set" or change.before is None:
        return False
    before = change.before.definition if change.before.status == ACTIVE else {}
    after = change.after.definition if change.after.status == ACTIVE else {}
    return any(grants_system(before, p) and not grants_system(after, p) for p in ADMINISTRATION)


def guard_permission_set_changes(conn: Connection, changes, model: CandidateModel) -> None:
    """Metadata apply hook: a change set that takes an administration permission away from
    a permission set (edit or delete) is checked against the sets it leaves — through the
    API, YAML apply and rollback alike. Sets that only gain permissions pass unchecked, so
    an org already locked out can still be repaired (``crm user grant-admin``)."""
    if not any(_takes_away(change) for change in changes):
        return
    ensure_an_administrator(conn, {c.name: c.definition for c in model.of_kind("permission_set")})


def refuse_removing_held_assignments(conn: Connection, changes, model: CandidateModel) -> None:
    """Metadata apply hook: a role or permission set that users hold is not deleted (by
    the API, setup, YAML apply, a rollback or a pack's uninstall) — those users would be
    left holding a name that grants nothing; they are given another one first."""
    for change in changes:
        kind = change.after.kind
        if kind not in ("role", "permission_set") or change.before is None:
            continue
        if change.before.status != ACTIVE or change.after.status == ACTIVE:
            continue
        holders = _holders(conn, kind, change.after.name)
        if holders:
            what = "role" if kind == "role" else "permission set"
            people = f"{holders} user{'s' if holders > 1 else ''}"
            raise Conflict(
                f"{what} '{change.after.name}' is held by {people}: give them another {what} first",
                extra={"errors": {"api_name": [f"held by {holders} user(s)"]}},
            )


def _holders(conn: Connection, kind: str, name: str) -> int:
    """How many users (active or not, system users aside) hold a role or permission set."""
    if kind == "role":
        held = users.c.role == name
    else:
        extra = (
            sa.select(user_permission_sets.c.user_id)
            .where(
                user_permission_sets.c.user_id == users.c.id,
                user_permission_sets.c.permission_set == name,
            )
            .exists()
        )
        held = sa.or_(users.c.profile == name, extra)
    query = sa.select(sa.func.count()).select_from(users).where(held, users.c.is_system.is_(False))
    return conn.execute(query).scalar_one()
