"""UI sessions: sign in, the session cookie, CSRF on forms and on cookie-authenticated API
calls, sign out, login history and the brute-force throttle."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert match, html
    return match.group(1)


def _sign_in(client, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": _csrf(page.get_data(as_text=True)),
        },
    )


@pytest.fixture
def browser(app):
    return app.test_client()


def test_sign_in_sets_a_protected_session_cookie(browser):
    response = _sign_in(browser)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    home = browser.get("/")
    assert "Signed in as" in home.get_data(as_text=True)


def test_the_session_reads_the_api_and_needs_csrf_to_write(browser):
    _sign_in(browser)
    assert browser.get("/api/v1/metadata/objects").status_code == 200
    refused = browser.post("/api/v1/metadata/objects", json={"api_name": "project"})
    assert refused.status_code == 403 and "CSRF" in refused.get_json()["detail"]
    token = _csrf(browser.get("/").get_data(as_text=True))
    allowed = browser.post(
        "/api/v1/metadata/objects", json={"api_name": "project"}, headers={"X-CSRFToken": token}
    )
    assert allowed.status_code == 201


def test_a_form_without_its_csrf_token_is_refused(browser):
    response = browser.post("/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.status_code == 400
    assert browser.get("/api/v1/metadata/objects").status_code == 401


def test_wrong_password_and_logout(browser):
    assert _sign_in(browser, password="wrong-password").status_code == 401
    _sign_in(browser)
    token = _csrf(browser.get("/").get_data(as_text=True))
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
    assert browser.get("/api/v1/metadata/objects").status_code == 401
    assert browser.get("/").status_code == 302


def test_repeated_failures_are_throttled_and_logged(browser, api, org):
    from crm_platform.core import utc_now

    frozen = utc_now()
    org.clock = lambda: frozen  # the back-off is counted in seconds: hold time still
    for _ in range(5):
        assert _sign_in(browser, password="guess").status_code == 401
    assert _sign_in(browser).status_code == 429  # even the right password, for a while
    history = api.get("/api/v1/audit/logins").get_json()["logins"]
    assert len(history) == 6
    assert [h["succeeded"] for h in history] == [False] * 6
    assert history[0]["email"] == ADMIN_EMAIL and history[0]["address"] == "127.0.0.1"


def test_a_successful_login_is_in_the_history(browser, api):
    _sign_in(browser)
    entry = api.get("/api/v1/audit/logins").get_json()["logins"][0]
    assert entry["succeeded"] is True and entry["method"] == "password"


def test_no_open_redirect_after_sign_in(browser):
    page = browser.get("/login?next=https://evil.example/")
    response = browser.post(
        "/login?next=https://evil.example/",
        data={
            "email": ADMIN_EMAIL,
            "password": ADMIN_PASSWORD,
            "csrf_token": _csrf(page.get_data(as_text=True)),
        },
    )
    assert response.headers["Location"] == "/"
