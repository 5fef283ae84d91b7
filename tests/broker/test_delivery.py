"""Delivery through a real broker and real `crm worker` processes: every run delivered
exactly once; a worker killed mid-delivery neither loses nor repeats the effect; runs
committed while the broker could not be reached are delivered once it can.

The effect is a ping's delivery row (``crm automation ping``), written in the
transaction that records the job's step as done, keyed by the run.
"""

from __future__ import annotations

import dataclasses
import shutil
import socket
import subprocess
import time
from datetime import timedelta

import pytest

from crm_platform.assembly import open_org
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.workflow import automation_of, outbox
from tests.broker.conftest import BROKER_URL, unreachable
from tests.servers import free_port

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(not BROKER_URL, reason="set CRM_TEST_BROKER_URL to a Redis or RabbitMQ"),
]


def test_every_run_is_delivered_exactly_once_by_two_workers(deployment):
    deployment.start_worker(beat=True, concurrency=2)
    deployment.start_worker(beat=False, concurrency=2)
    run_ids = [deployment.ping() for _ in range(30)]
    deployment.wait_until(run_ids, "succeeded")
    for run_id in run_ids:
        run = deployment.run(run_id)
        assert (run.attempts, run.error) == (1, None)
        assert deployment.effects(run_id) == 1


def test_a_run_planned_for_later_is_sent_by_the_sweep_when_it_falls_due(deployment):
    deployment.start_worker()
    with deployment.org.db.write() as conn:
        run_id = automation_of(deployment.org).enqueue(
            conn,
            job="ping",
            source="ping",
            payload={},
            user_id=SYSTEM_USER_ID,
            due_at=deployment.org.clock() + timedelta(seconds=3),
        )
    assert deployment.run(run_id).status == "queued"  # no message yet: it is not due
    deployment.wait_until([run_id], "succeeded")
    assert deployment.run(run_id).started_at >= deployment.run(run_id).due_at
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
    deployment.set_lease(6)
    worker = deployment.start_worker()
    run_id = deployment.ping(hold=2)  # the worker holds it two seconds before its effect
    deployment.wait_until([run_id], "running")
    worker.kill()
    assert deployment.effects(run_id) == 0
    assert deployment.run(run_id).status == "running"  # held by a dead worker

    deployment.start_worker()  # its lease runs out, the sweep queues it again
    deployment.wait_until([run_id], "succeeded")
    assert deployment.effects(run_id) == 1
    assert deployment.run(run_id).attempts >= 2  # claimed again after the lease ran out


def test_runs_committed_while_the_broker_was_unreachable_are_delivered_after(deployment):
    # the web process sees the broker down (a port nobody listens on) ...
    settings = dataclasses.replace(
        deployment.org.settings, broker_url=unreachable(deployment.org.settings.broker_url)
    )
    cut_off = open_org(settings)
    try:
        run_ids = [deployment.ping(org=cut_off) for _ in range(5)]
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


@pytest.mark.skipif(
    not BROKER_URL.startswith("redis") or shutil.which("redis-server") is None,
    reason="stops and starts a Redis server of its own",
)
def test_a_redis_broker_stopped_for_a_while_loses_nothing(deployment, tmp_path):
    port = free_port()
    own_url = f"redis://127.0.0.1:{port}/0"
    redis = RedisServer(port, tmp_path)
    web = open_org(dataclasses.replace(deployment.org.settings, broker_url=own_url))
    try:
        deployment.env["CRM_BROKER_URL"] = own_url
        deployment.start_worker()
        before = deployment.ping(org=web)
        deployment.wait_until([before], "succeeded")

        redis.stop()  # the broker goes away (and, keeping nothing on disk, forgets all)
        during = [deployment.ping(org=web) for _ in range(3)]
        time.sleep(3)  # a while: the workers keep trying to reconnect
        for run_id in during:
            assert deployment.run(run_id).status == "queued"
        redis.start()

        deployment.wait_until(during, "succeeded")
        for run_id in [before, *during]:
            assert deployment.effects(run_id) == 1
    finally:
        for worker in deployment.workers:
            worker.stop()
        web.dispose()
        redis.stop()


class RedisServer:
    """A Redis server of this test's own, on ``port``, that keeps nothing on disk."""

    def __init__(self, port: int, folder) -> None:
        self.port = port
        self.folder = folder
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
