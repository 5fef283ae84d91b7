"""The trigger builder in a real browser (Debian's Chromium, Playwright): an admin builds
a trigger through its form — criteria checked as typed, an action row showing only its
type's inputs, a refused field shown beside it — and it runs on the next deal saved.

Screenshots go to ``build/screenshots/setup``."""

from __future__ import annotations

import pytest
import requests

from tests.browser import test_webapp as webapp
from tests.browser.test_setup import context, shoot  # noqa: F401  (shared fixtures)
from tests.browser.test_webapp import live  # noqa: F401  (the served sales org)
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = pytest.mark.slow


def api(live, method: str, path: str, **body):  # noqa: F811
    response = requests.request(
        method,
        f"{live.url}/api/v1{path}",
        json=body or None,
        headers={"Authorization": f"Bearer {live.token}"},
        timeout=30,
    )
    assert response.ok, response.text
    return response.json()


def test_a_trigger_is_built_through_its_form(context, live):  # noqa: F811
    page = context.new_page()
    webapp.sign_in(page, live, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto(f"{live.url}/setup/builders/trigger/new")
    page.fill("#f-api_name", "strategic_deal")
    page.select_option("#f-object", "opportunity")
    page.fill("#f-label", "Mark strategic deals")
    page.fill("#f-when", "amount > 100000 and stag == 'Proposal'")
    check = page.locator("#when-check")
    check.locator(".expression-message").wait_for()
    assert "stag" in check.inner_text()
    page.fill("#f-when", "amount > 100000")
    page.locator("#when-check.text-success").wait_for()
    # the empty row: choosing a type shows only that type's inputs
    assert page.is_hidden("#f-actions-0-update_record-field-0")
    page.select_option("#f-actions-0-type", "update_record")
    assert page.is_visible("#f-actions-0-update_record-field-0")
    assert page.is_hidden("#f-actions-0-notify-message")
    page.fill("#f-actions-0-update_record-field-0", "is_strategic")
    page.fill("#f-actions-0-update_record-value-0", "True")
    page.fill("#f-actions-0-update_record-field-1", "description")
    page.fill("#f-actions-0-update_record-value-1", "CONCAT('Big: ', nme)")
    value = page.locator("#f-actions-0-update_record-value-1-check")
    value.locator(".expression-message").wait_for()
    assert "nme" in value.inner_text()
    page.fill("#f-actions-0-update_record-value-1", "CONCAT('Big: ', name)")
    page.locator("#f-actions-0-update_record-value-1-check.text-success").wait_for()
    page.fill("#f-actions-0-update_record-field-1", "descripton")
    shoot(page, "builder-trigger-form")
    # a field the object does not have is refused beside it, and what was typed stays
    with page.expect_navigation():
        page.click("#save-builder")
    field = page.locator("#f-actions-0-update_record-field-1")
    assert "is-invalid" in field.get_attribute("class")
    cell = page.locator("tr", has=field)
    assert "descripton" in cell.locator(".field-error").inner_text()
    assert page.input_value("#f-when") == "amount > 100000"
    shoot(page, "builder-trigger-refused")
    field.fill("description")
    with page.expect_navigation():
        page.click("#save-builder")
    assert "Saved." in page.content()
    # the saved trigger opens in its form with a spare row for another action
    assert page.input_value("#f-actions-0-type") == "update_record"
    assert page.input_value("#f-actions-1-type") == ""
    shoot(page, "builder-trigger-saved")
    created = api(
        live, "POST", "/records/opportunity", name="Whale", amount=250000, stage="Prospecting"
    )
    record = api(live, "GET", f"/records/opportunity/{created['id']}")
    assert record["is_strategic"] is True and record["description"] == "Big: Whale"
