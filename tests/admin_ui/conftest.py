"""The setup UI through the Flask test client: the sales org of the end-user app's tests
(tests/web/sales_org.py), an administrator and a rep signed in with session cookies."""

from __future__ import annotations

import re
from html.parser import HTMLParser
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


class _FormReader(HTMLParser):
    """What a browser would send from a page's form (its id given): hidden and text
    inputs, ticked boxes, chosen options, text areas."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.values = form_id, False, {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.values[name] = a.get("value", "on")
            else:
                self.values[name] = a.get("value", "")
        elif tag == "select":
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
                self.values.setdefault(self._select, self._first_option)
            if "selected" in a:
                self.values[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


def form_values(html: str, form_id: str) -> dict[str, str]:
    reader = _FormReader(form_id)
    reader.feed(html)
    return reader.values
