"""Delivery through a broker: the Celery app, its tasks, and the dispatcher that uses it.

With ``CRM_BROKER_URL`` set (``redis://…`` or ``amqp://…``) a committed run is handed to
the broker as a message carrying only its id; a ``crm worker`` process takes it and
calls :meth:`Automation.execute`, which claims the run in the database. The database,
not the broker, decides what ran (ADR 0020): a message delivered twice runs once, and
a message lost (a broker restarted without persistence, a dispatch while the broker
was down) is replaced by the **sweep**, a periodic task (``crm worker --beat``) that
queues every run due and undelivered — runs planned for later, retries after backoff,
runs whose dispatch failed — and the runs of workers that died mid-run.

Workers run the tasks in prefork processes; each process opens its own org (and so
its own database engine) at its first task, after the fork (DESIGN §0 "Serving").
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from celery import Celery

from crm_platform.core import Settings

from . import outbox
from .outbox import SWEEP_EVERY
from .service import Automation, automation_of

if TYPE_CHECKING:
    from crm_platform.runtime import Org

log = logging.getLogger(__name__)

DELIVER = "crm.automation.deliver"
SWEEP = "crm.automation.sweep"
PUBLISH_TIMEOUT = 3.0  # seconds: a request never waits longer on a broker that is down

OrgOpener = Callable[[Settings], "Org"]


def make_celery(
    settings: Settings, open_org: OrgOpener | None = None, sweep_every: float = SWEEP_EVERY
) -> Celery:
    """The Celery app of an org's broker. ``open_org`` (the application's assembly) is
    how a worker process opens the org; a dispatcher that only sends needs none."""
    if not settings.broker_url:
        raise ValueError("CRM_BROKER_URL is not set")
    app = Celery("crm", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=settings.broker_queue,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # a message is acknowledged after its task ran: a worker killed mid-run leaves it
        # to the broker, which delivers it again (the claim in the database decides)
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_timeout=PUBLISH_TIMEOUT,
        broker_connection_retry_on_startup=True,
        task_publish_retry=False,  # a dispatch that fails is left to the sweep
        broker_transport_options=_transport_options(
            settings.broker_url, sending_only=open_org is None
        ),
        worker_hijack_root_logger=False,
        beat_schedule={
            "sweep": {
                "task": SWEEP,
                "schedule": sweep_every,
                # sweeps sent while no worker listened are worth nothing later
                "options": {"queue": settings.broker_queue, "expires": sweep_every},
            }
        },
        beat_schedule_filename=str(settings.instance_path / "celerybeat-schedule"),
    )
    process = _ProcessOrg(settings, open_org)

    @app.task(name=DELIVER)
    def deliver(run_id: str) -> str | None:
        """Run one run (a no-op when another worker has it or it is done)."""
        return automation_of(process.org()).execute(run_id)

    @app.task(name=SWEEP)
    def sweep_task() -> int:
        """Queue every run that is due and undelivered, and runs of dead workers."""
        return sweep(automation_of(process.org()))

    del deliver, sweep_task  # registered on the app by name
    return app


def _transport_options(broker_url: str, *, sending_only: bool) -> dict[str, float | bool]:
    """A sender tries the broker once, briefly: a request (or a sweep) whose send fails
    leaves the run to the next sweep rather than wait. On RabbitMQ it waits for the
    broker's confirm, so a run is marked sent only once the broker has its message.
    Workers keep Celery's patient reconnection."""
    if not sending_only:
        return {}
    confirm = {"confirm_publish": True} if broker_url.startswith(("amqp", "pyamqp")) else {}
    return {
        **confirm,
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "connect_retries_timeout": PUBLISH_TIMEOUT,
        "socket_timeout": PUBLISH_TIMEOUT,
        "socket_connect_timeout": PUBLISH_TIMEOUT,
    }


class _ProcessOrg:
    """The org of the current worker process, opened at its first task after the fork."""

    def __init__(self, settings: Settings, open_org: OrgOpener | None) -> None:
        self.settings = settings
        self.open_org = open_org
        self._orgs: dict[int, Org] = {}
        self._lock = threading.Lock()

    def org(self) -> Org:
        if self.open_org is None:
            raise RuntimeError("this Celery app only sends; `crm worker` runs the tasks")
        pid = os.getpid()
        with self._lock:
            if pid not in self._orgs:
                self._orgs = {pid: self.open_org(self.settings)}  # a parent's is not ours
            return self._orgs[pid]


def sweep(automation: Automation) -> int:
    """Ask the broker to deliver every run that is due and has no message on its way;
    how many were queued."""
    now = automation.now()
    with automation.org.db.write() as conn:
        run_ids = outbox.undelivered(conn, now, redispatch_after=automation.lease)
        outbox.mark_dispatched(conn, run_ids, now)
    for run_id in run_ids:
        automation.dispatcher.dispatch(run_id)
    if run_ids:
        log.info("automation sweep queued %d runs", len(run_ids))
    return len(run_ids)


class CeleryDispatcher:
    """Hands committed runs to the broker (``CRM_BROKER_URL``)."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self._apps: dict[int, Celery] = {}
        self._lock = threading.Lock()

    def app(self) -> Celery:
        """This process's Celery app (a forked process makes its own connections)."""
        pid = os.getpid()
        with self._lock:
            if pid not in self._apps:
                self._apps = {pid: make_celery(self.org.settings)}
            return self._apps[pid]

    def dispatch(self, run_id: str) -> None:
        """Send the run's id to the workers. When the broker cannot be reached the run
        is marked undispatched, and the next sweep after the broker is back sends it."""
        try:
            self.app().send_task(DELIVER, args=[run_id], queue=self.org.settings.broker_queue)
        except Exception as exc:
            log.warning("broker unreachable, run %s waits for the sweep: %s", run_id, exc)
            with self.org.db.write() as conn:
                outbox.mark_undispatched(conn, run_id)
