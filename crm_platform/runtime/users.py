"""Users: platform data (not metadata), with a built-in system user (DESIGN §0)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import Conflict, ValidationFailed, new_id, utc_now
from crm_platform.core.tables import (
    STANDARD_USER,
    SYSTEM_USER_EMAIL,
    SYSTEM_USER_ID,
    users,
)

from .passwords import hash_password, password_problem, verify_password


@dataclass(frozen=True)
class User:
    """Who is acting: the principal passed down through every service call."""

    id: str
    email: str
    name: str
    active: bool
    is_system: bool = False
    user_type: str = STANDARD_USER  # or PORTAL_USER: a customer of the portal (ADR 0046)


def _from_row(row: sa.RowMapping) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        active=row["active"],
        is_system=row["is_system"],
        user_type=row["user_type"],
    )


# Users at this reserved domain are guests (a web form's author): they never sign in.
GUEST_DOMAIN = "guest.invalid"


def is_guest(email: str) -> bool:
    """Whether a login belongs to a guest user, who can never sign in."""
    return normalise_email(email).endswith("@" + GUEST_DOMAIN)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    conn: Connection,
    *,
    email: str,
    name: str | None = None,
    password: str | None = None,
    profile: str | None = None,
    role: str | None = None,
    manager_id: str | None = None,
    user_type: str = STANDARD_USER,
    contact_id: str | None = None,
) -> User:
    """Add a user. The email is the login and must be unique.

    ``profile`` (a permission set) and ``role`` are metadata names; the caller checks
    they exist (see :mod:`crm_platform.runtime.directory`).
    """
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise ValidationFailed({"email": "must be an email address"})
    if password is not None and (problem := password_problem(password)):
        raise ValidationFailed({"password": problem})
    if find_user(conn, email) is not None:
        raise Conflict(f"a user '{email}' already exists")
    now = utc_now()
    user_id = new_id()
    conn.execute(
        users.insert().values(
            id=user_id,
            email=email,
            name=name or email.split("@", 1)[0],
            password_hash=hash_password(password) if password else None,
            is_system=False,
            profile=profile,
            role=role,
            manager_id=manager_id,
            user_type=user_type,
            contact_id=contact_id,
            active=True,
            created_at=now,
            updated_at=now,
        )
    )
    return User(user_id, email, name or email.split("@", 1)[0], True, user_type=user_type)


def create_system_user(conn: Connection) -> None:
    """The author of what the CLI, packs and automation do; it cannot log in."""
    now = utc_now()
    conn.execute(
        users.insert().values(
            id=SYSTEM_USER_ID,
            email=SYSTEM_USER_EMAIL,
            name="System",
            password_hash=None,
            is_system=True,
            active=True,
            created_at=now,
            updated_at=now,
        )
    )


def find_user(conn: Connection, email: str) -> User | None:
    row = (
        conn.execute(sa.select(users).where(users.c.email == normalise_email(email)))
        .mappings()
        .first()
    )
    return _from_row(row) if row else None


def get_user(conn: Connection, user_id: str) -> User | None:
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
    return _from_row(row) if row else None


def system_user(conn: Connection) -> User:
    user = get_user(conn, SYSTEM_USER_ID)
    assert user is not None, "the org has no system user: run `crm init`"
    return user


def check_password(
    conn: Connection, email: str, password: str, user_type: str = STANDARD_USER
) -> User | None:
    """The active, non-system user of ``user_type`` with this login and password, or None
    (a portal user never signs in to the internal app, nor a colleague to the portal)."""
    row = (
        conn.execute(sa.select(users).where(users.c.email == normalise_email(email)))
        .mappings()
        .first()
    )
    if (
        row is None
        or not row["active"]
        or row["is_system"]
        or is_guest(row["email"])
        or row["user_type"] != user_type
    ):
        return None
    return _from_row(row) if verify_password(row["password_hash"], password) else None
