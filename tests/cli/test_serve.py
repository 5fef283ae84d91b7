"""`crm serve` as a newcomer runs it (the README's quickstart): the real command, its
gunicorn workers forked from the CLI, answering the sign-in page and the setup UI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.servers import free_port, wait_until_up

pytestmark = pytest.mark.slow


def test_crm_serve_boots_its_workers_and_serves_the_pages(database_url, tmp_path):
    env = {
        **os.environ,
        "CRM_DATABASE_URL": database_url,
        "CRM_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    crm = [str(Path(sys.executable).with_name("crm"))]  # the console script pip installed
    subprocess.run([*crm, "init", "--admin-password", "S3cure-pass!"], env=env, check=True)
    port = free_port()
    server = subprocess.Popen(
        [*crm, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(port)
        login = requests.get(f"http://127.0.0.1:{port}/login", timeout=10)
        assert login.status_code == 200 and 'name="password"' in login.text
        setup = requests.get(f"http://127.0.0.1:{port}/setup/", timeout=10, allow_redirects=False)
        assert setup.status_code == 302  # to sign in: the setup UI is there, behind it
    finally:
        server.terminate()
        server.wait(timeout=30)
