"""Composite runs of creates are written as one batch: what a user sees is what
running each create alone gives — numbers, roll-ups, search, errors."""

from __future__ import annotations

import uuid
from decimal import Decimal

from crm_platform.core import new_id, new_ids

REC = "/api/v1/records"


def _creates(obj, bodies, **extra):
    return {
        "operations": [
            {"method": "POST", "url": f"/records/{obj}", "body": body, "ref": f"r{i}"}
            for i, body in enumerate(bodies)
        ],
        **extra,
    }


def test_a_batch_of_creates_numbers_rolls_up_and_indexes_every_record(projects):
    account = projects.post(f"{REC}/account", json={"name": "Acme"}).get_json()
    bodies = [
        {"name": f"Zephyr {i}", "budget": 10 * i, "stage": "Active", "account": account["id"]}
        for i in range(1, 51)
    ]
    response = projects.post("/api/v1/composite", json=_creates("project", bodies))

    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201] * 50
    assert [r["body"]["name"] for r in results] == [b["name"] for b in bodies]
    numbers = [r["body"]["number"] for r in results]
    assert numbers == [f"PRJ-{n:05d}" for n in range(1, 51)]  # gap-free, in order
    assert results[0]["body"]["expected"] == Decimal("5.00")  # formulas read back
    parent = projects.get(f"{REC}/account/{account['id']}").get_json()
    assert parent["project_count"] == 50
    assert parent["total_budget"] == Decimal(sum(10 * i for i in range(1, 51)))
    assert parent["active_budget"] == parent["total_budget"]
    found = projects.get("/api/v1/search?q=Zephyr&limit=100").get_json()
    assert len([h for h in found["results"] if h["object"] == "project"]) == 50
    after = projects.post(f"{REC}/project", json={"name": "Next"}).get_json()
    assert after["number"] == "PRJ-00051"


def test_a_later_reference_to_the_batch_sees_its_results(projects):
    body = _creates("account", [{"name": "A"}, {"name": "B"}])
    body["operations"].append(
        {"method": "POST", "url": "/records/project", "body": {"name": "P", "account": "@{r1.id}"}}
    )
    results = projects.post("/api/v1/composite", json=body).get_json()["results"]
    assert results[2]["body"]["account"] == results[1]["body"]["id"]


def test_a_failing_record_gives_the_same_results_as_creating_one_by_one(projects):
    bodies = [{"name": "A", "code": "X-1"}, {"name": "B", "code": "X-1"}, {"name": "C"}]

    all_or_none = projects.post("/api/v1/composite", json=_creates("project", bodies))
    assert all_or_none.status_code == 400
    results = all_or_none.get_json()["results"]
    assert [r["status"] for r in results] == [201, 409, 424]
    assert results[1]["body"]["errors"] == {"code": ["already used by another record"]}
    assert projects.get(f"{REC}/project?count=true").get_json()["total"] == 0

    partial = projects.post(
        "/api/v1/composite", json=_creates("project", bodies, all_or_none=False)
    )
    assert partial.status_code == 200
    assert [r["status"] for r in partial.get_json()["results"]] == [201, 409, 201]
    names = [r["name"] for r in projects.get(f"{REC}/project").get_json()["records"]]
    assert sorted(names) == ["A", "C"]
    numbers = sorted(r["number"] for r in projects.get(f"{REC}/project").get_json()["records"])
    assert numbers == ["PRJ-00001", "PRJ-00002"]  # the failed batch took no numbers


def test_a_batch_gives_its_records_ids_in_their_order_after_those_made_before(projects):
    before = projects.post(f"{REC}/account", json={"name": "Before"}).get_json()["id"]
    bodies = [{"name": f"Batch {i}"} for i in range(200)]  # as many as a composite takes
    response = projects.post("/api/v1/composite", json=_creates("account", bodies))
    batch = [r["body"]["id"] for r in response.get_json()["results"]]
    after = projects.post(f"{REC}/account", json={"name": "After"}).get_json()["id"]

    ids = [before, *batch, after]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(str(uuid.UUID(i)) == i and uuid.UUID(i).version == 7 for i in ids)
    project = {"name": "Linked", "stage": "Active", "account": batch[-1]}
    assert projects.post(f"{REC}/project", json=project).status_code == 201


def test_an_import_batch_of_ids_counts_up_past_the_first_counter_digit():
    """An import's batches are larger than a composite's: 1,000 ids, in order, valid."""
    ids = [new_id(), *new_ids(1000), new_id()]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(str(uuid.UUID(i)) == i and uuid.UUID(i).version == 7 for i in ids)
