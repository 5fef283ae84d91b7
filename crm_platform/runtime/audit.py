"""The audit trail for administrators: who changed which metadata, and who signed in.

Field history is per record (the record service); this module reads the two
platform-wide trails, newest first, for the API and the setup UI alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import ValidationFailed
from crm_platform.core.tables import logins, metadata_revisions, users

from .users import normalise_email

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed({"limit": f"between 1 and {MAX_LIMIT}"})


@dataclass(frozen=True)
class SetupChangeQuery:
    """Which setup changes to read: of one ``kind`` only, before a metadata version."""

    kind: str | None = None
    before: int | None = None
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        _check_limit(self.limit)
        if self.before is not None and self.before < 0:
            raise ValidationFailed({"before": "a metadata version"})


@dataclass(frozen=True)
class Author:
    """Who made a change (``email`` is None when the user is gone)."""

    id: str
    email: str | None


@dataclass(frozen=True)
class SetupChange:
    """One component's change in one metadata version; definitions as stored (or None)."""

    revision: int
    kind: str
    name: str
    action: str
    by: Author
    at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def setup_changes(conn: Connection, query: SetupChangeQuery) -> list[SetupChange]:
    """The setup changes ``query`` asks for, newest first (then by component name)."""
    mr = metadata_revisions
    select = (
        sa.select(mr, users.c.email)
        .join(users, users.c.id == mr.c.author_id, isouter=True)
        .order_by(mr.c.metadata_version.desc(), mr.c.name)
        .limit(query.limit)
    )
    if query.kind:
        select = select.where(mr.c.kind == query.kind)
    if query.before is not None:
        select = select.where(mr.c.metadata_version < query.before)
    return [
        SetupChange(
            revision=row["metadata_version"],
            kind=row["kind"],
            name=row["name"],
            action=row["action"],
            by=Author(id=row["author_id"], email=row["email"]),
            at=row["created_at"],
            before=(row["before"] or {}).get("definition"),
            after=(row["after"] or {}).get("definition"),
        )
        for row in conn.execute(select).mappings()
    ]


@dataclass(frozen=True)
class LoginQuery:
    """Which logins to read: of one email only (any case)."""

    email: str | None = None
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        _check_limit(self.limit)


@dataclass(frozen=True)
class LoginEvent:
    """One sign-in attempt, failed or not (``user_id`` is None for an unknown email)."""

    id: str
    user_id: str | None
    email: str
    succeeded: bool
    method: str
    address: str | None
    user_agent: str | None
    at: datetime


def login_history(conn: Connection, query: LoginQuery) -> list[LoginEvent]:
    """The logins ``query`` asks for, failures included, newest first."""
    select = sa.select(logins).order_by(logins.c.at.desc()).limit(query.limit)
    if query.email:
        select = select.where(logins.c.email == normalise_email(query.email))
    return [LoginEvent(**row) for row in conn.execute(select).mappings()]
