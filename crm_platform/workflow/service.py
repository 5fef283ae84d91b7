"""An org's automation service: its job types, the outbox and the dispatcher.

Work is enqueued in the transaction of the change that asks for it and dispatched
once that transaction commits (DESIGN §5 steps 10–11): a rolled-back change sends
nothing, a committed one is never lost. With no broker, the org's work runner runs
due runs in-process (and its scheduler wakes the runner when a run planned for later
falls due); with a broker, Celery workers do (``workflow.celery_app``). Either way
:meth:`Automation.execute` runs one run: claim, run its job, record the outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection

from crm_platform.core import after_commit

from . import outbox
from .jobs import JobContext, JobFailed, JobType, RetryLater
from .outbox import Run

if TYPE_CHECKING:
    from crm_platform.runtime import Org

    from .scheduler import Scheduler

log = logging.getLogger(__name__)

SERVICE_NAME = "automation"


class Dispatcher(Protocol):
    """Gets a committed run executed (in-process, or through a broker)."""

    def dispatch(self, run_id: str) -> None: ...


class InProcessDispatcher:
    """No broker: the org's work runner runs due runs in a background thread."""

    def __init__(self, org: Org) -> None:
        self.org = org

    def dispatch(self, run_id: str) -> None:
        self.org.work.kick()


class Automation:
    """The automation of one org (``org.services['automation']``)."""

    def __init__(self, org: Org, dispatcher: Dispatcher | None = None) -> None:
        self.org = org
        self.dispatcher: Dispatcher = dispatcher or InProcessDispatcher(org)
        self._jobs: dict[str, JobType] = {}
        # no broker: wakes the work runner when a run planned for later falls due
        self.scheduler: Scheduler | None = None

    @property
    def lease(self) -> timedelta:
        """How long a claim holds before the run is taken as abandoned (a setting)."""
        return timedelta(seconds=self.org.settings.automation_lease_seconds)

    @property
    def uses_broker(self) -> bool:
        return bool(self.org.settings.broker_url)

    @property
    def jobs(self) -> Mapping[str, JobType]:
        return self._jobs

    def add_job(self, job: JobType) -> None:
        """Make a job type runnable (its name is what runs store in ``job``)."""
        self._jobs[job.name] = job

    def now(self) -> datetime:
        return self.org.clock()

    def enqueue(
        self,
        conn: Connection,
        *,
        job: str,
        source: str,
        payload: Mapping[str, Any],
        user_id: str,
        due_at: datetime | None = None,
        object_name: str | None = None,
        record_id: str | None = None,
        key: str | None = None,
    ) -> str | None:
        """Add a run in ``conn``'s write transaction, dispatched once it commits (a run
        due later is found by the scheduler when it falls due). The run's id, or None
        when one with the same idempotency ``key`` exists."""
        if job not in self._jobs:
            raise KeyError(f"no job type '{job}'")
        now = self.now()
        run_id = outbox.enqueue(
            conn,
            job=job,
            source=source,
            payload=payload,
            user_id=user_id,
            now=now,
            due_at=due_at,
            object_name=object_name,
            record_id=record_id,
            key=key,
        )
        if run_id is not None and (due_at is None or due_at <= now):
            after_commit(conn, partial(self.dispatcher.dispatch, run_id))
        elif run_id is not None and self.scheduler is not None:
            after_commit(conn, self.scheduler.wake)  # it may fall due before its next look
        return run_id

    def execute(self, run_id: str) -> str | None:
        """Run one run if it can be claimed now; the status it ended in, or None when it
        was not claimable (not due, finished, or held by a live worker)."""
        now = self.now()
        with self.org.db.write() as conn:
            run = outbox.claim(conn, run_id, now, self.lease)
        if run is None:
            return None
        job = self._jobs.get(run.job)
        try:
            if job is None:
                raise JobFailed(f"no job type '{run.job}' in this process")
            job.run(JobContext(self.org, run, now))
        except RetryLater as exc:
            with self.org.db.write() as conn:
                current = outbox.get(conn, run.id) or run
                return outbox.retry_later(
                    conn, current, self.now(), exc.reason, exc.step or run.job, exc.after
                )
        except JobFailed as exc:
            with self.org.db.write() as conn:
                outbox.fail(conn, run.id, self.now(), exc.reason, exc.step or run.job)
            return outbox.FAILED
        except Exception as exc:  # a bug or an outage: logged, and tried again with backoff
            log.exception("automation run %s failed", run.id)
            with self.org.db.write() as conn:
                current = outbox.get(conn, run.id) or run
                reason = f"unexpected error: {type(exc).__name__}"
                return outbox.retry_later(conn, current, self.now(), reason, run.job, None)
        with self.org.db.write() as conn:
            outbox.succeed(conn, run.id, self.now())
        return outbox.SUCCEEDED

    def run_due(self, should_stop: Callable[[], bool] = lambda: False) -> int:
        """Execute every run due now, oldest first; how many ran."""
        done = 0
        while not should_stop():
            with self.org.db.read() as conn:
                ids = outbox.due(conn, self.now())
            ran = 0
            for run_id in ids:
                if should_stop():
                    break
                if self.execute(run_id) is not None:
                    ran += 1
            done += ran
            if not ran:
                return done
        return done

    def start_scheduler(self) -> None:
        """With no broker, run runs planned for later when they fall due, in this process
        (``crm serve`` starts it after fork; tests drive ``org.clock`` and
        ``org.work.run_pending()`` instead). With a broker, ``crm worker --beat`` does."""
        from .scheduler import Scheduler

        if self.uses_broker or self.scheduler is not None:
            return
        self.scheduler = Scheduler(self.org)
        self.scheduler.start()

    def retry(self, run_id: str) -> Run | None:
        """Queue a failed run again from the step that failed; None when it is not failed."""
        with self.org.db.write() as conn:
            run = outbox.requeue(conn, run_id, self.now())
            if run is not None:
                after_commit(conn, partial(self.dispatcher.dispatch, run_id))
        return run


class OutboxWork:
    """The outbox as background work of the org's runner (no broker)."""

    name = "automation"

    def __init__(self, automation: Automation) -> None:
        self.automation = automation

    def run_pending(self, org: Org, should_stop: Callable[[], bool]) -> int:
        return self.automation.run_due(should_stop)


def automation_of(org: Org) -> Automation:
    """The org's automation service (the workflow extension attached it)."""
    return org.services[SERVICE_NAME]
