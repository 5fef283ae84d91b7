"""The builders through the test client: a validation rule from its form, other kinds
as YAML validated by the metadata service (schema and cross-checks), errors shown where
they are; each save one change set."""

from __future__ import annotations

from crm_platform.core.tables import SYSTEM_USER_ID
from tests.admin_ui.conftest import form_values, post, text


def test_the_builders_page_lists_each_kind(admin):
    page = text(admin.get("/setup/builders/"))
    for kind in ("validation_rule", "trigger", "inbound_address", "report"):
        assert f'id="kind-{kind}"' in page
    # headed as people name them, not by the kinds' API names
    for heading in ("Validation rules", "Triggers", "Approval processes", "Dashboards"):
        assert f"{heading} <a" in page
    assert "<title>New validation rule · Setup</title>" in text(
        admin.get("/setup/builders/validation_rule/new")
    )


def test_a_validation_rule_from_the_form_is_saved_and_enforced(sales, admin):
    form = form_values(text(admin.get("/setup/builders/validation_rule/new")), "builder-form")
    form.update(
        api_name="big_deal",
        object="opportunity",
        condition="amount > 1000000",
        message="Too big",
    )
    before = sales.org.metadata.version()
    response = post(admin, "/setup/builders/validation_rule/new", form)
    assert response.status_code == 302
    assert sales.org.metadata.version() == before + 1
    rule = sales.org.metadata.get_component("validation_rule", "opportunity.big_deal")
    assert rule["condition"] == "amount > 1000000" and "active" not in rule
    # the edit page shows it again in the form
    again = form_values(
        text(admin.get("/setup/builders/validation_rule/opportunity.big_deal")), "builder-form"
    )
    assert again["condition"] == "amount > 1000000"
    created = sales.api.post(
        "/api/v1/records/opportunity", {"name": "Huge", "amount": 5000000, "stage": "Prospecting"}
    )
    assert created.status_code == 400 and "Too big" in created.get_data(as_text=True)


