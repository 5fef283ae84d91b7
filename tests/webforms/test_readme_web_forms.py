"""The README's "## Web forms" runs as written: its shell blocks, in one shell, against a
live server on the test's database (SQLite, or PostgreSQL with ``CRM_TEST_DATABASE_URL``)."""

from __future__ import annotations

import shutil

import pytest

from tests.readme import run_script, section_blocks, section_script

HEADING = "## Web forms"


def test_the_section_has_commands():
    assert section_blocks(HEADING)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the section uses curl")
def test_the_web_forms_section_runs_as_written(
    live_server,
    admin_token,
    database_url,
    settings,
    tmp_path,
):
    done = run_script(
        section_script(HEADING, port=live_server),
        tmp_path,
        TOKEN=admin_token,
        CRM_DATABASE_URL=database_url,
        # the server's instance folder: the CLI signs snippets with the same key
        CRM_INSTANCE_PATH=str(settings.instance_path),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert f"web_to_lead\tlead\thttp://localhost:{live_server}/f/web_to_lead" in out
    assert f"303 http://localhost:{live_server}/f/web_to_lead/thanks" in out
    assert out.rstrip().endswith("1")  # one web lead
    assert "发送" in (tmp_path / "snippet.html").read_text()
