"""The reports API answers what its OpenAPI document says, refuses bad run options
naming them, and the export stream and `crm report run` give the same figures."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from crm_platform.cli import main
from tests.api.test_openapi import assert_documented, assert_request_documented, fetch
from tests.conftest import FIXTURES

from .expected import visible
from .test_report_numbers import is_open


def test_every_answer_is_documented(crm):
    admin = crm.users["admin"].client
    document = fetch(admin)
    listed = assert_documented(document, "get", "/reports", admin.get("/api/v1/reports"))
    assert {r["name"] for r in listed["reports"]} >= {"pipeline_by_stage", "weighted_forecast"}
    got = admin.get("/api/v1/reports/pipeline_by_stage")
    assert assert_documented(document, "get", "/reports/{name}", got)["object"] == "opportunity"
    for name in (
        "pipeline_by_stage",
        "weighted_forecast",
        "cases_by_priority_status",
        "opportunity_list",
    ):
        request = {"filter": "name != ''", "limit": 3}
        assert_request_documented(document, "post", "/reports/{name}/run", request)
        response = admin.post(f"/api/v1/reports/{name}/run", json=request)
        assert_documented(document, "post", "/reports/{name}/run", response)
    for status, response in [
        (400, admin.post("/api/v1/reports/pipeline_by_stage/run", json={"limit": 0})),
        (404, admin.post("/api/v1/reports/nope/run", json={})),
        (403, crm.users["outsider"].client.post("/api/v1/reports/cases_by_priority_status/run")),
    ]:
        assert response.status_code == status
        assert_documented(document, "post", "/reports/{name}/run", response)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"where": "amount > 1"}, "where"),
        ({"filter": 3}, "filter"),
        ({"filter": "   "}, "filter"),
        ({"filter": "amount +"}, "filter"),
        ({"filter": "amount"}, "filter"),
        ({"limit": True}, "limit"),
        ({"limit": "10"}, "limit"),
        ({"limit": 50_001}, "limit"),
        ([1], "(body)"),
    ],
)
def test_bad_run_options_are_refused_naming_them(crm, body, field):
    response = crm.users["rep1"].client.post("/api/v1/reports/pipeline_by_stage/run", json=body)
    assert response.status_code == 400
    assert field in response.get_json()["errors"]


def test_the_stream_of_a_summary_report_gives_every_row_with_its_group_first(crm):
    from crm_platform.reports import stream_report

    rep = crm.users["rep1"]
    mine = [r for r in visible(crm.opportunities, rep) if is_open(r)]
    with crm.org.db.read() as conn:
        user = _user(conn, rep.email)
    with crm.org.records.session(user, write=False) as session:
        stream = stream_report(session, "pipeline_by_stage")
        header = [c.key for c in stream.columns]
        assert iter(stream.rows) is stream.rows  # read from the cursor, not held in a list
        lines = list(stream.rows)
    assert header == ["stage", "name", "account.name", "owner.name", "amount", "close_date"]
    assert sorted(line[1] for line in lines) == sorted(r["name"] for r in mine)
    for line in lines:
        deal = next(r for r in mine if r["name"] == line[1])
        assert line[0] == deal["stage"] and line[3] == rep.name and line[4] == deal["amount"]


def test_the_stream_of_a_matrix_gives_one_line_per_cell(crm):
    from crm_platform.reports import run_report, stream_report

    with crm.org.db.read() as conn:
        user = _user(conn, crm.users["manager"].email)
    with crm.org.records.session(user, write=False) as session:
        result = run_report(session, "weighted_forecast")
        stream = stream_report(session, "weighted_forecast")
        lines = list(stream.rows)
    header = ["owner", "close_date by quarter", "weighted", "count"]
    assert [c.key for c in stream.columns] == header
    assert len(lines) == len(result.groups) * len(result.column_keys)
    assert sum(line[3] for line in lines) == result.total.values["count"]
    names = {p.name for p in crm.users.values()}
    assert {line[0] for line in lines} <= names
    labels = {k[0].label for k in result.column_keys}
    assert {line[1] for line in lines} == labels and all(" Q" in q for q in labels)


def test_the_stream_of_a_summary_without_columns_gives_one_line_per_group(crm):
    from crm_platform.reports import stream_report

    rep = crm.users["rep2"]
    mine = visible(crm.cases, rep)
    with crm.org.db.read() as conn:
        user = _user(conn, rep.email)
    with crm.org.records.session(user, write=False) as session:
        stream = stream_report(session, "cases_by_priority_status")
        lines = list(stream.rows)
    assert [c.key for c in stream.columns] == ["priority", "status", "count", "avg(age_days)"]
    expected = {}
    for case in mine:
        key = (case["priority"], case["status"])
        expected[key] = expected.get(key, 0) + 1
    assert {(line[0], line[1]): line[2] for line in lines} == expected
    assert len(lines) == len(expected)


def test_crm_report_run_prints_a_table_or_json_as_a_user(crm):
    settings = crm.org.settings
    env = {
        "CRM_DATABASE_URL": settings.database_url,
        "CRM_INSTANCE_PATH": str(settings.instance_path),
    }
    runner = CliRunner()
    as_rep = runner.invoke(
        main,
        ["report", "run", "win_rate_by_owner", "--as", "rep1@example.com", "--format", "json"],
        env=env,
        catch_exceptions=False,
    )
    assert as_rep.exit_code == 0, as_rep.output
    body = json.loads(as_rep.output)
    assert [g["key"]["value"] for g in body["groups"]] == [crm.users["rep1"].id]
    table = runner.invoke(main, ["report", "run", "cases_by_priority_status"], env=env)
    assert table.exit_code == 0, table.output
    assert "Cases by priority and status" in table.output and "Total" in table.output
    assert str(len(crm.cases)) in table.output
    refused = runner.invoke(
        main, ["report", "run", "pipeline_by_stage", "--as", "outsider@example.com"], env=env
    )
    assert refused.exit_code == 1
    assert "unknown field 'account.name'" in refused.output


def test_reports_apply_and_dump_as_yaml(tmp_path, database_url):
    runner = CliRunner()
    env = {"CRM_DATABASE_URL": database_url, "CRM_INSTANCE_PATH": str(tmp_path / "instance")}

    def crm(*args):
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    crm("init", "--admin-password", "S3cure-pass!")
    crm("metadata", "apply", str(FIXTURES / "reports"))
    crm("metadata", "dump", str(tmp_path / "out"))
    [dumped] = (tmp_path / "out" / "reports").glob("*pipeline_by_stage.yaml")
    assert "sum(amount)" in dumped.read_text()
    crm("metadata", "apply", str(tmp_path / "out"))  # what dump writes, apply takes
    assert "Pipeline by stage" in crm("report", "run", "pipeline_by_stage")


def _user(conn, email):
    from crm_platform.runtime import find_user

    return find_user(conn, email)


@pytest.mark.parametrize(
    "where",
    [
        "amount / 0 > 1",
        "amount > 99999999999999999999999999999",
        "close_date > DATE(99999, 1, 1)",
        "LEFT(name, -5) == ''",
        "name == '" + "x" * 5000 + "'",
        "close_date in LAST_N_DAYS(100000000)",
        "probability * 1e300 > 1",
        "__import__('os')",
        "name.upper()",
    ],
)
def test_odd_runtime_filters_answer_200_or_400_never_500(crm, where):
    response = crm.users["rep1"].client.post(
        "/api/v1/reports/weighted_forecast/run", json={"filter": where}
    )
    assert response.status_code in {200, 400}, response.get_json()
