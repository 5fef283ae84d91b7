"""The builders through the test client: a validation rule from its form, other kinds
as YAML validated by the metadata service (schema and cross-checks), errors shown where
they are; each save one change set."""

from __future__ import annotations

from tests.admin_ui.conftest import form_values, post, text


def test_the_builders_page_lists_each_kind(admin):
    page = text(admin.get("/setup/builders/"))
    for kind in ("validation_rule", "trigger", "inbound_address", "report"):
        assert f'id="kind-{kind}"' in page


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


def test_a_report_is_saved_from_yaml_and_a_bad_column_is_refused(sales, admin):
    page = text(admin.get("/setup/builders/report/new"))
    assert "JSON Schema" in page and 'data-yaml-check="condition,when' in page
    source = (
        "api_name: big_deals\nlabel: Big deals\nobject: opportunity\n"
        "columns: [name, stage, amont]\nfilter: amount > 100\n"
    )
    before = sales.org.metadata.version()
    refused = post(admin, "/setup/builders/report/new", {"source": source})
    assert refused.status_code == 400 and "amont" in text(refused)
    assert "columns: [name, stage, amont]" in text(refused)  # what was typed stays
    assert sales.org.metadata.version() == before
    fixed = source.replace("amont", "amount")
    assert post(admin, "/setup/builders/report/new", {"source": fixed}).status_code == 302
    assert sales.org.metadata.get_component("report", "big_deals")["filter"] == "amount > 100"


def test_an_unknown_kind_is_404(admin):
    assert admin.get("/setup/builders/object/new").status_code == 404
