"""Duplicate rules on every write path: a block is a 409 naming the rule and the
matching records the writer may see; a warning lets the write through and says so in
a ``Warning`` header; a duplicate the writer may not see is only said to exist."""

from __future__ import annotations

import json

import sqlalchemy as sa

from tests.conftest import ADMIN_EMAIL
from tests.dedupe.conftest import create, warnings_of

ACCOUNTS = "/api/v1/records/account"


def count(dd, object_name: str, **where) -> int:
    with dd.org.reading() as (conn, model):
        obj = model.objects[object_name]
        query = sa.select(sa.func.count()).select_from(obj.table)
        for name, value in where.items():
            query = query.where(obj.fields[name].columns[""] == value)
        return conn.execute(query).scalar()


def test_a_rule_that_names_what_cannot_be_compared_is_refused(dd):
    rules = "/api/v1/metadata/duplicate_rules"
    bad = {
        "api_name": "bad",
        "object": "account",
        "criteria": [
            {"field": "nope", "method": "exact"},
            {"field": "email", "method": "email", "threshold": 90},
        ],
    }
    answer = dd.api.post(rules, json=bad)
    assert answer.status_code == 400, answer.get_json()
    errors = answer.get_json()["errors"]
    assert errors["account.bad.criteria[0].field"] == ["no field 'nope' on account"]
    assert errors["account.bad.criteria[1].threshold"] == ["only a fuzzy criterion has a threshold"]
    listed = dd.api.get(rules).get_json()["duplicate_rules"]
    assert {r["api_name"] for r in listed} >= {"same_name", "same_email", "same_phone"}


def test_a_block_through_the_api_names_the_rule_and_the_record_and_writes_nothing(dd):
    first = create(dd.api, "account", {"name": "Initech", "email": "hello@initech.com"}).get_json()
    refused = create(dd.api, "account", {"name": "Initrode", "email": "Hello@Initech.COM"}, 409)
    problem = refused.get_json()
    assert refused.mimetype == "application/problem+json"
    assert problem["duplicate_rule"] == "same_email"
    assert problem["duplicates"] == [{"id": first["id"], "name": "Initech"}]
    assert "Same email" in problem["detail"] and "Initech" in problem["detail"]
    assert problem["errors"]["email"]  # shown beside the field in a form
    assert count(dd, "account", name="Initrode") == 0


def test_a_warning_through_the_api_lets_the_record_in_and_says_why(dd):
    first = create(dd.api, "account", {"name": "Globex Corporation"}).get_json()
    answer = create(dd.api, "account", {"name": "GLOBEX  corporation"})
    [warning] = warnings_of(answer)
    assert warning.startswith('299 crm "account ' + answer.get_json()["id"])
    assert "Similar name" in warning and first["id"] in warning and "Globex Corporation" in warning
    assert count(dd, "account", name="GLOBEX  corporation") == 1
    assert warnings_of(create(dd.api, "account", {"name": "Umbrella Health"})) == []
    # a header is Latin-1: names in any language come as a JSON string
    create(dd.api, "account", {"name": "北京星辰科技有限公司"})
    [warning] = warnings_of(create(dd.api, "account", {"name": "北京星辰科技 有限公司"}))
    assert warning.isascii()
    assert "北京星辰科技有限公司" in json.loads(warning.removeprefix("299 crm "))


def test_updates_are_checked_when_a_compared_field_moves(dd):
    create(dd.api, "account", {"name": "Hooli", "email": "x@hooli.com", "phone": "415 555 0101"})
    other = create(dd.api, "account", {"name": "Pied Piper", "email": "x@piper.com"}).get_json()
    url = f"{ACCOUNTS}/{other['id']}"
    refused = dd.api.patch(url, json={"email": "X@hooli.com"})
    assert refused.status_code == 409 and refused.get_json()["duplicate_rule"] == "same_email"
    # same_phone is enforced on create only: an update may reuse a number
    assert dd.api.patch(url, json={"phone": "(415) 555-0101"}).status_code == 200
    assert create(dd.api, "account", {"name": "Nucleus", "phone": "+1 415 555 0101"}, 409)
    # a change to a field no rule compares is not checked (and stays quiet)
    assert warnings_of(dd.api.patch(url, json={"website": "https://piper.com"})) == []


