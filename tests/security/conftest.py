"""An org set up only through metadata: roles, permission sets, a group, a queue, sharing rules."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from crm_platform.core import utc_now
from crm_platform.core.tables import group_members, queue_members
from tests.clock import Clock
from tests.security.shared_org import shared, shared_url  # noqa: F401 - a module-scoped org


@pytest.fixture
def people(api, org, load_metadata, make_user):
    """The admin and one user per relationship the matrix needs."""
    load_metadata("security")
    users = SimpleNamespace(admin=api)
    users.rep = make_user("rep@example.com", profile="sales_rep", role="sales_rep")
    users.peer = make_user("peer@example.com", profile="sales_rep", role="sales_rep")
    users.manager = make_user("manager@example.com", profile="sales_rep", role="sales_manager")
    users.vp = make_user("vp@example.com", profile="sales_rep", role="vp_sales")
    users.agent = make_user("agent@example.com", profile="service_agent", role="service_agent")
    users.service_manager = make_user(
        "smgr@example.com", profile="service_agent", role="service_manager"
    )
    users.finance = make_user("finance@example.com", profile="sales_rep")
    users.outsider = make_user("outsider@example.com", profile="sales_rep")
    users.queue_member = make_user("queue@example.com", profile="service_agent")
    users.auditor = make_user("auditor@example.com", profile="sales_rep", sets=("auditor",))
    users.deleter = make_user(
        "deleter@example.com", profile="sales_rep", role="sales_rep", sets=("deleter",)
    )
    with org.db.write() as conn:
        conn.execute(
            group_members.insert().values(group_name="finance", user_id=users.finance.user_id)
        )
        conn.execute(
            queue_members.insert().values(queue_name="support", user_id=users.queue_member.user_id)
        )
    return users


def create(client, obj, **values):
    response = client.post(f"/api/v1/records/{obj}", json=values)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def sees(client, obj, record_id) -> bool:
    """Whether the user sees the record, checked on every read path at once."""
    got = client.get(f"/api/v1/records/{obj}/{record_id}").status_code
    listed = record_id in [
        r["id"] for r in client.get(f"/api/v1/records/{obj}?limit=200").get_json()["records"]
    ]
    counted = client.get(f"/api/v1/records/{obj}?count=true&where=id == '{record_id}'").get_json()[
        "total"
    ]
    assert (got == 200) == listed == (counted == 1), (got, listed, counted)
    if got not in (200, 404):
        raise AssertionError(f"unexpected status {got}")
    return got == 200


def edits(client, obj, record_id) -> bool:
    response = client.patch(f"/api/v1/records/{obj}/{record_id}", json={"name": "changed"})
    assert response.status_code in (200, 403, 404), response.get_json()
    return response.status_code == 200


# --- UI sessions, sign-in and the clock ------------------------------------------------

PASSWORD = "Corr3ct-horse!"


def csrf_token(html: str) -> str:
    """The CSRF token a page carries (a form field or the meta tag)."""
    import re

    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert match, html
    return match.group(1)


def sign_in(client, email: str, password: str = PASSWORD, address: str = "127.0.0.1"):
    """Post the sign-in form as a browser at ``address`` would."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
        environ_base={"REMOTE_ADDR": address},
    )


def page_token(client) -> str:
    """The CSRF token of the signed-in home page (for X-CSRFToken)."""
    return csrf_token(client.get("/").get_data(as_text=True))


def copy_session(source, target) -> None:
    """Give ``target`` the session cookie ``source`` holds (a cookie saved and replayed)."""
    cookie = source.get_cookie("session")
    assert cookie is not None
    target.set_cookie("session", cookie.value)


@pytest.fixture
def clock(org) -> Clock:
    org.clock = Clock(utc_now())
    return org.clock


@pytest.fixture
def make_person(org, app):
    """A user who signs in with a password (and has an API token); returns their API client."""
    from crm_platform.runtime import create_user
    from tests.conftest import ApiClient, make_token

    def make(email: str, *, profile: str | None = None, role: str | None = None):
        with org.db.write() as conn:
            user = create_user(conn, email=email, password=PASSWORD, profile=profile, role=role)
        client = ApiClient(app.test_client(), make_token(org, email))
        client.user_id = user.id
        client.email = email
        return client

    return make


@pytest.fixture
def confidential(api, load_metadata, make_user):
    """The security org plus clients and deals with confidential fields
    (``tests/fixtures/confidential``): sellers may not read a deal's margin nor a
    client's tier; the keeper reads encrypted notes in plaintext; the admin reads all."""
    load_metadata("security")
    load_metadata("confidential")
    users = SimpleNamespace(admin=api)
    users.seller = make_user(
        "seller@example.com", profile="sales_rep", role="sales_rep", sets=("deal_rep",)
    )
    users.other_seller = make_user(
        "other.seller@example.com", profile="sales_rep", role="sales_rep", sets=("deal_rep",)
    )
    users.manager = make_user(
        "deal.manager@example.com", profile="sales_rep", role="sales_manager", sets=("deal_rep",)
    )
    users.keeper = make_user(
        "keeper@example.com", profile="sales_rep", sets=("deal_rep", "vault_keeper")
    )
    return users
