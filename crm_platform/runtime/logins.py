"""Password logins: the login history (successes and failures) and the brute-force throttle.

The throttle counts recent failures in the login history itself, so every worker
and every process sees the same count (nothing is held in one worker's memory).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import new_id, utc_now
from crm_platform.core.tables import logins

from .users import User, check_password, normalise_email

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


THROTTLED = "throttled"


def throttled(conn: Connection, email: str, address: str | None) -> bool:
    since = utc_now() - WINDOW
    who = logins.c.email == normalise_email(email)
    if address:
        who = sa.or_(who, logins.c.address == address)
    failures = conn.execute(
        sa.select(sa.func.count()).where(logins.c.succeeded.is_(False), logins.c.at >= since, who)
    ).scalar_one()
    return failures >= MAX_FAILURES


def attempt_login(
    conn: Connection, email: str, password: str, *, address: str | None, user_agent: str | None
) -> User | str | None:
    """Check a password login and record it: the user, None, or THROTTLED after too many
    recent failures (then the password is not even checked)."""
    if throttled(conn, email, address):
        record_login(conn, email, None, False, address, user_agent)
        return THROTTLED
    user = check_password(conn, email, password)
    record_login(conn, email, user.id if user else None, user is not None, address, user_agent)
    return user


def record_login(conn, email, user_id, succeeded, address, user_agent, method="password") -> None:
    conn.execute(
        logins.insert().values(
            id=new_id(),
            user_id=user_id,
            email=normalise_email(email)[:254],
            succeeded=succeeded,
            method=method,
            address=address,
            user_agent=(user_agent or "")[:500],
            at=utc_now(),
        )
    )
