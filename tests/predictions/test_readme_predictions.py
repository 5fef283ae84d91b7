"""The README's "## Predictions" section runs as written: its shell block, in one shell,
against a live server, with every curl answered without an error status."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_readme import README, STRICT_CURL, live_server  # noqa: F401 - fixture

HEADING = "## Predictions"


def section_blocks() -> list[str]:
    text = README.read_text()
    section = text[text.index(HEADING) :]
    section = section[: section.find("\n## ", len(HEADING))]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def test_the_section_has_commands():
    assert section_blocks()


@pytest.mark.skipif(shutil.which("curl") is None, reason="the section uses curl")
def test_the_predictions_section_runs_as_written(
    live_server,  # noqa: F811
    admin_token,
    database_url,
    tmp_path: Path,
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
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "win_probability: trained on" in out and "AUC" in out
    assert "Reliability on held-out records" in out
    decoder = json.JSONDecoder()  # responses follow one another on the same line
    deals = decoder.raw_decode(out, out.rindex('{"records"'))[0]["records"]
    assert len(deals) == 3
    assert all(d["win_probability"] is not None and d["win_factors"] for d in deals)
    scores = [float(d["win_probability"]) for d in deals]
    assert scores == sorted(scores, reverse=True)
