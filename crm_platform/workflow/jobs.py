"""Job types: what a run of the outbox does, and how it says it must be tried again.

A job type runs one outbox row (:class:`~.outbox.Run`). It may take several steps
(a scheduled trigger's actions, one after another): it records each finished step
with :meth:`JobContext.step_done`, in the same transaction as the step's own database
effects, so a retry starts at the step that failed and never repeats a finished one.
Effects outside the database (an HTTP call, an email) carry the run's idempotency key
so that the receiving end can tell a retry from new work.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection

from crm_platform.core.tables import automation_runs

if TYPE_CHECKING:
    from crm_platform.runtime import Org

    from .outbox import Run


class RetryLater(Exception):
    """A failure worth trying again (a timeout, a 503): the run is queued again with
    backoff until its attempts run out, then it fails (the dead-letter list)."""

    def __init__(
        self, reason: str, *, step: str | None = None, after: timedelta | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.step = step  # which action failed, as the runs list names it
        self.after = after


class JobFailed(Exception):
    """A failure that trying again will not mend (a 400 from a webhook, a template that
    no longer exists): the run fails at once, naming the step."""

    def __init__(self, reason: str, *, step: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.step = step


class JobType(Protocol):
    """One kind of outbox work (``name`` is stored in the run's ``job`` column)."""

    name: str

    def run(self, job: JobContext) -> None:
        """Do the work; raise :class:`RetryLater` or :class:`JobFailed` on failure."""


@dataclass(frozen=True)
class JobContext:
    """What a job type gets: the org, the claimed run and the time the attempt began."""

    org: Org
    run: Run
    now: datetime

    @property
    def payload(self) -> dict[str, Any]:
        return self.run.payload

    @property
    def first_step(self) -> int:
        """The step to start at: 0, or the step a failed attempt stopped at."""
        return self.run.step

    @property
    def idempotency_key(self) -> str:
        return self.run.idempotency_key

    def step_key(self, step: int) -> str:
        """The idempotency key of one step (sent with external effects, e.g. webhooks)."""
        return f"{self.run.idempotency_key}#{step}"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction of the org's database (a step's effects and its
        :meth:`step_done` go in the same one)."""
        with self.org.db.write() as conn:
            yield conn

    def step_done(self, conn: Connection, step: int) -> None:
        """Record that ``step`` finished: a retry starts after it."""
        conn.execute(
            automation_runs.update()
            .where(automation_runs.c.id == self.run.id, automation_runs.c.step <= step)
            .values(step=step + 1)
        )
