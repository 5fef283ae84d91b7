"""The customer portal in a real browser: an admin invites a contact from the contact's
page; the customer opens
the link, sets a password, signs in, opens a case, comments on it and reads a published
article — and never sees the agents' internal comment. Screenshots go to
``build/screenshots/portal`` (``CRM_SCREENSHOTS`` moves the folder)."""

from __future__ import annotations

import re

import pytest

from tests.browser.shots import desktop_and_phone
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.servers import free_port, start_server, wait_until_up

pytestmark = pytest.mark.slow


@pytest.fixture
def customer(org):
    """The service pack, Maya of Northwind with a contact record, an internal comment on
    an older case of hers, a published article, and her invitation."""
    from crm_platform.packs import install
    from crm_platform.runtime import find_user

    install(org, "service", with_sample=False)
    with org.db.read() as conn:
        admin = find_user(conn, ADMIN_EMAIL)
    with org.records.session(admin) as s:
        account = s.create("account", {"name": "Northwind"})["id"]
        maya = s.create(
            "contact",
            {
                "first_name": "Maya",
                "last_name": "Okafor",
                "email": "maya@northwind.example",
                "account": account,
            },
        )["id"]
        old = s.create(
            "case", {"subject": "Invoice shows the wrong VAT", "contact": maya, "account": account}
        )
        s.create(
            "case_comment",
            {"case": old["id"], "body": "Agents only: check the VAT rate", "internal": True},
        )
        s.create(
            "case_comment",
            {"case": old["id"], "body": "We have corrected your invoice.", "internal": False},
        )
        s.create(
            "knowledge_article",
            {
                "title": "How to reset the router",
                "summary": "Two minutes, one paper clip",
                "body": "Hold the reset button for ten seconds.\nWait for the green light.",
                "status": "Published",
                "category": "How-to",
            },
        )
    return maya


@pytest.fixture
def server(org, customer, database_url, tmp_path):
    port = free_port()
    process = start_server(database_url, str(tmp_path / "instance"), port, 1)
    try:
        wait_until_up(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=60)


def shot(page, name: str) -> None:
    desktop_and_phone(page, "portal", name)


def test_invite_set_password_sign_in_open_a_case_comment_and_read_an_article(
    browser, server, customer
):
    admin = browser.new_context(viewport={"width": 1100, "height": 760})
    try:
        page = admin.new_page()
        page.goto(f"{server}/login")
        page.fill("input[name=email]", ADMIN_EMAIL)
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.click("main button[type=submit]")
        page.goto(f"{server}/r/contact/{customer}")
        page.click("text=Invite to portal")
        notice = page.text_content("[role=status]")
        assert "maya@northwind.example is invited to the portal" in notice
        shot(page, "0-invite-from-the-contact-page")
        link = re.search(r"(http\S+/portal/invitation/\S+)", notice).group(1)
    finally:
        admin.close()
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    page = context.new_page()
    try:
        page.goto(link)
        assert "Welcome, Maya Okafor" in page.text_content("h1")
        page.fill("#password", "Maya-pass-2026")
        page.fill("#confirm", "Maya-pass-2026")
        shot(page, "1-set-password")
        page.click("button[type=submit]")
        assert "/portal/login" in page.url
        assert "Your password is set" in page.text_content("[role=status]")

        page.fill("#email", "maya@northwind.example")
        page.fill("#password", "Maya-pass-2026")
        page.click("button[type=submit]")
        assert page.text_content("h1") == "My cases"
        assert "Invoice shows the wrong VAT" in page.text_content("table")
        shot(page, "2-my-cases")

        page.click("text=Invoice shows the wrong VAT")
        assert "We have corrected your invoice." in page.text_content("main")
        assert "Agents only" not in page.content()

        page.click("text=Open a case")
        page.fill("#subject", "The router keeps restarting")
        page.fill("#description", "Since Monday, every hour.")
        shot(page, "3-open-a-case")
        page.click("main button[type=submit]")
        assert "The router keeps restarting" in page.text_content("h1")
        page.fill("#body", "It happened again at 10:00.")
        page.click("text=Add comment")
        comments = page.text_content("#comments ~ article")
        assert "It happened again at 10:00." in comments
        assert "Maya Okafor" in comments
        shot(page, "4-case-with-comment")

        page.click("nav >> text=Knowledge base")
        page.click("text=How to reset the router")
        assert "Hold the reset button" in page.text_content("article")
        shot(page, "5-article")

        # the internal app does not know her: its pages send her to its own sign-in
        page.goto(server + "/o/case")
        assert page.url.endswith("/login?next=/o/case")
    finally:
        context.close()
