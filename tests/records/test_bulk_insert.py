"""A batch of records of every stored type is written as one record alone is: a batch of
fifty or more goes in by COPY on PostgreSQL, a smaller one by executemany (core.bulk)."""

from __future__ import annotations

import pytest

from crm_platform.core import Conflict
from tests.conftest import ADMIN_EMAIL
from tests.metadata.test_field_types import project  # noqa: F401  (the fixture)

REC = "/api/v1/records"
STAMPS = {"id", "erp_id", "number", "created_at", "updated_at", "version", "task_count"}


def _values(account_id: str) -> dict:
    return {
        "name": "Launch",
        "title": "Launch",
        "notes": "two\nlines, a tab\there and a backslash \\ ",
        "body": "<b>bold</b>",
        "email": "ann@example.com",
        "phone": "+1 555 0100",
        "website": "https://example.com/a?b=c",
        "seats": 5,
        "ratio": "1.2345",
        "budget": "99.50",
        "probability": "12.5",
        "active": False,
        "start_date": "2024-03-05",
        "kickoff_at": "2024-03-05T09:30:00+02:00",
        "daily_call": "09:30:00",
        "stage": "Won",
        "tags": ["a", "b"],
        "account": account_id,
        "related_to": {"object": "account", "id": account_id},
        "secret": "s3cret",
        "extra": {"nested": [1, "two", None], "quote": "\"'"},
        "site": {"street": "1 Main St", "city": "Bonn"},
        "sponsor": {"first": "Ann", "last": "Lee"},
    }


def test_a_batch_of_every_type_reads_back_as_a_single_record_does(api, org, project):  # noqa: F811
    from crm_platform.runtime import find_user

    account = api.post(f"{REC}/account", json={"name": "Acme"}).get_json()
    values = _values(account["id"])
    single = api.post(f"{REC}/project", json={**values, "erp_id": "E-0"})
    assert single.status_code == 201, single.get_json()
    with org.db.read() as conn:
        admin = find_user(conn, ADMIN_EMAIL)
    for size in (3, 60):  # executemany, then COPY on PostgreSQL
        with org.records.session(admin) as session:
            made = session.create_many(
                "project", [{**values, "erp_id": f"E-{size}-{i}"} for i in range(size)]
            )
        expected = {k: v for k, v in single.get_json().items() if k not in STAMPS}
        for record in (made[0], made[-1]):
            shown = api.get(f"{REC}/project/{record['id']}").get_json()
            assert {k: v for k, v in shown.items() if k not in STAMPS} == expected


def test_a_batch_clashing_on_a_unique_value_is_refused_whole(api, org, project):  # noqa: F811
    from crm_platform.runtime import find_user

    taken = api.post(f"{REC}/project", json={"name": "Taken", "erp_id": "E-1"})
    assert taken.status_code == 201, taken.get_json()
    with org.db.read() as conn:
        admin = find_user(conn, ADMIN_EMAIL)
    rows = [{"name": f"P{i}", "erp_id": f"E-{i}"} for i in range(2, 80)]
    rows.append({"name": "Clash", "erp_id": "E-1"})
    with pytest.raises(Conflict), org.records.session(admin) as session:
        session.create_many("project", rows)
    listed = api.get(f"{REC}/project?limit=200").get_json()
    assert [r["name"] for r in listed["records"]] == ["Taken"]
