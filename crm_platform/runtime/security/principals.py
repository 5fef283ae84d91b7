"""Who a request acts for: the user and every assignment their access is computed from,
read in one statement (the token too, when the request presents one).

A request's authentication used to take six small reads (token, user, role and
profile, extra permission sets, groups, queues); each assignment list is now a
correlated subquery aggregated to a JSON array in the same SELECT.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core.tables import (
    STANDARD_USER,
    api_tokens,
    group_members,
    org,
    queue_members,
    user_permission_sets,
    users,
)

from ..tokens import parse_token, token_accepts
from ..users import User


@dataclass(frozen=True)
class Principal:
    """A user with their profile, role, extra permission sets, groups and queues."""

    user: User
    role: str | None = None
    profile: str | None = None
    permission_sets: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    session_generation: int = 0  # UI sessions of an older generation have ended
    # a portal user is the contact ``contact_id``; ``portal_sharing`` is the org's setting
    # of what they see ("contact": their own records, "account": their account's)
    contact_id: str | None = None
    portal_sharing: str = "contact"
    # the org's metadata version, read in the same statement: the request then picks its
    # compiled model without a statement of its own
    metadata_version: int | None = None


def _names(dialect: str, column: sa.Column[Any]) -> sa.ScalarSelect[Any]:
    """The user's names in a membership table, as one JSON array (``[]`` when none)."""
    user_id = column.table.c.user_id
    if dialect == "sqlite":
        aggregate = sa.func.json_group_array(column)
    else:
        aggregate = sa.func.coalesce(sa.func.json_agg(column), sa.literal_column("'[]'::json"))
    return sa.select(aggregate).where(user_id == users.c.id).scalar_subquery()


@cache
def _queries(dialect: str) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """(by user id, by token id): built once per dialect, bound per request."""
    by_user = sa.select(
        users.c.id,
        users.c.email,
        users.c.name,
        users.c.active,
        users.c.is_system,
        users.c.role,
        users.c.profile,
        users.c.session_generation,
        users.c.user_type,
        users.c.contact_id,
        sa.select(org.c.portal_sharing).limit(1).scalar_subquery().label("portal_sharing"),
        sa.select(org.c.metadata_version).limit(1).scalar_subquery().label("metadata_version"),
        _names(dialect, user_permission_sets.c.permission_set).label("permission_sets"),
        _names(dialect, group_members.c.group_name).label("groups"),
        _names(dialect, queue_members.c.queue_name).label("queues"),
    )
    by_token = (
        by_user.add_columns(
            api_tokens.c.secret_hash, api_tokens.c.revoked_at, api_tokens.c.expires_at
        )
        .select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id))
        .where(api_tokens.c.id == sa.bindparam("token_id"))
    )
    return by_user.where(users.c.id == sa.bindparam("user_id")), by_token


def _decoded(value: Any) -> tuple[str, ...]:
    # SQLite gives JSON text; psycopg gives the decoded list
    return tuple(json.loads(value) if isinstance(value, str) else value or ())


def _principal(row: sa.RowMapping) -> Principal:
    user = User(
        row["id"],
        row["email"],
        row["name"],
        row["active"],
        row["is_system"],
        user_type=row["user_type"] or STANDARD_USER,
    )
    return Principal(
        user=user,
        role=row["role"],
        profile=row["profile"],
        permission_sets=_decoded(row["permission_sets"]),
        groups=_decoded(row["groups"]),
        queues=_decoded(row["queues"]),
        session_generation=row["session_generation"],
        contact_id=row["contact_id"],
        portal_sharing=row["portal_sharing"] or "contact",
        metadata_version=row["metadata_version"],
    )


def read_principal(conn: Connection, user_id: str) -> Principal | None:
    """The user and their assignments (one statement), or None for an unknown id."""
    query = _queries(conn.dialect.name)[0]
    row = conn.execute(query, {"user_id": user_id}).mappings().first()
    return None if row is None else _principal(row)


def principal_for_token(conn: Connection, token: str) -> Principal | None:
    """The user a presented API token belongs to, with their assignments (one statement);
    None when the token is malformed, unknown, revoked, expired or tampered."""
    parsed = parse_token(token)
    if parsed is None:
        return None
    token_id, secret = parsed
    query = _queries(conn.dialect.name)[1]
    row = conn.execute(query, {"token_id": token_id}).mappings().first()
    if row is None or not token_accepts(row, secret):
        return None
    return _principal(row)
