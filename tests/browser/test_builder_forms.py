"""The email template, dashboard and duplicate rule builders' forms in a real browser
(Debian's Chromium, Playwright): the merge-field hint follows the chosen object; a
dashboard is built row by row ("Add a row" adds another empty row), a refused row shows
its error beside its input, and the saved dashboard opens in the form again; a duplicate
rule is built criterion by criterion, its comparable fields named for the chosen object.

Screenshots (desktop and a 390px phone) go to ``build/screenshots/setup``."""

from __future__ import annotations

import pytest

from tests.browser import test_webapp as webapp
from tests.browser.test_setup import context, shoot  # noqa: F401  (shared fixtures)
from tests.browser.test_webapp import live  # noqa: F401  (the served sales org)
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = pytest.mark.slow


@pytest.fixture
def admin_page(context, live):  # noqa: F811
    page = context.new_page()
    webapp.sign_in(page, live, ADMIN_EMAIL, ADMIN_PASSWORD)
    return page


def test_an_email_template_form_hints_the_objects_merge_fields(admin_page, live):  # noqa: F811
    page = admin_page
    page.goto(f"{live.url}/setup/builders/email_template/new")
    page.select_option("#f-object", "opportunity")
    assert page.locator('[data-fields-of="opportunity"]').is_visible()
    assert not page.locator('[data-fields-of="account"]').is_visible()
    assert "amount" in page.locator('[data-fields-of="opportunity"]').inner_text()
    page.fill("#f-api_name", "won_notice")
    page.fill("#f-label", "Deal won")
    page.fill("#f-label_zh", "赢单通知")
    page.fill("#f-subject", "Won: {{ name }}")
    page.fill("#f-body", "Hello {{ owner.name }},\n{{ name }} for {{ account.nme }} is won.")
    webapp.go(page, "#save-builder")
    assert "account.nme" in page.locator("#f-body ~ .field-error").inner_text()
    shoot(page, "builder-email-template-error")
    page.fill("#f-body", "Hello {{ owner.name }},\n{{ name }} for {{ account.name }} is won.")
    webapp.go(page, "#save-builder")
    assert page.url.endswith("/setup/builders/email_template/won_notice")
    assert page.input_value("#f-body").endswith("{{ account.name }} is won.")


def test_a_dashboard_is_built_row_by_row(admin_page, live):  # noqa: F811
    page = admin_page
    page.goto(f"{live.url}/setup/builders/dashboard/new")
    page.fill("#f-api_name", "team_board")
    page.fill("#f-label", "Team board")
    page.fill("#f-label_zh", "团队看板")
    page.select_option("#c0-report", "pipeline_by_stage")
    page.select_option("#c0-type", "metric")
    page.fill("#c0-width", "4")
    page.fill("#c0-title", "Open amount")
    page.fill("#c0-aggregate", "sum(amont)")
    page.fill("#c0-target", "100000")
    page.fill("#c0-bands", "20000 red, 60000 yellow, green")
    page.click("#add-component")  # a second row, numbered and positioned after the first
    assert page.input_value("#c1-position") == "2" and page.input_value("#c1-report") == ""
    page.select_option("#c1-report", "pipeline_by_stage")
    page.select_option("#c1-type", "chart")
    page.fill("#c1-width", "8")
    page.fill("#c1-title", "Pipeline")
    webapp.go(page, "#save-builder")
    error = page.locator("#c0-aggregate ~ .field-error")
    assert "'sum(amont)' is not an aggregate of pipeline_by_stage" in error.inner_text()
    assert page.input_value("#c1-title") == "Pipeline"  # what was typed stays
    shoot(page, "builder-dashboard-error")
    page.fill("#c0-aggregate", "sum(amount)")
    webapp.go(page, "#save-builder")
    assert page.url.endswith("/setup/builders/dashboard/team_board")
    assert page.input_value("#c0-bands") == "20000 red, 60000 yellow, green"
    assert page.input_value("#c1-type") == "chart" and page.input_value("#c2-report") == ""
    shoot(page, "builder-dashboard-form")


def test_a_duplicate_rule_is_built_criterion_by_criterion(admin_page, live):  # noqa: F811
    page = admin_page
    page.goto(f"{live.url}/setup/builders/duplicate_rule/new")
    page.select_option("#f-object", "account")
    hint = page.locator('#comparable-fields [data-fields-of="account"]')
    assert hint.is_visible() and "website" in hint.inner_text()
    assert "annual_revenue" not in hint.inner_text()  # a currency cannot be compared
    page.fill("#f-api_name", "same_company")
    page.fill("#f-label", "Same company")
    page.fill("#f-label_zh", "同一公司")
    page.select_option("#f-action", "block")
    page.fill("#f-criterion_field-0", "nmae")
    page.select_option("#f-criterion_method-0", "fuzzy")
    page.fill("#f-criterion_threshold-0", "88")
    webapp.go(page, "#save-builder")
    assert (
        "no field 'nmae' on account"
        in page.locator("#f-criterion_field-0 ~ .field-error").inner_text()
    )
    assert page.input_value("#f-criterion_threshold-0") == "88"  # what was typed stays
    shoot(page, "builder-duplicate-rule-error")
    page.fill("#f-criterion_field-0", "name")
    page.fill("#f-criterion_field-1", "website")  # the spare row: a second criterion
    page.select_option("#f-criterion_method-1", "normalized")
    webapp.go(page, "#save-builder")
    assert page.url.endswith("/setup/builders/duplicate_rule/account.same_company")
    assert page.input_value("#f-criterion_method-1") == "normalized"
    assert page.input_value("#f-criterion_field-2") == ""
    shoot(page, "builder-duplicate-rule-form")
