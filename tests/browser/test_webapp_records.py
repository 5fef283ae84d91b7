"""The record page and forms in a real browser (Debian's Chromium, driven by Playwright):
``required_if`` appears as the rep types (the form asks the server) and is enforced on
save — in the form, the error next to its field with the input kept, and through the API;
a contract is uploaded and downloaded, and a rep the deal is not shared with gets a 404;
the manager approves from the record page. Screenshots (desktop and 390 px phone) go to
``build/screenshots/webapp``."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import requests

from tests.browser.test_webapp import DESKTOP, PHONE, SHOTS, go, shoot, sign_in
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, fresh_database_url, make_token
from tests.servers import free_port, start_server, wait_until_up
from tests.web.records_org import RULE, build_records_org
from tests.web.sales_org import MANAGER_EMAIL, OTHER_EMAIL

pytestmark = pytest.mark.slow
PDF = b"%PDF-1.4 signed in the browser"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.runtime import initialise_org

    instance = tmp_path_factory.mktemp("instance")
    with fresh_database_url(tmp_path_factory.mktemp("records")) as url:
        org = open_org(load_settings(url, instance_path=instance))
        initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
        data = build_records_org(org)
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
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
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


def required_mark(page, field: str):
    return page.locator(f".form-group[data-field={field}] .req")


def test_required_if_appears_as_the_rep_types_and_is_enforced_on_save(page, live):
    sign_in(page, live)
    page.goto(f"{live.url}/o/opportunity/new")
    assert required_mark(page, "contact_email").count() == 0
    page.fill("#in-name", "Browser big deal")
    page.fill("#in-amount", "20000")
    required_mark(page, "contact_email").wait_for(state="visible", timeout=10000)
    assert page.get_attribute("#in-contact_email", "aria-required") == "true"
    assert page.locator(".form-group[data-field=name] .req").count() == 1  # its own stays
    shoot(page, "form-required-if")
    page.fill("#in-amount", "500")
    required_mark(page, "contact_email").wait_for(state="detached", timeout=10000)
    page.fill("#in-amount", "20000")
    required_mark(page, "contact_email").wait_for(state="visible", timeout=10000)

    go(page, "button:has-text('Save')")
    error = page.locator("[data-field=contact_email] .field-error")
    assert error.text_content().strip() == f"required (when {RULE})"
    assert page.input_value("#in-name") == "Browser big deal"
    assert page.input_value("#in-amount") == "20000"
    shoot(page, "form-required-if-error")
    page.fill("#in-contact_email", "buyer@example.com")
    go(page, "button:has-text('Save')")
    assert page.text_content("h1").strip() == "Browser big deal"

    refused = requests.post(
        f"{live.url}/api/v1/records/opportunity",
        json={"name": "API big deal", "amount": 20000},
        headers={"Authorization": f"Bearer {live.token}"},
        timeout=30,
    )
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"contact_email": [f"required (when {RULE})"]}


def test_a_contract_is_uploaded_and_downloaded_only_by_who_may_read_it(page, live, tmp_path):
    deal = live.deals[10]
    sign_in(page, live)
    page.goto(f"{live.url}/r/opportunity/{deal['id']}/edit")
    wrong = tmp_path / "tool.exe"
    wrong.write_bytes(b"MZ")
    page.set_input_files("#in-contract", str(wrong))
    go(page, "button:has-text('Save')")
    assert "not accepted" in page.text_content("[data-field=contract] .field-error")
    contract = tmp_path / "signed.pdf"
    contract.write_bytes(PDF)
    page.set_input_files("#in-contract", str(contract))
    go(page, "button:has-text('Save')")
    link = page.locator("[data-field=contract] a")
    assert link.text_content().strip() == "signed.pdf"
    shoot(page, "record-file")
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "downloaded.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == PDF

    href = link.get_attribute("href")
    other = page.context.browser.new_context(viewport=DESKTOP)
    try:
        other_page = other.new_page()
        sign_in(other_page, live, OTHER_EMAIL)
        response = other_page.goto(f"{live.url}{href}")
        assert response.status == 404
    finally:
        other.close()


def test_the_manager_approves_from_the_record_page(page, live, browser):
    deal = live.deals[11]
    sign_in(page, live)
    page.goto(f"{live.url}/r/opportunity/{deal['id']}")
    page.fill("#submit-comment", "Discount above the usual")
    go(page, "button:has-text('Submit for approval')")
    assert "Pending" in page.text_content("#approvals")

    manager = browser.new_context(viewport=DESKTOP)
    try:
        approver = manager.new_page()
        sign_in(approver, live, MANAGER_EMAIL)
        assert deal["name"] in approver.text_content("#pending-title + ul")
        go(approver, f"#pending-title + ul >> text={deal['name']}")
        shoot(approver, "record-approval")
        approver.fill("#approval-comment", "Approved for this quarter")
        go(approver, "button:has-text('Approve')")
        history = approver.text_content(".approval-history")
        assert "Mona Manager" in history and "Approved for this quarter" in history
        assert "Rita Rep" in history and "Discount above the usual" in history
        shoot(approver, "record-approved")
    finally:
        manager.close()
    page.reload()
    assert "Pending" not in page.text_content("#approvals")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / "record-panels-phone-full.png"), full_page=True)
