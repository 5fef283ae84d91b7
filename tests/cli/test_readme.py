"""The README's tours run as written: their shell blocks, in order, in one shell, against
a live server, every curl answered without an error status."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

README = Path(__file__).resolve().parents[2] / "README.md"
TOURS = ("## A tour of the metadata API", "## A tour of the records API")
# curl fails (exit 22) on an HTTP error status yet still shows the problem's body
STRICT_CURL = 'curl() { command curl --silent --show-error --fail-with-body "$@"; }\n'


def tour_scripts() -> list[str]:
    """The ```sh blocks of each tour section, in the README's order."""
    text = README.read_text()
    scripts = []
    for heading in TOURS:
        section = text[text.index(heading) :]
        section = section[: section.find("\n## ", len(heading))]
        scripts += re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    return scripts


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


@pytest.mark.skipif(shutil.which("curl") is None, reason="the tours use curl")
def test_the_readme_tours_run_as_written(live_server, admin_token):
    scripts = tour_scripts()
    assert len(scripts) == len(TOURS)
    script = "\n".join(s.replace("localhost:8080", f"localhost:{live_server}") for s in scripts)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", STRICT_CURL + script],
        env={"TOKEN": admin_token, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert '"name": "Apollo"' in done.stdout
    assert '"manager.email": "admin@example.com"' in done.stdout  # the user lookup's path
