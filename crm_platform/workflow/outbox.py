"""The outbox table's operations: enqueue in the change's transaction, claim, finish.

A run moves ``queued`` → ``running`` → ``succeeded`` | ``failed`` (or ``cancelled``, a
scheduled run whose record stopped meeting its trigger). A claim is one conditional
UPDATE, so two workers (or a broker that delivers twice) never both run it; a
``running`` row whose lease ran out belongs to a worker that died and is claimed again.
A run that ran out of attempts stays ``failed``: the dead-letter list, from which an
admin retries it (from the step that failed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import dialect_insert, new_id
from crm_platform.core.tables import automation_runs

QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
STATUSES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)

MAX_ATTEMPTS = 6
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
# seconds between the broker's sweeps of runs due and undelivered (``crm worker --beat
# --sweep-every``; ``celery_app``)
SWEEP_EVERY = 15.0
# A claim lasts this long; a worker killed mid-run leaves its run to be claimed again after.
LEASE = timedelta(minutes=5)
# A run that starts this long after it was due ran late (the workers were down): it still
# runs, and says so.
LATE_AFTER = timedelta(minutes=2)

T = automation_runs.c


@dataclass(frozen=True)
class Run:
    """One row of the outbox, as jobs and the API see it."""

    id: str
    job: str
    source: str
    object: str | None
    record_id: str | None
    payload: dict[str, Any]
    status: str
    late: bool
    due_at: datetime
    attempts: int
    step: int
    error: str | None
    failed_step: str | None
    idempotency_key: str
    user_id: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Run:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})

    def as_json(self) -> dict[str, Any]:
        """The run as the API shows it (times in ISO 8601 with their offset)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out


def enqueue(
    conn: Connection,
    *,
    job: str,
    source: str,
    payload: Mapping[str, Any],
    user_id: str,
    now: datetime,
    due_at: datetime | None = None,
    object_name: str | None = None,
    record_id: str | None = None,
    key: str | None = None,
) -> str | None:
    """Add a run in ``conn``'s transaction; its id, or None when a run with the same
    idempotency ``key`` exists already (the same work asked for twice is one run)."""
    run_id = new_id()
    values = {
        "id": run_id,
        "job": job,
        "source": source,
        "object": object_name,
        "record_id": record_id,
        "payload": dict(payload),
        "status": QUEUED,
        "late": False,
        "due_at": due_at or now,
        "attempts": 0,
        "step": 0,
        "idempotency_key": key or run_id,
        "user_id": user_id,
        "created_at": now,
        # dispatched once its transaction commits; a run due later waits for the sweep
        "dispatched_at": now if due_at is None or due_at <= now else None,
    }
    statement = dialect_insert(conn, automation_runs).values(values)
    statement = statement.on_conflict_do_nothing(index_elements=["idempotency_key"])
    # RETURNING, not rowcount: psycopg reports no row count for INSERT .. ON CONFLICT
    inserted = conn.execute(statement.returning(T.id)).first()
    return run_id if inserted else None


def get(conn: Connection, run_id: str) -> Run | None:
    row = conn.execute(sa.select(automation_runs).where(T.id == run_id)).mappings().first()
    return Run.from_row(row) if row else None


def due(conn: Connection, now: datetime, limit: int = 100) -> list[str]:
    """Ids of runs that may be claimed now (due ones, and those of dead workers), oldest first."""
    waiting = sa.and_(T.status == QUEUED, T.due_at <= now)
    abandoned = sa.and_(T.status == RUNNING, T.lease_until < now)
    query = sa.select(T.id).where(sa.or_(waiting, abandoned)).order_by(T.due_at, T.id).limit(limit)
    return list(conn.execute(query).scalars())


def undelivered(
    conn: Connection, now: datetime, redispatch_after: timedelta, limit: int = 500
) -> list[str]:
    """Ids of runs a broker should be asked to deliver now, oldest first: due runs no
    message was sent for since they fell due (planned for later, retried with backoff,
    or their dispatch failed because the broker was down), and runs of dead workers —
    each only when no message sent for it in the last ``redispatch_after`` can still be
    on its way."""
    settled = sa.or_(T.dispatched_at.is_(None), T.dispatched_at < now - redispatch_after)
    waiting = sa.and_(
        T.status == QUEUED,
        T.due_at <= now,
        sa.or_(settled, T.dispatched_at < T.due_at),
    )
    abandoned = sa.and_(T.status == RUNNING, T.lease_until < now, settled)
    query = sa.select(T.id).where(sa.or_(waiting, abandoned)).order_by(T.due_at, T.id).limit(limit)
    return list(conn.execute(query).scalars())


