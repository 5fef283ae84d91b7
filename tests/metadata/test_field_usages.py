"""Where a field is used: every component that names it, and a delete refused while it is."""

from __future__ import annotations

import pytest

OBJECTS = "/api/v1/metadata/objects"


@pytest.fixture
def crm(api, load_metadata):
    load_metadata("renames")
    return api


def _usages(api, object_name, field_name):
    response = api.get(f"{OBJECTS}/{object_name}/fields/{field_name}/usages")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["usages"]


def test_usages_list_every_component_that_refers_to_a_field(crm):
    assert _usages(crm, "deal", "amount") == [
        {"kind": "field", "name": "account.open_pipeline", "where": "field"},
        {"kind": "field", "name": "account.open_pipeline", "where": "filter"},
        {"kind": "field", "name": "deal.expected", "where": "expression"},
        {"kind": "field", "name": "deal.probability", "where": "default_expression"},
        {"kind": "permission_set", "name": "sales_rep", "where": "fields.deal.amount"},
        {"kind": "sharing_rule", "name": "deal.big_deals", "where": "criteria"},
        {"kind": "validation_rule", "name": "deal.positive", "where": "condition"},
        {"kind": "validation_rule", "name": "deal.positive", "where": "field"},
    ]


def test_usages_follow_lookups_and_name_the_other_kinds_of_reference(crm):
    assert _usages(crm, "account", "industry") == [
        {"kind": "field", "name": "deal.sector", "where": "expression"},
        {"kind": "permission_set", "name": "sales_rep", "where": "fields.account.industry"},
        {"kind": "sharing_rule", "name": "deal.big_deals", "where": "criteria"},
    ]
    assert _usages(crm, "deal", "account") == [  # the lookup a dotted path walks through
        {"kind": "field", "name": "account.open_pipeline", "where": "relation"},
        {"kind": "field", "name": "deal.sector", "where": "expression"},
        {"kind": "sharing_rule", "name": "deal.big_deals", "where": "criteria"},
    ]
    assert _usages(crm, "account", "country") == [
        {"kind": "field", "name": "account.city", "where": "controlling_field"},
    ]
    assert _usages(crm, "deal", "title") == [
        {"kind": "object", "name": "deal", "where": "name_field"}
    ]


def test_an_unused_field_has_no_usages_and_an_unknown_one_is_404(crm):
    assert _usages(crm, "deal", "related_to") == []
    assert crm.get(f"{OBJECTS}/deal/fields/nope/usages").status_code == 404
    assert crm.get(f"{OBJECTS}/nope/fields/amount/usages").status_code == 404


def test_deleting_or_purging_a_field_in_use_is_refused_with_the_list(crm):
    version = crm.get("/api/v1/metadata").get_json()["version"]

    deleted = crm.delete(f"{OBJECTS}/account/fields/industry")
    purged = crm.delete(f"{OBJECTS}/account/fields/industry?purge=true&confirm=industry")

    for response in (deleted, purged):
        assert response.status_code == 409
        body = response.get_json()
        assert "used by 3 component(s)" in body["detail"]
        assert {"kind": "field", "name": "deal.sector", "where": "expression"} in body["usages"]
    assert crm.get("/api/v1/metadata").get_json()["version"] == version
    assert crm.get(f"{OBJECTS}/account/fields/industry").get_json().get("status") is None


def test_a_field_no_longer_used_can_be_deleted(crm):
    crm.delete(f"{OBJECTS}/deal/fields/sector")
    crm.delete("/api/v1/metadata/sharing_rules/deal.big_deals")
    rep = crm.get("/api/v1/metadata/permission_sets/sales_rep").get_json()
    rep["fields"].pop("account.industry")
    assert crm.put("/api/v1/metadata/permission_sets/sales_rep", json=rep).status_code == 200

    response = crm.delete(f"{OBJECTS}/account/fields/industry")

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "deleted"
