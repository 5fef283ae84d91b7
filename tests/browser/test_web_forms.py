"""Web forms in a real browser (Debian's Chromium, driven by Playwright), against
gunicorn: a prospect fills /f/contact_sales and lands as a lead the form's rule routes; a
wrong value comes back next to its input with everything typed kept; the snippet pasted
on another site (another origin) posts to the platform and works the same way."""

from __future__ import annotations

import subprocess
import sys

import pytest

from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.runtime import get_user
from crm_platform.runtime.records import ListRequest
from tests.browser.shots import desktop_and_phone
from tests.servers import free_port, start_server, wait_until_up
from tests.webforms.conftest import REPS, web_org  # noqa: F401  (the org under test)

pytestmark = pytest.mark.slow


@pytest.fixture
def browser_page(browser):
    page = browser.new_page()
    try:
        yield page
    finally:
        page.close()


@pytest.fixture
def server(web_org, database_url, tmp_path):  # noqa: F811
    port = free_port()
    process = start_server(database_url, str(web_org.settings.instance_path), port, 2)
    try:
        wait_until_up(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=60)


def leads(org) -> list[dict]:
    with org.db.read() as conn:
        system = get_user(conn, SYSTEM_USER_ID)
    with org.records.session(system, write=False) as session:
        return session.list("lead", ListRequest(limit=50)).records


def owners(org, records) -> set[str]:
    with org.db.read() as conn:
        return {get_user(conn, r["owner_id"]).email for r in records}


def shot(page, name: str) -> None:
    desktop_and_phone(page, "webforms", name.removesuffix(".png"))


def test_a_prospect_fills_the_form_and_lands_as_an_assigned_lead(
    browser_page,
    server,
    web_org,  # noqa: F811
):
    page = browser_page
    page.goto(f"{server}/f/contact_sales")
    assert page.text_content("h1") == "Talk to sales"
    # Bootstrap (flask-admin's copy) styles it: the button is Bootstrap's primary blue
    color = page.evaluate(
        "getComputedStyle(document.querySelector('.btn-primary')).backgroundColor"
    )
    assert color == "rgb(0, 123, 255)"
    # the honeypot is off-screen: nobody sees or tabs into it
    box = page.locator("#wf-trap").bounding_box()
    assert box is None or box["x"] < 0
    page.fill("#in-first_name", "Ada")
    page.fill("#in-last_name", "Lovelace")
    page.fill("#in-company", "Analytical Engines")
    page.fill("#in-email", "not-an-email")
    page.fill("#in-employees", "-3")
    page.fill("#in-description", "We need 40 licences.")
    page.click("button[type=submit]")
    # refused: each message next to its input, everything typed still there
    assert "#err-" not in page.url
    assert page.locator("#err-email").is_visible()
    assert "at least 0" in page.text_content("#err-employees")
    assert page.input_value("#in-first_name") == "Ada"
    assert page.input_value("#in-description") == "We need 40 licences."
    shot(page, "web-form-errors.png")
    page.fill("#in-email", "ada@example.com")
    page.fill("#in-employees", "12")
    page.click("button[type=submit]")
    assert page.url.endswith("/f/contact_sales/thanks")
    assert "A sales rep will call you" in page.text_content("#message")
    shot(page, "web-form-thanks.png")
    (lead,) = leads(web_org)
    assert (lead["last_name"], lead["lead_source"], lead["employees"]) == ("Lovelace", "Web", 12)
    assert owners(web_org, [lead]) <= set(REPS)  # the form's round-robin rule routed it


def test_the_snippet_on_another_site_posts_to_the_platform(
    browser_page,
    server,
    web_org,  # noqa: F811
    tmp_path,
):
    from crm_platform.core.crypto import load_secret_key
    from crm_platform.webforms import web_forms_of
    from crm_platform.webforms.page import snippet_for

    with web_org.db.read() as conn:
        model = web_org.models.model_for(conn)
    form = web_forms_of(model).get("contact_sales")
    html = snippet_for(model, form, server, load_secret_key(web_org.settings), "zh")
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        f"<!doctype html><meta charset=utf-8><title>Acme</title><h1>Acme</h1>{html}",
        encoding="utf-8",
    )
    port = free_port()
    other = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.2"],
        cwd=site,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        page = browser_page
        for _ in range(100):
            try:
                page.goto(f"http://127.0.0.2:{port}/")
                break
            except Exception:  # the other site is still starting
                page.wait_for_timeout(100)
        assert page.text_content("h1") == "Acme"
        page.fill("#crm-last_name", "Hopper")
        page.fill("#crm-company", "Navy")
        page.fill("#crm-email", "grace@example.com")
        shot(page, "web-form-snippet.png")
        page.click("button[type=submit]")
        assert page.url == f"{server}/f/contact_sales/thanks"
        assert page.text_content("#message")
    finally:
        other.terminate()
        other.wait(timeout=30)
    (lead,) = leads(web_org)
    assert lead["last_name"] == "Hopper" and lead["lead_source"] == "Web"


def test_a_chinese_visitor_reads_the_form_in_chinese(browser, server):
    page = browser.new_page(locale="zh-CN")
    try:
        page.goto(f"{server}/f/contact_sales")
        assert page.text_content("h1") == "联系销售"
        assert page.text_content("label[for=in-last_name]").startswith("您的姓")
        assert page.text_content("button[type=submit]") == "发送"
        shot(page, "web-form-zh.png")
    finally:
        page.close()
