"""Report definitions are metadata: saved through /api/v1/metadata/reports (and YAML
apply), checked when saved with each problem named by its path, rewritten when a field
they name is renamed, and listed among a field's usages."""

from __future__ import annotations

import pytest

REPORTS = "/api/v1/metadata/reports"
FIELDS = "/api/v1/metadata/objects/opportunity/fields"
GOOD = {
    "api_name": "checked",
    "object": "opportunity",
    "format": "summary",
    "columns": ["name", "account.name"],
    "group_by": ["stage"],
    "aggregates": ["count", "sum(amount)"],
    "chart": {"type": "bar", "x": "stage", "y": "sum(amount)"},
}


@pytest.fixture
def admin(crm):
    return crm.users["admin"].client


def test_a_report_is_saved_and_read_back_through_the_metadata_api(admin):
    created = admin.post(REPORTS, json={**GOOD, "label": {"en": "Checked", "zh": "已检查"}})
    assert created.status_code == 201, created.get_json()
    got = admin.get(f"{REPORTS}/checked").get_json()
    assert got["group_by"] == ["stage"] and got["label"] == {"en": "Checked", "zh": "已检查"}
    listed = admin.get("/api/v1/reports").get_json()["reports"]
    assert {
        "name": "checked",
        "label": "Checked",
        "object": "opportunity",
        "format": "summary",
    } in listed
    run = admin.post("/api/v1/reports/checked/run", json={}).get_json()
    assert run["label"] == "Checked"
    chinese = admin.post(
        "/api/v1/reports/checked/run", json={}, headers={"Accept-Language": "zh"}
    ).get_json()
    assert chinese["label"] == "已检查"
    stage = chinese["groupings"][0]
    assert stage["label"] == "阶段"
    assert {g["key"]["label"] for g in chinese["groups"]} <= {
        "潜在",
        "提案",
        "谈判",
        "赢单",
        "输单",
        None,
    }
    definition = admin.get("/api/v1/reports/checked").get_json()
    assert definition["labels"] == {"en": "Checked", "zh": "已检查"}
    assert admin.delete(f"{REPORTS}/checked").status_code == 200


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        (
            {"columns": ["name", "acount.name"]},
            "columns[1]",
            "unknown field 'acount.name' on opportunity",
        ),
        ({"columns": ["bank"]}, "columns[0]", "unknown field 'bank'"),
        ({"aggregates": ["sum(name)"]}, "aggregates[0]", "sum needs a number: 'name' is text"),
        ({"aggregates": ["avg(stage)"]}, "aggregates[0]", "avg needs a number"),
        ({"aggregates": ["max(name)"]}, "aggregates[0]", "max needs a number or a date"),
        ({"aggregates": ["sum(amont)"]}, "aggregates[0]", "unknown field 'amont'"),
        ({"aggregates": ["total(amount)"]}, "aggregates[0]", "is not an aggregate"),
        (
            {"aggregates": [{"name": "won", "of": "count", "where": "stage"}]},
            "aggregates[0].where",
            "boolean",
        ),
        ({"group_by": ["notes"]}, "group_by[0]", "cannot group by 'notes': a long_text field"),
        ({"group_by": ["stge"]}, "group_by[0]", "unknown field 'stge'"),
        (
            {"group_by": ["name by month"]},
            "group_by[0]",
            "a date bucket needs a date or datetime field",
        ),
        (
            {"group_by": ["close_date by fortnight"]},
            "group_by[0]",
            "unknown date bucket 'fortnight'",
        ),
        ({"group_by": ["stage", "owner", "account", "name"]}, "group_by", "at most 3 groupings"),
        (
            {"group_columns_by": ["owner"]},
            "group_columns_by",
            "only a matrix report groups columns",
        ),
        ({"format": "matrix"}, "group_columns_by", "a matrix needs one or two column groupings"),
        ({"format": "tabular"}, "group_by", "a tabular report has no groupings"),
        ({"filter": "amount + 1"}, "filter", "boolean"),
        ({"filter": "stage == 'Won'"}, "filter", "'Won'"),
        ({"filter": "amont > 1"}, "filter", "unknown field 'amont'"),
        (
            {"chart": {"type": "bar", "x": "owner", "y": "count"}},
            "chart.x",
            "'owner' is not one of the report's groupings",
        ),
        (
            {"chart": {"type": "bar", "x": "stage", "y": "sum(probability)"}},
            "chart.y",
            "'sum(probability)' is not one of the report's aggregates",
        ),
        (
            {"chart": {"type": "radar", "x": "stage", "y": "count"}},
            "chart.type",
            "'radar' is not one of",
        ),
        (
            {"summary_formulas": [{"name": "rate", "expression": "won / count"}]},
            "summary_formulas[0].expression",
            "unknown aggregate 'won'",
        ),
        ({"sort": ["-amont"]}, "sort[0]", "unknown field 'amont'"),
        ({"limit": 50001}, "limit", "50000"),
        ({"object": "invoice"}, "object", "no object 'invoice'"),
    ],
)
def test_a_bad_definition_is_refused_naming_the_path(admin, changes, path, message):
    response = admin.post(REPORTS, json={**GOOD, "api_name": "refused", **changes})
    assert response.status_code == 400, response.get_json()
    assert response.content_type == "application/problem+json"
    errors = response.get_json()["errors"]
    named = errors.get(f"refused.{path}") or errors.get(path) or []
    assert any(message in m for m in named), errors
    assert admin.get(f"{REPORTS}/refused").status_code == 404


