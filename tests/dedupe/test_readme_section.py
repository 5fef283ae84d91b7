"""The README's "Duplicates, merge and data quality" section runs as written, in one
shell against a live server, with curl failing on an error status (but where it says)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_readme import README, STRICT_CURL, live_server  # noqa: F401 (fixture)

HEADING = "## Duplicates, merge and data quality"


def section_blocks() -> list[str]:
    text = README.read_text()
    section = text[text.index(HEADING) :]
    section = section[: section.find("\n## ", len(HEADING))]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the section uses curl")
def test_the_readme_section_runs_as_written(live_server, admin_token, database_url, tmp_path):  # noqa: F811
    blocks = section_blocks()
    assert blocks
    script = "\n".join(b.replace("localhost:8080", f"localhost:{live_server}") for b in blocks)
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", STRICT_CURL + script],
        env={
            "TOKEN": admin_token,
            "PATH": path,
            "CRM_DATABASE_URL": database_url,
            "CRM_INSTANCE_PATH": str(tmp_path / "instance"),
            "COLUMNS": "200",
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
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
