"""The README's "Email-to-case" section runs as written: its shell blocks, in one shell,
with `crm` on the org's database — a piped message opens a case with an auto-reply,
the answer threads onto it, and mail for another address exits 67."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "## Email-to-case"


def section_script() -> str:
    text = README.read_text()
    section = text[text.index(HEADING) :]
    section = section[: section.find("\n## ", len(HEADING))]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert blocks, "the section has no sh block"
    return "\n".join(blocks)


def test_the_email_to_case_section_runs_as_written(org, database_url, tmp_path):
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", section_script()],
        env={
            "PATH": path,
            "CRM_DATABASE_URL": database_url,
            "CRM_INSTANCE_PATH": str(tmp_path / "instance"),
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    created = re.search(
        r"^created case (\S+) \(message \S+, to support@example\.com\); auto-reply",
        done.stdout,
        re.M,
    )
    assert created, done.stdout
    case_id = created.group(1)
    assert f"threaded case {case_id} " in done.stdout
    assert f"[ref:{case_id}]" in done.stdout  # the auto-reply, listed by crm mail list
    assert "exit 67" in done.stdout
    assert "no inbound address for sales@example.com" in done.stderr
