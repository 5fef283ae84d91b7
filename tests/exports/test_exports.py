"""Issue 17 item 6: ``crm export`` and ``GET /records/<object>/export`` as a user —
export_data needed, sharing and field-level security applied, every format exact."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import openpyxl
import pytest
import simplejson
from click.testing import CliRunner

from crm_platform.cli import main

WON = "stage == 'Closed Won'"


@pytest.fixture
def crm(outputs):
    settings = outputs.org.settings
    env = {
        "CRM_DATABASE_URL": settings.database_url,
        "CRM_INSTANCE_PATH": str(settings.instance_path),
    }
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, list(args), env=env)

    return run


def _csv(path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))


def _jsonl(data: bytes) -> list[dict]:
    return [simplejson.loads(line, use_decimal=True) for line in data.decode().splitlines()]


def test_crm_export_to_a_dash_writes_the_records_alone_on_stdout(
    outputs, crm, tmp_path, monkeypatch
):
    """``--output -`` pipes the records on (``crm export … --output - | jq``): stdout holds
    them alone, the count goes to stderr, and no file named ``-`` is left behind."""
    monkeypatch.chdir(tmp_path)
    done = crm("export", "--object", "opportunity", "--format", "jsonl", "--output", "-")
    assert done.exit_code == 0, done.output
    assert not (tmp_path / "-").exists()
    records = _jsonl(done.stdout_bytes)
    assert sorted(r["id"] for r in records) == sorted(d["id"] for d in outputs.deals)
    assert f"wrote {len(records)} opportunity records" in done.stderr


def test_crm_export_writes_the_won_deals_as_csv_xlsx_and_jsonl(outputs, crm, tmp_path):
    target = tmp_path / "won.csv"
    done = crm("export", "--object", "opportunity", "--where", WON, "--format", "csv",
               "--output", str(target))  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "wrote 1 opportunity records" in done.output
    (row,) = _csv(target)
    assert row["name"] == "Umbrella" and row["amount"] == "80000.00"
    assert row["stage"] == "Closed Won" and row["close_date"] == "2026-03-31"
    assert row["is_won"] == "true" and "secret_score" in row  # the system user sees all

    target = tmp_path / "all.jsonl"
    done = crm("export", "--object", "opportunity", "--format", "jsonl", "--output", str(target))
    assert done.exit_code == 0, done.output
    records = _jsonl(target.read_bytes())
    assert [r["id"] for r in records] == sorted(d["id"] for d in outputs.deals)
    by_name = {r["name"]: r for r in records}
    assert by_name["北京大单"]["amount"] == Decimal("250000.50")  # exact, not a float
    assert by_name["Hooli"]["close_date"] is None
    assert by_name["=1+1 deal"]["name"] == "=1+1 deal"  # JSON Lines keeps text as it is

    target = tmp_path / "some.xlsx"
    done = crm("export", "--object", "opportunity", "--format", "xlsx", "--fields",
               "name,amount,stage", "--output", str(target))  # fmt: skip
    assert done.exit_code == 0, done.output
    sheet = openpyxl.load_workbook(target).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("id", "name", "amount", "stage")
    assert len(rows) == 1 + len(outputs.deals)
    amounts = {r[1]: r[2] for r in rows[1:]}
    assert amounts["Globex"] == 300000 and isinstance(amounts["Globex"], int | float)


def test_an_export_as_a_user_has_only_what_they_may_read(outputs, crm, tmp_path):
    target = tmp_path / "mine.csv"
    done = crm("export", "--object", "opportunity", "--as", "rep@example.com",
               "--output", str(target))  # fmt: skip
    assert done.exit_code == 0, done.output
    rows = _csv(target)
    rep_deals = [d for d in outputs.deals if d["owner_id"] == outputs.deals[1]["owner_id"]]
    assert sorted(r["id"] for r in rows) == sorted(d["id"] for d in rep_deals)
    assert "secret_score" not in rows[0]  # a field they may not read is no column

    for args in (("--fields", "name,secret_score"), ("--where", "secret_score > 1")):
        hidden = tmp_path / "hidden.csv"
        refused = crm("export", "--object", "opportunity", "--as", "rep@example.com",
                      *args, "--output", str(hidden))  # fmt: skip
        assert refused.exit_code == 1 and "unknown field 'secret_score'" in refused.output
        assert not hidden.exists()


def test_a_user_without_export_data_is_refused(crm, tmp_path):
    target = tmp_path / "no.csv"
    refused = crm("export", "--object", "opportunity", "--as", "opps@example.com",
                  "--output", str(target))  # fmt: skip
    assert refused.exit_code == 1 and "export_data" in refused.output
    assert not target.exists()
    unknown = crm("export", "--object", "nothing", "--output", str(target))
    assert unknown.exit_code == 1 and "no object 'nothing'" in unknown.output


EXPORT = "/api/v1/records/opportunity/export"


def test_the_api_streams_the_export_with_the_same_checks(outputs):
    response = outputs.admin.get(f"{EXPORT}?format=jsonl&where={WON}")
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/x-ndjson"
    assert "attachment" in response.headers["Content-Disposition"]
    (won,) = _jsonl(response.data)
    assert won["name"] == "Umbrella" and won["probability"] == 100

    mine = outputs.rep.get(f"{EXPORT}?format=csv&fields=name,stage")
    assert mine.status_code == 200
    header, *rows = list(csv.reader(io.StringIO(mine.data.decode("utf-8-sig"))))
    assert header == ["id", "name", "stage"]
    assert sorted(r[1] for r in rows) == ["'=1+1 deal", "Hooli", "北京大单"]

    refused = outputs.opps.get(EXPORT)
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"
    assert "export_data" in refused.get_json()["detail"]
    hidden = outputs.rep.get(f"{EXPORT}?fields=secret_score")
    assert hidden.status_code == 400 and "secret_score" in json.dumps(hidden.get_json())
    assert outputs.admin.get(f"{EXPORT}?format=pdf").status_code == 400
    assert outputs.admin.get("/api/v1/records/nothing/export").status_code == 404

    xlsx = outputs.admin.get(f"{EXPORT}?format=xlsx")
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.max_row == 1 + len(outputs.deals)


def test_an_export_reads_page_after_page_in_id_order(outputs):
    from crm_platform.exports import record_export
    from crm_platform.runtime import find_user

    with outputs.org.db.read() as conn:
        admin = find_user(conn, "admin@example.com")
    with outputs.org.records.session(admin, write=False) as session:
        export = record_export(session, "opportunity", fields=["name"], page_size=2)
        ids = [r["id"] for r in export.records]
    assert ids == sorted(d["id"] for d in outputs.deals)  # three pages of two


def test_the_export_is_in_the_openapi_document(outputs):
    document = outputs.admin.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/records/opportunity/export"]["get"]
    assert operation["operationId"] == "export_opportunity"
    formats = next(p for p in operation["parameters"] if p["name"] == "format")
    assert formats["schema"]["enum"] == ["csv", "xlsx", "jsonl"]
