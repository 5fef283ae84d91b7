"""`crm import` as a new user runs it: dry run, partial and all-or-none imports, the error
file, upserts that create no duplicates, lookups, and an inferred mapping."""

from __future__ import annotations

import pytest
import yaml

from crm_platform.imports import list_jobs

from .helpers import read_errors, records, write_csv

HEADER = ["Account name", "Account number", "Industry", "Annual revenue", "Founded", "Active"]


def _accounts(tmp_path, rows, name="accounts.csv"):
    return write_csv(tmp_path / name, [HEADER, *rows])


def test_a_dry_run_counts_what_would_happen_and_changes_nothing(crm, org, tmp_path):
    path = _accounts(
        tmp_path,
        [
            ["Acme", "A-1", "technology", "$1,234.50", "2024/3/5", "yes"],
            ["Globex", "A-2", "Retail", "¥99", "2023/12/1", "否"],
            ["Initech", "A-3", "Retail", "-5", "2020/1/1", "yes"],
        ],
    )
    result = crm("import", path, "--object", "account", "--dry-run")
    assert "3 rows read: 2 would be created, 0 would be updated, 1 rejected." in result.output
    assert "Dry run: nothing was changed." in result.output
    assert records(org, "account") == []
    errors = read_errors(tmp_path / "accounts.errors.csv")
    assert errors == [
        {
            **dict(zip(HEADER, ["Initech", "A-3", "Retail", "-5", "2020/1/1", "yes"], strict=True)),
            "error": "row 4: Annual revenue: The annual revenue cannot be negative",
        }
    ]


def test_a_partial_import_keeps_the_good_rows_and_explains_the_others(crm, org, tmp_path):
    path = _accounts(
        tmp_path,
        [
            ["Acme", "A-1", "technology", "$1,234.50", "2024/3/5", "yes"],
            ["", "A-2", "Retail", "5", "2024/3/5", "yes"],
            ["Globex", "A-3", "Retail", "5", "2024/13/5", "yes"],
            ["Initech", "A-4", "Mining", "5", "2024/3/5", "maybe"],
            ["Hooli", "A-5", "Retail", "5", "2024/3/5", "yes", "surplus"],
            ["Umbrella", "A-6"],
        ],
    )
    result = crm("import", path, "--object", "account", "--partial")
    assert "6 rows read: 2 created, 0 updated, 4 rejected." in result.output
    stored = records(org, "account", "name", "industry", "annual_revenue", "founded", "active")
    assert [(r[0], r[1], str(r[2]), str(r[3]), r[4]) for r in stored] == [
        ("Acme", "Technology", "1234.50", "2024-03-05", True),
        ("Umbrella", None, "None", "None", False),
    ]
    reasons = [e["error"] for e in read_errors(tmp_path / "accounts.errors.csv")]
    assert reasons[0] == "row 3: Account name: required"
    assert reasons[1] == "row 4: Founded: not a date: '2024/13/5' (expected %Y/%m/%d)"
    assert reasons[2].startswith("row 5: Active: not yes or no: 'maybe'")
    assert reasons[3] == "row 6: 7 values but 6 columns (extra: 'surplus')"


def test_all_or_none_fails_at_row_9000_of_10000_and_writes_nothing(crm, org, tmp_path):
    rows = [
        [f"Account {i}", f"N-{i}", "Retail", str(i), "2024-01-01", "yes"] for i in range(1, 10_001)
    ]
    rows[8_999][3] = "-1"  # row 9,000 breaks a validation rule
    path = _accounts(tmp_path, rows)
    result = crm(
        "import", path, "--object", "account", "--all-or-none", "--batch-size", "1000", ok=False
    )
    assert "10000 rows read: 0 created, 0 updated, 1 rejected." in result.output
    assert "1 row(s) rejected: nothing was written (all or none)" in result.output
    assert records(org, "account") == []
    assert [e["error"] for e in read_errors(tmp_path / "accounts.errors.csv")] == [
        "row 9001: Annual revenue: The annual revenue cannot be negative"
    ]
    with org.db.read() as conn:
        (job,) = list_jobs(conn)
    shown = job.as_json()
    assert (shown["status"], shown["rows_read"], shown["created"], shown["rejected"]) == (
        "failed",
        10_000,
        0,
        1,
    )
    # the same file, partial: every other row lands
    result = crm("import", path, "--object", "account", "--partial", "--batch-size", "1000")
    assert "9999 created, 0 updated, 1 rejected." in result.output
    assert len(records(org, "account")) == 9_999


