"""Colleagues discuss a deal in its feed, in a real browser (Debian's Chromium, driven by
Playwright): the rep posts mentioning their manager and the other rep — the manager, who
sees the deal, is notified; the other rep, who does not, is not, and only the rep reads
that the mention was not delivered; the manager comments (and so follows the deal), then unfollows it; the
post shows in the activity timeline. Screenshots (desktop and 390 px phone) go to
``build/screenshots/webapp``."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.browser.test_webapp import DESKTOP, go, shoot, sign_in
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, fresh_database_url
from tests.servers import free_port, start_server, wait_until_up
from tests.web.records_org import build_records_org
from tests.web.sales_org import MANAGER_EMAIL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.runtime import initialise_org

    instance = tmp_path_factory.mktemp("instance")
    with fresh_database_url(tmp_path_factory.mktemp("feeds")) as url:
        org = open_org(load_settings(url, instance_path=instance))
        initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
        data = build_records_org(org)
        port = free_port()
        process = start_server(url, str(instance), port, 1)
        try:
            wait_until_up(port)
            yield SimpleNamespace(url=f"http://127.0.0.1:{port}", org=org, **vars(data))
        finally:
            process.terminate()
            process.wait(timeout=60)
            org.dispose()


def inbox(live, user) -> list[str]:
    """A user's notification messages, read from the database the server writes."""
    from crm_platform.workflow import notifications

    with live.org.db.read() as conn:
        return [n["message"] for n in notifications.list_for(conn, user.id).notifications]


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


def test_colleagues_discuss_a_deal_in_its_feed(page, live, browser):
    deal = live.deals[7]
    record = f"{live.url}/r/opportunity/{deal['id']}"
    sign_in(page, live)
    page.goto(record)
    assert page.text_content(".follow-button").strip() == "Unfollow"  # the owner follows
    page.fill("#feed-body", "@manager@example.com and @other@example.com: ready to sign?")
    go(page, ".feed-post-box button[type=submit]")
    post = page.locator(".feed-post").first
    assert post.locator("a.mention").all_text_contents() == ["@Mona Manager", "@Oscar Other"]
    assert "Not delivered to Oscar Other" in post.text_content()
    assert page.locator(".timeline-post").count() == 1
    shoot(page, "record-feed")

    told = inbox(live, live.manager)
    assert any("Rita Rep mentioned you on Opportunity “Deal 08”" in m for m in told)
    assert not any("Deal 08" in m for m in inbox(live, live.other))

    manager = browser.new_context(viewport=DESKTOP)
    try:
        colleague = manager.new_page()
        sign_in(colleague, live, MANAGER_EMAIL)
        colleague.goto(record)
        theirs = colleague.locator(".feed-post").first
        assert "Not delivered" not in theirs.text_content()  # the author's to know
        assert colleague.text_content(".follow-button").strip() == "Follow"
        colleague.fill(".feed-comment-box input[name=body]", "Yes, go ahead")
        go(colleague, ".feed-comment-box button[type=submit]")
        # who takes part in the discussion follows the deal
        assert colleague.text_content(".follow-button").strip() == "Unfollow"
        shoot(colleague, "record-feed-comment")
        go(colleague, ".follow-button")
        assert colleague.text_content(".follow-button").strip() == "Follow"
    finally:
        manager.close()
    assert any(
        "Mona Manager commented on Opportunity “Deal 08”" in m for m in inbox(live, live.rep)
    )
    page.reload()
    assert "Yes, go ahead" in page.text_content(".feed-comments")