def mark_dispatched(conn: Connection, run_ids: Sequence[str], now: datetime) -> None:
    """Record that a broker was asked to deliver these runs."""
    if run_ids:
        conn.execute(automation_runs.update().where(T.id.in_(run_ids)).values(dispatched_at=now))


def mark_undispatched(conn: Connection, run_id: str) -> None:
    """Record that sending a run to the broker failed: the next sweep sends it."""
    conn.execute(automation_runs.update().where(T.id == run_id).values(dispatched_at=None))


def next_due_at(conn: Connection) -> datetime | None:
    """When the next queued run falls due (for a scheduler deciding when to wake)."""
    return conn.execute(sa.select(sa.func.min(T.due_at)).where(T.status == QUEUED)).scalar()


def claim(conn: Connection, run_id: str, now: datetime, lease: timedelta = LEASE) -> Run | None:
    """Take a due run for this worker; None when it is not due, done, or held by another."""
    claimable = sa.or_(
        sa.and_(T.status == QUEUED, T.due_at <= now),
        sa.and_(T.status == RUNNING, T.lease_until < now),
    )
    late = sa.and_(T.attempts == 0, T.due_at < now - LATE_AFTER)
    claimed = conn.execute(
        automation_runs.update()
        .where(T.id == run_id, claimable)
        .values(
            status=RUNNING,
            attempts=T.attempts + 1,
            started_at=now,
            lease_until=now + lease,
            late=sa.or_(T.late, late),
        )
    ).rowcount
    return get(conn, run_id) if claimed else None


def succeed(conn: Connection, run_id: str, now: datetime) -> None:
    conn.execute(
        automation_runs.update()
        .where(T.id == run_id)
        .values(status=SUCCEEDED, finished_at=now, lease_until=None, error=None, failed_step=None)
    )


def retry_later(
    conn: Connection, run: Run, now: datetime, reason: str, step: str, after: timedelta | None
) -> str:
    """Queue a failed attempt again with exponential backoff, or fail it when its attempts
    ran out; the status it ends in."""
    if run.attempts >= MAX_ATTEMPTS:
        fail(conn, run.id, now, f"{reason} (gave up after {run.attempts} attempts)", step)
        return FAILED
    wait = after or min(FIRST_BACKOFF * 2 ** (run.attempts - 1), MAX_BACKOFF)
    conn.execute(
        automation_runs.update()
        .where(T.id == run.id)
        .values(status=QUEUED, due_at=now + wait, lease_until=None, error=reason, failed_step=step)
    )
    return QUEUED


def fail(conn: Connection, run_id: str, now: datetime, reason: str, step: str | None) -> None:
    conn.execute(
        automation_runs.update()
        .where(T.id == run_id)
        .values(status=FAILED, finished_at=now, lease_until=None, error=reason, failed_step=step)
    )


def requeue(conn: Connection, run_id: str, now: datetime) -> Run | None:
    """Queue a failed run again (an admin's retry): from the step that failed, with a
    fresh set of attempts; None when the run is not failed."""
    changed = conn.execute(
        automation_runs.update()
        .where(T.id == run_id, T.status == FAILED)
        .values(
            status=QUEUED,
            due_at=now,
            attempts=0,
            finished_at=None,
            lease_until=None,
            dispatched_at=now,
        )
    ).rowcount
    return get(conn, run_id) if changed else None


def cancel_pending(conn: Connection, *, source: str, record_id: str, job: str) -> int:
    """Cancel the queued runs of ``job`` that ``source`` planned for a record (a scheduled
    trigger whose record changed); how many were cancelled."""
    return conn.execute(
        automation_runs.update()
        .where(T.source == source, T.record_id == record_id, T.job == job, T.status == QUEUED)
        .values(status=CANCELLED, lease_until=None)
    ).rowcount


def list_runs(
    conn: Connection,
    *,
    statuses: Sequence[str] = (),
    late: bool | None = None,
    source: str | None = None,
    record_id: str | None = None,
    limit: int = 100,
    before: str | None = None,
) -> list[Run]:
    """Runs, newest first (``before``: the id of the last run of the previous page)."""
    query = sa.select(automation_runs).order_by(T.id.desc()).limit(limit)
    if statuses:
        query = query.where(T.status.in_(statuses))
    if late is not None:
        query = query.where(T.late.is_(late))
    if source is not None:
        query = query.where(T.source == source)
    if record_id is not None:
        query = query.where(T.record_id == record_id)
    if before is not None:
        query = query.where(T.id < before)
    return [Run.from_row(row) for row in conn.execute(query).mappings()]
