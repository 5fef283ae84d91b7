"""Delivery checks: ``crm automation ping`` (and ``POST /api/v1/automation/ping``).

An admin who has just started workers — or who wonders why nothing is being sent —
asks for a ping: a run of the ``ping`` job goes through the same outbox, dispatcher,
broker and worker as every webhook and email, and its one effect is a row saying which
worker delivered it and when. The row is written in the transaction that records the
job's step as done and keyed by the run, so however often the run is delivered (a
worker killed mid-run, a broker that delivers twice) there is at most one.

``hold`` keeps the worker busy for that many seconds before it answers: a drill for
a worker failure (kill the worker meanwhile; the run is delivered again once its lease
runs out, and the row still appears once). It must stay under the lease, or a live
worker's run would be taken as abandoned.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import dialect_insert
from crm_platform.core.errors import ValidationFailed
from crm_platform.core.tables import automation_pings

from . import outbox
from .jobs import JobContext
from .service import Automation

JOB = "ping"
SOURCE = "ping"
MAX_HOLD = 60.0


@dataclass(frozen=True)
class PingResult:
    """Who delivered a ping, and when."""

    run_id: str
    delivered_by: str
    delivered_at: datetime


class PingJob:
    """The ``ping`` job type: records which worker delivered the run."""

    name = JOB

    def run(self, job: JobContext) -> None:
        if job.first_step > 0:  # recorded by an earlier attempt that died before finishing
            return
        hold = float(job.payload.get("hold", 0))
        if hold > 0:
            time.sleep(hold)
        with job.write() as conn:
            conn.execute(
                dialect_insert(conn, automation_pings)
                .values(
                    run_id=job.run.id,
                    delivered_by=f"{socket.gethostname()}:{os.getpid()}",
                    delivered_at=job.org.clock(),
                )
                .on_conflict_do_nothing(index_elements=["run_id"])
            )
            job.step_done(conn, 0)


def check_hold(automation: Automation, hold: float) -> float:
    """A valid ``hold`` (seconds), or a 400 naming it."""
    if hold and not automation.uses_broker:  # it would hold up the in-process runner
        raise ValidationFailed({"hold": "needs a broker (CRM_BROKER_URL): it holds a worker"})
    lease = automation.lease.total_seconds()
    limit = min(MAX_HOLD, lease - 1)
    if not 0 <= hold <= limit:
        raise ValidationFailed(
            {"hold": f"must be between 0 and {limit:g} seconds (under the run lease)"}
        )
    return hold


def request_ping(automation: Automation, user_id: str, hold: float = 0) -> str:
    """Queue a ping run; its id."""
    return queue_ping(automation, user_id, hold).id


def queue_ping(automation: Automation, user_id: str, hold: float = 0) -> outbox.Run:
    """Queue a ping run; the run as queued, read in the transaction that queued it (an
    in-process worker may deliver it the moment that transaction commits)."""
    hold = check_hold(automation, hold)
    with automation.org.db.write() as conn:
        run_id = automation.enqueue(
            conn, job=JOB, source=SOURCE, payload={"hold": hold}, user_id=user_id
        )
        assert run_id is not None  # no key given: a fresh run every time
        run = outbox.get(conn, run_id)
    assert run is not None
    return run


def ping_result(conn: Connection, run_id: str) -> PingResult | None:
    """Who delivered the ping run ``run_id``; None while it is not delivered."""
    row = (
        conn.execute(sa.select(automation_pings).where(automation_pings.c.run_id == run_id))
        .mappings()
        .first()
    )
    return PingResult(**row) if row else None


def ping_count(conn: Connection, run_id: str) -> int:
    """How many delivery rows a ping has (the primary key keeps it at most one)."""
    return conn.execute(
        sa.select(sa.func.count())
        .select_from(automation_pings)
        .where(automation_pings.c.run_id == run_id)
    ).scalar_one()
