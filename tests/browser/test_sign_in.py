"""The sign-in page in a real browser (Debian's Chromium, driven by Playwright)."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.servers import free_port, start_server, wait_until_up

pytestmark = pytest.mark.slow


@pytest.fixture
def browser_page(browser):
    page = browser.new_page()
    try:
        yield page
    finally:
        page.close()


@pytest.fixture
def server(org, database_url, tmp_path):
    port = free_port()
    process = start_server(database_url, str(tmp_path / "instance"), port, 1)
    try:
        wait_until_up(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_a_person_signs_in_and_out(browser_page, server, tmp_path):
    page = browser_page
    page.goto(f"{server}/")
    assert page.url.endswith("/login")
    # the page's own stylesheet is served (no CDN): the sign-in card is 28rem wide
    assert page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth") == "448px"
    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert "Wrong email or password." in page.text_content("[role=alert]")

    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    assert "Signed in as" in page.text_content("main")
    page.screenshot(path=str(tmp_path / "signed-in.png"))
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["session"]["httpOnly"] is True and cookies["session"]["sameSite"] == "Lax"

    page.click("text=Sign out")
    assert page.url.endswith("/login")


def test_a_person_reads_the_orgs_api_in_api_docs(browser_page, server, load_metadata, tmp_path):
    """Signed in, /api/docs shows Swagger UI (served by us, no CDN) on the document the
    API gives this person: the org's own objects are in it."""
    load_metadata("projects")
    page = browser_page
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith(server) and not request.url.startswith("data:")
            else None
        ),
    )
    page.goto(f"{server}/api/docs")
    assert "/login" in page.url  # sign in first, then back to the docs
    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    assert page.url.endswith("/api/docs")

    page.wait_for_selector(".swagger-ui .info .title", timeout=60_000)
    page.wait_for_selector("#operations-tag-project", timeout=60_000)
    assert "CRM platform API" in page.text_content(".swagger-ui .info .title")
    # tags start closed (an org's document is long); a click opens one
    page.click("#operations-tag-project")
    page.wait_for_selector("#operations-project-list_project", timeout=30_000)
    assert "/records/project" in page.text_content("#operations-project-list_project")
    page.locator("#operations-tag-project").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "api-docs.png"))
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.locator("#operations-tag-project").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "api-docs-phone.png"))
    page.set_viewport_size({"width": 1280, "height": 720})

    # "Try it out" goes with the session; an unsafe method carries the page's CSRF token
    # (without it the API would answer 403, not the 404 of an unknown record)
    delete = page.locator("#operations-project-delete_project")
    delete.locator(".opblock-summary").click()
    delete.locator("button.try-out__btn").click()
    delete.locator("input[placeholder=id]").fill("00000000-0000-7000-8000-00000000abcd")
    delete.locator("button.execute").click()
    status = delete.locator(".live-responses-table .response .response-col_status").first
    status.wait_for(timeout=30_000)
    assert status.text_content().strip().startswith("404")
    assert outside == []
