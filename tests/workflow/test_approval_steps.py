"""Approval steps beyond the issue's example: a group that must approve unanimously, a
user field of the record as approver, recall actions, escalation after a timeout (with
the org's clock), reassignment, and a trigger-like handler submitting through the
``submit_for_approval`` action."""

from __future__ import annotations

from crm_platform.runtime.records.events import RecordEvent
from crm_platform.workflow import automation_of, outbox
from crm_platform.workflow.running import run_actions

from .approval_setup import act, opportunity, pending_of, record, state

DESK = {
    "api_name": "desk",
    "object": "opportunity",
    "entry": "amount > 0",
    "steps": [
        {"name": "desk", "approver": {"group": "deal_desk"}, "mode": "unanimous"},
        {"name": "account_owner", "approver": {"field": "account.account_manager"}},
    ],
    "on_approve": [{"type": "update_record", "values": {"approval_status": "'Desk approved'"}}],
    "on_recall": [{"type": "update_record", "values": {"approval_status": "'Recalled'"}}],
}


def add_process(deal, definition):
    response = deal.admin.post("/api/v1/metadata/approval_processes", json=definition)
    assert response.status_code == 201, response.get_json()


def test_a_unanimous_group_step_then_a_user_field_of_the_record(deal):
    add_process(deal, DESK)
    account = deal.rep.post(
        "/api/v1/records/account",
        json={"name": "Acme", "account_manager": deal.ids["vp"]},
    ).get_json()["id"]
    opp = opportunity(deal.rep, amount=1000, account=account)
    assert act(deal.rep, opp, "submit", {"process": "desk"}).status_code == 200
    assert [p["step"] for p in pending_of(deal.desk1)] == ["desk"]
    assert act(deal.desk1, opp, "approve").status_code == 200
    # one member approved: the step waits for the other
    request = state(deal.rep, opp)["requests"][0]
    assert request["current_step"] == "desk"
    assert [a["status"] for a in request["steps"][0]["approvers"]] == ["approved", "pending"]
    twice = act(deal.desk1, opp, "approve")
    assert twice.status_code == 409
    assert "you approved step 'desk' already" in twice.get_json()["detail"]
    assert act(deal.desk2, opp, "approve").status_code == 200
    # the account's manager (a user lookup on the parent) approves the last step
    assert [p["step"] for p in pending_of(deal.vp)] == ["account_owner"]
    assert act(deal.vp, opp, "approve", {"comment": "ok"}).status_code == 200
    assert record(deal.rep, opp)["approval_status"] == "Desk approved"


def test_one_rejection_rejects_a_unanimous_step(deal):
    add_process(deal, DESK)
    opp = opportunity(deal.rep, amount=1000)
    act(deal.rep, opp, "submit", {"process": "desk"})
    act(deal.desk1, opp, "approve")
    assert act(deal.desk2, opp, "reject").status_code == 200
    request = state(deal.rep, opp)["requests"][0]
    assert (request["status"], request["steps"][0]["status"]) == ("rejected", "rejected")


def test_recall_runs_the_recall_actions(deal):
    add_process(deal, DESK)
    opp = opportunity(deal.rep, amount=1000)
    act(deal.rep, opp, "submit", {"process": "desk"})
    # an administrator may recall what someone else submitted
    assert act(deal.admin, opp, "recall").status_code == 200
    assert record(deal.rep, opp)["approval_status"] == "Recalled"
    assert pending_of(deal.desk1) == []


def test_an_undecided_step_escalates_to_the_approvers_manager(deal):
    opp = opportunity(deal.rep, discount=25, amount=200000)
    act(deal.rep, opp, "submit")
    org = deal.org
    deal.clock.advance(hours=47)
    org.work.run_pending()
    assert [p["step"] for p in pending_of(deal.manager)] == ["manager"]  # not yet
    deal.clock.advance(hours=2)
    org.work.run_pending()
    assert pending_of(deal.manager) == []
    assert [p["step"] for p in pending_of(deal.vp)] == ["manager"]
    request = state(deal.rep, opp)["requests"][0]
    step = request["steps"][0]
    assert step["escalated"] is True
    assert [(a["user"]["name"], a["status"]) for a in step["approvers"]] == [
        ("Manager", "escalated"),
        ("Vp", "pending"),
    ]
    entry = request["history"][-1]
    assert (entry["action"], entry["step"], entry["target"]["name"]) == (
        "escalated",
        "manager",
        "Vp",
    )
    refused = act(deal.manager, opp, "approve")
    assert refused.status_code == 403
    assert act(deal.vp, opp, "approve").status_code == 200
    # the finance step has its own escalation, planned when it started
    with org.db.read() as conn:
        runs = outbox.list_runs(conn, record_id=opp)
    assert sorted(r.status for r in runs) == ["queued", "succeeded"]


