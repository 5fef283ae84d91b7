"""Duplicate rules meet imports: a file imported a second time creates nothing, each of
its rows rejected with the duplicate it matches, and only its new rows land — at the cost
of one check per batch, not one write per row."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from tests.conftest import ADMIN_EMAIL
from tests.imports.helpers import read_errors, write_csv


def _name(i: int) -> str:
    # names no fuzzy rule finds alike: the file's rows meet the email rule only
    return hashlib.sha256(str(i).encode()).hexdigest()[:16]


def _import(dd, path):
    from crm_platform.imports import Importer, ImportOptions, Source, infer
    from crm_platform.runtime import find_user

    with dd.org.db.read() as conn:
        admin = find_user(conn, ADMIN_EMAIL)
    source = Source(path)
    importer = Importer(
        dd.org, admin, source, infer(dd.org, source, "account").mapping, ImportOptions()
    )
    return importer.run(importer.start())


def test_a_file_imported_again_is_rejected_row_by_row_and_only_its_new_rows_land(dd, tmp_path):
    header = ["Name", "Email"]
    rows = [[_name(i), f"again{i}@import.test"] for i in range(600)]
    first = _import(dd, write_csv(tmp_path / "first.csv", [header, *rows]))
    assert (first.created, first.rejected) == (600, 0)

    again = [*rows[:100], [_name(1000), "new1@import.test"], *rows[100:]]
    again.insert(450, [_name(1001), "NEW2@import.test"])
    path = write_csv(tmp_path / "again.csv", [header, *again])
    savepoints = []

    def count(_conn, _cursor, statement, *_args):
        if statement.upper().startswith("SAVEPOINT"):
            savepoints.append(statement)

    sa.event.listen(dd.org.db.engine, "before_cursor_execute", count)
    try:
        second = _import(dd, path)
    finally:
        sa.event.remove(dd.org.db.engine, "before_cursor_execute", count)

    assert (second.created, second.updated, second.rejected) == (2, 0, 600)
    # batches of 500: the first checked, then written again without its 498 refused rows;
    # the second (102 rows, all refused) checked only
    assert len(savepoints) == 3
    errors = read_errors(tmp_path / "again.errors.csv")
    assert len(errors) == 600
    first_error = errors[0]
    assert first_error["Email"] == "again0@import.test"
    assert first_error["error"].startswith(
        "row 2: Email: duplicate (Same email): it matches account"
    )
    assert _name(0) in first_error["error"]
    with dd.org.reading() as (conn, model):
        table = model.objects["account"].table
        emails = model.objects["account"].fields["email"].columns[""]
        landed = conn.execute(sa.select(emails).where(sa.func.lower(emails).like("new%"))).scalars()
        assert sorted(landed) == ["NEW2@import.test", "new1@import.test"]
        assert (
            conn.execute(
                sa.select(sa.func.count()).select_from(table).where(emails.like("again%"))
            ).scalar()
            == 600
        )


def test_crm_import_says_how_many_rows_a_warning_rule_let_in(dd, tmp_path):
    from click.testing import CliRunner

    from crm_platform.cli import main
    from tests.dedupe.conftest import create

    create(dd.api, "account", {"name": "Initrode Systems", "email": "info@initrode.test"})
    path = write_csv(
        tmp_path / "warned.csv",
        [
            ["Name", "Email"],
            ["Initrode Systems", "sales@initrode.test"],  # the similar-name rule warns
            [_name(2000), "other@import.test"],
        ],
    )
    env = {
        "CRM_DATABASE_URL": dd.org.settings.database_url,
        "CRM_INSTANCE_PATH": str(dd.org.settings.instance_path),
    }
    result = CliRunner().invoke(main, ["import", str(path), "--object", "account"], env=env)
    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated, 0 rejected." in result.output
    assert (
        "1 row(s) may duplicate other records (a duplicate rule that warns let them in): "
        "`crm duplicates account` lists the clusters."
    ) in result.output


def test_an_import_job_started_through_the_api_counts_the_rows_a_warning_rule_let_in(
    dd, monkeypatch
):
    import io

    from tests.dedupe.conftest import create

    monkeypatch.setattr(dd.org.work, "kick", lambda: None)  # run when the test says
    create(dd.api, "account", {"name": "Umbrella Holdings", "email": "info@umbrella.test"})
    for mode, clean in (("partial", 3000), ("all_or_none", 3001)):
        text = (
            f"Name,Email\nUmbrella Holdings,{mode}@umbrella.test\n"  # the similar-name rule
            f"{_name(clean)},{mode}@elsewhere.test\n"
        )
        started = dd.api.client.post(
            "/api/v1/imports",
            data={"file": (io.BytesIO(text.encode()), "warned.csv"), "object": "account"}
            | {"mode": mode},
            headers={"Authorization": f"Bearer {dd.api.token}"},
            content_type="multipart/form-data",
        )
        assert started.status_code == 202, started.get_json()
        assert started.get_json()["warned"] == 0
        dd.org.work.run_pending()
        job = dd.api.get(f"/api/v1/imports/{started.get_json()['id']}").get_json()
        assert (job["status"], job["created"], job["rejected"], job["warned"]) == (
            "done",
            2,
            0,
            1,
        ), mode
