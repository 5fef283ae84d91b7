"""The README's tours run as written: every shell block of the sections in ``TOURS``, in
order, in one shell, against a live server — on SQLite, and on PostgreSQL when
``CRM_TEST_DATABASE_URL`` points there (the ``database_url`` fixture) — with every curl
answered without an error status."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tests.readme import run_script, section_blocks, section_script

TOURS = (
    "## A tour of the metadata API",
    "## A tour of the records API",
    "## Automation",
    "## Email from automation",
    "## Security in one page",
    "## Approval processes",
    "## Assignment rules and notifications",
)


def tour_blocks() -> list[tuple[str, str]]:
    """(section, script) for each ```sh block of each tour section, in the README's order."""
    return [(heading, block) for heading in TOURS for block in section_blocks(heading)]


def test_every_tour_section_has_commands():
    sections = {heading for heading, _ in tour_blocks()}
    assert sections == set(TOURS)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the tours use curl")
def test_the_readme_tours_run_as_written(live_server, admin_token, database_url, tmp_path):
    # `crm` (the metadata apply, a token) works on the server's database, as it would in
    # the folder where `crm serve` runs
    done = run_script(
        section_script(*TOURS, port=live_server),
        tmp_path,
        timeout=300,
        TOKEN=admin_token,
        CRM_DATABASE_URL=database_url,
        CRM_INSTANCE_PATH=str(tmp_path / "instance"),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert '"name": "Apollo"' in out
    assert '"manager.email": "admin@example.com"' in out  # the user lookup's path
    # history, as the records tour says: the budget as the record shows it
    assert re.search(r'"new_value": ?1500\.00', out) and re.search(r'"old_value": ?1200\.50', out)
    # the composite example created, changed and read Gemini through its ref
    assert '"ref": "gemini"' in out and '"stage": "Active"' in out
    # the email template was saved and the (empty) kept mail listed
    assert '"api_name": "project_done"' in out and "No mail." in out
    # the security example applied; the rep sees only what the sharing rule opens to them
    assert "Applied " in out
    decoder = json.JSONDecoder()  # responses follow one another on the same line
    seen_by_rep = decoder.raw_decode(out, out.rindex('{"records"'))[0]
    assert [r["name"] for r in seen_by_rep["records"]] == ["Saturn"]
    # the approvals example: submitted, approved by the rep's new manager, the finance
    # step skipped (no budget), and on_approve made the project Active
    state, end = decoder.raw_decode(out, out.rindex('{"object": "project"'))
    approvals = state["requests"][0]
    assert [(h["action"], h["step"]) for h in approvals["history"]] == [
        ("submitted", None),
        ("approved", "manager"),
        ("skipped", "finance"),
    ]
    assert approvals["history"][1]["comment"] == "Go"
    jupiter = decoder.raw_decode(out[end:].lstrip())[0]
    assert (jupiter["name"], jupiter["stage"]) == ("Jupiter", "Active")
    # the assignment rule gave Neptune to the rep, who was told; on demand, nothing moved
    assert "Project 'Neptune' was assigned to you" in out
    assert '"changed": false' in out
    # the won trigger stamped the deal and created the kick-off task; the reminder was
    # planned, then cancelled by the win; the trigger that could only recurse was refused
    assert "['Kick-off: Globex']" in out
    assert '"closed_on": "20' in out
    assert "this action starts a cycle of triggers that can only recurse" in out
