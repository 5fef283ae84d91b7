"""How runs are delivered: with no broker the embedded scheduler runs runs planned for
later when they fall due (real time, as under `crm serve`); with a broker the web
process only sends, and a send to a broker that is down leaves the run to the sweep."""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta

import pytest

from crm_platform.assembly import open_org
from crm_platform.core import ValidationFailed
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.core.types import utc_now
from crm_platform.workflow import automation_of, outbox
from crm_platform.workflow.celery_app import CeleryDispatcher, sweep
from crm_platform.workflow.ping import ping_count, request_ping
from tests.servers import free_port
from tests.workflow.test_outbox import Clock


def status_of(org, run_id: str) -> str:
    with org.db.read() as conn:
        run = outbox.get(conn, run_id)
    assert run is not None
    return run.status


def wait_for(org, run_id: str, status: str, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while status_of(org, run_id) != status and time.monotonic() < deadline:
        time.sleep(0.05)
    return status_of(org, run_id)


def plan_ping(org, due_in: timedelta) -> str:
    """A ping run due ``due_in`` from the org's time."""
    with org.db.write() as conn:
        run_id = automation_of(org).enqueue(
            conn,
            job="ping",
            source="ping",
            payload={},
            user_id=SYSTEM_USER_ID,
            due_at=org.clock() + due_in,
        )
    assert run_id is not None
    return run_id


def test_the_embedded_scheduler_runs_a_run_planned_for_later_when_it_falls_due(org):
    automation = automation_of(org)
    automation.start_scheduler()
    try:
        run_id = plan_ping(org, timedelta(seconds=1))
        assert status_of(org, run_id) == "queued"
        assert wait_for(org, run_id, "succeeded") == "succeeded"
        with org.db.read() as conn:
            assert ping_count(conn, run_id) == 1
    finally:
        automation.scheduler.stop()


@pytest.fixture
def broker_org(settings, org):
    """The same org opened as a web process that sends runs to a broker nobody answers."""
    del org  # initialised it
    dead = dataclasses.replace(settings, broker_url=f"redis://127.0.0.1:{free_port()}/0")
    opened = open_org(dead)
    yield opened
    opened.dispose()


def test_with_a_broker_the_web_process_only_sends_and_a_failed_send_waits_for_the_sweep(
    broker_org,
):
    automation = automation_of(broker_org)
    assert isinstance(automation.dispatcher, CeleryDispatcher)
    automation.start_scheduler()
    assert automation.scheduler is None  # beat sweeps instead

    with broker_org.db.write() as conn:
        run_id = automation.enqueue(
            conn, job="ping", source="ping", payload={}, user_id=SYSTEM_USER_ID
        )
    broker_org.work.run_pending()  # the web process does not run runs itself
    assert status_of(broker_org, run_id) == "queued"

    with broker_org.db.read() as conn:  # the send failed: the next sweep sends it
        assert outbox.undelivered(conn, utc_now(), automation.lease) == [run_id]
    sent: list[str] = []
    automation.dispatcher = type("Up", (), {"dispatch": lambda self, r: sent.append(r)})()
    assert sweep(automation) == 1
    assert sent == [run_id]
    assert sweep(automation) == 0  # its message is on its way: not sent twice
    with broker_org.db.read() as conn:
        later = utc_now() + automation.lease + timedelta(seconds=1)
        assert outbox.undelivered(conn, later, automation.lease) == [run_id]  # lost? again


def test_the_sweep_sends_runs_planned_for_later_and_runs_of_dead_workers(broker_org):
    automation = automation_of(broker_org)
    sent: list[str] = []
    automation.dispatcher = type("Up", (), {"dispatch": lambda self, r: sent.append(r)})()
    clock = Clock()
    broker_org.clock = clock
    later = plan_ping(broker_org, timedelta(hours=1))
    orphan = plan_ping(broker_org, timedelta(0))
    with broker_org.db.write() as conn:  # a worker took it, then was killed
        assert outbox.claim(conn, orphan, clock(), automation.lease) is not None
    sent.clear()

    assert sweep(automation) == 0
    clock.advance(hours=1, seconds=1)
    assert sweep(automation) == 2
    assert sorted(sent) == sorted([later, orphan])


def test_a_ping_may_hold_a_worker_only_for_less_than_the_lease(broker_org):
    automation = automation_of(broker_org)
    with pytest.raises(ValidationFailed) as refused:
        request_ping(automation, SYSTEM_USER_ID, automation.lease.total_seconds())
    assert "hold" in refused.value.errors
    run_id = request_ping(automation, SYSTEM_USER_ID, 2)
    with broker_org.db.read() as conn:
        assert outbox.get(conn, run_id).payload == {"hold": 2}


def test_a_serving_process_starts_the_scheduler_and_a_test_app_does_not(
    settings, org, app, monkeypatch
):
    from crm_platform.app import create_serving_app

    assert automation_of(app.extensions["crm_org"]).scheduler is None  # tests drive the clock
    monkeypatch.setenv("CRM_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CRM_INSTANCE_PATH", str(settings.instance_path))
    monkeypatch.delenv("CRM_BROKER_URL", raising=False)
    served = automation_of(create_serving_app().extensions["crm_org"])
    try:
        assert served.scheduler is not None
    finally:
        served.scheduler.stop()
        served.org.dispose()


def test_a_ping_whose_worker_died_after_its_effect_finishes_without_a_second_effect(org):
    from crm_platform.workflow import JobContext
    from crm_platform.workflow.ping import PingJob

    clock = Clock()
    org.clock = clock
    automation = automation_of(org)
    run_id = plan_ping(org, timedelta(minutes=1))
    clock.advance(minutes=1)
    with org.db.write() as conn:  # a worker claims it, writes its effect, then is killed
        run = outbox.claim(conn, run_id, clock(), automation.lease)
    assert run is not None
    PingJob().run(JobContext(org, run, clock()))
    org.work.run_pending()
    assert status_of(org, run_id) == "running"  # its lease still holds

    clock.advance(seconds=automation.lease.total_seconds() + 1)
    org.work.run_pending()
    assert status_of(org, run_id) == "succeeded"
    with org.db.read() as conn:
        assert ping_count(conn, run_id) == 1
        assert outbox.get(conn, run_id).attempts == 2
