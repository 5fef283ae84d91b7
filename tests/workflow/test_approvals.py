"""Approval processes through the API, as the people involved see them: the issue's
discount process (the submitter's manager, then the finance queue for big deals), a
skipped step, rejection, recall, the record lock, and who may decide."""

from __future__ import annotations

import threading
from decimal import Decimal

from .approval_setup import act, opportunity, pending_of, record, state


def test_a_big_discount_goes_to_the_manager_then_finance(deal):
    opp = opportunity(deal.rep, discount=25, amount=200000)
    submitted = act(deal.rep, opp, "submit", {"comment": "Strategic account"})
    assert submitted.status_code == 200, submitted.get_json()
    request = submitted.get_json()["requests"][0]
    assert (request["status"], request["current_step"], request["locked"]) == (
        "pending",
        "manager",
        True,
    )
    [waiting] = pending_of(deal.manager)
    assert (waiting["record_id"], waiting["step"], waiting["process"]) == (
        opp,
        "manager",
        "discount",
    )
    assert waiting["submitted_by"] == {"id": deal.rep.user_id, "name": "Rep"}
    assert pending_of(deal.finance1) == []

    approved = act(deal.manager, opp, "approve", {"comment": "Fine by me"})
    assert approved.status_code == 200, approved.get_json()
    request = approved.get_json()["requests"][0]
    assert request["current_step"] == "finance"
    finance = request["steps"][1]
    assert [a["user"]["name"] for a in finance["approvers"]] == ["Finance1", "Finance2"]
    assert [p["step"] for p in pending_of(deal.finance2)] == ["finance"]

    assert act(deal.finance1, opp, "approve").status_code == 200
    # first response: the step is decided, the other member's decision is not wanted
    late = act(deal.finance2, opp, "approve", {"comment": "me too"})
    assert late.status_code == 409
    assert "no approval is pending" in late.get_json()["detail"]
    assert pending_of(deal.finance2) == []
    assert record(deal.rep, opp)["approval_status"] == "Approved"

    request = state(deal.rep, opp)["requests"][0]
    assert request["status"] == "approved"
    assert [s["status"] for s in request["steps"]] == ["approved", "approved"]
    assert [
        (s["approvers"][0]["status"], s["approvers"][-1]["status"]) for s in request["steps"]
    ] == [
        ("approved", "approved"),
        ("approved", "closed"),
    ]
    history = [
        (h["action"], h["step"], h["user"]["name"], h["comment"]) for h in request["history"]
    ]
    assert history == [
        ("submitted", None, "Rep", "Strategic account"),
        ("approved", "manager", "Manager", "Fine by me"),
        ("approved", "finance", "Finance1", None),
    ]
    assert all(h["at"] for h in request["history"])


def test_the_finance_step_is_skipped_for_a_small_deal(deal):
    opp = opportunity(deal.rep, discount=30, amount=50000)
    assert act(deal.rep, opp, "submit").status_code == 200
    assert act(deal.manager, opp, "approve").status_code == 200
    request = state(deal.rep, opp)["requests"][0]
    assert request["status"] == "approved"
    assert [(s["name"], s["status"]) for s in request["steps"]] == [
        ("manager", "approved"),
        ("finance", "skipped"),
    ]
    assert [(h["action"], h["step"]) for h in request["history"]][-1] == ("skipped", "finance")
    assert pending_of(deal.finance1) == []
    assert record(deal.rep, opp)["approval_status"] == "Approved"


def test_a_rejection_ends_the_approval_and_runs_its_actions(deal):
    opp = opportunity(deal.rep, discount=25, amount=200000)
    act(deal.rep, opp, "submit")
    rejected = act(deal.manager, opp, "reject", {"comment": "Too generous"})
    assert rejected.status_code == 200
    request = rejected.get_json()["requests"][0]
    assert (request["status"], request["locked"], request["current_step"]) == (
        "rejected",
        False,
        None,
    )
    assert request["history"][-1]["comment"] == "Too generous"
    assert record(deal.rep, opp)["approval_status"] == "Rejected"
    # unlocked: the rep may change the deal and submit it again
    assert (
        deal.rep.patch(f"/api/v1/records/opportunity/{opp}", json={"discount": 22}).status_code
        == 200
    )
    again = act(deal.rep, opp, "submit").get_json()
    assert [r["status"] for r in again["requests"]] == ["pending", "rejected"]


def test_the_record_is_locked_while_pending_except_for_administrators(deal):
    opp = opportunity(deal.rep, discount=25, amount=200000)
    act(deal.rep, opp, "submit")
    refused = deal.rep.patch(f"/api/v1/records/opportunity/{opp}", json={"discount": 40})
    assert refused.status_code == 409
    assert refused.mimetype == "application/problem+json"
    assert "locked while its approval is pending" in refused.get_json()["detail"]
    assert deal.rep.delete(f"/api/v1/records/opportunity/{opp}").status_code == 409
    # the manager sees it through the hierarchy and may edit it, but not while locked
    assert (
        deal.manager.patch(f"/api/v1/records/opportunity/{opp}", json={"name": "X"}).status_code
        == 409
    )
    assert record(deal.rep, opp)["discount"] == Decimal("25")
    admin = deal.admin.patch(f"/api/v1/records/opportunity/{opp}", json={"discount": 21})
    assert admin.status_code == 200, admin.get_json()
    assert state(deal.rep, opp)["pending"] is True