def test_a_failed_all_or_none_job_resumed_runs_again_from_its_first_row(crm, org, tmp_path):
    rows = [[f"Account {i}", f"N-{i}", "Retail", str(i), "", ""] for i in range(1, 6)]
    rows[3][3] = "-1"
    path = _accounts(tmp_path, rows)
    crm("import", path, "--object", "account", "--all-or-none", "--batch-size", "2", ok=False)
    with org.db.read() as conn:
        (job,) = list_jobs(conn)
    result = crm("import", "--resume", job.id, ok=False)
    assert f"Running import job {job.id} again from its first row (all or none)" in result.output
    assert "5 rows read: 0 created, 0 updated, 1 rejected." in result.output
    assert records(org, "account") == []
    assert [e["error"] for e in read_errors(tmp_path / "accounts.errors.csv")] == [
        "row 5: Annual revenue: The annual revenue cannot be negative"
    ]


def test_a_reimport_with_upsert_on_updates_instead_of_duplicating(crm, org, tmp_path):
    first = _accounts(
        tmp_path, [["Acme", "A-1", "Retail", "1", "", ""], ["Globex", "A-2", "", "", "", ""]]
    )
    crm("import", first, "--object", "account", "--upsert-on", "account_number")
    fixed = _accounts(
        tmp_path,
        [
            ["Acme Corp", "A-1", "Finance", "2", "", ""],
            ["Initech", "A-3", "", "", "", ""],
            ["Initech Ltd", "A-3", "", "", "", ""],
        ],
        name="fixed.csv",
    )
    result = crm("import", fixed, "--object", "account", "--upsert-on", "account_number")
    assert "3 rows read: 1 created, 2 updated, 0 rejected." in result.output
    assert sorted(records(org, "account", "account_number", "name", "industry")) == [
        ("A-1", "Acme Corp", "Finance"),
        ("A-2", "Globex", None),
        ("A-3", "Initech Ltd", None),
    ]


def test_a_corrected_file_imported_again_says_which_rows_changed_their_record(crm, org, tmp_path):
    """Rows that match a record already holding their values are counted as unchanged,
    not as updates: a user re-importing a fixed file sees which rows the fix moved."""
    rows = [[f"Account {i}", f"U-{i}", "Retail", "1", "", ""] for i in range(5)]
    crm("import", _accounts(tmp_path, rows), "--object", "account")
    rows[3][0] = "Account 3 Ltd"  # the one row the user fixed
    fixed = _accounts(tmp_path, rows, name="fixed.csv")

    tried = crm(
        "import", fixed, "--object", "account", "--upsert-on", "account_number", "--dry-run"
    )
    assert (
        "5 rows read: 0 would be created, 1 would be updated, 4 would be unchanged, 0 rejected."
        in (tried.output)
    )
    result = crm("import", fixed, "--object", "account", "--upsert-on", "account_number")
    assert "5 rows read: 0 created, 1 updated, 4 unchanged, 0 rejected." in result.output
    again = crm("import", fixed, "--object", "account", "--upsert-on", "account_number")
    assert "5 rows read: 0 created, 0 updated, 5 unchanged, 0 rejected." in again.output
    assert dict(records(org, "account", "account_number", "name"))["U-3"] == "Account 3 Ltd"


