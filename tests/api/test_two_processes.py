"""Two server processes on one database: a field added through one is live in the other."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.conftest import make_token

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(database_url: str, instance: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "CRM_DATABASE_URL": database_url, "CRM_INSTANCE_PATH": instance}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "crm_platform.app:create_app()",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


@pytest.fixture
def two_servers(org, database_url, tmp_path):
    ports = [_free_port(), _free_port()]
    servers = [_start_server(database_url, str(tmp_path / "instance"), p, 2) for p in ports]
    try:
        for port in ports:
            _wait_until_up(port)
        yield [f"http://127.0.0.1:{p}/api/v1" for p in ports]
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


def test_a_field_added_through_one_process_is_visible_through_the_other(org, two_servers):
    first, second = two_servers
    headers = {"Authorization": f"Bearer {make_token(org, 'admin@example.com')}"}
    created = requests.post(
        f"{first}/metadata/objects", json={"api_name": "project"}, headers=headers, timeout=10
    )
    assert created.status_code == 201
    # warm both workers of the second server on the old version first
    for _ in range(4):
        assert requests.get(f"{second}/metadata/objects/project", headers=headers, timeout=10).ok

    added = requests.post(
        f"{first}/metadata/objects/project/fields",
        json={"api_name": "due_date", "type": "date"},
        headers=headers,
        timeout=10,
    )

    assert added.status_code == 201
    for _ in range(4):  # whichever worker answers
        shown = requests.get(f"{second}/metadata/objects/project", headers=headers, timeout=10)
        assert "due_date" in [f["api_name"] for f in shown.json()["fields"]]
        assert int(shown.headers["X-Metadata-Version"]) == int(added.headers["X-Metadata-Version"])
