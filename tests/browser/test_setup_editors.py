"""Setup's editors in a real browser (Debian's Chromium, Playwright): a layout change
reorders the rep's form (buttons and drag and drop); a list view filter and a layout
condition with a typo show their error at the right position before anything is saved;
a rep is refused every setup URL the app serves.

Screenshots (desktop and a 390px phone) go to ``build/screenshots/setup``."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from crm_platform.admin_ui import install_setup
from tests.browser import test_webapp as webapp
from tests.browser.test_setup import context, rep_page, shoot  # noqa: F401  (shared fixtures)
from tests.browser.test_webapp import live  # noqa: F401  (the served sales org)
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = pytest.mark.slow
EDITOR = "/setup/layouts/opportunity.default"


@pytest.fixture
def admin_page(context, live):  # noqa: F811
    page = context.new_page()
    webapp.sign_in(page, live, ADMIN_EMAIL, ADMIN_PASSWORD)
    return page


def form_order(page) -> list[str]:
    """The names of the inputs of the rep's new-opportunity form, in page order."""
    names = page.eval_on_selector_all(
        "main form [name]", "els => els.map(e => e.getAttribute('name'))"
    )
    return [n for n in names if n in {"name", "account", "amount", "stage", "close_date"}]


def rep_form(browser, live) -> list[str]:  # noqa: F811
    opened, rep = rep_page(browser, live)
    try:
        rep.goto(f"{live.url}/o/opportunity/new")
        return form_order(rep)
    finally:
        opened.close()


def test_a_layout_change_reorders_the_reps_form(admin_page, browser, live):  # noqa: F811
    assert rep_form(browser, live)[:3] == ["name", "account", "amount"]
    page = admin_page
    page.goto(f"{live.url}/setup/layouts/")
    shoot(page, "layouts")
    page.goto(f"{live.url}{EDITOR}")
    shoot(page, "layout")
    # the button moves the row on the page (JavaScript on): nothing is posted yet
    page.click('button[aria-label="Move up amount"]')
    rows = page.eval_on_selector_all("li.layout-field", "els => els.map(e => e.dataset.field)")
    assert rows[:3] == ["name", "amount", "account"]
    webapp.go(page, "#save-layout")
    assert "Layout saved" in page.inner_text(".alert-success")
    assert rep_form(browser, live)[:3] == ["name", "amount", "account"]


def test_dragging_a_field_to_the_top_saves_that_order(admin_page, browser, live):  # noqa: F811
    page = admin_page
    page.goto(f"{live.url}{EDITOR}")
    page.drag_and_drop(
        'li[data-field="stage"] .drag-handle',
        'li[data-field="name"]',
        target_position={"x": 10, "y": 2},
    )
    first = page.eval_on_selector_all("li.layout-field", "els => els.map(e => e.dataset.field)")
    assert first[0] == "stage"
    webapp.go(page, "#save-layout")
    assert rep_form(browser, live)[0] == "stage"


def test_a_condition_with_a_typo_shows_its_error_at_its_position(admin_page, live):  # noqa: F811
    page = admin_page
    page.goto(f"{live.url}{EDITOR}")
    row = page.locator('li[data-field="stage"]')
    row.locator("summary").click()
    row.locator('input[name^="required_if:"]').fill("amount > 10 and stagee == 'x'")
    check = row.locator('[id^="cc-required_if-"]')
    check.locator(".expression-message").wait_for()
    assert "stagee" in check.inner_text()
    caret = check.locator("pre").inner_text().split("\n")[1]
    assert caret == " " * 16 + "^"
    shoot(page, "layout-condition-error")


def test_a_list_view_filter_typo_shows_its_error_before_saving(admin_page, live):  # noqa: F811
    page = admin_page
    page.goto(f"{live.url}/setup/list-views/")
    shoot(page, "list-views")
    page.goto(f"{live.url}/setup/list-views/opportunity.open_pipeline")
    page.fill("#f-filter", "amount > 10 and stag == 'Prospecting'")
    check = page.locator("#filter-check")
    check.locator(".expression-message").wait_for()
    assert "unknown field 'stag' at position 17" in check.inner_text()
    assert check.locator("pre").inner_text().split("\n")[1] == " " * 16 + "^"
    shoot(page, "list-view-filter-error")
    page.fill("#f-filter", "amount > 10 and stage == 'Prospecting'")
    page.wait_for_function(
        "document.querySelector('#filter-check').classList.contains('text-success')"
    )
    webapp.go(page, "#save-list-view")
    assert "List view saved" in page.inner_text(".alert-success")
    page.goto(f"{live.url}/setup/apps/")
    shoot(page, "apps")
    page.goto(f"{live.url}/setup/apps/sales")
    shoot(page, "app")


