"""The org every report benchmark measures (report_bench, export_bench): private
``account``, ``opportunity`` and ``case`` objects, a role chain CEO > VP > director >
manager > 20 reps owning the records, and records bulk-inserted with SQLAlchemy Core
(the benchmarks measure reading, not the record service's writes)."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from crm_platform.assembly import open_org
from crm_platform.core import load_settings, new_id, utc_now
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.runtime import create_user, find_user, initialise_org

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
ADMIN_EMAIL = "bench@example.com"
STAGES = ["Prospecting", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]
ROLES = ["ceo", "vp", "director", "manager", "rep"]

OBJECTS = [
    {
        "api_name": "account",
        "sharing": "private",
        "fields": [{"api_name": "name", "type": "text", "required": True}],
    },
    {
        "api_name": "opportunity",
        "sharing": "private",
        "fields": [
            {"api_name": "name", "type": "text", "required": True},
            {"api_name": "amount", "type": "currency"},
            {"api_name": "probability", "type": "percent"},
            {"api_name": "stage", "type": "picklist", "values": STAGES},
            {"api_name": "close_date", "type": "date"},
            {"api_name": "account", "type": "lookup", "target": "account"},
            {
                "api_name": "is_won",
                "type": "formula",
                "return_type": "boolean",
                "expression": "stage == 'Closed Won'",
            },
            {
                "api_name": "is_closed",
                "type": "formula",
                "return_type": "boolean",
                "expression": "stage in ('Closed Won', 'Closed Lost')",
            },
        ],
    },
    {
        "api_name": "case",
        "sharing": "private",
        "fields": [
            {"api_name": "name", "type": "text", "required": True},
            {"api_name": "priority", "type": "picklist", "values": ["High", "Medium", "Low"]},
            {"api_name": "status", "type": "picklist", "values": ["New", "Working", "Closed"]},
            {"api_name": "opened_on", "type": "date"},
            {"api_name": "closed_on", "type": "date"},
            {
                "api_name": "age_days",
                "type": "formula",
                "return_type": "integer",
                "expression": "DAYS_BETWEEN(opened_on, BLANKVALUE(closed_on, TODAY()))",
            },
        ],
    },
]


def build_org(url: str, folder: Path, size: int, reports: Sequence[Mapping[str, Any]] = ()):
    """A new org at ``url``: the objects above, a role chain of five levels, 24 users
    (``people``: admin, ceo, vp, director, manager, rep), ``size`` opportunities,
    ``size // 10`` cases and ``size // 50`` accounts, and the ``reports`` given."""
    org = open_org(load_settings(url, instance_path=folder / "instance"))
    initialise_org(org, admin_email=ADMIN_EMAIL, admin_password="S3cure-pass!")
    roles = [("role", {"api_name": ROLES[0]})] + [
        ("role", {"api_name": name, "parent": ROLES[i]}) for i, name in enumerate(ROLES[1:])
    ]
    profile = {
        "api_name": "bench_rep",
        "objects": {name: {"read": True} for name in ("account", "opportunity", "case")},
        "system": ["api_enabled"],
    }
    definitions = [("object", o) for o in OBJECTS] + roles + [("permission_set", profile)]
    definitions += [("report", r) for r in reports]
    org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)
    people: dict[str, Any] = {}
    owners: list[str] = []
    with org.db.write() as conn:
        people["admin"] = find_user(conn, ADMIN_EMAIL)
        for name in ROLES[:-1]:
            user = create_user(conn, email=f"{name}@example.com", profile="bench_rep", role=name)
            people[name] = user
            owners.append(user.id)
        for i in range(20):
            user = create_user(conn, email=f"rep{i}@example.com", profile="bench_rep", role="rep")
            people.setdefault("rep", user)
            owners.append(user.id)
    insert_records(org, owners, size)
    return org, people


def insert_records(org, owners: list[str], size: int) -> None:
    rng = random.Random(7)
    today = datetime.now(UTC).date()
    with org.db.write() as conn:
        model = org.models.model_for(conn)
        accounts = _insert(
            conn,
            model.objects["account"],
            owners,
            size // 50 or 1,
            rng,
            lambda i: {"name": f"Account {i}"},
        )
        _insert(
            conn,
            model.objects["opportunity"],
            owners,
            size,
            rng,
            lambda i: {
                "name": f"Deal {i}",
                "amount": Decimal(rng.randint(100, 10_000_000)) / 100,
                "probability": Decimal(rng.randint(0, 100)),
                "stage": rng.choice(STAGES),
                "close_date": date(
                    today.year - rng.randint(0, 1), rng.randint(1, 12), rng.randint(1, 28)
                ),
                "account": rng.choice(accounts),
            },
        )

        def case(i: int) -> dict[str, Any]:
            status = rng.choice(["New", "Working", "Closed"])
            opened = today - timedelta(days=rng.randint(0, 365))
            closed = opened + timedelta(days=rng.randint(0, 30)) if status == "Closed" else None
            return {
                "name": f"Case {i}",
                "priority": rng.choice(["High", "Medium", "Low"]),
                "status": status,
                "opened_on": opened,
                "closed_on": closed,
            }

        _insert(conn, model.objects["case"], owners, size // 10 or 1, rng, case)


def _insert(conn, obj, owners, count: int, rng, values: Callable[[int], dict]) -> list[str]:
    ids = []
    batch = []
    now = utc_now()
    for i in range(count):
        record_id = new_id()
        ids.append(record_id)
        row = {
            "id": record_id,
            "owner_id": rng.choice(owners),
            "created_by": SYSTEM_USER_ID,
            "updated_by": SYSTEM_USER_ID,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for name, value in values(i).items():
            row[obj.fields[name].columns[""].name] = value
        batch.append(row)
        if len(batch) == 5000:
            conn.execute(obj.table.insert(), batch)
            batch = []
    if batch:
        conn.execute(obj.table.insert(), batch)
    return ids
