"""The approvals API answers as its OpenAPI description says (bodies and error codes)."""

from __future__ import annotations

from openapi_spec_validator import validate as validate_openapi

from tests.api.test_openapi import assert_documented, fetch, plain

from .approval_setup import act, opportunity

RECORD = "/records/{name}/{id}/approval"


def test_approval_answers_match_the_document(deal):
    document = fetch(deal.admin)
    validate_openapi(plain(document))
    opp = opportunity(deal.rep, discount=25, amount=200000)
    assert_documented(document, "post", RECORD + "/submit", act(deal.rep, opp, "submit"))
    assert_documented(document, "post", RECORD + "/approve", act(deal.finance1, opp, "approve"))
    assert_documented(document, "post", RECORD + "/reject", act(deal.outsider, opp, "reject"))
    moved = act(deal.manager, opp, "reassign", {"to": "vp@example.com", "comment": "away"})
    assert_documented(document, "post", RECORD + "/reassign", moved)
    pending = deal.vp.get("/api/v1/approvals/pending")
    assert_documented(document, "get", "/approvals/pending", pending)
    assert_documented(document, "post", RECORD + "/approve", act(deal.vp, opp, "approve"))
    assert_documented(document, "post", RECORD + "/recall", act(deal.rep, opp, "recall"))
    assert_documented(document, "post", RECORD + "/recall", act(deal.rep, opp, "recall"))
    history = deal.rep.get(f"/api/v1/records/opportunity/{opp}/approval")
    assert_documented(document, "get", RECORD, history)
    assert [h["action"] for h in history.get_json()["requests"][0]["history"]] == [
        "submitted",
        "reassigned",
        "approved",
        "recalled",
    ]
