"""Password logins: the login history (successes and failures) and the brute-force throttle.

The throttle keeps its state in the database (``sys_login_throttle``), one row per
account (the email) and one per address, so every worker sees the same state. Each key
backs off on its own: after ``threshold`` failures a key is blocked for ``base``, the
delay doubling with each further failure up to ``cap``. An attempt while a key is
blocked is refused without checking the password and without counting, so an attacker
hammering an account cannot extend the block, and the right password is accepted as
soon as the back-off has passed. A success forgets the account's failures; an
address's are forgotten after a quiet ``forget`` period (ADR 0012).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from crm_platform.core import new_id, utc_now
from crm_platform.core.tables import STANDARD_USER, login_throttle, logins, users
from crm_platform.core.types import UTCDateTime

from .users import User, check_password, normalise_email


@dataclass(frozen=True)
class BackOff:
    """How one kind of key backs off after repeated failures."""

    threshold: int  # failures before the first block
    base: timedelta  # the first block
    cap: timedelta  # the longest block
    forget: timedelta  # failures older than this (with none since) no longer count

    def delay(self, failures: int) -> timedelta | None:
        """How long a key with this many consecutive failures is blocked (None: not)."""
        if failures < self.threshold:
            return None
        doublings = min(failures - self.threshold, 32)  # 2**32 s is far beyond any cap
        return min(self.base * 2**doublings, self.cap)


# An office behind one NAT address shares the address key: it tolerates many more
# failures than one account, so one person's typos never lock out their colleagues.
ACCOUNT = BackOff(5, timedelta(seconds=1), timedelta(minutes=15), timedelta(hours=24))
ADDRESS = BackOff(20, timedelta(seconds=1), timedelta(minutes=15), timedelta(hours=1))


@dataclass(frozen=True)
class LoginOutcome:
    """What a login attempt came to: the user, or why not."""

    user: User | None
    retry_after: int | None = None  # seconds to wait, when the attempt was throttled
    session_generation: int = 0  # the user's current session generation, on success

    @property
    def throttled(self) -> bool:
        return self.retry_after is not None


def account_key(email: str) -> str:
    return f"account:{normalise_email(email)[:254]}"


def _keys(email: str, address: str | None) -> list[tuple[str, BackOff]]:
    keys = [(account_key(email), ACCOUNT)]
    if address:
        keys.append((f"address:{address[:100]}", ADDRESS))
    return keys


def attempt_login(
    conn: Connection,
    email: str,
    password: str,
    *,
    address: str | None,
    user_agent: str | None,
    now: datetime | None = None,
    method: str = "password",
    user_type: str = STANDARD_USER,
) -> LoginOutcome:
    """Check a password login, throttled per account and per address, and record it in the
    login history (as ``method``: a sign-in, or a password change's current password).
    ``now`` is the org clock's time (tests drive it)."""
    now = now or utc_now()
    keys = _keys(email, address)
    wait = throttle_wait(conn, [k for k, _ in keys], now)
    if wait is not None:
        record_login(conn, email, None, False, address, user_agent, method, at=now)
        return LoginOutcome(None, retry_after=wait)
    user = check_password(conn, email, password, user_type)
    user_id = user.id if user else None
    record_login(conn, email, user_id, user is not None, address, user_agent, method, at=now)
    if user is None:
        record_failure(conn, keys, now)
        return LoginOutcome(None)
    forget_failures(conn, account_key(email))
    generation = conn.execute(
        sa.select(users.c.session_generation).where(users.c.id == user.id)
    ).scalar_one()
    return LoginOutcome(user, session_generation=generation)


def throttle_wait(conn: Connection, keys: Sequence[str], now: datetime) -> int | None:
    """Whole seconds until every key is unblocked, or None when none is blocked."""
    until = conn.execute(
        sa.select(sa.func.max(login_throttle.c.blocked_until)).where(
            login_throttle.c.key.in_(list(keys)),
            login_throttle.c.blocked_until > sa.literal(now, UTCDateTime),
        )
    ).scalar_one()
    if until is None:
        return None
    return max(1, math.ceil((until - now).total_seconds()))


def record_failure(conn: Connection, keys: Sequence[tuple[str, BackOff]], now: datetime) -> None:
    """Count a failure against each key (one upsert each, atomic across workers) and block
    the keys that passed their threshold."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
        login_throttle
    )
    for key, policy in keys:
        stale = login_throttle.c.last_failure_at < sa.literal(now - policy.forget, UTCDateTime)
        statement = (
            insert.values(key=key, failures=1, last_failure_at=now, blocked_until=None)
            .on_conflict_do_update(
                index_elements=[login_throttle.c.key],
                set_={
                    "failures": sa.case((stale, 1), else_=login_throttle.c.failures + 1),
                    "last_failure_at": now,
                },
            )
            .returning(login_throttle.c.failures)
        )
        failures = conn.execute(statement).scalar_one()
        delay = policy.delay(failures)
        if delay is not None:
            conn.execute(
                login_throttle.update()
                .where(login_throttle.c.key == key)
                .values(blocked_until=now + delay)
            )


def forget_failures(conn: Connection, key: str) -> None:
    """A successful sign-in (or a right current password) clears its account's failures."""
    conn.execute(login_throttle.delete().where(login_throttle.c.key == key))


def record_login(
    conn, email, user_id, succeeded, address, user_agent, method="password", *, at=None
) -> None:
    conn.execute(
        logins.insert().values(
            id=new_id(),
            user_id=user_id,
            email=normalise_email(email)[:254],
            succeeded=succeeded,
            method=method,
            address=address,
            user_agent=(user_agent or "")[:500],
            at=at or utc_now(),
        )
    )
