"""Composite runs of updates, and re-imports, are written as one batch: what a user sees
is what running each update alone gives — history, roll-ups, search, errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm_platform.core import Conflict, NotFound, PreconditionFailed
from crm_platform.runtime import find_user
from tests.conftest import ADMIN_EMAIL

REC = "/api/v1/records"


def _patches(obj, changes, **extra):
    return {
        "operations": [
            {"method": "PATCH", "url": f"/records/{obj}/{rid}", "body": body, "ref": f"u{i}"}
            for i, (rid, body) in enumerate(changes)
        ],
        **extra,
    }


def _projects(api, account, count):
    bodies = [
        {"name": f"Old {i}", "budget": 10, "account": account["id"], "code": f"P-{i}"}
        for i in range(count)
    ]
    operations = [{"method": "POST", "url": "/records/project", "body": body} for body in bodies]
    results = api.post("/api/v1/composite", json={"operations": operations}).get_json()
    return [r["body"] for r in results["results"]]


def test_a_batch_of_updates_keeps_history_roll_ups_and_search_current(projects):
    account = projects.post(f"{REC}/account", json={"name": "Acme"}).get_json()
    created = _projects(projects, account, 40)
    changes = [
        (p["id"], {"name": f"Quasar {i}", "budget": 100 + i, "stage": "Active"})
        for i, p in enumerate(created)
    ]

    response = projects.post("/api/v1/composite", json=_patches("project", changes))

    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [200] * 40
    assert [r["body"]["name"] for r in results] == [f"Quasar {i}" for i in range(40)]
    assert {r["body"]["version"] for r in results} == {2}
    assert results[3]["body"]["expected"] == Decimal("51.50")  # formulas read back
    parent = projects.get(f"{REC}/account/{account['id']}").get_json()
    assert parent["total_budget"] == Decimal(sum(100 + i for i in range(40)))
    assert parent["active_budget"] == parent["total_budget"]
    hits = projects.get("/api/v1/search?q=Quasar&limit=100").get_json()["results"]
    assert len([h for h in hits if h["object"] == "project"]) == 40
    assert projects.get("/api/v1/search?q=Old&limit=100").get_json()["results"] == []
    history = projects.get(f"{REC}/project/{created[7]['id']}/history").get_json()["history"]
    assert sorted((e["field"], e["old_value"], e["new_value"]) for e in history) == [
        ("budget", Decimal("10.00"), Decimal("107.00")),
        ("stage", "Planned", "Active"),
    ]


def test_updates_that_change_different_fields_land_together(projects):
    account = projects.post(f"{REC}/account", json={"name": "Acme"}).get_json()
    a, b, c = _projects(projects, account, 3)
    changes = [(a["id"], {"budget": 70}), (b["id"], {"name": "Renamed"}), (c["id"], {})]

    results = projects.post("/api/v1/composite", json=_patches("project", changes)).get_json()

    bodies = [r["body"] for r in results["results"]]
    assert [(r["name"], r["budget"], r["version"]) for r in bodies] == [
        ("Old 0", Decimal("70.00"), 2),
        ("Renamed", Decimal("10.00"), 2),
        ("Old 2", Decimal("10.00"), 1),  # nothing moved: not written
    ]


def test_a_failing_update_gives_the_same_results_as_updating_one_by_one(projects):
    account = projects.post(f"{REC}/account", json={"name": "Acme"}).get_json()
    a, b, c = _projects(projects, account, 3)
    changes = [(a["id"], {"budget": 1}), (b["id"], {"code": "P-0"}), (c["id"], {"budget": 3})]

    all_or_none = projects.post("/api/v1/composite", json=_patches("project", changes))
    assert all_or_none.status_code == 400
    results = all_or_none.get_json()["results"]
    assert [r["status"] for r in results] == [200, 409, 424]
    assert results[1]["body"]["errors"] == {"code": ["already used by another record"]}
    stored = projects.get(f"{REC}/project?order_by=name").get_json()["records"]
    assert [r["budget"] for r in stored] == [Decimal("10.00")] * 3  # nothing changed

    partial = projects.post(
        "/api/v1/composite", json=_patches("project", changes, all_or_none=False)
    )
    assert [r["status"] for r in partial.get_json()["results"]] == [200, 409, 200]
    stored = projects.get(f"{REC}/project?order_by=name").get_json()["records"]
    assert [(r["code"], r["budget"]) for r in stored] == [
        ("P-0", Decimal("1.00")),
        ("P-1", Decimal("10.00")),
        ("P-2", Decimal("3.00")),
    ]


def test_a_rule_refusing_one_record_of_the_batch_names_it(projects):
    account = projects.post(f"{REC}/account", json={"name": "Acme"}).get_json()
    a, b = _projects(projects, account, 2)
    changes = [(a["id"], {"budget": 5}), (b["id"], {"budget": -5})]  # budget_positive

    response = projects.post("/api/v1/composite", json=_patches("project", changes))

    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [200, 400]
    assert "budget" in results[1]["body"]["errors"]


@pytest.fixture
def session_of(org, load_metadata):
    load_metadata("projects")
    with org.db.read() as conn:
        admin = find_user(conn, ADMIN_EMAIL)

    def open_session():
        return org.records.session(admin)

    return open_session


def _create(session_of, count):
    with session_of() as session:
        return [
            r["id"]
            for r in session.create_many(
                "project", [{"name": f"P{i}", "code": f"C-{i}"} for i in range(count)]
            )
        ]


def test_the_service_refuses_a_batch_naming_a_missing_record_and_writes_nothing(session_of):
    ids = _create(session_of, 2)
    with pytest.raises(NotFound), session_of() as session:
        session.update_many(
            "project", [(ids[0], {"budget": 1}, None), ("nope", {"budget": 2}, None)]
        )
    with session_of() as session:
        assert session.get("project", ids[0])["budget"] is None


def test_a_stale_version_in_the_batch_answers_412(session_of):
    ids = _create(session_of, 2)
    with pytest.raises(PreconditionFailed), session_of() as session:
        session.update_many("project", [(ids[0], {"budget": 1}, 1), (ids[1], {"budget": 2}, 7)])
    with session_of() as session:
        records = session.update_many(
            "project", [(ids[0], {"budget": 1}, 1), (ids[1], {"budget": 2}, 1)]
        )
    assert [(r["budget"], r["version"]) for r in records] == [
        (Decimal("1.00"), 2),
        (Decimal("2.00"), 2),
    ]


def test_taking_the_value_another_record_of_the_batch_keeps_is_refused(session_of):
    first, second, third = _create(session_of, 3)
    with pytest.raises(Conflict) as refused, session_of() as session:
        # the second keeps C-1 while the first takes it: the unique index answers
        session.update_many(
            "project", [(first, {"code": "C-1"}, None), (second, {"budget": 4}, None)]
        )
    assert refused.value.extra["errors"] == {"code": ["already used by another record"]}
    with session_of() as session:  # swapping through a free value works
        session.update_many(
            "project", [(first, {"code": "C-9"}, None), (third, {"code": "C-0"}, None)]
        )
        assert session.get("project", third)["code"] == "C-0"
