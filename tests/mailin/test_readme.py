"""The README's "Email-to-case" section runs as written: its shell blocks, in one shell,
with `crm` on the org's database — a piped message opens a case with an auto-reply,
the answer threads onto it, and mail for another address exits 67."""

from __future__ import annotations

import re

from tests.readme import run_script, section_blocks, section_script

HEADING = "## Email-to-case"


def test_the_email_to_case_section_runs_as_written(org, database_url, tmp_path):
    assert section_blocks(HEADING), "the section has no sh block"
    done = run_script(
        section_script(HEADING),
        tmp_path,
        CRM_DATABASE_URL=database_url,
        CRM_INSTANCE_PATH=str(tmp_path / "instance"),
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