def test_recall_unlocks_the_record(deal):
    opp = opportunity(deal.rep, discount=25, amount=200000)
    act(deal.rep, opp, "submit")
    # someone who sees the record but neither submitted it nor administers it
    assert act(deal.finance1, opp, "recall").status_code == 403
    assert act(deal.outsider, opp, "recall").status_code == 404
    recalled = act(deal.rep, opp, "recall", {"comment": "Wrong amount"})
    assert recalled.status_code == 200
    request = recalled.get_json()["requests"][0]
    assert (request["status"], request["locked"]) == ("recalled", False)
    assert [s["status"] for s in request["steps"]] == ["recalled"]
    assert (request["history"][-1]["action"], request["history"][-1]["comment"]) == (
        "recalled",
        "Wrong amount",
    )
    assert pending_of(deal.manager) == []
    assert (
        deal.rep.patch(f"/api/v1/records/opportunity/{opp}", json={"amount": 1}).status_code == 200
    )
    assert act(deal.rep, opp, "recall").status_code == 409
    assert act(deal.manager, opp, "approve").status_code == 409


def test_only_the_current_approver_may_decide(deal):
    opp = opportunity(deal.rep, discount=25, amount=200000)
    # nothing pending yet
    nothing = act(deal.manager, opp, "approve")
    assert nothing.status_code == 409
    assert nothing.get_json()["detail"] == "no approval is pending on this opportunity record"
    act(deal.rep, opp, "submit")
    # finance sees every opportunity but is not the manager step's approver
    refused = act(deal.finance1, opp, "approve")
    assert refused.status_code == 403
    assert "not an approver of step 'manager'" in refused.get_json()["detail"]
    assert act(deal.rep, opp, "approve").status_code == 403  # the submitter neither
    assert act(deal.outsider, opp, "approve").status_code == 404  # cannot see the record
    assert deal.outsider.get(f"/api/v1/records/opportunity/{opp}/approval").status_code == 404
    act(deal.manager, opp, "approve")
    # the manager's step is decided: a second decision on it conflicts
    again = act(deal.manager, opp, "reject", {"step": "manager"})
    assert again.status_code == 409
    assert "step 'manager' was decided already" in again.get_json()["detail"]
    assert act(deal.manager, opp, "approve").status_code == 409
    assert state(deal.rep, opp)["requests"][0]["current_step"] == "finance"


def test_what_cannot_be_submitted(deal):
    small = opportunity(deal.rep, discount=10, amount=200000)
    refused = act(deal.rep, small, "submit")
    assert refused.status_code == 409
    assert "entry criteria" in refused.get_json()["detail"]
    assert state(deal.rep, small)["requests"] == []
    unknown = act(deal.rep, small, "submit", {"process": "nope"})
    assert unknown.status_code == 400
    assert "process" in unknown.get_json()["errors"]
    assert act(deal.rep, small, "submit", {"colour": "red"}).get_json()["errors"]["colour"]
    # a submitter with no manager: the first step would have no approver
    lonely = opportunity(deal.loner, discount=25)
    no_manager = act(deal.loner, lonely, "submit")
    assert no_manager.status_code == 409
    assert "the submitter has no active manager" in no_manager.get_json()["detail"]
    assert state(deal.loner, lonely)["requests"] == []  # nothing was kept
    big = opportunity(deal.rep, discount=25)
    assert act(deal.outsider, big, "submit").status_code == 404
    assert act(deal.finance1, big, "submit").status_code == 403  # sees it, may not edit
    assert act(deal.rep, big, "submit").status_code == 200
    assert act(deal.rep, big, "submit").status_code == 409  # pending already


def test_two_approvers_deciding_at_once_decide_once(deal):
    opp = opportunity(deal.rep, discount=25, amount=200000)
    act(deal.rep, opp, "submit")
    act(deal.manager, opp, "approve")
    barrier = threading.Barrier(2)
    answers: dict[str, int] = {}

    def decide(name: str) -> None:
        barrier.wait()
        answers[name] = act(getattr(deal, name), opp, "approve").status_code

    threads = [threading.Thread(target=decide, args=(n,)) for n in ("finance1", "finance2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers.values()) == [200, 409]
    request = state(deal.rep, opp)["requests"][0]
    assert request["status"] == "approved"
    finance = [h for h in request["history"] if h["step"] == "finance"]
    assert len(finance) == 1


def test_two_submissions_at_once_make_one_request(deal):
    opp = opportunity(deal.rep, discount=25, amount=200000)
    barrier = threading.Barrier(2)
    answers: dict[str, int] = {}

    def submit(name: str) -> None:
        barrier.wait()
        answers[name] = act(getattr(deal, name), opp, "submit").status_code

    threads = [threading.Thread(target=submit, args=(n,)) for n in ("rep", "manager")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers.values()) == [200, 409]
    assert len(state(deal.rep, opp)["requests"]) == 1
