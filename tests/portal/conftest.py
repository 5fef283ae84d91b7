"""One org per test module for the portal: the service pack, two customer accounts with
their contacts, cases, comments (internal and public) and articles (published and not),
and Ann of Acme invited to the portal and signed in."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient, fresh_database_url, make_token

PASSWORD = "Portal-pass-1"


@pytest.fixture(scope="module")
def portal_url(tmp_path_factory) -> Iterator[str]:
    with fresh_database_url(tmp_path_factory.mktemp("portal")) as url:
        yield url


def _data(org) -> dict[str, str]:
    """The customers' records, created as the admin through the record service."""
    from crm_platform.runtime import find_user

    with org.db.read() as conn:
        admin = find_user(conn, ADMIN_EMAIL)
    ids: dict[str, str] = {}
    with org.records.session(admin) as s:
        ids["acme"] = s.create("account", {"name": "Acme"})["id"]
        ids["globex"] = s.create("account", {"name": "Globex"})["id"]
        for key, first, account in (
            ("ann", "Ann", "acme"),
            ("bob", "Bob", "acme"),
            ("carl", "Carl", "globex"),
        ):
            ids[key] = s.create(
                "contact",
                {
                    "first_name": first,
                    "last_name": "Customer",
                    "email": f"{key}@customer.example",
                    "account": ids[account],
                },
            )["id"]
        for key, contact, account, subject in (
            ("ann_case", "ann", "acme", "Ann's printer is jammed"),
            ("bob_case", "bob", "acme", "Bob's invoice is wrong"),
            ("carl_case", "carl", "globex", "Carl's secret outage"),
        ):
            ids[key] = s.create(
                "case",
                {
                    "subject": subject,
                    "contact": ids[contact],
                    "account": ids[account],
                    "skill": "Technical",
                    "description": f"Details of {subject}",
                },
            )["id"]
        for key, case, internal, body in (
            ("ann_public", "ann_case", False, "We are sending a technician"),
            ("ann_internal", "ann_case", True, "INTERNAL: customer is on a discount hold"),
            ("carl_public", "carl_case", False, "Carl public reply"),
        ):
            ids[key] = s.create(
                "case_comment", {"case": ids[case], "body": body, "internal": internal}
            )["id"]
        ids["published"] = s.create(
            "knowledge_article",
            {
                "title": "Clear a paper jam",
                "body": "Open tray 2 and pull gently.",
                "status": "Published",
            },
        )["id"]
        ids["draft"] = s.create(
            "knowledge_article", {"title": "Unreleased firmware notes", "body": "Draft only"}
        )["id"]
    return ids


@pytest.fixture(scope="module")
def portal(portal_url, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The org, its app, the admin's API client, the records' ids, and Ann's invitation
    accepted (her password set)."""
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.packs import install
    from crm_platform.portal import accept_invitation, invite_contact
    from crm_platform.runtime import find_user, initialise_org

    settings = load_settings(portal_url, instance_path=tmp_path_factory.mktemp("instance"))
    org = open_org(settings)
    initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
    install(org, "service", with_sample=False)
    ids = _data(org)
    with org.db.read() as conn:
        admin = find_user(conn, ADMIN_EMAIL)
    invitation = invite_contact(org, admin, "ann@customer.example")
    with org.db.write() as conn:
        accept_invitation(conn, invitation.token, PASSWORD, org.clock())
    app = create_app(settings, org=org)
    admin_client = ApiClient(app.test_client(), make_token(org, ADMIN_EMAIL))
    yield SimpleNamespace(
        org=org, app=app, admin=admin_client, ids=ids, ann=invitation, settings=settings
    )
    org.dispose()


def sign_in(app, email: str = "ann@customer.example", password: str = PASSWORD):
    """A test client signed in to the portal (CSRF is checked: the token is read first)."""
    client = app.test_client()
    token = csrf_of(client.get("/portal/login").get_data(as_text=True))
    response = client.post(
        "/portal/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def csrf_of(html: str) -> str:
    import re

    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert found, html
    return found.group(1)
