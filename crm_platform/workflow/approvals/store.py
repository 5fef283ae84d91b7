"""The approval tables (``core.tables``): requests, step instances, approvers and their
decisions, history. Plain reads and writes; the engine decides what happens."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import new_id
from crm_platform.core.tables import (
    approval_approvers,
    approval_history,
    approval_requests,
    approval_steps,
    users,
)

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
RECALLED = "recalled"
SKIPPED = "skipped"
REASSIGNED = "reassigned"
ESCALATED = "escalated"
SUBMITTED = "submitted"
CLOSED = "closed"  # an approver whose step ended without their decision

R = approval_requests.c
S = approval_steps.c
A = approval_approvers.c
H = approval_history.c


def pending_request(
    conn: Connection, object_name: str, record_id: str, *, lock: bool = False
) -> Mapping[str, Any] | None:
    """The record's pending request (locked for update on PostgreSQL with ``lock``, so
    that two decisions on it are taken one after the other)."""
    query = sa.select(approval_requests).where(
        R.object == object_name, R.record_id == record_id, R.status == PENDING
    )
    if lock and conn.dialect.name != "sqlite":
        query = query.with_for_update()
    return conn.execute(query).mappings().first()


def locked_records(conn: Connection, object_name: str, record_ids: Sequence[str]) -> list[str]:
    """The records among ``record_ids`` that a pending request locks."""
    query = sa.select(R.record_id).where(
        R.object == object_name,
        R.record_id.in_(record_ids),
        R.status == PENDING,
        R.lock_record.is_(True),
    )
    return [row[0] for row in conn.execute(query)]


def add_request(
    conn: Connection,
    *,
    process: str,
    object_name: str,
    record_id: str,
    lock_record: bool,
    submitted_by: str,
    now: datetime,
) -> str:
    request_id = new_id()
    conn.execute(
        approval_requests.insert().values(
            id=request_id,
            process=process,
            object=object_name,
            record_id=record_id,
            status=PENDING,
            lock_record=lock_record,
            submitted_by=submitted_by,
            submitted_at=now,
        )
    )
    return request_id


def finish_request(conn: Connection, request_id: str, status: str, now: datetime) -> None:
    conn.execute(
        approval_requests.update()
        .where(R.id == request_id, R.status == PENDING)
        .values(status=status, decided_at=now)
    )


def add_step(
    conn: Connection,
    request_id: str,
    *,
    index: int,
    name: str,
    mode: str,
    status: str,
    now: datetime,
) -> str:
    step_id = new_id()
    conn.execute(
        approval_steps.insert().values(
            id=step_id,
            request_id=request_id,
            step_index=index,
            name=name,
            mode=mode,
            status=status,
            started_at=now,
            decided_at=None if status == PENDING else now,
            escalated=False,
        )
    )
    return step_id


def current_step(conn: Connection, request_id: str) -> Mapping[str, Any] | None:
    return (
        conn.execute(
            sa.select(approval_steps).where(S.request_id == request_id, S.status == PENDING)
        )
        .mappings()
        .first()
    )


def get_step(conn: Connection, step_id: str) -> Mapping[str, Any] | None:
    return conn.execute(sa.select(approval_steps).where(S.id == step_id)).mappings().first()


def finish_step(conn: Connection, step_id: str, status: str, now: datetime) -> None:
    """End a step, and close the approvers who had not decided."""
    conn.execute(
        approval_steps.update()
        .where(S.id == step_id, S.status == PENDING)
        .values(status=status, decided_at=now)
    )
    conn.execute(
        approval_approvers.update()
        .where(A.step_id == step_id, A.status == PENDING)
        .values(status=CLOSED, decided_at=now)
    )


def mark_escalated(conn: Connection, step_id: str) -> None:
    conn.execute(approval_steps.update().where(S.id == step_id).values(escalated=True))


def add_approvers(
    conn: Connection, request_id: str, step_id: str, user_ids: Iterable[str], now: datetime
) -> None:
    rows = [
        {
            "id": new_id(),
            "step_id": step_id,
            "request_id": request_id,
            "user_id": user_id,
            "status": PENDING,
            "comment": None,
            "assigned_at": now,
            "decided_at": None,
        }
        for user_id in dict.fromkeys(user_ids)
    ]
    if rows:
        conn.execute(approval_approvers.insert(), rows)


def approvers_of(conn: Connection, step_id: str) -> list[Mapping[str, Any]]:
    query = sa.select(approval_approvers).where(A.step_id == step_id).order_by(A.id)
    return list(conn.execute(query).mappings())


def set_approver(
    conn: Connection, approver_id: str, status: str, now: datetime, comment: str | None = None
) -> bool:
    """Record an approver's decision (or that the item moved on); False when it was no
    longer pending (someone was quicker)."""
    return bool(
        conn.execute(
            approval_approvers.update()
            .where(A.id == approver_id, A.status == PENDING)
            .values(status=status, decided_at=now, comment=comment)
        ).rowcount
    )


def add_history(
    conn: Connection,
    request_id: str,
    action: str,
    actor_id: str,
    now: datetime,
    *,
    step: str | None = None,
    target_id: str | None = None,
    comment: str | None = None,
) -> None:
    conn.execute(
        approval_history.insert().values(
            id=new_id(),
            request_id=request_id,
            step=step,
            action=action,
            actor_id=actor_id,
            target_id=target_id,
            comment=comment,
            at=now,
        )
    )


def requests_of(conn: Connection, object_name: str, record_id: str) -> list[Mapping[str, Any]]:
    """Every request of a record, newest first."""
    query = (
        sa.select(approval_requests)
        .where(R.object == object_name, R.record_id == record_id)
        .order_by(R.submitted_at.desc(), R.id.desc())
    )
    return list(conn.execute(query).mappings())


def steps_of(conn: Connection, request_id: str) -> list[Mapping[str, Any]]:
    query = (
        sa.select(approval_steps)
        .where(S.request_id == request_id)
        .order_by(S.step_index, S.started_at, S.id)
    )
    return list(conn.execute(query).mappings())


def history_of(conn: Connection, request_id: str) -> list[Mapping[str, Any]]:
    query = sa.select(approval_history).where(H.request_id == request_id).order_by(H.id)
    return list(conn.execute(query).mappings())


def user_names(conn: Connection, ids: Iterable[str]) -> dict[str, str]:
    """Users' display names by id (for history: who did what)."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    query = sa.select(users.c.id, users.c.name).where(users.c.id.in_(wanted))
    return {row.id: row.name for row in conn.execute(query)}


