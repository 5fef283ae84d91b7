"""No error names a field the user may not read or echoes its value: a hidden field
answers exactly like a field that does not exist, before any type check, on every path
(filters, sorts, fields=, aggregates, writes); dependent picklists and validation rules
say nothing of hidden fields (a rule's message is generic when the admin asks for it)."""

from __future__ import annotations

import pytest

from .conftest import create

HIDDEN, UNKNOWN = "margin", "nosuch"


def same_answer(client, template: str, hidden: str = HIDDEN, unknown: str = UNKNOWN) -> None:
    """GET the template with the hidden name and with an unknown one: the same answer."""
    with_hidden = client.get(template.format(hidden))
    with_unknown = client.get(template.format(unknown))
    assert with_hidden.status_code == with_unknown.status_code == 400
    assert with_hidden.get_data(True).replace(hidden, unknown) == with_unknown.get_data(True)


@pytest.mark.parametrize(
    "template",
    [
        "/api/v1/records/deal?where={} == 'x'",
        "/api/v1/records/deal?where=IF({} > 'a', 1, 2) == 1",
        "/api/v1/records/deal?where=amount > 1 and {} == 'x'",
        "/api/v1/records/deal?order_by={} * 'x'",
        "/api/v1/records/deal?order_by=-{}",
        "/api/v1/records/deal?fields=name,{}",
        "/api/v1/records/deal/aggregate?metrics=sum({})",
        "/api/v1/records/deal/aggregate?metrics=avg(CONCAT({}, 'x'))",
        "/api/v1/records/deal/aggregate?group_by={}&metrics=count",
        "/api/v1/records/deal/aggregate?metrics=count&where={} > 'x'",
    ],
)
def test_naming_a_hidden_field_in_a_request_answers_exactly_like_an_unknown_field(
    confidential, template
):
    create(confidential.seller, "deal", name="Mine", amount="100")
    same_answer(confidential.seller, template)


def test_a_hidden_field_behind_a_lookup_answers_like_an_unknown_one(confidential):
    same_answer(confidential.seller, "/api/v1/records/deal?where=buyer.{} == 1", "tier", "nosuch")
    same_answer(confidential.seller, "/api/v1/records/deal?fields=buyer.{}", "tier", "nosuch")


def test_the_type_error_on_a_field_is_kept_for_those_who_may_read_it(confidential):
    response = confidential.admin.get("/api/v1/records/deal?where=margin == 'x'")
    assert response.status_code == 400
    assert "unknown field" not in response.get_data(True)


@pytest.mark.parametrize("value", ["not a number", 5, None])
def test_writing_a_hidden_field_answers_exactly_like_an_unknown_field(confidential, value):
    seller = confidential.seller
    created = [
        seller.post("/api/v1/records/deal", json={"name": "New", "amount": "x", name: value})
        for name in (HIDDEN, UNKNOWN)
    ]
    assert created[0].status_code == created[1].status_code == 400
    assert created[0].get_data(True).replace(HIDDEN, UNKNOWN) == created[1].get_data(True)
    deal = create(seller, "deal", name="Mine", amount="100")
    changed = [
        seller.patch(f"/api/v1/records/deal/{deal['id']}", json={name: value})
        for name in (HIDDEN, UNKNOWN)
    ]
    assert changed[0].status_code == changed[1].status_code == 400
    assert changed[0].get_data(True).replace(HIDDEN, UNKNOWN) == changed[1].get_data(True)


def test_writing_a_hidden_formula_answers_like_an_unknown_field(confidential):
    deal = create(confidential.seller, "deal", name="Mine", amount="100")
    answers = [
        confidential.seller.patch(f"/api/v1/records/deal/{deal['id']}", json={name: "1"})
        for name in ("margin_pct", "nosuch")
    ]
    assert answers[0].status_code == answers[1].status_code == 400
    assert answers[0].get_data(True).replace("margin_pct", "nosuch") == answers[1].get_data(True)


def test_a_dependent_picklist_never_names_its_hidden_controlling_field_or_its_value(
    confidential,
):
    client = create(confidential.admin, "client", name="Acme", tier="Platinum")
    refused = confidential.seller.patch(
        f"/api/v1/records/client/{client['id']}", json={"grade": "G1"}
    )
    assert refused.status_code == 400
    body = refused.get_data(True)
    assert "tier" not in body and "Platinum" not in body
    assert refused.get_json()["errors"]["grade"] == [
        "'G1' is not valid with this record's other values"
    ]
    # who may read the controlling field is told what is wrong
    told = confidential.admin.patch(f"/api/v1/records/client/{client['id']}", json={"grade": "G1"})
    assert told.get_json()["errors"]["grade"] == ["'G1' is not valid when tier is 'Platinum'"]


def thin_margin_deal(confidential) -> str:
    deal = create(confidential.seller, "deal", name="Thin", amount="100")
    confidential.admin.patch(f"/api/v1/records/deal/{deal['id']}", json={"margin": "5"})
    return deal["id"]


def test_a_rule_over_a_hidden_field_marked_generic_names_nothing_hidden(confidential):
    deal_id = thin_margin_deal(confidential)

    refused = confidential.seller.patch(f"/api/v1/records/deal/{deal_id}", json={"amount": "5000"})
    assert refused.status_code == 400
    assert refused.get_json()["errors"] == {
        "(record)": ["the record does not meet a validation rule"]
    }
    assert "margin" not in refused.get_data(True)


def test_a_rule_over_a_hidden_field_keeps_its_message_for_who_may_read_the_field(confidential):
    deal_id = thin_margin_deal(confidential)

    refused = confidential.admin.patch(f"/api/v1/records/deal/{deal_id}", json={"amount": "5000"})
    assert refused.get_json()["errors"] == {
        "margin": ["a margin under 10 needs an amount of at most 1000"]
    }


def test_a_rule_over_readable_fields_keeps_its_message_for_everyone(confidential):
    refused = confidential.seller.post("/api/v1/records/deal", json={"name": "Free", "amount": 0})
    assert refused.status_code == 400
    assert refused.get_json()["errors"] == {"amount": ["a deal needs an amount"]}


def test_a_rule_marked_generic_still_refuses_the_record(confidential):
    """The refusal itself is the documented oracle: the record is not saved."""
    deal_id = thin_margin_deal(confidential)
    confidential.seller.patch(f"/api/v1/records/deal/{deal_id}", json={"amount": "5000"})
    record = confidential.seller.get(f"/api/v1/records/deal/{deal_id}").get_json()
    assert str(record["amount"]) in {"100", "100.00"}