def test_a_rule_message_may_be_written_in_chinese_too(sales, admin):
    form = form_values(text(admin.get("/setup/builders/validation_rule/new")), "builder-form")
    form.update(
        api_name="no_free_deals",
        object="opportunity",
        condition="amount == 0",
        message="A deal is never free",
        message_zh="商机金额不能为零",
    )
    assert post(admin, "/setup/builders/validation_rule/new", form).status_code == 302
    rule = sales.org.metadata.get_component("validation_rule", "opportunity.no_free_deals")
    assert rule["message"] == {"en": "A deal is never free", "zh": "商机金额不能为零"}
    again = form_values(
        text(admin.get("/setup/builders/validation_rule/opportunity.no_free_deals")),
        "builder-form",
    )
    assert (again["message"], again["message_zh"]) == ("A deal is never free", "商机金额不能为零")
    refused = sales.api.post(
        "/api/v1/records/opportunity",
        {"name": "Free", "amount": 0, "stage": "Prospecting"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert "商机金额不能为零" in str(refused.get_json()["errors"])


def test_a_condition_with_a_typo_is_refused_beside_its_input(sales, admin):
    form = {
        "api_name": "typo",
        "object": "opportunity",
        "condition": "amont > 5",
        "message": "x",
        "active": "on",
    }
    before = sales.org.metadata.version()
    response = post(admin, "/setup/builders/validation_rule/new", form)
    assert response.status_code == 400
    page = text(response)
    assert "amont" in page and 'id="f-condition"' in page and "is-invalid" in page
    assert sales.org.metadata.version() == before


def test_yaml_with_a_syntax_error_names_its_line_and_column(sales, admin):
    before = sales.org.metadata.version()
    source = "api_name: x\nobject: opportunity\ncondition: [unclosed\nmessage: m\n"
    response = post(admin, "/setup/builders/validation_rule/new?editor=yaml", {"source": source})
    assert response.status_code == 400
    assert "line 4, column" in text(response) or "line 3, column" in text(response)
    assert sales.org.metadata.version() == before


def test_yaml_against_the_schema_is_refused_with_its_path(sales, admin):
    source = "api_name: x\nobject: opportunity\ncondition: amount > 1\n"
    response = post(admin, "/setup/builders/validation_rule/new?editor=yaml", {"source": source})
    assert response.status_code == 400
    assert "message" in text(response)


def test_a_report_is_built_in_its_form_and_runs(sales, admin):
    # a new report starts from its object; the form then names that object's fields
    start = text(admin.get("/setup/builders/report/new"))
    assert 'id="report-object-form"' in start
    page = text(admin.get("/setup/builders/report/new?object=opportunity"))
    assert "amount" in page and 'id="f-filter"' in page
    form = form_values(page, "builder-form")
    form.update(
        api_name="pipeline_by_stage_form",
        label="Pipeline by stage",
        label_zh="按阶段的管道",
        format="summary",
        columns="name, account.name, amont",
        group_by="stage",
        aggregates="count, sum(amount)",
        filter="amount > 0",
        sort="-sum(amount)",
        chart_type="column",
        chart_x="stage",
        chart_y="sum(amount)",
    )
    before = sales.org.metadata.version()
    refused = post(admin, "/setup/builders/report/new", form)
    assert refused.status_code == 400
    shown = text(refused)
    assert "amont" in shown and 'id="f-columns"' in shown and "is-invalid" in shown
    assert 'value="count, sum(amount)"' in shown  # what was typed stays
    assert sales.org.metadata.version() == before
    form["columns"] = "name, account.name, amount"
    assert post(admin, "/setup/builders/report/new", form).status_code == 302
    saved = sales.org.metadata.get_component("report", "pipeline_by_stage_form")
    assert saved == {
        "api_name": "pipeline_by_stage_form",
        "object": "opportunity",
        "label": {"en": "Pipeline by stage", "zh": "按阶段的管道"},
        "format": "summary",
        "columns": ["name", "account.name", "amount"],
        "group_by": ["stage"],
        "aggregates": ["count", "sum(amount)"],
        "sort": ["-sum(amount)"],
        "filter": "amount > 0",
        "chart": {"type": "column", "x": "stage", "y": "sum(amount)"},
    }
    ran = sales.api.post("/api/v1/reports/pipeline_by_stage_form/run")
    assert ran.status_code == 200 and ran.get_json()["groups"]
    # the edit page shows it in the form again; a report the form cannot show opens as YAML
    again = form_values(
        text(admin.get("/setup/builders/report/pipeline_by_stage_form")), "builder-form"
    )
    assert again["aggregates"] == "count, sum(amount)" and again["label_zh"] == "按阶段的管道"
    saved["summary_formulas"] = [{"name": "avg_deal", "expression": "sum_amount / count"}]
    sales.org.metadata.put_component("report", saved, author_id=SYSTEM_USER_ID)
    assert 'id="f-source"' in text(admin.get("/setup/builders/report/pipeline_by_stage_form"))


def test_a_report_is_saved_from_yaml_and_a_bad_column_is_refused(sales, admin):
    page = text(admin.get("/setup/builders/report/new?editor=yaml"))
    assert "JSON Schema" in page and 'data-yaml-check="condition,when' in page
    source = (
        "api_name: big_deals\nlabel: Big deals\nobject: opportunity\n"
        "columns: [name, stage, amont]\nfilter: amount > 100\n"
    )
    before = sales.org.metadata.version()
    refused = post(admin, "/setup/builders/report/new?editor=yaml", {"source": source})
    assert refused.status_code == 400 and "amont" in text(refused)
    assert "columns: [name, stage, amont]" in text(refused)  # what was typed stays
    assert sales.org.metadata.version() == before
    fixed = source.replace("amont", "amount")
    assert (
        post(admin, "/setup/builders/report/new?editor=yaml", {"source": fixed}).status_code == 302
    )
    assert sales.org.metadata.get_component("report", "big_deals")["filter"] == "amount > 100"


def test_an_unknown_kind_is_404(admin):
    assert admin.get("/setup/builders/object/new").status_code == 404
