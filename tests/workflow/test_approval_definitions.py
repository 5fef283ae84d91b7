"""Approval process definitions: the issue's YAML applies as written (from a folder and
through the generic metadata API), and bad definitions are refused when saved, naming
the path, with nothing changed."""

from __future__ import annotations

import copy

import pytest

PROCESSES = "/api/v1/metadata/approval_processes"
GOOD = {
    "api_name": "review",
    "object": "opportunity",
    "entry": "amount > 10",
    "steps": [
        {"name": "first", "approver": {"user": "vp@example.com"}},
        {"name": "second", "when": "discount > 5", "approver": {"role": "approvals_vp"}},
        {"name": "third", "approver": {"field": "account.account_manager"}, "mode": "unanimous"},
    ],
    "on_approve": [{"type": "update_record", "values": {"approval_status": "'ok'"}}],
    "escalate_after": "3d",
    "escalate_to": "manager@example.com",
}


def test_the_issue_example_is_stored_as_written(deal):
    found = deal.admin.get(f"{PROCESSES}/opportunity.discount")
    assert found.status_code == 200
    definition = found.get_json()
    assert definition["steps"][1] == {
        "name": "finance",
        "when": "amount > 100000",
        "approver": {"queue": "finance_approvers"},
        "mode": "first_response",
    }
    assert definition["escalate_after"] == "48h"
    created = deal.admin.post(PROCESSES, json=GOOD)
    assert created.status_code == 201, created.get_json()


def _with(path: str, value):
    definition = copy.deepcopy(GOOD)
    target = definition
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    target[int(last) if last.isdigit() else last] = value
    return definition


@pytest.mark.parametrize(
    ("path", "value", "error_path", "message"),
    [
        ("object", "nothing", "object", "no object 'nothing'"),
        ("entry", "amount + 1", "entry", "boolean"),
        ("steps.1.when", "colour == 'red'", "steps[1].when", "colour"),
        ("steps.1.approver", {"role": "ghost"}, "steps[1].approver.role", "no role 'ghost'"),
        ("steps.1.approver", {"queue": "ghost"}, "steps[1].approver.queue", "no queue 'ghost'"),
        ("steps.1.approver", {"group": "ghost"}, "steps[1].approver.group", "no group 'ghost'"),
        ("steps.2.approver", {"field": "name"}, "steps[2].approver.field", "no lookup field"),
        (
            "steps.2.approver",
            {"field": "account"},
            "steps[2].approver.field",
            "not a lookup to a user",
        ),
        ("steps.1.name", "first", "steps[1].name", "another step is called 'first'"),
        (
            "on_approve",
            [{"type": "update_record", "values": {"colour": "'red'"}}],
            "on_approve[0].values.colour",
            "no field 'colour'",
        ),
        (
            "on_reject",
            [{"type": "submit_for_approval", "process": "ghost"}],
            "on_reject[0].process",
            "no approval process 'ghost'",
        ),
        ("escalate_after", "two days", "escalate_after", "does not match"),
        (
            "steps.0.approver",
            {"user": "x@example.com", "role": "approvals_vp"},
            "steps[0].approver",
            "",
        ),
        (
            "steps.0.approver",
            {"user": "ghost@example.com"},
            "steps[0].approver.user",
            "no active user",
        ),
        ("escalate_to", "ghost@example.com", "escalate_to", "no active user 'ghost@example.com'"),
    ],
)
def test_bad_definitions_are_refused_naming_the_path(deal, path, value, error_path, message):
    response = deal.admin.post(PROCESSES, json=_with(path, value))
    assert response.status_code == 400, response.get_json()
    errors = response.get_json()["errors"]
    matching = [k for k in errors if k.endswith(error_path)]
    assert matching, errors
    assert message in " ".join(errors[matching[0]])
    assert deal.admin.get(f"{PROCESSES}/opportunity.review").status_code == 404


def test_a_queue_a_process_uses_cannot_be_deleted(deal):
    refused = deal.admin.delete("/api/v1/metadata/queues/finance_approvers")
    assert refused.status_code == 400, refused.get_json()
    assert "no queue 'finance_approvers'" in str(refused.get_json()["errors"])


