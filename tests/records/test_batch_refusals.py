"""A bulk writer (an import) asks the record service for every refusal of a batch: each
refused record comes back with its own error, nothing of the batch is written, and the
records that were not refused can then be written at once. Without asking, the first
refusal is raised as before."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_EMAIL

REC = "/api/v1/records"


@pytest.fixture
def admin(org):
    from crm_platform.runtime import find_user

    with org.db.read() as conn:
        return find_user(conn, ADMIN_EMAIL)


def _count(api, object_name: str) -> int:
    return api.get(f"{REC}/{object_name}?count=true").get_json()["total"]


def test_a_batch_of_creates_names_every_refused_record_with_its_own_error(org, projects, admin):
    from crm_platform.core import Conflict, ValidationFailed
    from crm_platform.runtime.records import RecordsRefused

    projects.post(f"{REC}/project", json={"name": "Stored", "code": "X-9"})
    rows = {
        "kept-a": {"name": "Kept A", "code": "N-1", "budget": 10},
        "taken": {"name": "Taken", "code": "X-9"},
        "again": {"name": "Again", "code": "N-1"},
        "negative": {"name": "Negative", "budget": -5},
        "lost": {"name": "Lost", "account": "0" * 26},
        "nameless": {"budget": 3},
        "retired": {"name": "Retired", "stage": "Cancelled"},
        "baddate": {"name": "Bad date", "due_date": "2026-13-01"},
        "kept-b": {"name": "Kept B"},
    }

    with pytest.raises(RecordsRefused) as refused, org.records.session(admin) as session:
        session.create_many(
            "project", list(rows.values()), record_ids=list(rows), every_refusal=True
        )

    errors = refused.value.refusals
    assert sorted(errors) == sorted(set(rows) - {"kept-a", "kept-b"})
    assert isinstance(errors["taken"], Conflict)
    assert errors["taken"].extra["errors"] == {"code": ["already used by another record"]}
    assert isinstance(errors["again"], Conflict)  # N-1 is kept-a's, earlier in the batch
    assert errors["negative"].extra["errors"] == {"budget": ["The budget cannot be negative"]}
    assert list(errors["lost"].extra["errors"]) == ["account"]
    assert errors["nameless"].extra["errors"] == {"name": ["required"]}
    assert list(errors["retired"].extra["errors"]) == ["stage"]
    assert isinstance(errors["baddate"], ValidationFailed)
    assert list(errors["baddate"].extra["errors"]) == ["due_date"]
    assert _count(projects, "project") == 1  # nothing of the batch was written

    # not asked: the first refusal, as before
    with pytest.raises(ValidationFailed), org.records.session(admin) as session:
        session.create_many("project", list(rows.values()))

    with org.records.session(admin) as session:
        session.create_many("project", [rows["kept-a"], rows["kept-b"]])
    numbers = sorted(r["number"] for r in projects.get(f"{REC}/project").get_json()["records"])
    assert numbers == ["PRJ-00001", "PRJ-00002", "PRJ-00003"]  # refused batches took none


def test_a_batch_of_updates_names_every_refused_record(org, projects, admin):
    from crm_platform.core import Conflict, PreconditionFailed, ValidationFailed
    from crm_platform.runtime.records import RecordsRefused

    ids = [
        projects.post(f"{REC}/project", json=body).get_json()["id"]
        for body in (
            {"name": "One", "code": "A-1"},
            {"name": "Two", "code": "A-2"},
            {"name": "Three"},
        )
    ]
    items = [
        (ids[0], {"code": "A-2"}, None),  # Two's code: left to the write while Two moves
        (ids[1], {"budget": -1}, None),
        (ids[2], {"name": "Renamed"}, 7),  # stale: the record is at version 1
    ]

    with pytest.raises(RecordsRefused) as refused, org.records.session(admin) as session:
        session.update_many("project", items, every_refusal=True)

    errors = refused.value.refusals
    assert sorted(errors) == sorted(ids[1:])
    assert isinstance(errors[ids[1]], ValidationFailed)
    assert isinstance(errors[ids[2]], PreconditionFailed)

    # written again without the refused: Two keeps A-2, so One may not take it
    with pytest.raises(RecordsRefused) as refused, org.records.session(admin) as session:
        session.update_many("project", items[:1], every_refusal=True)
    assert isinstance(refused.value.refusals[ids[0]], Conflict)

    records = projects.get(f"{REC}/project").get_json()["records"]
    names = {r["id"]: (r["name"], r["code"], r["budget"]) for r in records}
    assert names == {
        ids[0]: ("One", "A-1", None),
        ids[1]: ("Two", "A-2", None),
        ids[2]: ("Three", None, None),
    }


def test_a_record_refused_only_for_a_refused_record_of_the_batch_is_not_named(org, projects, admin):
    from crm_platform.core import ValidationFailed
    from crm_platform.runtime.records import RecordsRefused

    rows = {
        "holder": {"name": "Holder", "code": "D-1", "budget": -1},  # breaks a rule
        "follower": {"name": "Follower", "code": "D-1"},  # repeats the holder's code
    }
    with pytest.raises(RecordsRefused) as refused, org.records.session(admin) as session:
        session.create_many(
            "project", list(rows.values()), record_ids=list(rows), every_refusal=True
        )
    assert list(refused.value.refusals) == ["holder"]

    with org.records.session(admin) as session:  # written again without the holder
        session.create_many("project", [rows["follower"]], every_refusal=True)
    assert [r["code"] for r in projects.get(f"{REC}/project").get_json()["records"]] == ["D-1"]

    with pytest.raises(ValidationFailed), org.records.session(admin) as session:
        session.create_many("project", [{"name": "A"}, {"name": "B"}], record_ids=["x", "x"])
