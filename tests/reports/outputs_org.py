"""The org of the report output tests, built once per module from
tests/fixtures/report_outputs (opportunities, accounts, cases, their reports, the
sales dashboard) and people.

* the admin (every permission, export_data included);
* ``rep@example.com``, a sales rep (private sharing: sees the deals they own) who
  may export (the ``exporter`` permission set);
* ``opps@example.com``, who may read opportunities but not cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tests.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    FIXTURES,
    ApiClient,
    fresh_database_url,
    make_token,
)

# (name, stage, amount, probability, owner: admin|rep, close date)
DEALS = [
    ("Acme renewal", "Prospecting", "100000.00", "10", "admin", "2026-03-05"),
    ("北京大单", "Prospecting", "250000.50", "20", "rep", "2026-03-20"),
    ("Globex", "Negotiation", "300000.00", "60", "admin", "2026-04-01"),
    ("Initech", "Negotiation", "=1+1 deal", "60", "rep", None),  # a formula-like name
    ("Umbrella", "Closed Won", "80000.00", "100", "admin", "2026-03-31"),
    ("Hooli", "Closed Lost", "40000.00", "0", "rep", None),
]


@pytest.fixture(scope="module")
def outputs_url(tmp_path_factory) -> Iterator[str]:
    with fresh_database_url(tmp_path_factory.mktemp("outputs")) as url:
        yield url


@pytest.fixture(scope="module")
def outputs(outputs_url, tmp_path_factory) -> Iterator[SimpleNamespace]:
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.core.tables import SYSTEM_USER_ID, user_permission_sets
    from crm_platform.runtime import create_user, initialise_org
    from crm_platform.yamlio import read_definitions

    settings = load_settings(outputs_url, instance_path=tmp_path_factory.mktemp("instance"))
    org = open_org(settings)
    initialise_org(
        org,
        admin_email=ADMIN_EMAIL,
        admin_password=ADMIN_PASSWORD,
        time_zone="Asia/Shanghai",
        currency="CNY",
    )
    definitions = [
        (kind, d)
        for folder in ("report_outputs",)
        for kind, d, _ in read_definitions(FIXTURES / folder)
    ]
    org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)
    with org.db.write() as conn:
        rep = create_user(conn, email="rep@example.com", profile="sales_rep", role="sales_rep")
        conn.execute(
            user_permission_sets.insert().values(user_id=rep.id, permission_set="exporter")
        )
        create_user(conn, email="opps@example.com", profile="no_cases")
    app = create_app(settings, org=org)
    clients = {
        who: ApiClient(app.test_client(), make_token(org, email))
        for who, email in (
            ("admin", ADMIN_EMAIL),
            ("rep", "rep@example.com"),
            ("opps", "opps@example.com"),
        )
    }
    deals = []
    for name, stage, amount, probability, owner, close_date in DEALS:
        body = {"name": name, "stage": stage, "probability": probability}
        if close_date:
            body["close_date"] = close_date
        if not amount.startswith("="):
            body["amount"] = amount
        else:
            body["name"] = amount
        response = clients[owner].post("/api/v1/records/opportunity", json=body)
        assert response.status_code == 201, response.get_json()
        deals.append(response.get_json())
    case = {"name": "Broken", "priority": "High", "status": "New", "opened_on": "2026-01-05"}
    assert clients["admin"].post("/api/v1/records/case", json=case).status_code == 201
    yield SimpleNamespace(org=org, app=app, deals=deals, **clients)
    org.dispose()


def open_deals(deals, owner_id: str | None = None) -> list[dict]:
    """The open deals (the pipeline report's filter), of one owner when given."""
    return [
        d
        for d in deals
        if d["stage"] not in ("Closed Won", "Closed Lost")
        and (owner_id is None or d["owner_id"] == owner_id)
    ]


def total(deals) -> Decimal:
    """The sum of the deals' amounts (blank amounts count nothing)."""
    return sum((Decimal(d["amount"]) for d in deals if d.get("amount") is not None), Decimal(0))
