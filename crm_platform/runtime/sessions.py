"""Server-side revocation of UI sessions: a session generation per user.

A UI session cookie carries the generation its user had when they signed in; every
session-authenticated request reads the user's current generation in the same
statement as their assignments (``security/principals.py``) and refuses a cookie whose
generation is older. Raising the generation (sign-out, password change, deactivation,
"sign out everywhere") ends every session of the user on every worker at once, with no
list of sessions to keep (ADR 0012).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import NotFound, utc_now
from crm_platform.core.tables import users


def end_sessions(conn: Connection, user_id: str) -> int:
    """End every UI session of the user; the new generation (404 for an unknown user)."""
    changed = conn.execute(
        users.update()
        .where(users.c.id == user_id, users.c.is_system.is_(False))
        .values(session_generation=users.c.session_generation + 1, updated_at=utc_now())
    ).rowcount
    if not changed:
        raise NotFound(f"no user '{user_id}'")
    return session_generation(conn, user_id)


def session_generation(conn: Connection, user_id: str) -> int:
    """The user's current session generation (0 for an unknown user)."""
    found = conn.execute(
        sa.select(users.c.session_generation).where(users.c.id == user_id)
    ).scalar()
    return found or 0
