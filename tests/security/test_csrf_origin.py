"""CSRF with a valid token from another origin is refused: session-authenticated writes
must come from the app's own origin (or a trusted one). Cookies are Secure and HSTS is
sent over HTTPS, also behind a proxy that says so, and only a trusted proxy is believed."""

from __future__ import annotations

import dataclasses

import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

from .conftest import page_token, sign_in

OBJECTS = "/api/v1/metadata/objects"


@pytest.fixture
def admin_browser(app):
    browser = app.test_client()
    assert sign_in(browser, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 302
    return browser


def _create_object(browser, name, **headers):
    return browser.post(
        OBJECTS,
        json={"api_name": name},
        headers={"X-CSRFToken": page_token(browser), **headers},
    )


def _object_exists(api, name) -> bool:
    return api.get(f"{OBJECTS}/{name}").status_code == 200


def _app_with(settings, org, **changes):
    from crm_platform.app import create_app

    return create_app(dataclasses.replace(settings, **changes), org=org)


def test_a_valid_csrf_token_sent_from_another_origin_is_refused(admin_browser, api):
    response = _create_object(admin_browser, "stolen", Origin="https://evil.example")
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "origin" in response.get_json()["detail"]
    assert not _object_exists(api, "stolen")


def test_a_foreign_referer_without_origin_is_refused(admin_browser, api):
    response = _create_object(admin_browser, "stolen", Referer="https://evil.example/page")
    assert response.status_code == 403
    assert not _object_exists(api, "stolen")


@pytest.mark.parametrize(
    "origin", ["null", "http://localhost.evil.example", "https://localhost", "http://localhost:81"]
)
def test_lookalike_and_opaque_origins_are_refused(admin_browser, origin):
    assert _create_object(admin_browser, "stolen", Origin=origin).status_code == 403


def test_the_apps_own_origin_is_accepted(admin_browser, api):
    response = _create_object(admin_browser, "mine", Origin="http://localhost")
    assert response.status_code == 201
    response = _create_object(admin_browser, "mine_too", Referer="http://localhost/")
    assert response.status_code == 201
    assert _object_exists(api, "mine") and _object_exists(api, "mine_too")


def test_a_configured_trusted_origin_is_accepted(settings, org):
    app = _app_with(settings, org, trusted_origins=("https://admin.example.com",))
    browser = app.test_client()
    assert sign_in(browser, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 302
    assert _create_object(browser, "trusted", Origin="https://admin.example.com").status_code == 201
    assert _create_object(browser, "other", Origin="https://evil.example").status_code == 403


def test_signing_in_from_another_origin_is_refused(app):
    browser = app.test_client()
    page = browser.get("/login")
    assert page.status_code == 200
    from .conftest import csrf_token

    response = browser.post(
        "/login",
        data={
            "email": ADMIN_EMAIL,
            "password": ADMIN_PASSWORD,
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert browser.get(OBJECTS).status_code == 401


def test_a_bearer_token_is_not_bound_to_an_origin(api):
    response = api.post(
        OBJECTS, json={"api_name": "integration"}, headers={"Origin": "https://tools.example"}
    )
    assert response.status_code == 201


def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return cookies[-1]


def test_cookies_are_secure_and_hsts_is_sent_over_https(app):
    browser = app.test_client()
    response = sign_in_over(browser, "https://localhost")
    assert "; Secure" in _session_cookie(response)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_plain_http_cookies_are_not_marked_secure(app):
    response = sign_in_over(app.test_client(), "http://localhost")
    assert "Secure" not in _session_cookie(response)
    assert "Strict-Transport-Security" not in response.headers


def test_behind_a_trusted_proxy_https_and_the_client_address_are_believed(settings, org, api):
    app = _app_with(settings, org, trust_proxy=1)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    response = sign_in_over(app.test_client(), "http://localhost", forwarded)
    assert response.status_code == 302
    assert "; Secure" in _session_cookie(response)
    assert "Strict-Transport-Security" in response.headers
    latest = api.get("/api/v1/audit/logins").get_json()["logins"][0]
    assert latest["address"] == "198.51.100.7"


def test_forwarded_headers_are_ignored_without_a_trusted_proxy(app, api):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    response = sign_in_over(app.test_client(), "http://localhost", forwarded)
    assert response.status_code == 302
    assert "Secure" not in _session_cookie(response)
    latest = api.get("/api/v1/audit/logins").get_json()["logins"][0]
    assert latest["address"] == "127.0.0.1"  # a spoofed address does not dodge the throttle


def test_secure_cookies_always_when_configured(settings, org):
    app = _app_with(settings, org, secure_cookies="always")
    response = sign_in_over(app.test_client(), "http://localhost")
    assert "; Secure" in _session_cookie(response)


def test_the_settings_come_from_the_environment(monkeypatch, tmp_path):
    from crm_platform.core import load_settings

    monkeypatch.setenv("CRM_TRUST_PROXY", "true")
    monkeypatch.setenv("CRM_TRUSTED_ORIGINS", "https://A.example.com/, https://b.example.com")
    settings = load_settings("sqlite:///x.db", instance_path=tmp_path)
    assert settings.trust_proxy == 1 and settings.secure_cookies == "auto"
    assert settings.trusted_origins == ("https://a.example.com", "https://b.example.com")
    monkeypatch.setenv("CRM_SECURE_COOKIES", "sometimes")
    with pytest.raises(ValueError, match="CRM_SECURE_COOKIES"):
        load_settings("sqlite:///x.db", instance_path=tmp_path)


def sign_in_over(browser, base_url, headers=None):
    """Sign in as the admin with requests to ``base_url`` (http or https)."""
    from .conftest import csrf_token

    page = browser.get("/login", base_url=base_url, headers=headers)
    return browser.post(
        "/login",
        base_url=base_url,
        headers=headers,
        data={
            "email": ADMIN_EMAIL,
            "password": ADMIN_PASSWORD,
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
