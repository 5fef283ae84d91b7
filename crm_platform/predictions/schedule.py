"""Retraining on a schedule, on the automation engine's outbox.

Each training run (asked for or scheduled) plans the next one ``retrain_every_days``
later as a queued outbox run of the ``prediction.train`` job, cancelling the one planned
before. The engine runs it when it falls due: the embedded scheduler thread of
``crm serve`` with no broker, Celery beat's sweep and a worker with one — the same
path as a scheduled trigger. A prediction whose ``retrain_every_days`` is 0 retrains
only when asked.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from crm_platform.core import NotFound
from crm_platform.core.tables import automation_runs
from crm_platform.runtime.users import User, system_user
from crm_platform.workflow import JobContext, JobFailed, automation_of
from crm_platform.workflow.outbox import CANCELLED, QUEUED

from .training import TooFewExamples, TrainingRun, prediction_named, train

if TYPE_CHECKING:
    from crm_platform.runtime import Org

JOB = "prediction.train"


def source_of(name: str) -> str:
    """The outbox ``source`` of a prediction's scheduled runs."""
    return f"prediction:{name}"


def plan_next(org: Org, name: str) -> None:
    """Queue the next scheduled training of ``name`` (replacing a planned one)."""
    prediction = prediction_named(org, name)
    automation = automation_of(org)
    with org.db.write() as conn:
        t = automation_runs.c
        conn.execute(
            automation_runs.update()
            .where(t.source == source_of(name), t.job == JOB, t.status == QUEUED)
            .values(status=CANCELLED, lease_until=None)
        )
        if prediction.retrain_every_days <= 0:
            return
        due = automation.now() + timedelta(days=prediction.retrain_every_days)
        automation.enqueue(
            conn,
            job=JOB,
            source=source_of(name),
            payload={"prediction": name},
            user_id=system_user(conn).id,
            due_at=due,
            object_name=prediction.object,
            key=f"{source_of(name)}@{due.isoformat()}",
        )


def train_now(org: Org, name: str, user: User, *, reason: str = "asked") -> TrainingRun:
    """Train ``name`` now and plan its next scheduled training (also when refused: the
    history may have grown by then)."""
    try:
        return train(org, name, user, reason=reason)
    finally:
        plan_next(org, name)


class TrainJob:
    """The ``prediction.train`` job: retrain one prediction as the system user."""

    name = JOB

    def run(self, job: JobContext) -> None:
        org = job.org
        name = job.payload["prediction"]
        with org.db.read() as conn:
            user = system_user(conn)
        try:
            train_now(org, name, user, reason="schedule")
        except TooFewExamples:
            pass  # recorded as a refused run; the next one may find enough history
        except NotFound as exc:
            raise JobFailed(exc.detail) from exc  # the prediction was deleted
