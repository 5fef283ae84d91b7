"""The README's "## Web forms" runs as written: its shell blocks, in one shell, against a
live server on the test's database (SQLite, or PostgreSQL with ``CRM_TEST_DATABASE_URL``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_readme import README, STRICT_CURL, live_server  # noqa: F401

HEADING = "## Web forms"


def section_blocks() -> list[str]:
    text = README.read_text()
    section = text[text.index(HEADING) :]
    section = section[: section.find("\n## ", len(HEADING))]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def test_the_section_has_commands():
    assert section_blocks()


@pytest.mark.skipif(shutil.which("curl") is None, reason="the section uses curl")
def test_the_web_forms_section_runs_as_written(
    live_server,  # noqa: F811
    admin_token,
    database_url,
    settings,
    tmp_path,
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
            # the server's instance folder: the CLI signs snippets with the same key
            "CRM_INSTANCE_PATH": str(settings.instance_path),
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert f"web_to_lead\tlead\thttp://localhost:{live_server}/f/web_to_lead" in out
    assert f"303 http://localhost:{live_server}/f/web_to_lead/thanks" in out
    assert out.rstrip().endswith("1")  # one web lead
    assert "发送" in (tmp_path / "snippet.html").read_text()
