"""Dependent picklists and hierarchy lookups are enforced by the record service."""

from __future__ import annotations

REC = "/api/v1/records"


def test_dependent_picklist_values_follow_their_controlling_field(api):
    api.post(
        "/api/v1/metadata/objects",
        json={
            "api_name": "address_book",
            "fields": [
                {"api_name": "country", "type": "picklist", "values": ["Norway", "Japan"]},
                {
                    "api_name": "city",
                    "type": "picklist",
                    "controlling_field": "country",
                    "values": [
                        {"value": "Oslo", "valid_for": ["Norway"]},
                        {"value": "Tokyo", "valid_for": ["Japan"]},
                        "Anywhere",
                    ],
                },
            ],
        },
    )
    ok = api.post(f"{REC}/address_book", json={"name": "a", "country": "Norway", "city": "Oslo"})
    assert ok.status_code == 201
    assert (
        api.post(
            f"{REC}/address_book", json={"name": "b", "country": "Japan", "city": "Anywhere"}
        ).status_code
        == 201
    )
    wrong = api.post(f"{REC}/address_book", json={"name": "c", "country": "Japan", "city": "Oslo"})
    assert wrong.status_code == 400
    assert wrong.get_json()["errors"]["city"] == ["'Oslo' is not valid when country is 'Japan'"]
    moved = api.patch(f"{REC}/address_book/{ok.get_json()['id']}", json={"country": "Japan"})
    assert moved.status_code == 400 and "city" in moved.get_json()["errors"]


def test_a_hierarchy_lookup_refuses_cycles(api):
    api.post(
        "/api/v1/metadata/objects",
        json={
            "api_name": "account",
            "fields": [
                {
                    "api_name": "parent_account",
                    "type": "lookup",
                    "target": "account",
                    "hierarchy": True,
                },
            ],
        },
    )
    top = api.post(f"{REC}/account", json={"name": "Top"}).get_json()
    middle = api.post(
        f"{REC}/account", json={"name": "Middle", "parent_account": top["id"]}
    ).get_json()
    bottom = api.post(
        f"{REC}/account", json={"name": "Bottom", "parent_account": middle["id"]}
    ).get_json()

    loop = api.patch(f"{REC}/account/{top['id']}", json={"parent_account": bottom["id"]})
    itself = api.patch(f"{REC}/account/{top['id']}", json={"parent_account": top["id"]})

    assert (
        loop.status_code == 400 and "own ancestor" in loop.get_json()["errors"]["parent_account"][0]
    )
    assert itself.status_code == 400
    assert api.get(f"{REC}/account/{top['id']}").get_json()["parent_account"] is None
