"""The end-user app in a real browser (Debian's Chromium, driven by Playwright): a rep
works the pipeline — list, sort, page, search, create (an error next to its field, the
input kept), the record page's formula, edit — sees neither a hidden field nor a record
not shared with them, and sees a field an admin adds without a restart; on a phone's
viewport nothing scrolls sideways.

Screenshots of each page, at a desktop's size and a phone's (390x844), go to
``build/screenshots/webapp`` (``build/`` is git-ignored; ``CRM_SCREENSHOTS`` moves it).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, fresh_database_url, make_token
from tests.servers import free_port, start_server, wait_until_up
from tests.web.sales_org import REP_EMAIL, REP_PASSWORD, build_sales_org

SHOTS = Path(
    os.environ.get(
        "CRM_SCREENSHOTS", Path(__file__).parents[2] / "build" / "screenshots" / "webapp"
    )
)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The sales org served by gunicorn (its own process: metadata changes reach it
    through the database only)."""
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.runtime import initialise_org

    instance = tmp_path_factory.mktemp("instance")
    with fresh_database_url(tmp_path_factory.mktemp("webapp")) as url:
        org = open_org(load_settings(url, instance_path=instance))
        initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
        data = build_sales_org(org)
        token = make_token(org, ADMIN_EMAIL)
        org.dispose()
        port = free_port()
        process = start_server(url, str(instance), port, 1)
        try:
            wait_until_up(port)
            yield SimpleNamespace(url=f"http://127.0.0.1:{port}", token=token, **vars(data))
        finally:
            process.terminate()
            process.wait(timeout=60)


@pytest.fixture
def page(browser, live):
    context = browser.new_context(viewport=DESKTOP)
    opened = context.new_page()
    outside: list[str] = []
    opened.on(
        "request", lambda r: outside.append(r.url) if not r.url.startswith(live.url) else None
    )
    try:
        yield opened
        assert outside == []  # nothing from a CDN
    finally:
        context.close()


def sign_in(page, live, email=REP_EMAIL, password=REP_PASSWORD):
    page.goto(f"{live.url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.url}/")


def shoot(page, name: str) -> None:
    """A screenshot at the desktop's size and one at the phone's, where the page must
    not scroll sideways; one h1 and a label for every input on each."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= page.evaluate("window.innerWidth"), f"{name} scrolls sideways: {width}px"
    page.screenshot(path=str(SHOTS / f"{name}-phone.png"))
    page.set_viewport_size(DESKTOP)
    assert page.locator("h1").count() == 1
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
              .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                            && !el.getAttribute('aria-labelledby'))
              .map(el => el.name)"""
    )
    assert unlabelled == [], f"{name}: inputs without a label: {unlabelled}"
    low = page.evaluate(CONTRAST)
    assert low == [], f"{name}: text below WCAG AA contrast (4.5:1): {low}"


# Text whose contrast with its background is below 4.5:1 (the background: the first
# ancestor with an opaque one). Visible text of links, buttons, labels, cells, headings.
CONTRAST = """() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map(v => { v /= 255; return v <= .03928 ? v / 12.92 : ((v + .055) / 1.055) ** 2.4; });
    return .2126 * c[0] + .7152 * c[1] + .0722 * c[2];
  };
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || c[3] === 1) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = [];
  document.querySelectorAll('a, button, label, td, th, dt, dd, h1, h2, p, legend, summary, .btn')
    .forEach(el => {
      if (!el.offsetParent || !el.textContent.trim()) return;
      const fg = lum(rgb(getComputedStyle(el).color).slice(0, 3)), bg = lum(background(el));
      const ratio = (Math.max(fg, bg) + .05) / (Math.min(fg, bg) + .05);
      if (ratio < 4.5) out.push(el.tagName + ' ' + el.textContent.trim().slice(0, 30) + ' ' + ratio.toFixed(2));
    });
  return out;
}"""


def go(page, selector: str) -> None:
    """Click what loads another page, and wait for it (never read the old one)."""
    with page.expect_navigation():
        page.click(selector)


def pick_by_type_ahead(page, selector: str, typed: str, name: str) -> None:
    """Type into a lookup's type-ahead and pick ``name`` from what the server offers."""
    page.click(selector)
    page.fill(selector, typed)
    answered = page.locator(f".lookup-list[data-query='{typed}']")
    option = answered.locator("li[role=option]", has_text=name).first
    option.wait_for(state="visible", timeout=10000)
    option.click()
    assert page.input_value(selector) == name


def listed(page) -> list[str]:
    return [t.strip() for t in page.locator("a.record-link").all_text_contents()]


