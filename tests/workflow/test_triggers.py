"""Triggers as an admin defines them and a user meets them: the change into the criteria
fires the actions once, before-save field updates, delete events, bulk writes per record,
and a chain of real triggers that recurses past the bound rolls the request back."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crm_platform.core.tables import SYSTEM_USER_ID

REC = "/api/v1/records"
TRIGGERS = "/api/v1/metadata/triggers"

WON = {
    "api_name": "won",
    "object": "opportunity",
    "events": ["update"],
    "when": "stage == 'Closed Won'",
    "only_when_changed_to_meet": True,
    "timing": "after_save",
    "actions": [
        {"type": "update_record", "values": {"closed_on": "TODAY()"}},
        {
            "type": "create_record",
            "object": "task",
            "values": {
                "name": "'Kick-off: ' + name",
                "what": "id",
                "owner_id": "owner_id",
                "due_date": "TODAY() + 3",
            },
        },
    ],
}


@pytest.fixture
def crm(api, load_fixture):
    load_fixture("automation")
    return api


def define(crm, trigger):
    response = crm.post(TRIGGERS, json=trigger)
    assert response.status_code == 201, response.get_json()
    return response


def tasks(crm):
    return crm.get(f"{REC}/task?order_by=name").get_json()["records"]


def test_the_won_trigger_fires_once_on_the_change_into_the_criteria(crm):
    define(crm, WON)
    opp = crm.post(f"{REC}/opportunity", json={"name": "Big deal"}).get_json()
    assert tasks(crm) == []

    crm.patch(f"{REC}/opportunity/{opp['id']}", json={"stage": "Closed Won"})
    crm.patch(f"{REC}/opportunity/{opp['id']}", json={"amount": "10.00"})  # still won

    today = date.fromisoformat(crm.get(f"{REC}/opportunity/{opp['id']}").get_json()["closed_on"])
    [task] = tasks(crm)
    assert task["name"] == "Kick-off: Big deal"
    assert task["what"] == {"object": "opportunity", "id": opp["id"]}
    assert task["owner_id"] == opp["owner_id"]
    assert date.fromisoformat(task["due_date"]) == today + timedelta(days=3)
    assert task["created_by"] == SYSTEM_USER_ID  # automation did it, for the change's author


def test_an_action_that_fails_refuses_the_whole_change(crm):
    # a task needs a name: one made from an empty field is refused, and so is the change
    define(
        crm,
        {
            "api_name": "needs_status",
            "object": "opportunity",
            "events": ["update"],
            "when": "stage == 'Negotiation'",
            "actions": [
                {"type": "update_record", "values": {"closed_on": "TODAY()"}},
                {"type": "create_record", "object": "task", "values": {"name": "approval_status"}},
            ],
        },
    )
    opp = crm.post(f"{REC}/opportunity", json={"name": "Deal"}).get_json()
    response = crm.patch(f"{REC}/opportunity/{opp['id']}", json={"stage": "Negotiation"})
    assert response.status_code == 400
    assert "name" in response.get_json()["errors"]
    again = crm.get(f"{REC}/opportunity/{opp['id']}").get_json()
    assert (again["stage"], again["closed_on"], again["version"]) == ("Prospecting", None, 1)
    assert tasks(crm) == []


def test_without_only_when_changed_to_meet_every_save_that_meets_it_fires(crm):
    define(crm, {**WON, "only_when_changed_to_meet": False, "actions": WON["actions"][1:]})
    opp = crm.post(f"{REC}/opportunity", json={"name": "Deal"}).get_json()
    crm.patch(f"{REC}/opportunity/{opp['id']}", json={"stage": "Closed Won"})
    crm.patch(f"{REC}/opportunity/{opp['id']}", json={"amount": "10.00"})
    crm.patch(f"{REC}/opportunity/{opp['id']}", json={"stage": "Negotiation"})
    assert [t["name"] for t in tasks(crm)] == ["Kick-off: Deal", "Kick-off: Deal"]


def test_criteria_may_ask_what_changed(crm):
    define(
        crm,
        {
            "api_name": "repriced",
            "object": "opportunity",
            "events": ["create", "update"],
            "when": "ISCHANGED(amount) and PRIORVALUE(amount) > 0",
            "actions": [
                {
                    "type": "create_record",
                    "object": "task",
                    "values": {"name": "'Repriced: ' + TEXT(amount)"},
                }
            ],
        },
    )
    opp = crm.post(f"{REC}/opportunity", json={"name": "Deal", "amount": "100.00"}).get_json()
    for change in ({"stage": "Negotiation"}, {"amount": "80.00"}, {"stage": "Qualification"}):
        response = crm.patch(f"{REC}/opportunity/{opp['id']}", json=change)
        assert response.status_code == 200, response.get_json()
    assert [t["name"] for t in tasks(crm)] == ["Repriced: 80"]


def test_an_inactive_trigger_does_nothing(crm):
    define(crm, {**WON, "active": False})
    opp = crm.post(f"{REC}/opportunity", json={"name": "Deal"}).get_json()
    crm.patch(f"{REC}/opportunity/{opp['id']}", json={"stage": "Closed Won"})
    assert tasks(crm) == []
    assert crm.get(f"{REC}/opportunity/{opp['id']}").get_json()["closed_on"] is None


def test_a_before_save_trigger_sets_fields_that_validation_then_checks(crm):
    define(
        crm,
        {
            "api_name": "label_big",
            "object": "opportunity",
            "events": ["create", "update"],
            "when": "amount > 1000",
            "timing": "before_save",
            "actions": [{"type": "update_record", "values": {"approval_status": "'Big: ' + name"}}],
        },
    )
    small = crm.post(f"{REC}/opportunity", json={"name": "Small", "amount": "5.00"}).get_json()
    big = crm.post(f"{REC}/opportunity", json={"name": "Huge", "amount": "5000.00"}).get_json()
    assert (small["approval_status"], big["approval_status"]) == (None, "Big: Huge")
    grown = crm.patch(f"{REC}/opportunity/{small['id']}", json={"amount": "2000.00"}).get_json()
    assert grown["approval_status"] == "Big: Small"
    # one save, one version: the field update joined the change
    assert grown["version"] == 2


def test_a_before_save_trigger_may_link_a_polymorphic_lookup_by_id(crm):
    account = crm.post(f"{REC}/account", json={"name": "Acme"}).get_json()
    define(
        crm,
        {
            "api_name": "file_under",
            "object": "task",
            "events": ["create"],
            "when": "ISBLANK(what)",
            "timing": "before_save",
            "actions": [{"type": "update_record", "values": {"what": f"'{account['id']}'"}}],
        },
    )
    task = crm.post(f"{REC}/task", json={"name": "Call"})
    assert task.status_code == 201, task.get_json()
    assert task.get_json()["what"] == {"object": "account", "id": account["id"]}


def test_a_delete_trigger_acts_on_the_values_the_record_had(crm):
    define(
        crm,
        {
            "api_name": "gone",
            "object": "opportunity",
            "events": ["delete"],
            "actions": [
                {"type": "create_record", "object": "task", "values": {"name": "'Gone: ' + name"}},
                {"type": "update_record", "record": "account", "values": {"industry": "'Retail'"}},
            ],
        },
    )
    account = crm.post(f"{REC}/account", json={"name": "Acme"}).get_json()
    opp = crm.post(f"{REC}/opportunity", json={"name": "Lost", "account": account["id"]}).get_json()
    assert crm.delete(f"{REC}/opportunity/{opp['id']}").status_code == 204
    assert [t["name"] for t in tasks(crm)] == ["Gone: Lost"]
    assert crm.get(f"{REC}/account/{account['id']}").get_json()["industry"] == "Retail"


def test_a_composite_batch_fires_the_trigger_for_every_record(crm):
    define(
        crm,
        {
            "api_name": "follow_up",
            "object": "opportunity",
            "events": ["create"],
            "when": "amount >= 100",
            "actions": [
                {"type": "create_record", "object": "task", "values": {"name": "'Call ' + name"}}
            ],
        },
    )
    operations = [
        {"method": "POST", "url": "/records/opportunity", "body": {"name": f"D{i}", "amount": a}}
        for i, a in enumerate(["50.00", "100.00", "500.00", "99.99", "1000.00"])
    ]
    response = crm.post("/api/v1/composite", json={"operations": operations, "all_or_none": True})
    assert response.status_code == 200, response.get_json()
    assert [t["name"] for t in tasks(crm)] == ["Call D1", "Call D2", "Call D4"]


def test_a_chain_of_triggers_past_the_bound_answers_409_and_saves_nothing(crm):
    # a conditional chain passes the save-time check, then recurses at run time:
    # every update of a task updates its opportunity, which updates the task again
    define(
        crm,
        {
            "api_name": "echo",
            "object": "opportunity",
            "events": ["update"],
            "when": "LEN(name) < 60",
            "actions": [{"type": "update_record", "values": {"name": "name + '!'"}}],
        },
    )
    opp = crm.post(f"{REC}/opportunity", json={"name": "Loop"}).get_json()
    response = crm.patch(f"{REC}/opportunity/{opp['id']}", json={"stage": "Qualification"})
    assert response.status_code == 409
    assert "automation recursed too deeply" in response.get_json()["detail"]
    again = crm.get(f"{REC}/opportunity/{opp['id']}").get_json()
    assert (again["name"], again["stage"], again["version"]) == ("Loop", "Prospecting", 1)


ISSUE_EXAMPLE = """\
# triggers/opportunity.won.yaml
api_name: won
object: opportunity
events: [update]
when: "stage == 'Closed Won'"
only_when_changed_to_meet: true          # fires on the change into the criteria
timing: after_save                        # before_save | after_save | scheduled
actions:
  - {type: update_record, values: {closed_on: "TODAY()"}}
  - {type: create_record, object: task, values: {name: "'Kick-off: ' + name", what: "id", owner_id: "owner_id", due_date: "TODAY() + 3"}}
  - {type: send_email, template: won_notice, to: "owner.email"}
  - {type: webhook, url: "https://erp.example.com/hooks/won", secret_ref: erp}
"""
