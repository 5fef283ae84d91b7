"""The README's "Customer portal" section runs as written against a live server (on
SQLite, and on PostgreSQL with ``CRM_TEST_DATABASE_URL``), and the link it prints opens
the page where the customer sets a password."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "## Customer portal"
STRICT_CURL = 'curl() { command curl --silent --show-error --fail-with-body "$@"; }\n'


def _objects(out: str) -> list[dict]:
    """The JSON objects curl printed (responses follow one another on a line)."""
    found, decoder = [], json.JSONDecoder()
    for start in (m.start() for m in re.finditer(r"\{", out)):
        try:
            value = decoder.raw_decode(out, start)[0]
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


def section_blocks() -> list[str]:
    text = README.read_text()
    section = text[text.index(HEADING) :]
    section = section[: section.find("\n## ", len(HEADING))]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_the_section_has_commands():
    assert len(section_blocks()) == 2


@pytest.mark.skipif(shutil.which("curl") is None, reason="the section uses curl")
def test_the_customer_portal_section_runs_as_written(
    live_server, admin_token, database_url, tmp_path
):
    script = "\n".join(
        b.replace("localhost:8080", f"localhost:{live_server}") for b in section_blocks()
    )
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", STRICT_CURL + script],
        env={
            "TOKEN": admin_token,
            "PATH": path,
            "CRM_DATABASE_URL": database_url,
            "CRM_INSTANCE_PATH": str(tmp_path / "instance"),
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    link = re.search(
        rf"maya@customer\.example invited: (http://localhost:{live_server}/portal/invitation/\S+)",
        out,
    )
    assert link, out
    again = next(d for d in _objects(out) if "token" in d)
    assert again["new_user"] is False and again["email"] == "maya@customer.example"
    assert {"sharing": "account"} in _objects(out)
    assert out.rstrip().endswith("account")
    # the CLI's link was replaced by the API's; the API's opens the password page
    assert requests.get(link.group(1), timeout=30).status_code == 404
    page = requests.get(f"http://127.0.0.1:{live_server}{again['path']}", timeout=30)
    assert page.status_code == 200 and "Welcome, Maya Okafor" in page.text
