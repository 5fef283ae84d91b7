"""The README's "Customer portal" section runs as written against a live server (on
SQLite, and on PostgreSQL with ``CRM_TEST_DATABASE_URL``), and the link it prints opens
the page where the customer sets a password."""

from __future__ import annotations

import re
import shutil

import pytest
import requests

from tests.readme import json_objects, run_script, section_blocks, section_script

HEADING = "## Customer portal"


def test_the_section_has_commands():
    assert len(section_blocks(HEADING)) == 2


@pytest.mark.skipif(shutil.which("curl") is None, reason="the section uses curl")
def test_the_customer_portal_section_runs_as_written(
    live_server, admin_token, database_url, tmp_path
):
    done = run_script(
        section_script(HEADING, port=live_server),
        tmp_path,
        TOKEN=admin_token,
        CRM_DATABASE_URL=database_url,
        CRM_INSTANCE_PATH=str(tmp_path / "instance"),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    link = re.search(
        rf"maya@customer\.example invited: (http://localhost:{live_server}/portal/invitation/\S+)",
        out,
    )
    assert link, out
    again = next(d for d in json_objects(out) if "token" in d)
    assert again["new_user"] is False and again["email"] == "maya@customer.example"
    assert {"sharing": "account"} in json_objects(out)
    assert out.rstrip().endswith("account")
    # the CLI's link was replaced by the API's; the API's opens the password page
    assert requests.get(link.group(1), timeout=30).status_code == 404
    page = requests.get(f"http://127.0.0.1:{live_server}{again['path']}", timeout=30)
    assert page.status_code == 200 and "Welcome, Maya Okafor" in page.text
