"""Dashboards: checked when saved, and answered component by component as the viewer
(a component the viewer may not run says so without failing the others)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from crm_platform.core import ValidationFailed
from crm_platform.core.tables import SYSTEM_USER_ID

from . import outputs_org
from .outputs_org import open_deals, total

# the module's org (built once), as fixtures of this module
outputs, outputs_url = outputs_org.outputs, outputs_org.outputs_url

ZH = {"Accept-Language": "zh"}
NS = {"svg": "http://www.w3.org/2000/svg"}
DASHBOARD = "/api/v1/dashboards/sales_dashboard"


def save(outputs, components, **extra):
    definition = {"api_name": "draft", "components": components, **extra}
    return outputs.org.metadata.put_component("dashboard", definition, author_id=SYSTEM_USER_ID)


def problems(outputs, components, **extra) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        save(outputs, components, **extra)
    return {k.removeprefix("draft."): v for k, v in caught.value.extra["errors"].items()}


def test_a_dashboard_is_refused_naming_each_part_that_does_not_fit_its_reports(outputs):
    found = problems(
        outputs,
        [
            {"report": "no_such_report", "type": "table"},
            {"report": "pipeline_by_stage", "type": "metric", "aggregate": "sum(probability)"},
            {
                "report": "pipeline_by_stage",
                "type": "chart",
                "chart": {
                    "type": "line",
                    "x": "owner",
                    "y": ["count", "max(amount)"],
                    "series": "close_date by month",
                },
            },
            {"report": "opportunity_list", "type": "chart"},
            {"report": "pipeline_by_stage", "type": "table", "aggregate": "count", "width": 13},
            {
                "report": "pipeline_by_stage",
                "type": "metric",
                "aggregate": "count",
                "bands": [
                    {"color": "red"},
                    {"upto": 5, "color": "green"},
                    {"upto": 4, "color": "blue"},
                ],
            },
            {"report": "pipeline_by_stage", "type": "metric"},
        ],
    )
    assert found == {
        "components[0].report": ["no report 'no_such_report'"],
        "components[1].aggregate": ["'sum(probability)' is not an aggregate of pipeline_by_stage"],
        "components[2].chart.x": ["'owner' is not a grouping of pipeline_by_stage"],
        "components[2].chart.y": ["'max(amount)' is not an aggregate of pipeline_by_stage"],
        "components[2].chart.series": [
            "'close_date by month' is not a grouping of pipeline_by_stage"
        ],
        "components[3].chart": ["report opportunity_list has no chart: give one here"],
        "components[4].aggregate": ["'aggregate' is not an option of a table component"],
        "components[4].width": ["wider than the dashboard's 12 columns"],
        "components[5].bands[0].upto": ["only the last band may leave out upto"],
        "components[5].bands[2].upto": ["bands climb: each upto above the last"],
        "components[6].aggregate": ["a metric names the aggregate it shows"],
    }


def test_the_schema_refuses_a_colour_that_is_not_a_colour(outputs):
    found = problems(
        outputs,
        [
            {
                "report": "pipeline_by_stage",
                "type": "metric",
                "aggregate": "count",
                "bands": [{"color": "url(http://evil.example/x)"}],
            }
        ],
    )
    assert list(found) == ["components[0].bands[0].color"]


def test_a_chart_may_name_an_aggregate_by_its_formula_name_or_a_summary_formula(outputs):
    save(
        outputs,
        [
            {
                "report": "pipeline_by_stage",
                "type": "chart",
                "chart": {"type": "bar", "x": "stage", "y": "sum_amount"},
            },
            {
                "report": "win_rate_by_owner",
                "type": "metric",
                "aggregate": "win_rate",
                "target": 50,
            },
        ],
        columns=6,
    )
    data = outputs.admin.get("/api/v1/dashboards/draft").get_json()
    chart, metric = data["components"]
    assert "error" not in chart and "error" not in metric
    values = [
        d.text for d in ET.fromstring(chart["svg"]).iterfind(".//svg:desc[@class='value']", NS)
    ]
    amounts = {g["key"]["value"]: g["values"]["sum(amount)"] for g in chart["result"]["groups"]}
    assert values == [f"{float(v):,.2f}" for v in amounts.values()]
    assert metric["value"] == Decimal("50.0")  # admin: one of two closed deals won


def test_the_sales_dashboard_answers_every_component_as_the_viewer(outputs):
    response = outputs.admin.get(DASHBOARD, headers=ZH)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["dashboard"], body["label"], body["columns"]) == (
        "sales_dashboard",
        "销售仪表板",
        12,
    )
    funnel, columns, table, metric, cases = body["components"]
    assert [c["width"] for c in body["components"]] == [6, 6, 6, 3, 3]

    assert funnel["title"] == "管道"
    root = ET.fromstring(funnel["svg"])
    assert root.findtext("svg:title", namespaces=NS) == "管道"
    bands = root.iterfind(".//svg:g[@class='band']/svg:desc[@class='label']", NS)
    assert [d.text for d in bands] == ["潜在", "谈判"]
    assert "rows" not in funnel["result"]  # a chart reads groups only
    assert funnel["svg_url"] == DASHBOARD + "/components/0.svg"

    legend = [
        t.text
        for t in ET.fromstring(columns["svg"]).iterfind(".//svg:g[@class='legends']//svg:text", NS)
    ]
    # the labels a report makes up are in the reader's language too (the field has none in zh)
    assert legend == ["记录数", "Amount合计"]

    assert table["type"] == "table" and "svg" not in table and "svg_url" not in table
    owners = {g["key"]["label"] for g in table["result"]["groups"]}
    assert owners == {"Administrator", "rep"}

    expected = total(open_deals(outputs.deals))
    assert metric["value"] == expected
    assert metric["target"] == 1_000_000
    assert metric["color"] == "yellow"  # 650,000.50: above 500,000, up to 900,000
    value = ET.fromstring(metric["svg"]).find("svg:text[@class='value']", NS)
    assert value.text == f"¥{expected:,.2f}"  # the org's CNY as a Chinese reader writes it

    priorities = [
        t.text
        for t in ET.fromstring(cases["svg"]).iterfind(".//svg:g[@class='axis x']//svg:text", NS)
    ]
    assert priorities == ["High"]


def test_a_rep_sees_their_own_numbers(outputs):
    rep_id = outputs.rep.get("/api/v1/records/opportunity").get_json()["records"][0]["owner_id"]
    metric = outputs.rep.get(DASHBOARD).get_json()["components"][3]
    assert metric["value"] == total(open_deals(outputs.deals, rep_id)) == Decimal("250000.50")
    assert metric["color"] == "red"


def test_a_component_the_viewer_may_not_run_says_so_and_the_others_answer(outputs):
    # opps may read opportunities but neither accounts nor cases
    body = outputs.opps.get(DASHBOARD).get_json()
    funnel, columns, table, metric, cases = body["components"]
    assert cases["error"]["status"] == 403
    assert "svg" not in cases and "result" not in cases
    for component in (funnel, columns, metric):  # the pipeline lists account.name
        assert component["error"]["status"] == 400
        assert "account.name" in component["error"]["detail"]
    assert "error" not in table
    assert table["result"]["groups"] == []  # owns no deal

    response = outputs.opps.get(DASHBOARD + "/components/4.svg")
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


def test_each_chart_or_metric_component_is_an_svg_of_its_own(outputs):
    for index in (0, 1, 3, 4):
        response = outputs.admin.get(f"{DASHBOARD}/components/{index}.svg", headers=ZH)
        assert response.status_code == 200, index
        assert response.mimetype == "image/svg+xml"
        ET.fromstring(response.get_data(as_text=True))
    for url in (
        f"{DASHBOARD}/components/2.svg",
        f"{DASHBOARD}/components/9.svg",
        "/api/v1/dashboards/nope/components/0.svg",
        "/api/v1/dashboards/nope",
    ):
        response = outputs.admin.get(url)
        assert response.status_code == 404, url
        assert response.mimetype == "application/problem+json"


def test_a_currency_metric_shows_the_orgs_currency_symbol(outputs):
    for headers, symbol in (({"Accept-Language": "en"}, "CN¥"), (ZH, "¥")):
        response = outputs.admin.get(f"{DASHBOARD}/components/3.svg", headers=headers)
        svg = ET.fromstring(response.get_data(as_text=True))
        value = svg.find("svg:text[@class='value']", NS).text
        assert value.startswith(symbol) and value[len(symbol)].isdigit()  # sum(amount): money


def test_the_dashboards_are_listed_in_the_readers_language(outputs):
    listed = outputs.rep.get("/api/v1/dashboards", headers=ZH).get_json()["dashboards"]
    assert {"name": "sales_dashboard", "label": "销售仪表板", "components": 5} in listed


def test_a_field_rename_follows_into_the_dashboards_axes_and_metric(api, load_metadata):
    # an org of its own: the rename changes the metadata
    load_metadata("report_outputs")
    fields = "/api/v1/metadata/objects/opportunity/fields"
    renamed = api.patch(f"{fields}/amount", json={"api_name": "deal_value"})
    assert renamed.status_code == 200, renamed.get_json()
    stored = api.get("/api/v1/metadata/dashboards/sales_dashboard").get_json()
    components = stored["components"]
    assert components[1]["chart"]["y"] == ["count", "sum_deal_value"]
    assert components[3]["aggregate"] == "sum(deal_value)"
    assert components[0] == {
        "report": "pipeline_by_stage",
        "type": "chart",
        "title": {"en": "Pipeline", "zh": "管道"},
        "width": 6,
    }
    created = api.post(
        "/api/v1/records/opportunity",
        json={"name": "After", "stage": "Proposal", "deal_value": "5.00"},
    )
    assert created.status_code == 201
    body = api.get(DASHBOARD).get_json()
    assert all("error" not in c for c in body["components"]), body
    assert body["components"][3]["value"] == Decimal("5.00")
    assert body["components"][3]["color"] == "red"


def test_a_chart_by_month_stacks_the_stages_with_the_months_as_labels(outputs):
    body = outputs.admin.get("/api/v1/dashboards/monthly", headers=ZH).get_json()
    chart, metric = body["components"]
    root = ET.fromstring(chart["svg"])
    months = [t.text for t in root.iterfind(".//svg:g[@class='axis x']//svg:text", NS)]
    assert months == ["2026-03", "2026-04", "—"]  # two deals have no close date
    series = [t.text for t in root.iterfind(".//svg:g[@class='legends']//svg:text", NS)]
    assert set(series) == {"潜在", "谈判", "赢单", "输单"}  # the stages, in Chinese
    # March: the two prospecting deals, stacked; computed from the records
    march = {
        d["stage"]: d for d in outputs.deals if (d.get("close_date") or "").startswith("2026-03")
    }
    assert set(march) == {"Prospecting", "Closed Won"}
    groups = {g["key"]["label"]: g for g in chart["result"]["groups"]}
    assert groups["2026-03"]["key"]["value"] == "2026-03-01"
    sub = {g["key"]["value"]: g["values"]["sum(amount)"] for g in groups["2026-03"]["groups"]}
    assert sub == {"Prospecting": Decimal("350000.50"), "Closed Won": Decimal("80000.00")}
    assert metric["value"] == len(outputs.deals)


def test_components_of_one_report_share_its_run(outputs, monkeypatch):
    from crm_platform.reports import dashboards

    ran = []
    real = dashboards.run_report

    def counting(ctx, name, **options):
        ran.append((name, options["limit"]))
        return real(ctx, name, **options)

    monkeypatch.setattr(dashboards, "run_report", counting)
    body = outputs.admin.get(DASHBOARD).get_json()
    assert all("error" not in c for c in body["components"])
    # three components of the pipeline (two charts and a metric): one run
    assert sorted(ran) == [
        ("cases_by_priority_status", 1),
        ("pipeline_by_stage", 1),
        ("win_rate_by_owner", 5),
    ]
