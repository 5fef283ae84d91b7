"""Scenarios 6 and 8: upserts by external id, composite batches, field history."""

from __future__ import annotations

import re
from decimal import Decimal

REC = "/api/v1/records"


def test_upsert_creates_then_updates(projects):
    created = projects.put(f"{REC}/project/by/code/ERP-7", json={"name": "Apollo", "budget": 10})
    updated = projects.put(f"{REC}/project/by/code/ERP-7", json={"budget": 20})

    assert created.status_code == 201 and created.get_json()["code"] == "ERP-7"
    assert updated.status_code == 200
    assert updated.get_json()["id"] == created.get_json()["id"]
    assert updated.get_json()["budget"] == Decimal("20.00")
    assert projects.get(f"{REC}/project?count=true").get_json()["total"] == 1


def test_upsert_needs_an_external_id_field(projects):
    response = projects.put(f"{REC}/project/by/name/Apollo", json={})
    assert response.status_code == 400


def test_duplicate_external_id_is_409(projects):
    projects.post(f"{REC}/project", json={"name": "A", "code": "X"})
    response = projects.post(f"{REC}/project", json={"name": "B", "code": "X"})
    assert response.status_code == 409
    assert response.get_json()["errors"] == {"code": ["already used by another record"]}


def test_composite_references_earlier_results(projects):
    body = {
        "operations": [
            {"method": "POST", "url": "/records/account", "ref": "acme", "body": {"name": "Acme"}},
            {
                "method": "POST",
                "url": "/records/project",
                "ref": "p",
                "body": {"name": "Apollo", "account": "@{acme.id}", "budget": 100},
            },
            {"method": "PATCH", "url": "/records/project/@{p.id}", "body": {"budget": 300}},
            {"method": "GET", "url": "/records/account/@{acme.id}"},
        ]
    }
    response = projects.post("/api/v1/composite", json=body)

    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201, 201, 200, 200]
    assert results[3]["body"]["total_budget"] == Decimal("300.00")


def test_all_or_none_composite_saves_nothing_on_a_failure(projects):
    body = {
        "operations": [
            {"method": "POST", "url": "/records/account", "body": {"name": "Acme"}},
            {"method": "POST", "url": "/records/project", "body": {"name": "Bad", "budget": -1}},
            {"method": "POST", "url": "/records/account", "body": {"name": "Never"}},
        ]
    }
    response = projects.post("/api/v1/composite", json=body)

    assert response.status_code == 400
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201, 400, 424]
    assert results[1]["body"]["errors"] == {"budget": ["The budget cannot be negative"]}
    assert projects.get(f"{REC}/account?count=true").get_json()["total"] == 0


def test_partial_composite_keeps_what_succeeded(projects):
    body = {
        "all_or_none": False,
        "operations": [
            {"method": "POST", "url": "/records/account", "body": {"name": "Acme"}},
            {"method": "POST", "url": "/records/project", "body": {"name": "Bad", "budget": -1}},
            {"method": "POST", "url": "/records/account", "body": {"name": "Globex"}},
        ],
    }
    response = projects.post("/api/v1/composite", json=body)

    assert response.status_code == 200
    assert [r["status"] for r in response.get_json()["results"]] == [201, 400, 201]
    assert projects.get(f"{REC}/account?count=true").get_json()["total"] == 2


def test_composite_limits(projects):
    too_many = {"operations": [{"method": "GET", "url": "/records/account/x"}] * 201}
    assert projects.post("/api/v1/composite", json=too_many).status_code == 400
    assert projects.post("/api/v1/composite", json={"operations": []}).status_code == 400
    bad_method = {"operations": [{"method": "TRACE", "url": "/records/account"}]}
    assert projects.post("/api/v1/composite", json=bad_method).status_code == 400


def test_field_history_records_each_tracked_change(projects, admin_token):
    record = projects.post(f"{REC}/project", json={"name": "A", "budget": 10}).get_json()
    projects.patch(f"{REC}/project/{record['id']}", json={"budget": 20, "name": "B"})
    projects.patch(f"{REC}/project/{record['id']}", json={"stage": "Active"})

    response = projects.get(f"{REC}/project/{record['id']}/history")

    assert response.status_code == 200
    entries = response.get_json()["history"]
    assert [(e["field"], e["old_value"], e["new_value"]) for e in entries] == [
        ("stage", "Planned", "Active"),
        ("budget", Decimal("10.00"), Decimal("20.00")),
    ]
    assert entries[0]["changed_by"]["email"] == "admin@example.com"
    assert entries[0]["changed_at"].endswith("+00:00")


def test_composite_refuses_unknown_keys_naming_them(projects):
    misspelt = {
        "operations": [
            {
                "method": "POST",
                "url": "/records/account",
                "reference_id": "acme",
                "body": {"name": "Acme"},
            }
        ]
    }
    response = projects.post("/api/v1/composite", json=misspelt)
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    errors = response.get_json()["errors"]
    assert list(errors) == ["operations[0].reference_id"]
    assert "method, url, body, ref" in errors["operations[0].reference_id"][0]
    batch = projects.post(
        "/api/v1/composite",
        json={"operations": [{"method": "GET", "url": "/records/account/x"}], "allOrNone": False},
    )
    assert batch.status_code == 400 and list(batch.get_json()["errors"]) == ["allOrNone"]
    assert projects.get(f"{REC}/account").get_json()["records"] == []  # nothing was created


def test_history_shows_values_as_the_record_shows_them(projects):
    record = projects.post(f"{REC}/project", json={"name": "A", "budget": 1000}).get_json()
    projects.patch(f"{REC}/project/{record['id']}", json={"budget": 1200.5})

    shown = projects.get(f"{REC}/project/{record['id']}").data.decode()
    history = projects.get(f"{REC}/project/{record['id']}/history").data.decode()

    # the JSON text itself, as a client reads it
    assert re.search(r'"budget": ?1200\.50[,}]', shown)
    assert re.search(r'"old_value": ?1000\.00[,}]', history)
    assert re.search(r'"new_value": ?1200\.50[,}]', history)
