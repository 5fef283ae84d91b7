"""A rename rewrites the triggers that name the object or field, the where-used list
finds them, and the renamed trigger keeps working."""

from __future__ import annotations

import pytest

REC = "/api/v1/records"
OBJECTS = "/api/v1/metadata/objects"
TRIGGERS = "/api/v1/metadata/triggers"

WON = {
    "api_name": "won",
    "object": "opportunity",
    "events": ["update"],
    "when": "stage == 'Closed Won' and account.industry == 'Retail'",
    "only_when_changed_to_meet": True,
    "actions": [
        {"type": "update_record", "values": {"closed_on": "TODAY()"}},
        {"type": "update_record", "record": "account", "values": {"last_won_on": "TODAY()"}},
        {"type": "create_record", "object": "task", "values": {"name": "'Won: ' + name"}},
    ],
}
REMIND = {
    "api_name": "remind",
    "object": "opportunity",
    "events": ["create", "update"],
    "timing": "scheduled",
    "schedule": {"field": "close_date", "offset": "-1d"},
    "actions": [{"type": "create_record", "object": "task", "values": {"name": "name"}}],
}


@pytest.fixture
def crm(api, load_fixture):
    load_fixture("automation")
    for trigger in (WON, REMIND):
        assert api.post(TRIGGERS, json=trigger).status_code == 201
    return api


def rename_field(crm, object_name, field, new):
    response = crm.patch(f"{OBJECTS}/{object_name}/fields/{field}", json={"api_name": new})
    assert response.status_code == 200, response.get_json()


def test_the_where_used_list_names_the_trigger_and_the_place(crm):
    usages = crm.get(f"{OBJECTS}/opportunity/fields/closed_on/usages").get_json()["usages"]
    assert usages == [
        {"kind": "trigger", "name": "opportunity.won", "where": "actions[0].values.closed_on"}
    ]
    usages = crm.get(f"{OBJECTS}/account/fields/last_won_on/usages").get_json()["usages"]
    assert usages == [
        {"kind": "trigger", "name": "opportunity.won", "where": "actions[1].values.last_won_on"}
    ]
    usages = crm.get(f"{OBJECTS}/account/fields/industry/usages").get_json()["usages"]
    assert usages == [{"kind": "trigger", "name": "opportunity.won", "where": "when"}]


def test_renaming_fields_rewrites_criteria_values_lookups_and_schedules(crm):
    rename_field(crm, "opportunity", "stage", "phase")
    rename_field(crm, "opportunity", "closed_on", "won_on")
    rename_field(crm, "opportunity", "account", "customer")
    rename_field(crm, "account", "industry", "sector")
    rename_field(crm, "account", "last_won_on", "latest_win")
    rename_field(crm, "opportunity", "close_date", "closing")
    rename_field(crm, "task", "name", "title")
    won = crm.get(f"{TRIGGERS}/opportunity.won").get_json()
    assert won["when"] == "phase == 'Closed Won' and customer.sector == 'Retail'"
    assert won["actions"] == [
        {"type": "update_record", "values": {"won_on": "TODAY()"}},
        {"type": "update_record", "record": "customer", "values": {"latest_win": "TODAY()"}},
        {"type": "create_record", "object": "task", "values": {"title": "'Won: ' + name"}},
    ]
    remind = crm.get(f"{TRIGGERS}/opportunity.remind").get_json()
    assert remind["schedule"] == {"field": "closing", "offset": "-1d"}

    # and it still works, under the new names
    account = crm.post(f"{REC}/account", json={"name": "Shop", "sector": "Retail"}).get_json()
    opp = crm.post(f"{REC}/opportunity", json={"name": "Big", "customer": account["id"]})
    opp = opp.get_json()
    crm.patch(f"{REC}/opportunity/{opp['id']}", json={"phase": "Closed Won"})
    won_on = crm.get(f"{REC}/opportunity/{opp['id']}").get_json()["won_on"]
    assert won_on is not None
    assert crm.get(f"{REC}/account/{account['id']}").get_json()["latest_win"] == won_on
    titles = [t["title"] for t in crm.get(f"{REC}/task").get_json()["records"]]
    assert titles == ["Won: Big"]


def test_renaming_an_object_moves_its_triggers_and_the_objects_they_create(crm):
    response = crm.patch(f"{OBJECTS}/task", json={"api_name": "todo"})
    assert response.status_code == 200, response.get_json()
    response = crm.patch(f"{OBJECTS}/opportunity", json={"api_name": "deal"})
    assert response.status_code == 200, response.get_json()
    won = crm.get(f"{TRIGGERS}/deal.won").get_json()
    assert won["object"] == "deal"
    assert won["actions"][2]["object"] == "todo"
    assert crm.get(f"{TRIGGERS}/opportunity.won").status_code == 404
