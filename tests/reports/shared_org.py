"""One reports org per test module: the YAML in tests/fixtures/reports, five users with
different sharing, and seeded accounts, opportunities and cases, kept beside as plain
Python rows so that tests compute every expected number independently of the SQL.

Who sees what (all objects are private): the admin sees everything; the manager
(role sales_manager) sees their own records and those of the two reps below them;
each rep (role sales_rep) sees only their own. ``outsider`` may read opportunities
but not cases, and owns nothing.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from tests.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    FIXTURES,
    ApiClient,
    make_token,
)

STAGES = ["Prospecting", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]
PRIORITIES = ["High", "Medium", "Low", None]
STATUSES = ["New", "Working", "Closed"]


@dataclass
class Person:
    email: str
    id: str
    name: str
    client: ApiClient
    sees: set[str] = field(default_factory=set)  # the owners whose records they see


def build_org(tmp_path_factory, url: str) -> Iterator[SimpleNamespace]:
    """The org, its app, the users as API clients, and the raw rows as created."""
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.core.tables import SYSTEM_USER_ID
    from crm_platform.runtime import create_user, find_user, initialise_org
    from crm_platform.yamlio import read_definitions

    settings = load_settings(url, instance_path=tmp_path_factory.mktemp("instance"))
    org = open_org(settings)
    initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
    definitions = [(kind, d) for kind, d, _ in read_definitions(FIXTURES / "reports")]
    org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)
    app = create_app(settings, org=org)
    users = {}
    with org.db.write() as conn:
        admin = find_user(conn, ADMIN_EMAIL)
        made = {
            "manager": create_user(
                conn, email="manager@example.com", profile="sales_rep", role="sales_manager"
            ),
            "rep1": create_user(
                conn, email="rep1@example.com", profile="sales_rep", role="sales_rep"
            ),
            "rep2": create_user(
                conn, email="rep2@example.com", profile="sales_rep", role="sales_rep"
            ),
            "outsider": create_user(conn, email="outsider@example.com", profile="no_cases"),
        }
    for key, user in {"admin": admin, **made}.items():
        client = ApiClient(app.test_client(), make_token(org, user.email))
        users[key] = Person(user.email, user.id, user.name, client)
    ids = {k: p.id for k, p in users.items()}
    with org.reading() as (_conn, model):
        queue = model.security.queues["deal_desk"].id  # owns some deals: only the admin sees them
    users["admin"].sees = {*ids.values(), queue}
    users["manager"].sees = {ids["manager"], ids["rep1"], ids["rep2"]}
    users["rep1"].sees = {ids["rep1"]}
    users["rep2"].sees = {ids["rep2"]}
    users["outsider"].sees = {ids["outsider"]}
    rows = _seed(org, admin, ids, queue)
    yield SimpleNamespace(org=org, app=app, users=users, queue=queue, **rows)
    org.dispose()


def _seed(org, admin, ids: dict[str, str], queue: str) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(12)
    owners = [ids["rep1"], ids["rep2"], ids["manager"], ids["admin"]]
    deal_owners = [*owners, queue]
    today = date.today()
    accounts = [
        {
            "name": f"Account {i}",
            "industry": rng.choice(["Technology", "Retail"]),
            "annual_revenue": Decimal(rng.randint(1, 900)) * 1000,
            "owner_id": owners[i % 4],
        }
        for i in range(8)
    ]
    with org.records.session(admin) as session:
        for account, made in zip(accounts, session.create_many("account", accounts), strict=True):
            account["id"] = made["id"]
    opportunities = []
    for i in range(90):
        account = rng.choice([*accounts, None])
        opportunities.append(
            {
                "name": f"Deal {i:02d}",
                "amount": rng.choice([None, Decimal(rng.randint(100, 5_000_000)) / 100]),
                "probability": Decimal(rng.randint(0, 100)),
                "stage": rng.choice([*STAGES, None]),
                "close_date": date(
                    today.year - rng.randint(0, 1), rng.randint(1, 12), rng.randint(1, 28)
                ),
                "account": account["id"] if account else None,
                "secret_score": Decimal(rng.randint(0, 9999)) / 100,
                "owner_id": rng.choice(deal_owners),
            }
        )
    cases = []
    for i in range(60):
        status = rng.choice(STATUSES)
        opened = today - timedelta(days=rng.randint(0, 300))
        cases.append(
            {
                "name": f"Case {i:02d}",
                "priority": rng.choice(PRIORITIES),
                "status": status,
                "opened_on": opened,
                "closed_on": opened + timedelta(days=rng.randint(0, 30))
                if status == "Closed"
                else None,
                "owner_id": rng.choice(owners[:3]),
            }
        )
    with org.records.session(admin) as session:
        for kind, items in (("opportunity", opportunities), ("case", cases)):
            payload = [_json(item) for item in items]
            for item, made in zip(items, session.create_many(kind, payload), strict=True):
                item["id"] = made["id"]
    activities = []
    for i in range(40):
        target = rng.choice(["account", "opportunity", "user", None])
        pool = {
            "account": accounts,
            "opportunity": opportunities,
            "user": [{"id": ids[k]} for k in ("rep1", "manager")],
        }.get(target or "", [])
        related = {"object": target, "id": rng.choice(pool)["id"]} if target else None
        activities.append(
            {
                "name": f"Activity {i:02d}",
                "related_to": related,
                "hours": Decimal(rng.randint(1, 80)) / 10,
                "owner_id": rng.choice(owners),
            }
        )
    with org.records.session(admin) as session:
        made = session.create_many("activity", [_json(a) for a in activities])
        for item, record in zip(activities, made, strict=True):
            item["id"] = record["id"]
    return {
        "accounts": accounts,
        "opportunities": opportunities,
        "cases": cases,
        "activities": activities,
    }


def _json(item: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in item.items():
        if value is None:
            continue
        out[key] = value.isoformat() if isinstance(value, date) else value
    return out