def test_a_reimport_refusing_one_update_keeps_the_others_and_names_its_row(crm, org, tmp_path):
    first = _accounts(tmp_path, [[f"Account {i}", f"U-{i}", "", "1", "", ""] for i in range(40)])
    crm("import", first, "--object", "account")
    rows = [[f"Renamed {i}", f"U-{i}", "Retail", "2", "", ""] for i in range(40)]
    rows[25][3] = "-3"  # breaks the revenue rule
    fixed = _accounts(tmp_path, rows, name="fixed.csv")
    result = crm(
        "import", fixed, "--object", "account", "--upsert-on", "account_number", "--partial"
    )
    assert "40 rows read: 0 created, 39 updated, 1 rejected." in result.output
    stored = dict(records(org, "account", "account_number", "name"))
    assert stored["U-25"] == "Account 25"
    assert stored["U-24"] == "Renamed 24" and stored["U-39"] == "Renamed 39"
    assert [e["error"] for e in read_errors(tmp_path / "fixed.errors.csv")] == [
        "row 27: Annual revenue: The annual revenue cannot be negative"
    ]


def test_lookups_find_records_by_name_or_external_id_and_never_guess(crm, org, tmp_path):
    accounts = _accounts(
        tmp_path,
        [
            ["Acme", "A-1", "", "", "", ""],
            ["Twin", "T-1", "", "", "", ""],
            ["Twin", "T-2", "", "", "", ""],
        ],
    )
    crm("import", accounts, "--object", "account")
    contacts = write_csv(
        tmp_path / "contacts.csv",
        [
            ["Last name", "Email", "Company"],
            ["Smith", "smith@example.com", "Acme"],
            ["Jones", "jones@example.com", "Twin"],
            ["Brown", "brown@example.com", "Nobody"],
        ],
    )
    result = crm("import", contacts, "--object", "contact")
    assert "1 created, 0 updated, 2 rejected." in result.output
    reasons = [e["error"] for e in read_errors(tmp_path / "contacts.errors.csv")]
    assert reasons == [
        "row 3: Company: 2 account records named 'Twin': ambiguous",
        "row 4: Company: no account named 'Nobody'",
    ]
    # by external id, with an edited mapping
    mapping = tmp_path / "contacts.mapping.yaml"
    data = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    data["columns"]["Company"]["lookup"] = "account_number"
    mapping.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    by_number = write_csv(
        tmp_path / "more.csv",
        [["Last name", "Email", "Company"], ["Lee", "lee@example.com", "T-2"]],
    )
    crm("import", by_number, "--object", "contact", "--mapping", mapping)
    ids = {
        number: record_id for record_id, number in records(org, "account", "id", "account_number")
    }
    assert sorted(records(org, "contact", "last_name", "account")) == [
        ("Lee", ids["T-2"]),
        ("Smith", ids["A-1"]),
    ]


def test_an_unplaced_column_stops_the_import_and_the_mapping_file_finishes_it(crm, org, tmp_path):
    path = write_csv(
        tmp_path / "people.csv",
        [
            ["Last name", "E-mail", "E-mail", "Shoe size"],
            ["Smith", "s@example.com", "x@example.com", "42"],
        ],
    )
    result = crm("import", path, "--object", "contact", ok=False)
    assert "3 column(s) not placed" in result.output
    assert "E-mail: columns 'E-mail', 'E-mail (2)' all match email" in result.output
    assert "Shoe size: no field matches this header" in result.output
    assert records(org, "contact") == []
    mapping = tmp_path / "people.mapping.yaml"
    text = mapping.read_text(encoding="utf-8")
    assert "Last name: {field: last_name}" in text
    assert "Shoe size: {field: null}  # no field matches this header" in text
    edited = text.replace("E-mail: {field: null}", "E-mail: {field: email}")
    mapping.write_text(edited, encoding="utf-8")
    # run again without --mapping: the edit is kept, and the command says how to use it
    forgot = crm("import", path, "--object", "contact", ok=False)
    assert "people.mapping.yaml exists and differs from the mapping the headers" in forgot.output
    assert mapping.read_text(encoding="utf-8") == edited
    crm("import", path, "--object", "contact", "--mapping", mapping)
    assert records(org, "contact", "last_name", "email") == [("Smith", "s@example.com")]