def test_renaming_a_field_rewrites_the_reports_and_usages_name_them(crm, admin):
    usages = admin.get(f"{FIELDS}/amount/usages").get_json()["usages"]
    assert {"kind": "report", "name": "pipeline_by_stage", "where": "aggregates[1]"} in usages
    assert {"kind": "report", "name": "win_rate_by_owner", "where": "aggregates[2]"} in usages
    refused = admin.delete(f"{FIELDS}/amount")
    assert refused.status_code == 409
    renamed = admin.patch(f"{FIELDS}/amount", json={"api_name": "deal_value"})
    assert renamed.status_code == 200, renamed.get_json()
    pipeline = admin.get(f"{REPORTS}/pipeline_by_stage").get_json()
    assert pipeline["columns"] == ["name", "account.name", "owner.name", "deal_value", "close_date"]
    assert pipeline["aggregates"] == ["count", "sum(deal_value)", "avg(probability)"]
    assert pipeline["sort"] == ["-sum(deal_value)"]
    assert pipeline["chart"]["y"] == "sum(deal_value)"
    forecast = admin.get(f"{REPORTS}/weighted_forecast").get_json()
    assert forecast["aggregates"][0]["of"] == "sum(deal_value * probability / 100)"
    body = admin.post("/api/v1/reports/pipeline_by_stage/run", json={}).get_json()
    assert body["chart"]["y"] == ["sum(deal_value)"]
    assert "sum(deal_value)" in body["total"]["values"]
    # a field renamed through a lookup path too
    accounts = "/api/v1/metadata/objects/account/fields"
    assert admin.patch(f"{accounts}/name", json={"api_name": "title"}).status_code == 200
    pipeline = admin.get(f"{REPORTS}/pipeline_by_stage").get_json()
    assert pipeline["columns"][1] == "account.title"
    # and the object itself
    moved = admin.patch("/api/v1/metadata/objects/case", json={"api_name": "ticket"})
    assert moved.status_code == 200, moved.get_json()
    assert admin.get(f"{REPORTS}/cases_by_priority_status").get_json()["object"] == "ticket"
    ran = admin.post("/api/v1/reports/cases_by_priority_status/run", json={})
    assert ran.status_code == 200
    assert ran.get_json()["total"]["values"]["count"] == len(crm.cases)


def test_a_formula_naming_a_derived_aggregate_follows_its_rename(admin):
    definition = {
        "api_name": "ratio",
        "object": "opportunity",
        "format": "summary",
        "group_by": ["stage"],
        "aggregates": ["count", "sum(probability)"],
        "summary_formulas": [{"name": "mean", "expression": "sum_probability / count"}],
    }
    assert admin.post(REPORTS, json=definition).status_code == 201
    assert admin.patch(f"{FIELDS}/probability", json={"api_name": "chance"}).status_code == 200
    got = admin.get(f"{REPORTS}/ratio").get_json()
    assert got["aggregates"] == ["count", "sum(chance)"]
    assert got["summary_formulas"][0]["expression"] == "sum_chance / count"
    body = admin.post("/api/v1/reports/ratio/run", json={}).get_json()
    values = body["total"]["values"]
    assert values["mean"] == (values["sum(chance)"] / values["count"]).quantize(values["mean"])


def test_renaming_a_bucketed_date_rewrites_the_grouping_the_chart_and_the_filter(admin):
    renamed = admin.patch(f"{FIELDS}/close_date", json={"api_name": "closes_on"})
    assert renamed.status_code == 200, renamed.get_json()
    won = admin.get(f"{REPORTS}/won_by_month").get_json()
    assert won["group_by"] == ["closes_on by month"]
    assert won["chart"]["x"] == "closes_on by month"
    assert won["filter"] == "is_won and closes_on in THIS_YEAR()"
    forecast = admin.get(f"{REPORTS}/weighted_forecast").get_json()
    assert forecast["group_columns_by"] == ["closes_on by quarter"]
    body = admin.post("/api/v1/reports/won_by_month/run", json={}).get_json()
    assert body["groupings"][0]["key"] == "closes_on by month"
    assert body["chart"]["x"] == "closes_on by month"
