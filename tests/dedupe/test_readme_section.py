"""The README's "Duplicates, merge and data quality" section runs as written, in one
shell against a live server, with curl failing on an error status (but where it says)."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.readme import run_script, section_blocks, section_script

HEADING = "## Duplicates, merge and data quality"


@pytest.mark.skipif(shutil.which("curl") is None, reason="the section uses curl")
def test_the_readme_section_runs_as_written(live_server, admin_token, database_url, tmp_path):
    assert section_blocks(HEADING)
    done = run_script(
        section_script(HEADING, port=live_server),
        tmp_path,
        timeout=300,
        TOKEN=admin_token,
        CRM_DATABASE_URL=database_url,
        CRM_INSTANCE_PATH=str(tmp_path / "instance"),
        COLUMNS="200",
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert re.search(r"(?i)^warning: 299 crm .*Similar name.*Acme Corporation", out, re.M)
    assert '"duplicate_rule": "same_email"' in out and "refused" in out
    assert "company: 1 likely duplicate clusters" in out
    assert "company: 2 records, 0 not modified in 365 days" in out
    assert '"stale_days": 30' in out
    ids = re.search(r"^A=(\S+) B=(\S+)$", out, re.M)
    assert ids, out[-2000:]
    a, b = ids.groups()
    assert "'email': 'sales@acme.com'" in out  # the master as merged (B's email kept)
    assert out.count(f"company: {a}") == 1 and out.count(f"company: {b}") == 1
    assert out.index(f"company: {a}") < out.index(f"company: {b}")  # merged, then undone
    assert "email: ops@acme.com" in out
    assert f"merged 1 into {a}: 1 children moved" in out