def test_every_criterion_of_a_rule_must_match(dd):
    create(dd.api, "contact", {"name": "Ann Lee", "email": "ann@lee.com"})
    refused = create(dd.api, "contact", {"name": "ANN  lee", "email": "Ann@Lee.com"}, 409)
    assert refused.get_json()["duplicate_rule"] == "same_person"
    create(dd.api, "contact", {"name": "ANN  lee", "email": "ann@other.com"})  # other email
    create(dd.api, "contact", {"name": "Anne Lee", "email": "ann@lee.com"})  # other name


def test_a_duplicate_the_writer_cannot_see_is_only_said_to_exist(dd):
    hidden = create(dd.api, "account", {"name": "Vandelay Industries", "email": "art@vandelay.com"})
    hidden_id = hidden.get_json()["id"]
    refused = create(dd.rep, "account", {"name": "Kramerica", "email": "art@vandelay.com"}, 409)
    problem = refused.get_json()
    assert problem["duplicates"] == [] and problem["hidden_duplicates"] == 1
    assert "cannot see" in problem["detail"]
    assert hidden_id not in refused.get_data(as_text=True)
    assert "Vandelay" not in refused.get_data(as_text=True)
    warned = create(dd.rep, "account", {"name": "Vandelay Industries"})  # warn rule: hidden too
    [warning] = warnings_of(warned)
    assert (
        "cannot see" in warning
        and hidden_id not in warning
        and "Vandelay" not in warning.split(":", 1)[0]
    )


def test_an_exact_rule_compares_values_as_stored(dd):
    create(dd.api, "account", {"name": "Soylent", "tax_id": "TX-42"})
    refused = create(dd.api, "account", {"name": "Soylent Green", "tax_id": "TX-42"}, 409)
    assert refused.get_json()["duplicate_rule"] == "same_tax_id"
    create(dd.api, "account", {"name": "Soylent Blue", "tax_id": "tx-42"})


def test_composite_batches_meet_the_rules(dd):
    create(dd.api, "account", {"name": "Wonka", "email": "charlie@wonka.com"})
    batch = {
        "operations": [
            {
                "method": "POST",
                "url": "/records/account",
                "ref": "a",
                "body": {"name": "Slugworth"},
            },
            {
                "method": "POST",
                "url": "/records/account",
                "ref": "b",
                "body": {"name": "Wonka Bars", "email": "Charlie@wonka.com"},
            },
        ]
    }
    answer = dd.api.post("/api/v1/composite", json=batch)
    assert answer.status_code == 409 or answer.status_code == 400, answer.get_json()
    assert "same_email" in answer.get_data(as_text=True)
    assert count(dd, "account", name="Slugworth") == 0  # all or none


def test_a_batch_written_at_once_is_checked_against_itself(dd):
    """An import writes batches through create_many: two rows of one batch that duplicate
    each other are caught like a row that duplicates a stored record."""
    from crm_platform.core import Conflict
    from crm_platform.runtime.users import system_user

    with dd.org.db.read() as conn:
        system = system_user(conn)
    rows = [
        {"name": "Batch One", "email": "same@batch.com"},
        {"name": "Batch Two", "email": "SAME@batch.com"},
    ]
    try:
        with dd.org.records.session(system) as session:
            session.create_many("account", rows)
        raise AssertionError("the batch was written")
    except Conflict as refused:
        assert refused.extra["duplicate_rule"] == "same_email"
    assert count(dd, "account", name="Batch One") == 0


def test_a_row_duplicating_only_a_refused_row_of_its_batch_is_not_named(dd):
    """Asked for every refusal, the service leaves out a record whose only duplicate in the
    batch is refused itself: written again without it, the record passes."""
    from crm_platform.runtime import find_user
    from crm_platform.runtime.records import RecordsRefused

    with dd.org.db.read() as conn:
        admin = find_user(conn, ADMIN_EMAIL)
    rows = {
        "nameless": {"name": " ", "email": "pair@batch.com"},  # refused: name required
        "second": {"name": "Second", "email": "PAIR@batch.com"},
    }
    try:
        with dd.org.records.session(admin) as session:
            session.create_many(
                "account", list(rows.values()), record_ids=list(rows), every_refusal=True
            )
        raise AssertionError("the batch was written")
    except RecordsRefused as refused:
        assert list(refused.refusals) == ["nameless"]
    with dd.org.records.session(admin) as session:
        session.create_many("account", [rows["second"]])
    assert count(dd, "account", name="Second") == 1
