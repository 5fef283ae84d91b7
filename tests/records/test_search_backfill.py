"""The search index stays current by itself: records that metadata makes searchable are
indexed in the background, in batches that resume after a stop — no manual reindex."""

from __future__ import annotations

import pytest

from crm_platform.assembly import open_org
from crm_platform.runtime import find_user
from crm_platform.runtime.records.backfill import BATCH, progress
from tests.conftest import ADMIN_EMAIL

OBJECTS = "/api/v1/metadata/objects"
RECORDS = 2500


def _create_records(org, object_name: str, rows: list[dict]) -> list[str]:
    """Create records through the record service, a few hundred per transaction."""
    with org.db.read() as conn:
        admin = find_user(conn, ADMIN_EMAIL)
    ids = []
    for start in range(0, len(rows), 500):
        with org.records.session(admin) as session:
            created = session.create_many(object_name, rows[start : start + 500])
        ids.extend(r["id"] for r in created)
    return ids


def _search(api, q: str) -> list[str]:
    response = api.get(f"/api/v1/search?q={q}&limit=50")
    assert response.status_code == 200, response.get_json()
    return [hit["id"] for hit in response.get_json()["results"]]


def _backfill(org, object_name: str) -> dict | None:
    with org.db.read() as conn:
        return progress(conn, object_name)


@pytest.fixture
def notes(api, org):
    """2,500 notes whose text field is not searchable yet."""
    response = api.post(
        OBJECTS,
        json={
            "api_name": "note",
            "fields": [{"api_name": "body", "type": "long_text", "searchable": False}],
        },
    )
    assert response.status_code == 201, response.get_json()
    rows = [{"name": f"Note {i}", "body": f"minutes of meeting zq{i:04d}x"} for i in range(RECORDS)]
    return _create_records(org, "note", rows)


def test_making_a_field_searchable_indexes_the_existing_records(api, org, notes):
    assert _search(api, "zq2417x") == []

    response = api.patch(f"{OBJECTS}/note/fields/body", json={"searchable": True})
    assert response.status_code == 200, response.get_json()
    org.work.run_pending()  # wait for the background work the change started

    assert _search(api, "zq2417x") == [notes[2417]]
    assert _search(api, "zq0003x") == [notes[3]]
    done = _backfill(org, "note")
    assert done["indexed"] == RECORDS and done["finished_at"] is not None


def test_a_stopped_backfill_resumes_where_it_stopped(api, org, settings, notes):
    org.work.close()  # this process stops before doing anything in the background
    api.patch(f"{OBJECTS}/note/fields/body", json={"searchable": True})
    restarted = open_org(settings)
    try:
        assert restarted.work.run_pending(max_batches=2) == 2  # ... and stops again
        halfway = _backfill(org, "note")
        assert halfway["indexed"] == 2 * BATCH and halfway["finished_at"] is None
        assert _search(api, "zq0001x") == [notes[1]]
        assert _search(api, "zq2499x") == []

        again = open_org(settings)
        again.work.run_pending()
        again.dispose()
    finally:
        restarted.dispose()

    assert _search(api, "zq2499x") == [notes[2499]]
    assert _backfill(org, "note")["indexed"] == RECORDS  # each record indexed once


def test_a_field_no_longer_searchable_leaves_the_index_at_once(api, org, notes):
    api.patch(f"{OBJECTS}/note/fields/body", json={"searchable": True})
    org.work.run_pending()

    api.patch(f"{OBJECTS}/note/fields/body", json={"searchable": False})

    assert _search(api, "zq0042x") == []
    with org.db.read() as conn:  # the entries that held its text are gone with it
        bodies = [r[0] for r in conn.exec_driver_sql("SELECT body FROM sys_search")]
    assert not any("zq" in body for body in bodies)
    # the fields that shared their entry are indexed again by the backfill it asked for
    assert _backfill(org, "note")["finished_at"] is None
    org.work.run_pending()
    assert notes[42] in _search(api, "Note 42")
    assert _search(api, "zq0042x") == []


def test_a_number_turned_into_text_becomes_searchable(api, org):
    api.post(
        OBJECTS, json={"api_name": "ticket", "fields": [{"api_name": "ref", "type": "integer"}]}
    )
    ids = _create_records(org, "ticket", [{"name": f"T{i}", "ref": 770000 + i} for i in range(3)])

    changed = api.post(f"{OBJECTS}/ticket/fields/ref/type-change", json={"type": "text"})
    assert changed.status_code == 200, changed.get_json()
    org.work.run_pending()

    assert _search(api, "770002") == [ids[2]]