def test_renames_reach_the_process_and_where_used_names_it(deal):
    fields = "/api/v1/metadata/objects/opportunity/fields"
    usages = deal.admin.get(f"{fields}/amount/usages").get_json()["usages"]
    assert {
        "kind": "approval_process",
        "name": "opportunity.discount",
        "where": "steps[1].when",
    } in usages
    renamed = deal.admin.patch(f"{fields}/discount", json={"api_name": "discount_pct"})
    assert renamed.status_code == 200, renamed.get_json()
    deal.admin.patch(f"{fields}/approval_status", json={"api_name": "approval"})
    process = deal.admin.get(f"{PROCESSES}/opportunity.discount").get_json()
    assert process["entry"] == "discount_pct > 20"
    assert process["on_approve"] == [
        {"type": "update_record", "values": {"approval": "'Approved'"}}
    ]
    # and it still works under the new names
    opp = deal.rep.post(
        "/api/v1/records/opportunity", json={"name": "D", "discount_pct": 30, "amount": 10}
    ).get_json()["id"]
    submit = deal.rep.post(f"/api/v1/records/opportunity/{opp}/approval/submit")
    assert submit.status_code == 200, submit.get_json()
    assert (
        deal.manager.post(f"/api/v1/records/opportunity/{opp}/approval/approve").status_code == 200
    )
    assert deal.rep.get(f"/api/v1/records/opportunity/{opp}").get_json()["approval"] == "Approved"


def test_an_object_rename_moves_its_processes_and_pending_requests(deal):
    before = deal.rep.post(
        "/api/v1/records/opportunity", json={"name": "A", "discount": 30}
    ).get_json()["id"]
    assert deal.rep.post(f"/api/v1/records/opportunity/{before}/approval/submit").status_code == 200
    renamed = deal.admin.patch("/api/v1/metadata/objects/opportunity", json={"api_name": "deal"})
    assert renamed.status_code == 200, renamed.get_json()
    process = deal.admin.get(f"{PROCESSES}/deal.discount")
    assert process.status_code == 200
    assert process.get_json()["object"] == "deal"
    # the pending request moved with its record: still locked, still decidable
    locked = deal.rep.patch(f"/api/v1/records/deal/{before}", json={"name": "B"})
    assert locked.status_code == 409
    assert deal.manager.post(f"/api/v1/records/deal/{before}/approval/approve").status_code == 200
    after = deal.rep.post("/api/v1/records/deal", json={"name": "D", "discount": 30}).get_json()[
        "id"
    ]
    assert deal.rep.post(f"/api/v1/records/deal/{after}/approval/submit").status_code == 200
    pending = deal.manager.get("/api/v1/approvals/pending").get_json()["pending"]
    assert [(p["object"], p["record_id"]) for p in pending] == [("deal", after)]


def test_a_process_deactivated_while_pending_still_locks_until_recalled(deal):
    opp = deal.rep.post(
        "/api/v1/records/opportunity", json={"name": "A", "discount": 30}
    ).get_json()["id"]
    deal.rep.post(f"/api/v1/records/opportunity/{opp}/approval/submit")
    current = deal.admin.get(f"{PROCESSES}/opportunity.discount").get_json()
    put = deal.admin.put(f"{PROCESSES}/opportunity.discount", json={**current, "active": False})
    assert put.status_code == 200, put.get_json()
    assert (
        deal.rep.patch(f"/api/v1/records/opportunity/{opp}", json={"name": "B"}).status_code == 409
    )
    stuck = deal.manager.post(f"/api/v1/records/opportunity/{opp}/approval/approve")
    assert stuck.status_code == 409
    assert "no longer active: recall the approval" in stuck.get_json()["detail"]
    assert deal.rep.post(f"/api/v1/records/opportunity/{opp}/approval/recall").status_code == 200
    assert (
        deal.rep.patch(f"/api/v1/records/opportunity/{opp}", json={"name": "B"}).status_code == 200
    )
    refused = deal.rep.post(f"/api/v1/records/opportunity/{opp}/approval/submit")
    assert refused.status_code == 409
    assert refused.get_json()["detail"] == "opportunity has no active approval process"
