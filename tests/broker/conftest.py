"""Broker tests: a real Redis or RabbitMQ (``CRM_TEST_BROKER_URL``) and real `crm worker`
processes on the database under test. Each test gets its own queue, so tests running
side by side (and other users of the same broker) never take each other's messages."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from crm_platform.assembly import open_org
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.runtime import Org, initialise_org
from crm_platform.workflow import automation_of, outbox
from crm_platform.workflow.ping import ping_count, request_ping
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.servers import free_port

BROKER_URL = os.environ.get("CRM_TEST_BROKER_URL", "").strip()
LEASE_SECONDS = 30  # long enough that a loaded machine never takes a live worker as dead


class Worker:
    """One `crm worker` process (its own process group: killing it kills its pool)."""

    def __init__(self, env: dict[str, str], log: Path, beat: bool, concurrency: int) -> None:
        argv = [
            sys.executable,
            "-c",
            "from crm_platform.cli import main; main()",
            "worker",
            f"--concurrency={concurrency}",
            "--sweep-every=1",
            "--loglevel=INFO",
        ]
        if beat:
            argv.append("--beat")
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self) -> None:
        """SIGKILL, as a machine that dies: no warm shutdown, no acknowledgements."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclasses.dataclass
class Deployment:
    """An org with a broker: the web side (``org``) and the workers it starts."""

    org: Org
    env: dict[str, str]
    folder: Path
    workers: list[Worker] = dataclasses.field(default_factory=list)

    def set_lease(self, seconds: int) -> None:
        """Shorten the run lease (before starting workers): a killed worker's run is then
        delivered again within the test."""
        self.env["CRM_AUTOMATION_LEASE"] = str(seconds)
        self.org.settings = dataclasses.replace(self.org.settings, automation_lease_seconds=seconds)

    def start_worker(self, *, beat: bool = True, concurrency: int = 1) -> Worker:
        log = self.folder / f"worker-{len(self.workers)}.log"
        worker = Worker(self.env, log, beat, concurrency)
        self.workers.append(worker)
        return worker

    def ping(self, hold: float = 0, org: Org | None = None) -> str:
        """Ask for a ping run (through ``org``: another web process of the deployment)."""
        return request_ping(automation_of(org or self.org), SYSTEM_USER_ID, hold)

    def run(self, run_id: str) -> outbox.Run:
        with self.org.db.read() as conn:
            found = outbox.get(conn, run_id)
        assert found is not None
        return found

    def effects(self, run_id: str) -> int:
        with self.org.db.read() as conn:
            return ping_count(conn, run_id)

    def wait_until(self, run_ids: list[str], status: str, seconds: float = 90) -> None:
        """Wait until every run has ``status`` (the worker logs are shown if not)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if all(self.run(r).status == status for r in run_ids):
                return
            time.sleep(0.1)
        logs = "\n".join(w.log.read_text()[-3000:] for w in self.workers)
        states = {r: self.run(r).status for r in run_ids}
        pytest.fail(f"runs not {status} in {seconds}s: {states}\n{logs}")


def unreachable(url: str) -> str:
    """The broker URL with a port nobody listens on (the broker, as seen when it is down)."""
    parts = urlsplit(url)
    userinfo, at, _ = parts.netloc.rpartition("@")
    netloc = f"{userinfo}{at}{parts.hostname}:{free_port()}"
    return urlunsplit(parts._replace(netloc=netloc))


def _delete_queue(queue: str) -> None:
    from kombu import Connection

    with Connection(BROKER_URL, connect_timeout=5) as conn:
        conn.default_channel.queue_delete(queue)


@pytest.fixture
def deployment(database_url: str, tmp_path: Path) -> Iterator[Deployment]:
    from crm_platform.core import load_settings

    queue = f"crm-test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "CRM_DATABASE_URL": database_url,
        "CRM_INSTANCE_PATH": str(tmp_path / "instance"),
        "CRM_BROKER_URL": BROKER_URL,
        "CRM_BROKER_QUEUE": queue,
        "CRM_AUTOMATION_LEASE": str(LEASE_SECONDS),
    }
    settings = dataclasses.replace(
        load_settings(database_url, tmp_path / "instance"),
        broker_url=BROKER_URL,
        broker_queue=queue,
        automation_lease_seconds=LEASE_SECONDS,
    )
    org = open_org(settings)
    initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
    found = Deployment(org=org, env=env, folder=tmp_path)
    try:
        yield found
    finally:
        for worker in found.workers:
            worker.stop()
        org.dispose()
        _delete_queue(queue)
