"""A read over the API is one transaction of at most three statements: the token with the
user's access and the metadata version, and the read itself; a create is one write
transaction that reads its user too (counts, not durations)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from .conftest import create

TRANSACTION_CONTROL = ("BEGIN", "SET TRANSACTION", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextmanager
def statements(org) -> Iterator[list[str]]:
    """The SQL this thread (the test client's request) sends while the block runs: a
    background poller of the same engine is not counted."""
    sent: list[str] = []
    thread = threading.get_ident()

    def record(_conn, _cursor, statement, *_args) -> None:
        if threading.get_ident() == thread:
            sent.append(statement.strip())

    sa.event.listen(org.db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(org.db.engine, "before_cursor_execute", record)


def split(sent: list[str]) -> tuple[list[str], list[str]]:
    """(transaction control, the other statements)."""
    control = [s for s in sent if s.upper().startswith(TRANSACTION_CONTROL)]
    return control, [s for s in sent if s not in control]


@pytest.fixture
def deal(people):
    """An opportunity the rep owns (private sharing), read once to warm the connection."""
    record = create(people.rep, "opportunity", name="Big deal", amount="1200.00")
    assert people.rep.get(f"/api/v1/records/opportunity/{record['id']}").status_code == 200
    return record


@pytest.mark.parametrize("who", ["rep", "manager", "finance", "queue_member", "auditor"])
def test_a_get_by_id_is_one_transaction_of_three_statements(org, people, deal, who):
    client = getattr(people, who)
    client.get("/api/v1/records/opportunity?limit=1")  # this user's first request
    with statements(org) as sent:
        response = client.get(f"/api/v1/records/opportunity/{deal['id']}")
    visible = who in {"rep", "manager", "auditor"}
    assert response.status_code == (200 if visible else 404)
    control, others = split(sent)
    assert len(control) == 1, sent  # one transaction
    assert len(others) <= 3, others


def test_a_filtered_sorted_list_is_one_transaction_of_three_statements(org, people, deal):
    create(people.rep, "opportunity", name="Small deal", amount="10.00")
    url = "/api/v1/records/opportunity?where=amount > 100&order_by=-amount,name&limit=50"
    with statements(org) as sent:
        response = people.rep.get(url)
    assert [r["name"] for r in response.get_json()["records"]] == ["Big deal"]
    control, others = split(sent)
    assert len(control) == 1, sent
    assert len(others) <= 3, others


def test_a_revoked_token_in_the_same_statement_is_still_refused(org, people, deal):
    from crm_platform.runtime import revoke_token

    token_id = people.rep.token.split("_")[1]
    with org.db.write() as conn:
        revoke_token(conn, token_id)
    response = people.rep.get(f"/api/v1/records/opportunity/{deal['id']}")
    assert response.status_code == 401


def test_a_create_reads_its_user_inside_its_one_write_transaction(org, people, deal):
    with statements(org) as sent:
        record = create(people.rep, "opportunity", name="Next deal", amount="5.00")
    control, others = split(sent)
    assert [s for s in control if "SET TRANSACTION" in s.upper()] == []  # no read of its own
    assert len([s for s in control if s.upper().startswith("BEGIN")]) <= 1, sent
    assert others[0].startswith("SELECT sys_user.id"), others  # the user, in the write
    assert len(others) <= 6, others
    assert people.manager.get(f"/api/v1/records/opportunity/{record['id']}").status_code == 200


def test_a_refused_change_in_the_request_transaction_leaves_nothing(org, people, deal):
    response = people.rep.post(
        "/api/v1/composite",
        json={
            "operations": [
                {"method": "POST", "url": "/records/opportunity", "body": {"name": "Kept?"}},
                {"method": "PATCH", "url": f"/records/opportunity/{deal['id']}", "body": {"x": 1}},
            ]
        },
    )
    assert response.status_code == 400
    names = [r["name"] for r in people.rep.get("/api/v1/records/opportunity").get_json()["records"]]
    assert names == ["Big deal"]
    assert (
        people.rep.patch(
            f"/api/v1/records/opportunity/{deal['id']}", json={"name": "Renamed"}
        ).get_json()["name"]
        == "Renamed"
    )