def pending_for(conn: Connection, user_id: str) -> list[Mapping[str, Any]]:
    """What waits for a user's decision, oldest first."""
    query = (
        sa.select(
            A.id.label("approver_id"),
            A.assigned_at,
            R.id.label("request_id"),
            R.process,
            R.object,
            R.record_id,
            R.submitted_by,
            R.submitted_at,
            S.name.label("step"),
            S.mode,
        )
        .select_from(
            approval_approvers.join(approval_steps, S.id == A.step_id).join(
                approval_requests, R.id == A.request_id
            )
        )
        .where(A.user_id == user_id, A.status == PENDING, S.status == PENDING)
        .order_by(A.assigned_at, A.id)
    )
    return list(conn.execute(query).mappings())


def submitter_of(conn: Connection, request_id: str) -> str:
    return conn.execute(sa.select(R.submitted_by).where(R.id == request_id)).scalar_one()


def decided_steps_of(conn: Connection, request_id: str, user_id: str) -> list[str]:
    """The steps of a request that ``user_id`` was an approver of and that are decided."""
    query = (
        sa.select(S.name)
        .select_from(approval_approvers.join(approval_steps, S.id == A.step_id))
        .where(A.request_id == request_id, A.user_id == user_id, S.status != PENDING)
        .order_by(S.step_index)
    )
    return list(conn.execute(query).scalars())


def active_user(conn: Connection, id_or_email: str) -> str | None:
    """The id of an active (non-system) user given by id or email."""
    column = users.c.email if "@" in id_or_email else users.c.id
    value = id_or_email.lower() if "@" in id_or_email else id_or_email
    query = sa.select(users.c.id).where(
        column == value, users.c.active.is_(True), users.c.is_system.is_(False)
    )
    return conn.execute(query).scalar()
