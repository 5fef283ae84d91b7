"""``GET /reports/<name>/export`` and ``GET /reports/<name>/chart.svg`` as people use
them: the numbers are the deals each person may see, computed here from the records."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import openpyxl
import pytest

from . import outputs_org
from .outputs_org import open_deals, total

# the module's org (built once), as fixtures of this module
outputs, outputs_url = outputs_org.outputs, outputs_org.outputs_url

ZH = {"Accept-Language": "zh"}
NS = {"svg": "http://www.w3.org/2000/svg"}
EXPORT = "/api/v1/reports/pipeline_by_stage/export"


def csv_rows(response) -> list[list[str]]:
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_admin_exports_every_open_deal_as_csv(outputs):
    response = outputs.admin.get(EXPORT + "?format=csv", headers=ZH)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert re.fullmatch(
        r'attachment; filename="pipeline_by_stage-\d{4}-\d{2}-\d{2}\.csv"',
        response.headers["Content-Disposition"],
    )
    header, *rows = csv_rows(response)
    assert header[0] == "阶段" and "Name" in header and "Amount" in header
    name, amount = header.index("Name"), header.index("Amount")
    expected = {
        (
            d["name"] if not d["name"].startswith("=") else "'" + d["name"],
            str(d.get("amount") or ""),
        )
        for d in open_deals(outputs.deals)
    }
    assert {(r[name], r[amount]) for r in rows} == expected
    stage_labels = {"Prospecting": "潜在", "Negotiation": "谈判"}
    by_name = {d["name"]: d for d in outputs.deals}
    for row in rows:
        deal = by_name[row[name].removeprefix("'")]
        assert row[0] == stage_labels[deal["stage"]]


def test_a_rep_exports_only_the_deals_they_own_and_a_filter_narrows_it(outputs):
    rep_id = outputs.rep.get("/api/v1/records/opportunity").get_json()["records"][0]["owner_id"]
    header, *rows = csv_rows(outputs.rep.get(EXPORT))
    amount = header.index("Amount")
    mine = open_deals(outputs.deals, rep_id)
    assert len(rows) == len(mine) == 2
    assert sum((Decimal(r[amount]) for r in rows if r[amount]), Decimal(0)) == total(mine)
    header, *rows = csv_rows(outputs.rep.get(EXPORT + "?filter=amount > 1000"))
    assert [r[header.index("Name")] for r in rows] == ["北京大单"]


def test_the_xlsx_export_has_typed_cells_in_the_orgs_currency(outputs):
    response = outputs.admin.get(EXPORT + "?format=xlsx")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    header, *rows = list(sheet.iter_rows())
    labels = [c.value for c in header]
    amount = labels.index("Amount")
    cells = [row[amount] for row in rows if row[amount].value is not None]
    assert all(c.data_type == "n" and c.number_format == '"CNY "#,##0.00' for c in cells)
    assert sum(Decimal(str(c.value)) for c in cells) == total(open_deals(outputs.deals))
    names = [row[labels.index("Name")] for row in rows]
    formula_like = next(c for c in names if str(c.value).startswith("="))
    assert formula_like.data_type == "s"  # a name, never a formula


def test_exporting_needs_the_export_data_permission(outputs):
    response = outputs.opps.get(EXPORT)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "export_data" in response.get_json()["detail"]


@pytest.mark.parametrize(
    ("url", "status", "place"),
    [
        (EXPORT + "?format=pdf", 400, "format"),
        (EXPORT + "?limit=5", 400, "limit"),
        (EXPORT + "?filter=secret_score > 1", 400, None),
        ("/api/v1/reports/nope/export", 404, None),
    ],
)
def test_a_bad_export_is_refused_before_any_byte(outputs, url, status, place):
    response = outputs.rep.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    if place:
        assert place in response.get_json()["errors"]


def test_the_export_reads_its_rows_in_the_requests_transaction_and_ends_it(outputs):
    pool = outputs.org.db.engine.pool
    before = pool.checkedout()
    response = outputs.admin.get(EXPORT, buffered=False)
    assert response.status_code == 200
    chunks = iter(response.response)
    first = next(chunks)
    assert first.startswith(b"\xef\xbb\xbf")
    assert pool.checkedout() == before + 1  # the cursor's transaction is still open
    rest = b"".join(chunks)
    assert b"Globex" in first + rest
    response.close()
    assert pool.checkedout() == before  # and ended with the body


def test_a_client_that_goes_away_ends_the_transaction_too(outputs):
    pool = outputs.org.db.engine.pool
    before = pool.checkedout()
    response = outputs.admin.get(EXPORT, buffered=False)
    assert pool.checkedout() == before + 1
    response.close()  # the server closes the response without sending the body
    assert pool.checkedout() == before


def test_the_chart_svg_is_drawn_in_the_readers_language_from_their_totals(outputs):
    response = outputs.rep.get("/api/v1/reports/pipeline_by_stage/chart.svg", headers=ZH)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    root = ET.fromstring(svg)
    stages = [d.text for d in root.iterfind(".//svg:g[@class='band']/svg:desc[@class='label']", NS)]
    # the rep's two open deals: one prospecting (250,000.50), one in negotiation without
    # an amount (no band for it in a funnel of amounts)
    assert stages == ["潜在"]
    values = [d.text for d in root.iterfind(".//svg:desc[@class='value']", NS)]
    assert values[0] == "250,000.50"
    assert set(re.findall(r"https?://[^\s\"'<>]+", svg)) == {"http://www.w3.org/2000/svg"}


def test_a_report_without_a_chart_has_no_svg_and_an_unreadable_one_is_forbidden(outputs):
    response = outputs.admin.get("/api/v1/reports/opportunity_list/chart.svg")
    assert response.status_code == 404
    assert "no chart" in response.get_json()["detail"]
    response = outputs.opps.get("/api/v1/reports/cases_by_priority_status/chart.svg")
    assert response.status_code == 403
    assert outputs.admin.get("/api/v1/reports/nope/chart.svg").status_code == 404


def test_crm_report_run_exports_csv_or_xlsx_to_a_file_as_a_user(outputs, tmp_path):
    from click.testing import CliRunner

    from crm_platform.cli import main

    settings = outputs.org.settings
    env = {
        "CRM_DATABASE_URL": settings.database_url,
        "CRM_INSTANCE_PATH": str(settings.instance_path),
    }
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, ["report", "run", "pipeline_by_stage", *args], env=env)

    target = tmp_path / "mine.csv"
    done = run("--as", "rep@example.com", "--format", "csv", "--output", str(target))
    assert done.exit_code == 0, done.output
    header, *rows = list(csv.reader(io.StringIO(target.read_text("utf-8-sig"))))
    assert sorted(r[header.index("Name")] for r in rows) == ["'=1+1 deal", "北京大单"]

    target = tmp_path / "all.xlsx"
    done = run("--format", "xlsx", "--output", str(target))
    assert done.exit_code == 0, done.output
    sheet = openpyxl.load_workbook(target).active
    assert sheet.max_row == 1 + len(open_deals(outputs.deals))

    refused = run("--as", "opps@example.com", "--format", "csv", "--output", str(tmp_path / "x"))
    assert refused.exit_code == 1 and "account.name" in refused.output
    assert not (tmp_path / "x").exists()
    assert run("--format", "csv").exit_code == 2  # a file is needed


def test_through_a_real_server_the_export_streams_and_gives_its_connection_back(outputs):
    import threading
    import time

    import httpx
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, outputs.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pool = outputs.org.db.engine.pool
    before = pool.checkedout()
    try:
        url = f"http://127.0.0.1:{server.server_port}{EXPORT}"
        headers = {"Authorization": f"Bearer {outputs.admin.token}"}
        with httpx.stream("GET", url, headers=headers, timeout=30) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "text/csv; charset=utf-8"
            body = b"".join(response.iter_bytes())
        assert body.startswith(b"\xef\xbb\xbf") and "北京大单".encode() in body
        # the server closes the response after the body: the transaction ends
        for _ in range(50):
            if pool.checkedout() == before:
                break
            time.sleep(0.05)
        assert pool.checkedout() == before
    finally:
        server.shutdown()
        thread.join()
