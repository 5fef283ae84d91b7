"""Renaming objects and fields: metadata only, every reference rewritten in one revision,
the old name still answered to (deprecated), history and rollback intact."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import physical, read_column

OBJECTS = "/api/v1/metadata/objects"
RECORDS = "/api/v1/records"


@pytest.fixture
def crm(api, load_metadata):
    """Accounts and deals that name each other in every way metadata can."""
    load_metadata("renames")
    return api


def _definition(api, object_name):
    response = api.get(f"{OBJECTS}/{object_name}")
    assert response.status_code == 200, response.get_json()
    return {f["api_name"]: f for f in response.get_json()["fields"]} | {
        "(header)": response.get_json()
    }


def _component(api, plural, name):
    response = api.get(f"/api/v1/metadata/{plural}/{name}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _version(api):
    return api.get("/api/v1/metadata").get_json()["version"]


def _create(api, object_name, **values):
    response = api.post(f"{RECORDS}/{object_name}", json=values)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_renaming_a_field_rewrites_every_reference_in_one_revision(crm, org):
    column = physical(org, "deal", "amount")["columns"][""]
    version = _version(crm)

    response = crm.patch(f"{OBJECTS}/deal/fields/amount", json={"api_name": "total"})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["api_name"] == "total"
    assert _version(crm) == version + 1  # one change set, one revision
    deal = _definition(crm, "deal")
    assert "amount" not in deal
    assert deal["expected"]["expression"] == "total * probability / 100"
    assert deal["probability"]["default_expression"] == "IF(total > 1000, 50, 10)"
    account = _definition(crm, "account")
    assert account["open_pipeline"]["field"] == "total"
    assert account["open_pipeline"]["filter"] == "total > 0"
    rule = _component(crm, "validation_rules", "deal.positive")
    assert (rule["condition"], rule["field"]) == ("total < 0", "total")
    sharing = _component(crm, "sharing_rules", "deal.big_deals")
    assert sharing["criteria"] == "total > 100000 and account.industry == 'Energy'"
    rep = _component(crm, "permission_sets", "sales_rep")
    assert rep["fields"] == {
        "deal.total": {"read": True, "edit": False},
        "account.industry": {"read": True, "edit": False},
    }
    # metadata only: the same column, the data untouched
    assert physical(org, "deal", "total")["columns"][""] == column


def test_a_field_reached_through_a_lookup_is_renamed_in_dotted_paths(crm):
    response = crm.patch(f"{OBJECTS}/account/fields/industry", json={"api_name": "sector"})

    assert response.status_code == 200, response.get_json()
    assert _definition(crm, "deal")["sector"]["expression"] == "UPPER(account.sector)"
    sharing = _component(crm, "sharing_rules", "deal.big_deals")
    assert sharing["criteria"] == "amount > 100000 and account.sector == 'Energy'"
    assert "account.sector" in _component(crm, "permission_sets", "sales_rep")["fields"]


def test_renaming_a_controlling_picklist_and_a_name_field(crm):
    assert crm.patch(f"{OBJECTS}/account/fields/country", json={"api_name": "land"}).status_code
    assert crm.patch(f"{OBJECTS}/deal/fields/title", json={"api_name": "subject"}).status_code

    assert _definition(crm, "account")["city"]["controlling_field"] == "land"
    assert _definition(crm, "deal")["(header)"]["name_field"] == "subject"
    deal = _create(crm, "deal", subject="Big one", amount="10")
    hits = crm.get("/api/v1/search?q=Big one").get_json()["results"]
    assert {"object": "deal", "id": deal["id"], "name": "Big one"} in hits


def test_renaming_an_object_rewrites_lookups_rollups_rules_and_permissions(crm, org):
    account = _create(crm, "account", name="Acme")
    deal = _create(crm, "deal", title="Rocket", amount="1500", account=account["id"])
    linked = _create(crm, "deal", title="Linked", related_to={"object": "deal", "id": deal["id"]})
    table = physical(org, "deal")

    response = crm.patch(f"{OBJECTS}/deal", json={"api_name": "opportunity", "label": "Opp"})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["api_name"] == "opportunity"
    assert response.get_json()["label"] == "Opp"
    assert physical(org, "opportunity") == table
    assert crm.get(f"{OBJECTS}/deal").status_code == 404
    account_fields = _definition(crm, "account")
    assert account_fields["open_pipeline"]["relation"] == "opportunity.account"
    opportunity = _definition(crm, "opportunity")
    assert opportunity["related_to"]["targets"] == ["account", "opportunity"]
    assert _component(crm, "validation_rules", "opportunity.positive")["object"] == "opportunity"
    assert _component(crm, "sharing_rules", "opportunity.big_deals")["object"] == "opportunity"
    assert crm.get("/api/v1/metadata/validation_rules/deal.positive").status_code == 404
    rep = _component(crm, "permission_sets", "sales_rep")
    assert "opportunity" in rep["objects"] and "deal" not in rep["objects"]
    assert "opportunity.amount" in rep["fields"]
    assert _component(crm, "queues", "deal_desk")["objects"] == ["opportunity"]
    # the records are there under the new name, polymorphic references included
    got = crm.get(f"{RECORDS}/opportunity/{linked['id']}").get_json()
    assert got["related_to"] == {"object": "opportunity", "id": deal["id"]}
    assert crm.get(f"{RECORDS}/account/{account['id']}").get_json()["open_pipeline"] == (
        Decimal("1500.00")
    )
    hits = crm.get("/api/v1/search?q=Rocket").get_json()["results"]
    assert [(h["object"], h["id"]) for h in hits] == [("opportunity", deal["id"])]
    assert crm.post(f"{RECORDS}/opportunity", json={"title": "x", "amount": -1}).status_code == 400


def test_the_old_names_keep_working_with_a_deprecation_header(crm):
    crm.patch(f"{OBJECTS}/deal/fields/amount", json={"api_name": "total"})
    crm.patch(f"{OBJECTS}/deal", json={"api_name": "opportunity"})

    created = crm.post(f"{RECORDS}/deal", json={"title": "Old style", "amount": "250"})

    assert created.status_code == 201, created.get_json()
    assert created.headers["Deprecation"].startswith("@")
    assert '</api/v1/records/opportunity>; rel="successor-version"' in created.headers["Link"]
    assert created.get_json()["total"] == Decimal("250.00")
    listed = crm.get(f"{RECORDS}/deal?where=amount > 100&fields=title,amount&order_by=-amount")
    assert listed.status_code == 200, listed.get_json()
    assert listed.get_json()["records"][0]["total"] == Decimal("250.00")
    assert "Deprecation" in listed.headers
    assert "/api/v1/metadata/objects/opportunity/fields/total" in listed.headers["Link"]
    current = crm.get(f"{RECORDS}/opportunity?fields=title,total")
    assert current.status_code == 200 and "Deprecation" not in current.headers


def test_a_composite_batch_may_use_the_old_names(crm):
    crm.patch(f"{OBJECTS}/deal/fields/amount", json={"api_name": "total"})
    crm.patch(f"{OBJECTS}/deal", json={"api_name": "opportunity"})

    response = crm.post(
        "/api/v1/composite",
        json={
            "operations": [
                {"method": "POST", "url": "/records/deal", "ref": "d", "body": {"title": "C"}},
                {"method": "PATCH", "url": "/records/deal/@{d.id}", "body": {"amount": "9"}},
            ]
        },
    )

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["results"][1]["body"]["total"] == Decimal("9.00")
    assert "Deprecation" in response.headers


def test_an_old_name_ends_when_taken_or_removed(crm):
    crm.patch(f"{OBJECTS}/deal/fields/amount", json={"api_name": "total"})
    crm.patch(f"{OBJECTS}/deal", json={"api_name": "opportunity"})
    aliases = crm.get(f"{OBJECTS}/opportunity/aliases").get_json()
    assert aliases["object"]["name"] == "deal"
    assert aliases["fields"]["total"]["name"] == "amount"

    removed = crm.delete(f"{OBJECTS}/opportunity/aliases/deal")
    taken = crm.post(f"{OBJECTS}/opportunity/fields", json={"api_name": "amount", "type": "text"})

    assert removed.status_code == 200 and taken.status_code == 201
    assert crm.get(f"{RECORDS}/deal").status_code == 404
    record = _create(crm, "opportunity", title="New", amount="not a number")
    assert record["amount"] == "not a number" and record["total"] is None


def test_a_rename_to_a_taken_or_reserved_name_changes_nothing(crm):
    version = _version(crm)

    taken_field = crm.patch(f"{OBJECTS}/deal/fields/amount", json={"api_name": "title"})
    reserved_field = crm.patch(f"{OBJECTS}/deal/fields/amount", json={"api_name": "owner_id"})
    python_word = crm.patch(f"{OBJECTS}/deal/fields/amount", json={"api_name": "lambda"})
    taken_object = crm.patch(f"{OBJECTS}/deal", json={"api_name": "account"})
    reserved_object = crm.patch(f"{OBJECTS}/deal", json={"api_name": "Deal!"})

    assert taken_field.status_code == 409 and taken_object.status_code == 409
    assert reserved_field.status_code == 400
    assert "api_name" in reserved_field.get_json()["errors"]
    assert python_word.status_code == 400 and reserved_object.status_code == 400
    assert _version(crm) == version
    assert "amount" in _definition(crm, "deal")


def test_history_and_rollback_work_across_a_rename(crm, org):
    _create(crm, "deal", title="Kept", amount="7")
    before = _version(crm)
    crm.patch(f"{OBJECTS}/deal/fields/amount", json={"api_name": "total"})
    crm.patch(f"{OBJECTS}/deal", json={"api_name": "opportunity"})

    history = crm.get(f"{OBJECTS}/opportunity/history").get_json()["history"]
    actions = {c["action"] for c in history[0]["changes"]}
    assert actions == {"rename"}
    assert any(entry["revision"] <= before for entry in history)  # older revisions still listed

    rolled = crm.post(f"{OBJECTS}/opportunity/rollback", json={"revision": before})

    assert rolled.status_code == 200, rolled.get_json()
    assert rolled.get_json()["api_name"] == "deal"
    deal = _definition(crm, "deal")
    assert deal["expected"]["expression"] == "amount * probability / 100"
    assert _definition(crm, "account")["open_pipeline"]["relation"] == "deal.account"
    assert _component(crm, "validation_rules", "deal.positive")["condition"] == "amount < 0"
    assert read_column(org, "deal", "amount") == [Decimal("7.00")]
