"""Delivery through a real broker and real `crm worker` processes: every run delivered
exactly once; a worker killed mid-delivery neither loses nor repeats the effect; runs
committed while the broker could not be reached are delivered once it can.

The effect is a ping's delivery row (``crm automation ping``), written in the
transaction that records the job's step as done, keyed by the run.
"""

from __future__ import annotations

import dataclasses

from crm_platform.assembly import open_org
from crm_platform.workflow import automation_of, outbox
from tests.servers import free_port


def test_every_run_is_delivered_exactly_once_by_two_workers(deployment):
    deployment.start_worker(beat=True, concurrency=2)
    deployment.start_worker(beat=False, concurrency=2)
    run_ids = [deployment.ping() for _ in range(30)]
    deployment.wait_until(run_ids, "succeeded")
    for run_id in run_ids:
        run = deployment.run(run_id)
        assert (run.attempts, run.late, run.error) == (1, False, None)
        assert deployment.effects(run_id) == 1


def test_an_admin_retry_of_a_failed_run_is_delivered_by_the_workers(deployment):
    run_id = deployment.ping()
    with deployment.org.db.write() as conn:  # dead-lettered before any worker ran
        outbox.claim(conn, run_id, deployment.org.clock())
        outbox.fail(conn, run_id, deployment.org.clock(), "receiver answered 500", "ping")
    deployment.start_worker()
    assert automation_of(deployment.org).retry(run_id) is not None
    deployment.wait_until([run_id], "succeeded")
    assert deployment.effects(run_id) == 1


def test_a_worker_killed_mid_delivery_then_restarted_delivers_the_effect_once(deployment):
    worker = deployment.start_worker()
    run_id = deployment.ping(hold=2)  # the worker holds it two seconds before its effect
    deployment.wait_until([run_id], "running")
    worker.kill()
    assert deployment.effects(run_id) == 0
    assert deployment.run(run_id).status == "running"  # held by a dead worker

    deployment.start_worker()  # its lease runs out, the sweep queues it again
    deployment.wait_until([run_id], "succeeded")
    assert deployment.effects(run_id) == 1
    assert deployment.run(run_id).attempts == 2


def test_runs_committed_while_the_broker_was_unreachable_are_delivered_after(deployment):
    # the web process sees the broker down (a port nobody listens on) ...
    settings = dataclasses.replace(
        deployment.org.settings, broker_url=f"redis://127.0.0.1:{free_port()}/0"
    )
    cut_off = open_org(settings)
    try:
        run_ids = [
            deployment.__class__(org=cut_off, env=deployment.env, folder=deployment.folder).ping()
            for _ in range(5)
        ]
        for run_id in run_ids:  # committed, not sent: nothing is lost
            assert deployment.run(run_id).status == "queued"
        # ... then the broker is back: the workers' sweep sends what waited
        deployment.start_worker()
        deployment.wait_until(run_ids, "succeeded")
        for run_id in run_ids:
            assert deployment.effects(run_id) == 1
            assert deployment.run(run_id).attempts == 1
    finally:
        cut_off.dispose()
