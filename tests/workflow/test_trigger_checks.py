"""Bad trigger definitions are refused when saved, naming the path that is wrong, and
nothing is saved: unknown objects and fields, expressions that do not type-check, actions
that do not suit the timing or the event, and cycles of triggers that can only recurse."""

from __future__ import annotations

import pytest

TRIGGERS = "/api/v1/metadata/triggers"


@pytest.fixture
def crm(api, load_fixture):
    load_fixture("automation")
    return api


def trigger(**changes):
    base = {
        "api_name": "stamp",
        "object": "opportunity",
        "events": ["update"],
        "actions": [{"type": "update_record", "values": {"closed_on": "TODAY()"}}],
        "when": "stage == 'Closed Won'",
    }
    return {**base, **changes}


def set_closed(value):
    return [{"type": "update_record", "values": {"closed_on": value}}]


CASES = [
    (trigger(object="nope"), "object", "no object 'nope'"),
    (
        trigger(when="stage == 'Closed Wn'"),
        "when",
        "'Closed Wn' is not a value of picklist stage at position 10",
    ),
    (trigger(when="amount + 1"), "when", "expected a boolean result, got number at position 1"),
    (
        trigger(actions=[{"type": "update_record", "values": {"colour": "'red'"}}]),
        "actions[0].values.colour",
        "opportunity has no field 'colour' that an action may set",
    ),
    (
        trigger(actions=set_closed("name")),
        "actions[0].values.closed_on",
        "expected a date result, got text at position 1",
    ),
    (
        trigger(actions=[{"type": "create_record", "object": "invoice", "values": {"x": "1"}}]),
        "actions[0].object",
        "no object 'invoice'",
    ),
    (
        trigger(actions=[{"type": "send_fax", "to": "owner"}]),
        "actions[0].type",
        "'send_fax' is not one of: update_record, create_record, webhook, submit_for_approval, "
        "assign, notify, send_email, count_records",
    ),
    (
        trigger(actions=[{"type": "update_record", "values": {"name": "'x'"}, "colour": 1}]),
        "actions[0].colour",
        "'colour' is not an option of a update_record field",
    ),
    (
        trigger(
            timing="before_save",
            actions=[{"type": "create_record", "object": "task", "values": {"name": "name"}}],
        ),
        "actions[0].type",
        "'create_record' cannot run before save: use timing after_save",
    ),
    (
        trigger(
            timing="before_save",
            actions=[{"type": "update_record", "record": "account", "values": {"name": "name"}}],
        ),
        "actions[0].record",
        "before save, update_record sets fields of the record itself: update the parent "
        "with timing after_save",
    ),
    (
        trigger(events=["delete"], timing="before_save"),
        "events",
        "a before_save trigger runs on create and update, not delete",
    ),
    (
        trigger(events=["delete"]),
        "actions[0]",
        "on delete the record is gone: update_record may only update a parent "
        "(record: <lookup field>)",
    ),
    (
        trigger(timing="scheduled"),
        "schedule",
        "a scheduled trigger needs schedule: {field, offset}",
    ),
    (
        trigger(schedule={"field": "close_date", "offset": "-7d"}),
        "schedule",
        "only a trigger with timing: scheduled takes a schedule",
    ),
    (
        trigger(timing="scheduled", schedule={"field": "name", "offset": "-7d"}),
        "schedule.field",
        "'name' is not a date or datetime field",
    ),
    (
        trigger(timing="scheduled", schedule={"field": "due", "offset": "-7d"}),
        "schedule.field",
        "opportunity has no field 'due'",
    ),
    (
        trigger(timing="scheduled", schedule={"field": "close_date", "offset": "a week"}),
        "schedule.offset",
        "'a week' is not an offset: a whole number and a unit (m, h, d or w), such as -7d",
    ),
    (
        trigger(
            timing="scheduled",
            when="ISCHANGED(stage)",
            schedule={"field": "close_date", "offset": "1d"},
        ),
        "when",
        "ISCHANGED compares with a change, and a scheduled run has none: "
        "use only_when_changed_to_meet",
    ),
    (
        trigger(events=[]),
        "events",
        "[] should be non-empty",
    ),
    (
        trigger(when=None, actions=[{"type": "update_record", "values": {"name": "name + '!'"}}]),
        "actions[0]",
        "this action starts a cycle of triggers that can only recurse (opportunity.stamp → "
        "opportunity.stamp): give one of them criteria (when) that stop it",
    ),
]


@pytest.mark.parametrize(("definition", "path", "message"), CASES)
def test_a_bad_trigger_is_refused_naming_the_path(crm, definition, path, message):
    definition = {k: v for k, v in definition.items() if v is not None}
    response = crm.post(TRIGGERS, json=definition)
    assert response.status_code == 400, response.get_json()
    assert response.headers["Content-Type"] == "application/problem+json"
    # cross-checks name the component, then the path in it; the schema names the path
    errors = response.get_json()["errors"]
    found = errors.get(f"{definition['object']}.stamp.{path}") or errors.get(path, [])
    assert message in found, errors
    assert crm.get(f"{TRIGGERS}/{definition['object']}.stamp").status_code == 404


def test_a_cycle_through_other_objects_is_refused_when_it_closes(crm):
    # an account update creates an opportunity; a new opportunity updates its account
    spawn = {
        "api_name": "spawn",
        "object": "account",
        "events": ["update"],
        "actions": [{"type": "create_record", "object": "opportunity", "values": {"name": "name"}}],
    }
    assert crm.post(TRIGGERS, json=spawn).status_code == 201
    touch = {
        "api_name": "touch",
        "object": "opportunity",
        "events": ["create"],
        "actions": [
            {"type": "update_record", "record": "account", "values": {"industry": "'Retail'"}}
        ],
    }
    response = crm.post(TRIGGERS, json=touch)
    assert response.status_code == 400
    assert response.get_json()["errors"]["opportunity.touch.actions[0]"] == [
        "this action starts a cycle of triggers that can only recurse (opportunity.touch → "
        "account.spawn → opportunity.touch): give one of them criteria (when) that stop it"
    ]
    # criteria that can stop it make the same chain acceptable
    guarded = {**touch, "when": "ISBLANK(account.industry)"}
    assert crm.post(TRIGGERS, json=guarded).status_code == 201


def test_a_good_trigger_round_trips(crm):
    definition = trigger(
        label={"en": "Won"}, description="Stamp the close date", only_when_changed_to_meet=True
    )
    assert crm.post(TRIGGERS, json=definition).status_code == 201
    assert crm.get(f"{TRIGGERS}/opportunity.stamp").get_json() == definition
    listed = crm.get(TRIGGERS).get_json()
    assert [t["api_name"] for t in listed["triggers"]] == ["stamp"]


def test_deleting_a_field_a_trigger_uses_is_refused_with_the_usage(crm):
    assert crm.post(TRIGGERS, json=trigger()).status_code == 201
    response = crm.delete("/api/v1/metadata/objects/opportunity/fields/closed_on")
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["usages"] == [
        {"kind": "trigger", "name": "opportunity.stamp", "where": "actions[0].values.closed_on"}
    ]
    assert crm.get("/api/v1/metadata/objects/opportunity/fields/closed_on").status_code == 200