def test_a_gbk_file_with_chinese_headers_maps_itself(crm, org, tmp_path):
    path = write_csv(
        tmp_path / "客户.csv",
        [
            ["客户名称", "客户编号", "行业", "年收入", "成立日期", "有效"],
            ["北京科技", "B-1", "Technology", "1,000,000元", "2024年3月5日", "是"],
            ["上海贸易", "B-2", "Retail", "￥2,500", "2023年12月1日", "否"],
        ],
        encoding="gbk",
    )
    result = crm("import", path, "--object", "account")
    assert "2 created, 0 updated, 0 rejected." in result.output
    stored = records(org, "account", "name", "annual_revenue", "founded", "active")
    assert sorted((n, str(r), str(f), a) for n, r, f, a in stored) == [
        ("上海贸易", "2500.00", "2023-12-01", False),
        ("北京科技", "1000000.00", "2024-03-05", True),
    ]


def test_an_xlsx_file_imports_like_a_csv(crm, org, tmp_path):
    import datetime as dt

    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADER)
    sheet.append(["Acme", "X-1", "Retail", 1234.5, dt.datetime(2024, 3, 5), True])
    workbook.save(tmp_path / "accounts.xlsx")
    crm("import", tmp_path / "accounts.xlsx", "--object", "account")
    (row,) = records(org, "account", "name", "annual_revenue", "founded", "active")
    assert (row[0], str(row[1]), str(row[2]), row[3]) == ("Acme", "1234.50", "2024-03-05", True)


def test_a_user_without_create_permission_imports_nothing(crm, org, tmp_path, make_user):
    make_user("viewer@example.com", profile=None)
    path = _accounts(tmp_path, [["Acme", "A-1", "", "", "", ""]])
    result = crm("import", path, "--object", "account", "--as", "viewer@example.com", ok=False)
    assert "error: you may not create account records" in result.output
    assert records(org, "account") == []


@pytest.mark.parametrize("bad", [["--upsert-on", "name"], ["--upsert-on", "nothing"]])
def test_upserts_need_a_unique_field(crm, tmp_path, bad):
    path = _accounts(tmp_path, [["Acme", "A-1", "", "", "", ""]])
    result = crm("import", path, "--object", "account", *bad, ok=False)
    assert "upsert_on: upserts need id, an external_id or a unique field" in result.output


def test_blank_lines_are_skipped_and_said_so(crm, org, tmp_path):
    path = tmp_path / "gaps.csv"
    lines = [",".join(HEADER), "Acme,A-1,Retail,1,,", "", "Globex,A-2,Retail,-1,,", ",,,,,", ""]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = crm("import", path, "--object", "account", "--dry-run")
    # the blank rows after the last one with values count too (they once did not)
    assert "5 rows read (3 blank skipped): 1 would be created, 0 would be updated, 1 rejected." in (
        result.output
    )
    reasons = [e["error"] for e in read_errors(tmp_path / "gaps.errors.csv")]
    assert reasons == ["row 4: Annual revenue: The annual revenue cannot be negative"]
    result = crm("import", path, "--object", "account")
    assert "5 rows read (3 blank skipped): 1 created, 0 updated, 1 rejected." in result.output
    result = crm("import", path, "--object", "account", "--all-or-none", ok=False)
    assert "5 rows read" in result.output


@pytest.mark.parametrize("mode", ["--partial", "--all-or-none"])
def test_imported_records_are_followed_by_no_one(crm, org, tmp_path, mode):
    """Follows are for the records people work on: an import would otherwise make its
    importer follow (and be told of every change to) each record it loads."""
    import sqlalchemy as sa

    from crm_platform.collab.tables import record_follows
    from crm_platform.runtime import find_user
    from tests.conftest import ADMIN_EMAIL

    path = _accounts(tmp_path, [["Acme", "A-1", "Retail", "5", "2024/3/5", "yes"]])
    assert "1 created" in crm("import", path, "--object", "account", mode).output
    with org.db.read() as conn:
        admin = find_user(conn, ADMIN_EMAIL)
    with org.records.session(admin) as session:  # created by hand: followed as ever
        by_hand = session.create("account", {"name": "Globex"})["id"]

    with org.db.read() as conn:
        followed = conn.execute(sa.select(record_follows.c.record_id)).scalars().all()
    assert followed == [by_hand]
