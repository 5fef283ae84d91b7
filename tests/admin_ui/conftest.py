"""The setup UI through the Flask test client: the sales org of the end-user app's tests
(tests/web/sales_org.py), an administrator and a rep signed in with session cookies."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient, fresh_database_url, make_token
from tests.web.sales_org import REP_EMAIL, REP_PASSWORD, build_sales_org


def csrf(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def sign_in(app, email: str, password: str):
    """A test client signed in through the sign-in form; ``client.token`` is its CSRF token."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf(page)}
    )
    assert response.status_code == 302
    client.token = csrf(client.get("/").get_data(as_text=True))
    return client


def post(client, path: str, data: dict | None = None, **kw):
    """A form post with the client's CSRF token."""
    return client.post(path, data={"csrf_token": client.token, **(data or {})}, **kw)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def sales(tmp_path_factory):
    """A fresh sales org per test (setup tests change metadata)."""
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.runtime import initialise_org

    with fresh_database_url(tmp_path_factory.mktemp("setup")) as url:
        settings = load_settings(url, instance_path=tmp_path_factory.mktemp("instance"))
        org = open_org(settings)
        initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
        data = build_sales_org(org)
        app = create_app(settings, org=org)
        try:
            yield SimpleNamespace(
                org=org,
                app=app,
                api=ApiClient(app.test_client(), make_token(org, ADMIN_EMAIL)),
                **vars(data),
            )
        finally:
            org.dispose()


@pytest.fixture
def admin(sales):
    return sign_in(sales.app, ADMIN_EMAIL, ADMIN_PASSWORD)


@pytest.fixture
def rep(sales):
    return sign_in(sales.app, REP_EMAIL, REP_PASSWORD)