def test_a_decided_step_cancels_its_escalation(deal):
    opp = opportunity(deal.rep, discount=25, amount=50000)
    act(deal.rep, opp, "submit")
    act(deal.manager, opp, "approve")
    with deal.org.db.read() as conn:
        [run] = outbox.list_runs(conn, record_id=opp)
    assert (run.job, run.status) == ("approval_escalation", "cancelled")
    deal.clock.advance(days=3)
    deal.org.work.run_pending()
    assert state(deal.rep, opp)["requests"][0]["history"][-1]["action"] == "skipped"


def test_escalation_to_a_named_user(deal):
    add_process(
        deal,
        {**DESK, "api_name": "desk", "escalate_after": "2d", "escalate_to": "finance1@example.com"},
    )
    opp = opportunity(deal.rep, amount=1000)
    act(deal.rep, opp, "submit", {"process": "desk"})
    act(deal.desk1, opp, "approve")
    deal.clock.advance(days=2, minutes=1)
    deal.org.work.run_pending()
    # only the undecided member's part moved
    step = state(deal.rep, opp)["requests"][0]["steps"][0]
    assert [(a["user"]["name"], a["status"]) for a in step["approvers"]] == [
        ("Desk1", "approved"),
        ("Desk2", "escalated"),
        ("Finance1", "pending"),
    ]
    # the next step's approver is the account's manager: with no account, nobody
    stuck = act(deal.finance1, opp, "approve")
    assert stuck.status_code == 409
    assert "'account.account_manager' names no active user" in stuck.get_json()["detail"]
    assert state(deal.rep, opp)["requests"][0]["current_step"] == "desk"  # nothing moved
    # an administrator may still edit the locked record: give it an account
    account = deal.admin.post(
        "/api/v1/records/account", json={"name": "Acme", "account_manager": deal.ids["vp"]}
    ).get_json()["id"]
    linked = deal.admin.patch(f"/api/v1/records/opportunity/{opp}", json={"account": account})
    assert linked.status_code == 200
    assert act(deal.finance1, opp, "approve").status_code == 200
    assert state(deal.rep, opp)["requests"][0]["current_step"] == "account_owner"


def test_reassign_hands_a_decision_on(deal):
    opp = opportunity(deal.rep, discount=25, amount=200000)
    act(deal.rep, opp, "submit")
    assert act(deal.finance1, opp, "reassign", {"to": "vp@example.com"}).status_code == 403
    bad = act(deal.manager, opp, "reassign", {"to": "nobody@example.com"})
    assert bad.status_code == 400
    assert "to" in bad.get_json()["errors"]
    moved = act(deal.manager, opp, "reassign", {"to": "vp@example.com", "comment": "on leave"})
    assert moved.status_code == 200
    entry = moved.get_json()["requests"][0]["history"][-1]
    assert (entry["action"], entry["user"]["name"], entry["target"]["name"], entry["comment"]) == (
        "reassigned",
        "Manager",
        "Vp",
        "on leave",
    )
    assert act(deal.manager, opp, "approve").status_code == 403
    # an administrator moves it back
    back = act(deal.admin, opp, "reassign", {"to": deal.ids["manager"]})
    assert back.status_code == 200
    assert act(deal.manager, opp, "approve").status_code == 200


def test_an_action_submits_the_record_as_the_user_whose_change_fired_it(deal):
    org = deal.org

    def submit_on_discount(ctx):
        for change in ctx.changes:
            if "discount" in change.changed:
                run_actions(
                    org,
                    ctx.services,
                    "opportunity",
                    change.record_id,
                    [{"type": "submit_for_approval", "process": "discount"}],
                    source="test",
                )

    org.records.events.on(RecordEvent.AFTER_UPDATE, submit_on_discount, objects=["opportunity"])
    opp = opportunity(deal.rep, amount=200000)
    # below the entry criteria: nothing is submitted, and the change stands
    assert (
        deal.rep.patch(f"/api/v1/records/opportunity/{opp}", json={"discount": 5}).status_code
        == 200
    )
    assert state(deal.rep, opp)["requests"] == []
    assert (
        deal.rep.patch(f"/api/v1/records/opportunity/{opp}", json={"discount": 30}).status_code
        == 200
    )
    request = state(deal.rep, opp)["requests"][0]
    assert (request["status"], request["submitted_by"]["name"]) == ("pending", "Rep")
    assert [p["step"] for p in pending_of(deal.manager)] == ["manager"]
    assert automation_of(org).jobs["approval_escalation"].name == "approval_escalation"
