"""Setup in a real browser (Debian's Chromium, driven by Playwright): an admin adds a
text field in five clicks from the object page and a rep's form shows it; the field
grid grants a rep read on a hidden field and the rep sees it; a formula with a typo shows
its error at its position while it is typed, before anything is saved.

Screenshots of each page at a desktop's size and a phone's (390x844) go to
``build/screenshots/setup`` (``CRM_SCREENSHOTS`` moves the folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser import test_webapp as webapp
from tests.browser.test_webapp import live  # noqa: F401  (the served sales org)
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

SHOTS = (
    Path(os.environ.get("CRM_SCREENSHOTS", Path(__file__).parents[2] / "build" / "screenshots"))
    / "setup"
)
pytestmark = pytest.mark.slow


@pytest.fixture
def context(browser, live):  # noqa: F811
    opened = browser.new_context(viewport=webapp.DESKTOP)
    outside: list[str] = []
    opened.on(
        "request", lambda r: outside.append(r.url) if not r.url.startswith(live.url) else None
    )
    try:
        yield opened
        assert outside == []  # nothing from a CDN
    finally:
        opened.close()


@pytest.fixture
def admin_page(context, live):  # noqa: F811
    page = context.new_page()
    webapp.sign_in(page, live, ADMIN_EMAIL, ADMIN_PASSWORD)
    return page


def rep_page(browser, live):  # noqa: F811
    context = browser.new_context(viewport=webapp.DESKTOP)
    page = context.new_page()
    webapp.sign_in(page, live)
    return context, page


def shoot(page, name: str) -> None:
    """The webapp's screenshot checks (no sideways scroll on a phone, one h1, labelled
    inputs, AA contrast), saved under setup/."""
    previous = webapp.SHOTS
    webapp.SHOTS = SHOTS
    try:
        webapp.shoot(page, name)
    finally:
        webapp.SHOTS = previous


class Clicks:
    """Counts the clicks a scenario takes (typing is not a click)."""

    def __init__(self, page) -> None:
        self.page, self.count = page, 0

    def go(self, selector: str) -> None:
        self.count += 1
        webapp.go(self.page, selector)


def test_a_text_field_in_five_clicks_and_the_rep_fills_it_in(admin_page, browser, live):  # noqa: F811
    page = admin_page
    page.goto(f"{live.url}/setup/")
    shoot(page, "home")
    page.goto(f"{live.url}/setup/objects/")
    shoot(page, "objects")
    page.goto(f"{live.url}/setup/objects/opportunity")
    shoot(page, "object")
    clicks = Clicks(page)
    clicks.go("#new-field")
    page.fill("#f-label_en", "Next step")
    page.fill("#f-label_zh", "下一步")
    shoot(page, "wizard-type")
    clicks.go("#wizard-next")
    shoot(page, "wizard-settings")
    clicks.go("#wizard-next")
    shoot(page, "wizard-access")
    clicks.go("#wizard-next")
    shoot(page, "wizard-layouts")
    clicks.go("#wizard-save")
    assert clicks.count <= 5
    assert "Field saved" in page.inner_text(".alert-success")
    assert page.locator('a[href="/setup/fields/opportunity/next_step"]').count() == 1
    context, rep = rep_page(browser, live)
    try:
        rep.goto(f"{live.url}/o/opportunity/new")
        rep.fill("input[name=name]", "Deal with a next step")
        rep.fill("input[name=next_step]", "Call the buyer")
        webapp.go(rep, "main form button.btn-primary[type=submit]")
        assert "Call the buyer" in rep.inner_text("main")
    finally:
        context.close()


def test_the_field_grid_grants_read_and_the_rep_sees_the_field(admin_page, browser, live):  # noqa: F811
    deal = live.deals[0]["id"]
    context, rep = rep_page(browser, live)
    try:
        rep.goto(f"{live.url}/r/opportunity/{deal}")
        assert rep.locator('[data-field="cost_price"]').count() == 0
        page = admin_page
        page.goto(f"{live.url}/setup/permissions/")
        shoot(page, "permissions")
        page.goto(f"{live.url}/setup/permissions/fields/opportunity")
        page.check('input[name="fld:rep:cost_price:read"]')
        shoot(page, "field-grid")
        webapp.go(page, "#save-fields")
        assert "Permissions saved" in page.inner_text(".alert-success")
        rep.goto(f"{live.url}/r/opportunity/{deal}")
        assert rep.locator('[data-field="cost_price"]').count() == 1
    finally:
        context.close()


def test_a_formula_typo_shows_its_error_at_its_position_before_saving(admin_page, live):  # noqa: F811
    page = admin_page
    page.goto(f"{live.url}/setup/fields/opportunity/new")
    page.select_option("#f-type", "formula")
    page.fill("#f-label_en", "Weighted amount")
    webapp.go(page, "#wizard-next")
    page.select_option("#f-return_type", "currency")
    page.fill("#f-expression", "amount * probabilty / 100")
    check = page.locator("#expression-check")
    check.locator(".expression-message").wait_for()
    assert "unknown field 'probabilty' at position 10" in check.inner_text()
    caret = check.locator("pre").inner_text().split("\n")[1]
    assert caret == " " * 9 + "^"
    shoot(page, "wizard-formula-error")
    page.fill("#f-expression", "amount * probability / 100")
    page.wait_for_function(
        "document.querySelector('#expression-check').textContent.includes('number')"
    )
    assert page.locator("#expression-check .expression-message").count() == 0


def test_the_other_setup_pages_on_a_desktop_and_a_phone(admin_page, live):  # noqa: F811
    page = admin_page
    for path, name in (
        ("/setup/fields/opportunity/stage", "field"),
        ("/setup/sharing/", "sharing"),
        ("/setup/users/", "users"),
        (f"/setup/users/{live.rep.id}", "user"),
        ("/setup/teams/", "teams"),
    ):
        page.goto(f"{live.url}{path}")
        shoot(page, name)


def test_a_rep_who_opens_setup_is_refused(browser, live):  # noqa: F811
    context, rep = rep_page(browser, live)
    try:
        for path in ("/setup/", "/setup/objects/opportunity", "/setup/permissions/"):
            response = rep.goto(f"{live.url}{path}")
            assert response.status == 403
            assert "permission" in rep.inner_text(".alert-danger")
        shoot(rep, "forbidden")
    finally:
        context.close()