def setup_urls() -> list[tuple[str, str]]:
    """Every setup URL the app serves with each method (parameters filled in): the
    areas mounted on an app of their own, as the served app mounts them."""
    app = Flask("setup-urls")
    install_setup(app)
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/setup") or "static" in rule.endpoint:
            continue
        path = re.sub(r"<any\(([^,)]*)[^)]*\):kind>", lambda m: m.group(1).strip(), rule.rule)
        path = re.sub(r"<(?:[^:>]+:)?[^>]+>", "opportunity", path)
        out += [(m, path) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return out


def test_a_rep_gets_403_on_every_setup_url(browser, live):  # noqa: F811
    urls = setup_urls()
    assert any(p.startswith("/setup/layouts") for _, p in urls)
    assert len(urls) > 30
    opened, rep = rep_page(browser, live)
    try:
        rep.goto(f"{live.url}/")
        token = rep.eval_on_selector('meta[name="csrf-token"]', "m => m.content")
        for method, path in urls:
            if method == "GET":
                status = rep.goto(f"{live.url}{path}").status
            else:
                status = rep.request.post(
                    f"{live.url}{path}", form={"csrf_token": token, "confirm": "1"}
                ).status
            assert status == 403, (method, path, status)
    finally:
        opened.close()


def test_rollback_from_the_history_page_restores_a_deleted_field(admin_page, live):  # noqa: F811
    page = admin_page
    page.goto(f"{live.url}/setup/fields/note/body")
    page.on("dialog", lambda dialog: dialog.accept())
    webapp.go(page, 'form[action$="/body/delete"] button[type=submit]')
    page.goto(f"{live.url}/setup/objects/note")
    assert page.locator('a[href="/setup/fields/note/body"]').count() == 0
    page.goto(f"{live.url}/setup/history/")
    shoot(page, "history")
    page.goto(f"{live.url}/setup/history/note")
    assert "body" in page.inner_text("#diff")
    shoot(page, "history-object")
    webapp.go(page, "#revisions tbody tr:nth-child(2) button.rollback")
    assert "Rolled back to revision" in page.inner_text(".alert-success")
    page.goto(f"{live.url}/setup/objects/note")
    assert page.locator('a[href="/setup/fields/note/body"]').count() == 1
    page.goto(f"{live.url}/setup/audit/")
    shoot(page, "audit")
    page.goto(f"{live.url}/setup/logins/")
    shoot(page, "logins")


def test_the_builders_check_expressions_as_typed(admin_page, live):  # noqa: F811
    page = admin_page
    page.goto(f"{live.url}/setup/builders/")
    shoot(page, "builders")
    page.goto(f"{live.url}/setup/builders/validation_rule/new")
    page.select_option("#f-object", "opportunity")
    page.fill("#f-condition", "amount > 10 and probabilty > 5")
    check = page.locator("#condition-check")
    check.locator(".expression-message").wait_for()
    assert "probabilty" in check.inner_text()
    assert check.locator("pre").inner_text().split("\n")[1] == " " * 16 + "^"
    shoot(page, "builder-rule-error")
    # the report form: its object first, then its inputs with the filter checked as typed
    page.goto(f"{live.url}/setup/builders/report/new")
    page.select_option("#f-object", "opportunity")
    with page.expect_navigation():
        page.click("#choose-object")
    page.fill("#f-columns", "name, amount")
    page.fill("#f-filter", "amount > 10 and stag == 1")
    check = page.locator("#filter-check")
    check.locator(".expression-message").wait_for()
    assert "stag" in check.inner_text()
    shoot(page, "builder-report-form")
    page.goto(f"{live.url}/setup/builders/report/new?editor=yaml")
    page.fill(
        "#f-source",
        "api_name: big\nobject: opportunity\ncolumns: [name]\nfilter: amount > 10 and stag == 1\n",
    )
    box = page.locator("#source-check")
    box.locator(".expression-message").wait_for()
    message = box.locator(".expression-message").inner_text()
    assert message.startswith("line 4, column 25") and "stag" in message
    caret = box.locator("pre").inner_text().split("\n")[1]
    assert caret == " " * 24 + "^"
    shoot(page, "builder-yaml-error")


def test_the_packs_page_shows_an_install_plan(admin_page, live):  # noqa: F811
    page = admin_page
    page.goto(f"{live.url}/setup/packs/")
    shoot(page, "packs")
    webapp.go(page, 'tr[data-pack="core_activities"] button.plan')
    assert page.locator("#plan-items li").count() > 0
    shoot(page, "pack-plan")
