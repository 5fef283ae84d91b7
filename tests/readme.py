"""Running the README's sections as written: the ``sh`` blocks of a section, joined into
one script run by ``bash -euo pipefail`` with a curl that fails on an HTTP error status
(yet still prints the problem's body), the project's ``crm`` first on the PATH, against
a live server when the section talks to one."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

README = Path(__file__).resolve().parents[1] / "README.md"
# curl fails (exit 22) on an HTTP error status yet still shows the problem's body
STRICT_CURL = 'curl() { command curl --silent --show-error --fail-with-body "$@"; }\n'
EXAMPLE_HOST = "localhost:8080"  # where the README's examples expect `crm serve`


def section_blocks(heading: str) -> list[str]:
    """The ``sh`` blocks of the README's section under ``heading``, in order."""
    text = README.read_text()
    section = text[text.index(heading) :]
    section = section[: section.find("\n## ", len(heading))]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def section_script(*headings: str, port: int | None = None) -> str:
    """The blocks of the sections as one script, pointed at ``port`` when given."""
    script = "\n".join(block for heading in headings for block in section_blocks(heading))
    return script.replace(EXAMPLE_HOST, f"localhost:{port}") if port else script


def run_script(
    script: str, cwd: Path, *, timeout: int = 600, **env: str
) -> subprocess.CompletedProcess:
    """Run ``script`` in ``cwd`` with only ``env`` (and a PATH that finds this Python's
    ``crm`` first), its output captured as text."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", STRICT_CURL + script],
        env={"PATH": path, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def json_objects(out: str) -> list[dict]:
    """The JSON objects a script printed (curl's responses follow one another on a line)."""
    found, decoder = [], json.JSONDecoder()
    for start in (m.start() for m in re.finditer(r"\{", out)):
        try:
            value = decoder.raw_decode(out, start)[0]
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


@pytest.fixture
def live_server(app):
    """The test's app served on a free port in a thread (its port)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)
