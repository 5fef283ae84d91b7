"""A small sales org for the end-user app's tests: accounts, opportunities (formula,
roll-up, tracked fields, a field hidden from reps, one they may only read), notes, a
layout, two list views and the Sales app — built from tests/fixtures/webapp."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

from tests.conftest import ADMIN_EMAIL, FIXTURES

REP_EMAIL = "rep@example.com"
OTHER_EMAIL = "other@example.com"
MANAGER_EMAIL = "manager@example.com"
REP_PASSWORD = "Rep-pass-2026!"


def build_sales_org(org, edit=None) -> SimpleNamespace:
    """Apply the metadata, add two reps (with passwords, to sign in) and some records:
    the rep owns 30 opportunities on two accounts; the other rep one, not shared; their
    manager (the rep's role is below theirs) one. ``edit(definitions)`` may change the
    metadata first."""
    from crm_platform.core.tables import SYSTEM_USER_ID
    from crm_platform.runtime import create_user, find_user
    from crm_platform.yamlio import read_definitions

    definitions = [(kind, d) for kind, d, _ in read_definitions(FIXTURES / "webapp")]
    if edit is not None:  # a test's own variant of the metadata
        definitions = edit(definitions)
    org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)
    with org.db.write() as conn:
        rep = create_user(
            conn,
            email=REP_EMAIL,
            name="Rita Rep",
            password=REP_PASSWORD,
            profile="rep",
            role="sales_rep",
        )
        other = create_user(
            conn,
            email=OTHER_EMAIL,
            name="Oscar Other",
            password=REP_PASSWORD,
            profile="rep",
            role="partner_rep",
        )
        manager = create_user(
            conn,
            email=MANAGER_EMAIL,
            name="Mona Manager",
            password=REP_PASSWORD,
            profile="rep",
            role="sales_manager",
        )
        admin = find_user(conn, ADMIN_EMAIL)
    with org.records.session(rep) as session:
        acme = session.create("account", {"name": "Acme", "industry": "Technology"})
        globex = session.create("account", {"name": "Globex", "industry": "Retail"})
    with org.records.session(admin) as session:  # reps may not set the probability
        deals = session.create_many(
            "opportunity",
            [
                {
                    "name": f"Deal {n:02d}",
                    "amount": str(1000 + n * 100),
                    "probability": "10",
                    "stage": "Proposal" if n % 3 == 0 else "Prospecting",
                    "account": (acme if n % 2 else globex)["id"],
                    "close_date": f"2026-{1 + n % 12:02d}-15",
                    "owner_id": rep.id,
                }
                for n in range(1, 31)
            ],
        )
    with org.records.session(other) as session:
        secret = session.create("opportunity", {"name": "Secret merger", "amount": "999"})
    with org.records.session(manager) as session:
        session.create("opportunity", {"name": "Manager's own deal", "amount": "5"})
    return SimpleNamespace(
        manager=manager,
        rep=rep,
        other=other,
        admin=admin,
        acme=acme,
        globex=globex,
        deals=deals,
        secret=secret,
    )


@contextmanager
def sales_app(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The sales org on a fresh database with its Flask app (the page tests' fixture):
    ``org``, ``app``, an admin's ``api`` client and what :func:`build_sales_org` made."""
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.runtime import initialise_org
    from tests.conftest import ADMIN_PASSWORD, ApiClient, fresh_database_url, make_token

    with fresh_database_url(tmp_path_factory.mktemp("pages")) as url:
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
