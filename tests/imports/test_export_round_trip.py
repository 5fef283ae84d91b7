"""An export can be imported again as it is: its system columns and computed fields are
left to the platform (and said so in the mapping file), its lookup columns find their
records by id, an address comes back from its JSON cell, and values the export guarded
against spreadsheet formulas (`'+86 138…`, `'-Head of sales`) come back as they were."""

from __future__ import annotations

import csv

import yaml

from tests.conftest import ADMIN_EMAIL, FIXTURES

from .helpers import records

EXTRA_FIELDS = [
    {"api_name": "title", "type": "text"},
    {"api_name": "mailing", "type": "address"},
    {"api_name": "full_name", "type": "formula", "return_type": "text",
     "expression": "TRIM(CONCAT(first_name, ' ', last_name))"},
]  # fmt: skip


def _contact_with_more_fields(org) -> None:
    from crm_platform.core.tables import SYSTEM_USER_ID

    contact = yaml.safe_load((FIXTURES / "imports/objects/contact.yaml").read_text("utf-8"))
    contact["fields"] += EXTRA_FIELDS
    org.metadata.apply_definitions([("object", contact)], author_id=SYSTEM_USER_ID)


def _admin(org):
    from crm_platform.runtime import find_user

    with org.db.read() as conn:
        return find_user(conn, ADMIN_EMAIL)


PEOPLE = [
    {"first_name": "Ann", "last_name": "Smith", "email": "ann@acme.example",
     "phone": "+86 138 0001 0001", "title": "-Head of sales", "score": "12.50",
     "birthdate": "1990-03-05", "mailing": {"street": "1 Rue de Rivoli", "city": "Paris"}},
    {"first_name": "伟", "last_name": "张", "email": "zhang@bj.example",
     "phone": "+1 555 0100", "title": "=经理"},
]  # fmt: skip


def test_an_exported_file_imports_again_as_it_is(crm, org, tmp_path):
    _contact_with_more_fields(org)
    with org.records.session(_admin(org)) as session:
        acme = session.create("account", {"name": "Acme"})
        made = [session.create("contact", {**p, "account": acme["id"]}) for p in PEOPLE]
    exported = tmp_path / "contacts.csv"
    crm("export", "--object", "contact", "--format", "csv", "--output", str(exported))
    with exported.open(encoding="utf-8-sig", newline="") as handle:
        cells = list(csv.DictReader(handle))
    assert cells[0]["phone"] == "'+86 138 0001 0001"  # guarded for spreadsheets
    with org.records.session(_admin(org)) as session:
        for record in made:
            session.delete("contact", record["id"])

    result = crm("import", str(exported), "--object", "contact")
    assert "2 rows read: 2 created, 0 updated, 0 rejected" in result.output
    mapping = (tmp_path / "contacts.mapping.yaml").read_text("utf-8")
    assert "id: {field: null}  # the record's id: new records get ids of their own" in mapping
    assert "full_name: {field: null}  # formula: computed by the platform" in mapping
    assert "account: {field: account, lookup: id}" in mapping

    fields = ("first_name", "last_name", "email", "phone", "title", "account")
    again = sorted(records(org, "contact", "id", *fields), key=lambda r: r[3])
    assert [r[1:] for r in again] == [
        ("Ann", "Smith", "ann@acme.example", "+86 138 0001 0001", "-Head of sales",
         acme["id"]),
        ("伟", "张", "zhang@bj.example", "+1 555 0100", "=经理", acme["id"]),
    ]  # fmt: skip
    assert {r[0] for r in again}.isdisjoint(m["id"] for m in made)  # new records
    with org.records.session(_admin(org)) as session:
        ann = session.get("contact", again[0][0])
    assert ann["full_name"] == "Ann Smith"  # computed again
    assert ann["mailing"]["city"] == "Paris" and ann["mailing"]["street"] == "1 Rue de Rivoli"
    assert str(ann["score"]) == "12.50" and str(ann["birthdate"]) == "1990-03-05"


def test_a_lookup_by_name_finds_records_whose_name_is_a_formula(crm, org, tmp_path):
    """A contact's name is often a formula (first and last name): a column naming
    contacts is compared with the formula in SQL (it ended in a KeyError)."""
    from crm_platform.core.tables import SYSTEM_USER_ID

    contact = yaml.safe_load((FIXTURES / "imports/objects/contact.yaml").read_text("utf-8"))
    contact["fields"] += EXTRA_FIELDS
    contact["name_field"] = "full_name"
    task = {
        "api_name": "call",
        "fields": [{"api_name": "who", "type": "lookup", "target": "contact", "label": "Who"}],
    }
    org.metadata.apply_definitions(
        [("object", contact), ("object", task)], author_id=SYSTEM_USER_ID
    )
    with org.records.session(_admin(org)) as session:
        ann = session.create("contact", {"first_name": "Ann", "last_name": "Smith"})
    path = tmp_path / "calls.csv"
    path.write_text("Name,Who\nFirst call,Ann Smith\nSecond call,Nobody\n", encoding="utf-8")
    result = crm("import", str(path), "--object", "call")
    assert "2 rows read: 1 created, 0 updated, 1 rejected" in result.output
    assert records(org, "call", "name", "who") == [("First call", ann["id"])]
    errors = (tmp_path / "calls.errors.csv").read_text("utf-8-sig")
    assert "row 3: Who: no contact named 'Nobody'" in errors


