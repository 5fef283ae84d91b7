"""The approval process and assignment rule builders in a real browser (Debian's
Chromium, Playwright): a process built through its form, its criteria checked as typed on
each step row, a second step added in the spare row and moved first; an assignment rule
built through its form, its entry's criteria checked as typed.

Screenshots (desktop and a 390px phone) go to ``build/screenshots/setup``."""

from __future__ import annotations

import pytest

from tests.browser import test_webapp as webapp
from tests.browser.test_setup import context, shoot  # noqa: F401  (shared fixtures)
from tests.browser.test_setup_editors import admin_page  # noqa: F401
from tests.browser.test_webapp import live  # noqa: F401  (the served sales org)

pytestmark = pytest.mark.slow


def test_an_approval_process_is_built_through_its_form(admin_page, live):  # noqa: F811
    page = admin_page
    page.goto(f"{live.url}/setup/builders/approval_process/new")
    page.select_option("#f-object", "opportunity")
    page.fill("#f-api_name", "big_deal_browser")
    page.fill("#f-label", "Big deal approval")
    page.fill("#f-label_zh", "大单审批")
    page.fill("#f-entry", "amount > 100000")
    page.locator("#entry-check.text-success").wait_for()
    page.fill("#f-step_name-0", "manager")
    page.select_option("#f-step_approver-0", "submitter_manager")
    page.fill("#f-on_approve_field-0", "stage")
    page.fill("#f-on_approve_value-0", "'Closed Won'")
    webapp.go(page, "#save-builder")
    assert "/setup/builders/approval_process/opportunity.big_deal_browser" in page.url
    # a second step in the spare row: its criteria are checked as typed
    page.fill("#f-step_name-1", "director")
    page.fill("#f-step_when-1", "amont > 1000000")
    check = page.locator("#step_when-check-1")
    check.locator(".expression-message").wait_for()
    assert "amont" in check.inner_text()
    page.fill("#f-step_when-1", "amount > 1000000")
    page.locator("#step_when-check-1.text-success").wait_for()
    page.select_option("#f-step_approver-1", "role")
    page.fill("#f-step_value-1", "sales_manager")
    page.fill("#f-step_position-1", "-1")  # the director decides first
    webapp.go(page, "#save-builder")
    assert page.input_value("#f-step_name-0") == "director"
    assert page.input_value("#f-step_name-1") == "manager"
    assert page.input_value("#f-step_name-2") == ""  # the spare row
    shoot(page, "builder-approval-form")


def test_an_assignment_rule_is_built_through_its_form(admin_page, live):  # noqa: F811
    page = admin_page
    page.goto(f"{live.url}/setup/builders/assignment_rule/new")
    page.select_option("#f-object", "opportunity")
    page.fill("#f-api_name", "routing_browser")
    page.fill("#f-label", "Opportunity routing")
    page.uncheck("#f-active")  # the sales org's rep keeps their new records
    page.fill("#f-entry_when-0", "amount > 10 and stag == 'x'")
    check = page.locator("#entry_when-check-0")
    check.locator(".expression-message").wait_for()
    assert "stag" in check.inner_text()
    page.fill("#f-entry_when-0", "amount > 1000")
    page.locator("#entry_when-check-0.text-success").wait_for()
    page.select_option("#f-entry_target-0", "user")
    page.fill("#f-entry_value-0", webapp.REP_EMAIL)
    webapp.go(page, "#save-builder")
    assert "/setup/builders/assignment_rule/opportunity.routing_browser" in page.url
    assert page.input_value("#f-entry_value-0") == webapp.REP_EMAIL
    assert page.input_value("#f-entry_value-1") == ""  # the spare row
    shoot(page, "builder-assignment-form")
