"""The README's "## Predictions" section runs as written: its shell block, in one shell,
against a live server, with every curl answered without an error status."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.readme import run_script, section_blocks, section_script

HEADING = "## Predictions"


def test_the_section_has_commands():
    assert section_blocks(HEADING)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the section uses curl")
def test_the_predictions_section_runs_as_written(
    live_server,
    admin_token,
    database_url,
    tmp_path: Path,
):
    script = section_script(HEADING, port=live_server)
    done = run_script(
        script,
        tmp_path,
        timeout=900,
        TOKEN=admin_token,
        CRM_DATABASE_URL=database_url,
        CRM_INSTANCE_PATH=str(tmp_path / "instance"),
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
