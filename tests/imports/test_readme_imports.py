"""The README's "Importing data" section runs as written (on the test database)."""

from __future__ import annotations

import sqlalchemy as sa

from tests.readme import run_script, section_blocks, section_script

HEADING = "## Importing data"


def test_the_importing_data_section_runs_as_written(database_url, tmp_path):
    assert len(section_blocks(HEADING)) == 2
    script = "crm init --admin-password 'S3cure-pass!' >/dev/null\n" + section_script(HEADING)
    done = run_script(
        script,
        tmp_path,
        CRM_DATABASE_URL=database_url,
        CRM_INSTANCE_PATH=str(tmp_path / "instance"),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "3 rows read: 2 would be created, 0 would be updated, 1 rejected." in out
    assert "3 rows read: 2 created, 0 updated, 1 rejected." in out
    assert "row 4: Employees: not a number: 'n/a'" in out
    assert "1 rows read: 1 created, 0 updated, 0 rejected." in out  # the fixed row
    assert "2 rows read: 2 created, 0 updated, 0 rejected." in out  # the contacts
    assert "Account name: {field: name}" in out

    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings

    org = open_org(load_settings(database_url, tmp_path / "instance"))
    try:
        with org.reading() as (conn, model):
            account, contact = model.objects["account"], model.objects["contact"]
            column = account.fields["employees"].columns[""]
            name = account.fields["name"].columns[""]
            industry = account.fields["industry"].columns[""]
            rows = conn.execute(
                sa.select(name, column, industry).where(account.table.c.deleted_at.is_(None))
            ).all()
            linked = conn.execute(
                sa.select(contact.fields["last_name"].columns[""], name).join(
                    account.table,
                    account.table.c.id == contact.fields["account"].columns[""],
                )
            ).all()
    finally:
        org.dispose()
    imported = {r[0]: (r[1], r[2]) for r in rows if r[0] in ("Acme", "北京科技", "Globex")}
    assert imported == {
        "Acme": (1200, "Technology"),
        "北京科技": (85, "Technology"),
        "Globex": (4000, "Retail"),
    }
    assert sorted(linked) == [("Smith", "Acme"), ("张", "北京科技")]