def test_a_rep_works_the_pipeline(page, live):
    sign_in(page, live)
    assert "Signed in as" in page.text_content("main")
    shoot(page, "home")
    go(page, "nav.tabs:visible >> text=Opportunities")
    assert "30 records" in page.text_content("#row-count")
    shoot(page, "list")
    page.set_viewport_size(PHONE)  # the filter bar folds behind a switch on a phone
    page.wait_for_selector("#f-stage", state="hidden", timeout=5000)
    page.click("label[for=show-filters]")
    page.wait_for_selector("#f-stage", state="visible", timeout=5000)
    page.click("label[for=show-filters]")
    page.set_viewport_size(DESKTOP)
    page.wait_for_selector("#f-stage", state="visible", timeout=5000)

    go(page, "th >> text=Amount")
    assert listed(page)[0] == "Deal 01"
    go(page, "th >> text=Amount")
    assert listed(page)[0] == "Deal 30"
    go(page, "a[rel=next]")
    assert listed(page)[0] == "Deal 05" and len(listed(page)) == 5
    go(page, "a[rel=prev]")
    assert listed(page)[0] == "Deal 30"

    page.fill("#q", "Deal 2")
    go(page, "button:has-text('Apply')")
    assert sorted(listed(page)) == [f"Deal {n}" for n in range(20, 30)]
    assert "10 records" in page.text_content("#row-count")

    go(page, "text=New Opportunity")
    page.fill("#in-name", "Browser deal")
    page.fill("#in-amount", "12x")
    pick_by_type_ahead(page, "#in-account", "Glo", "Globex")  # the account by type-ahead
    go(page, "button:has-text('Save')")
    error = page.locator("[data-field=amount] .field-error")
    assert error.text_content().strip() == "must be a number"
    assert page.input_value("#in-name") == "Browser deal"
    assert page.input_value("#in-amount") == "12x"
    shoot(page, "form-error")
    page.fill("#in-amount", "2500")
    page.fill("#in-close_date", "2026-06-30")
    go(page, "button:has-text('Save')")
    assert page.text_content("h1").strip() == "Browser deal"
    assert "2,500.00" in page.text_content("[data-field=amount]")
    assert page.text_content("[data-field=account] a").strip() == "Globex"

    # an existing deal: its formula, then an edit that moves it
    page.goto(f"{live.url}/r/opportunity/{live.deals[0]['id']}")
    assert page.text_content("[data-field=expected_revenue] dd").strip() == "110.00"
    shoot(page, "record")
    go(page, "text=Edit")
    shoot(page, "form-edit")
    page.fill("#in-amount", "3000")
    go(page, "button:has-text('Save')")
    assert page.text_content("[data-field=expected_revenue] dd").strip() == "300.00"
    assert "1,100.00" in page.text_content(".history")  # the tracked amount's old value


def test_a_rep_sees_no_hidden_field_and_no_record_not_shared(page, live):
    sign_in(page, live)
    page.goto(f"{live.url}/o/opportunity/new")
    assert page.locator("[name=cost_price]").count() == 0
    assert "Cost price" not in page.text_content("main")
    assert page.locator("[data-field=probability] .read-only").count() == 1
    page.goto(f"{live.url}/o/opportunity?q=Secret")
    assert listed(page) == []
    response = page.goto(f"{live.url}/r/opportunity/{live.secret['id']}")
    assert response.status == 404
    assert "Secret merger" not in page.content()


def test_a_field_an_admin_adds_shows_in_the_reps_form(page, live):
    sign_in(page, live)
    page.goto(f"{live.url}/o/note/new")
    assert page.locator("#in-topic").count() == 0
    added = requests.post(
        f"{live.url}/api/v1/metadata/objects/note/fields",
        json={"api_name": "topic", "type": "text", "label": {"en": "Topic", "zh": "主题"}},
        headers={"Authorization": f"Bearer {live.token}"},
        timeout=30,
    )
    assert added.status_code == 201, added.text
    page.reload()
    assert page.locator("label[for=in-topic]").text_content().strip() == "Topic"
    page.fill("#in-name", "Kick-off")
    page.fill("#in-topic", "Pricing")
    go(page, "button:has-text('Save')")
    assert page.text_content("[data-field=topic] dd").strip() == "Pricing"
    shoot(page, "record-note")


def test_a_related_list_creates_a_child_with_its_lookup_filled(page, live):
    sign_in(page, live)
    page.goto(f"{live.url}/r/account/{live.globex['id']}")
    related = page.locator("[data-related='opportunity.account']")
    assert "Opportunities (" in related.locator("h2").text_content()
    assert related.locator("tbody tr").count() == 10  # the first ten, by close date
    # a roll-up of a currency reads as the currency does
    assert re.fullmatch(
        r"\d\d,\d{3}\.00", page.text_content("[data-field=open_pipeline] dd").strip()
    )
    shoot(page, "record-account")
    with page.expect_navigation():
        related.locator("text=New Opportunity").click()
    assert page.input_value("#in-account") == "Globex"  # the type-ahead shows the name
    assert page.locator("#in-account-select option:checked").text_content().strip() == "Globex"
    page.fill("#in-name", "From the account")
    go(page, "button:has-text('Save')")
    assert page.text_content("[data-field=account] a").strip() == "Globex"


def test_a_chinese_speaking_rep_sees_chinese_labels(browser, live):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    try:
        page = context.new_page()
        sign_in(page, live)
        assert "商机" in page.text_content("nav.tabs:visible")
        page.goto(f"{live.url}/o/opportunity/new")
        assert page.text_content("label[for=in-name]").strip().startswith("名称")
        shoot(page, "form-zh")
    finally:
        context.close()
