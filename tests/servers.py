"""Real server processes for tests that need them (two-process, browser)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(database_url: str, instance: str, port: int, workers: int) -> subprocess.Popen:
    """gunicorn serving the app on 127.0.0.1:port for the given database."""
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
            # threads: a connection Chromium opens ahead of need (a preconnect) and leaves
            # idle would hold a sync worker until gunicorn's 30 s timeout, and the test's
            # next request waited behind it (a browser test timed out so on a loaded CI host)
            "--threads",
            "4",
            "crm_platform.app:create_app()",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 90  # a busy CI machine starts gunicorn slowly
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")