def test_a_free_text_address_column_is_not_taken_for_the_address_field(crm, org, tmp_path):
    _contact_with_more_fields(org)
    path = tmp_path / "people.csv"
    path.write_text("Last name,mailing\nSmith,1 Main St\n", encoding="utf-8")
    result = crm("import", str(path), "--object", "contact", ok=False)
    assert "mailing: mailing has several parts: map each to a column" in result.output
    assert records(org, "contact") == []


def test_the_error_file_guards_formulas_again_and_keeps_no_stale_rows(crm, org, tmp_path):
    """The reader takes the export's apostrophes off; the error file, opened in a
    spreadsheet, puts them back. A clean run leaves no error file of an earlier one."""
    path = tmp_path / "accounts.csv"
    rows = (
        "Account name,Employees,Annual revenue\n"
        '"=HYPERLINK(""http://x"",""y"")",n/a,\n'
        "'+Acme,5,-5\n"
    )
    path.write_text(rows, encoding="utf-8")
    result = crm("import", str(path), "--object", "account")
    assert "2 rows read: 0 created, 0 updated, 2 rejected" in result.output
    written = (tmp_path / "accounts.errors.csv").read_text("utf-8-sig").splitlines()
    assert written[1].startswith('"\'=HYPERLINK(""http://x"",""y"")",n/a,,row 2:')
    assert written[2].startswith("'+Acme,5,-5,row 3:")  # a plain number needs no guard

    path.write_text("Account name,Employees\nAcme,5\n", encoding="utf-8")
    (tmp_path / "accounts.mapping.yaml").unlink()  # the columns changed
    crm("import", str(path), "--object", "account")
    assert not (tmp_path / "accounts.errors.csv").exists()


def test_an_edited_export_updates_its_records_by_id(crm, org, tmp_path):
    """`--upsert-on id`: the rows of an export update the records they came from; a row
    without an id is a new record, and an id that names no record is a row error (an id
    is never given to a new record)."""
    with org.records.session(_admin(org)) as session:
        acme = session.create("account", {"name": "Acme", "account_number": "A-1"})
        globex = session.create("account", {"name": "Globex", "account_number": "A-2"})
    exported = tmp_path / "accounts.csv"
    crm("export", "--object", "account", "--format", "csv", "--output", str(exported))
    with exported.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["name"] = row["name"].upper()
    stranger = "01a2422e-5eea-70bd-a4e7-234f766b9077"
    rows.append({**rows[0], "id": "", "name": "Initech", "account_number": "A-3"})
    rows.append({**rows[0], "id": stranger, "name": "Hooli", "account_number": "A-4"})
    with exported.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    result = crm("import", str(exported), "--object", "account", "--upsert-on", "id")

    assert "4 rows read: 1 created, 2 updated, 1 rejected" in result.output
    stored = sorted(records(org, "account", "id", "name", "account_number"), key=lambda r: r[2])
    assert [(r[1], r[2]) for r in stored] == [
        ("ACME", "A-1"),
        ("GLOBEX", "A-2"),
        ("Initech", "A-3"),
    ]
    assert [r[0] for r in stored[:2]] == [acme["id"], globex["id"]]
    errors = (tmp_path / "accounts.errors.csv").read_text("utf-8-sig")
    assert f"row 5: id: no account with id '{stranger}' that you may see" in errors


def test_an_upsert_on_id_needs_an_id_column(crm, org, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("Account name\nAcme\n", encoding="utf-8")
    result = crm("import", str(path), "--object", "account", "--upsert-on", "id", ok=False)
    assert "upsert_on: no column holds the records' ids" in result.output
    assert records(org, "account") == []


def test_an_id_with_characters_after_a_records_id_names_no_record(crm, org, tmp_path):
    """The ids of a batch are compared whole: an id longer than any record's, which begins
    with one of them, updates nothing (PostgreSQL cuts a value cast to a shorter varchar)."""
    with org.records.session(_admin(org)) as session:
        acme = session.create("account", {"name": "Acme", "account_number": "A-1"})
    path = tmp_path / "accounts.csv"
    longer = acme["id"] + "-2"
    path.write_text(f"id,Account name\n{longer},Hooli\n", encoding="utf-8")

    result = crm("import", str(path), "--object", "account", "--upsert-on", "id")

    assert "1 rows read: 0 created, 0 updated, 1 rejected" in result.output
    assert records(org, "account", "name") == [("Acme",)]
    errors = (tmp_path / "accounts.errors.csv").read_text("utf-8-sig")
    assert f"no account with id '{longer}' that you may see" in errors
