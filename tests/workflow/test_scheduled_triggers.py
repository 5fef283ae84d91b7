"""Scheduled triggers with a controlled clock: a run planned at an offset from a date
field runs when due, moves when the date moves, is cancelled when the record stops
meeting the criteria or is deleted, and runs late (saying so) when no worker ran in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crm_platform.workflow import outbox

from .test_outbox import Clock

REC = "/api/v1/records"
SOURCE = "trigger:opportunity.closing_soon"

CLOSING_SOON = {
    "api_name": "closing_soon",
    "object": "opportunity",
    "events": ["create", "update"],
    "when": "stage != 'Closed Won'",
    "timing": "scheduled",
    "schedule": {"field": "close_date", "offset": "-7d"},
    "actions": [
        {"type": "create_record", "object": "task", "values": {"name": "'Closing: ' + name"}},
        {"type": "update_record", "values": {"approval_status": "'Reminded'"}},
    ],
}


@pytest.fixture
def clock(org) -> Clock:
    clock = Clock()  # 2026-12-02 09:00 UTC; the org's time zone is UTC
    org.clock = clock
    return clock


@pytest.fixture
def crm(api, load_fixture, clock):
    load_fixture("automation")
    response = api.post("/api/v1/metadata/triggers", json=CLOSING_SOON)
    assert response.status_code == 201, response.get_json()
    return api


def runs(org, record_id):
    with org.db.read() as conn:
        found = outbox.list_runs(conn, source=SOURCE, record_id=record_id)
    return sorted(found, key=lambda run: (run.created_at, run.due_at))


def task_names(crm):
    return [t["name"] for t in crm.get(f"{REC}/task?order_by=name").get_json()["records"]]


def midnight(day: int) -> datetime:
    return datetime(2026, 12, day, tzinfo=UTC)


def test_a_run_is_planned_at_the_offset_and_runs_when_due(crm, org, clock):
    opp = crm.post(f"{REC}/opportunity", json={"name": "Big", "close_date": "2026-12-20"})
    opp = opp.get_json()
    [run] = runs(org, opp["id"])
    assert (run.job, run.status, run.due_at) == ("scheduled_trigger", "queued", midnight(13))

    clock.now = midnight(12)
    org.work.run_pending()
    assert task_names(crm) == []

    clock.now = midnight(13) + timedelta(seconds=30)
    org.work.run_pending()
    assert task_names(crm) == ["Closing: Big"]
    assert crm.get(f"{REC}/opportunity/{opp['id']}").get_json()["approval_status"] == "Reminded"
    [run] = runs(org, opp["id"])
    assert (run.status, run.late) == ("succeeded", False)


def test_saving_again_plans_nothing_new(crm, org, clock):
    opp = crm.post(f"{REC}/opportunity", json={"name": "A", "close_date": "2026-12-20"})
    opp = opp.get_json()
    crm.patch(f"{REC}/opportunity/{opp['id']}", json={"amount": "10.00"})
    crm.patch(f"{REC}/opportunity/{opp['id']}", json={"stage": "Negotiation"})
    assert [run.status for run in runs(org, opp["id"])] == ["queued"]


def test_changing_the_date_re_plans_the_run(crm, org, clock):
    opp = crm.post(f"{REC}/opportunity", json={"name": "Moved", "close_date": "2026-12-20"})
    opp = opp.get_json()
    crm.patch(f"{REC}/opportunity/{opp['id']}", json={"close_date": "2026-12-30"})
    old, new = runs(org, opp["id"])
    assert (old.status, old.due_at) == ("cancelled", midnight(13))
    assert (new.status, new.due_at) == ("queued", midnight(23))

    clock.now = midnight(14)
    org.work.run_pending()
    assert task_names(crm) == []
    clock.now = midnight(23) + timedelta(minutes=1)
    org.work.run_pending()
    assert task_names(crm) == ["Closing: Moved"]


def test_a_record_that_stops_meeting_the_criteria_cancels_the_run(crm, org, clock):
    opp = crm.post(f"{REC}/opportunity", json={"name": "Won", "close_date": "2026-12-20"})
    opp = opp.get_json()
    crm.patch(f"{REC}/opportunity/{opp['id']}", json={"stage": "Closed Won"})
    assert [run.status for run in runs(org, opp["id"])] == ["cancelled"]
    clock.now = midnight(14)
    org.work.run_pending()
    assert task_names(crm) == []

    # meeting the criteria again plans it again (already due now: it runs at once)
    crm.patch(f"{REC}/opportunity/{opp['id']}", json={"stage": "Negotiation"})
    org.work.run_pending()
    assert task_names(crm) == ["Closing: Won"]
    assert [run.status for run in runs(org, opp["id"])] == ["cancelled", "succeeded"]


def test_clearing_the_date_or_deleting_the_record_cancels_the_run(crm, org, clock):
    cleared = crm.post(f"{REC}/opportunity", json={"name": "C", "close_date": "2026-12-20"})
    deleted = crm.post(f"{REC}/opportunity", json={"name": "D", "close_date": "2026-12-20"})
    cleared, deleted = cleared.get_json(), deleted.get_json()
    crm.patch(f"{REC}/opportunity/{cleared['id']}", json={"close_date": None})
    assert crm.delete(f"{REC}/opportunity/{deleted['id']}").status_code == 204
    assert [run.status for run in runs(org, cleared["id"])] == ["cancelled"]
    assert [run.status for run in runs(org, deleted["id"])] == ["cancelled"]
    clock.now = midnight(28)
    org.work.run_pending()
    assert task_names(crm) == []


def test_a_run_missed_while_workers_were_down_runs_late_and_says_so(crm, org, clock):
    opp = crm.post(f"{REC}/opportunity", json={"name": "Late", "close_date": "2026-12-20"})
    opp = opp.get_json()
    clock.now = midnight(15)  # two days past due: no worker ran meanwhile
    org.work.run_pending()
    assert task_names(crm) == ["Closing: Late"]
    [run] = runs(org, opp["id"])
    assert (run.status, run.late, run.due_at) == ("succeeded", True, midnight(13))
    with org.db.read() as conn:
        assert [r.id for r in outbox.list_runs(conn, late=True)] == [run.id]


def test_a_due_time_already_past_when_planned_runs_now_and_is_not_late(crm, org, clock):
    opp = crm.post(f"{REC}/opportunity", json={"name": "Soon", "close_date": "2026-12-05"})
    opp = opp.get_json()
    org.work.run_pending()
    assert task_names(crm) == ["Closing: Soon"]
    [run] = runs(org, opp["id"])
    assert (run.status, run.late, run.due_at) == ("succeeded", False, clock.now)


def test_a_datetime_field_and_an_hour_offset(crm, org, clock):
    field = {"api_name": "meeting_at", "type": "datetime"}
    assert crm.post("/api/v1/metadata/objects/opportunity/fields", json=field).status_code == 201
    trigger = {k: v for k, v in CLOSING_SOON.items() if k != "when"}
    trigger.update(api_name="before_meeting", schedule={"field": "meeting_at", "offset": "-3h"})
    assert crm.post("/api/v1/metadata/triggers", json=trigger).status_code == 201
    opp = crm.post(
        f"{REC}/opportunity", json={"name": "Meet", "meeting_at": "2026-12-03T15:00:00+00:00"}
    ).get_json()
    with org.db.read() as conn:
        [run] = outbox.list_runs(conn, source="trigger:opportunity.before_meeting")
    assert run.due_at == datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert run.record_id == opp["id"]


def test_a_run_whose_action_is_refused_fails_naming_why_and_saves_nothing(crm, org, clock):
    # approval_status holds 40 characters: a long name makes the second action fail
    name = "A deal with a rather long name"
    opp = crm.post(f"{REC}/opportunity", json={"name": name, "close_date": "2026-12-20"})
    opp = opp.get_json()
    response = crm.put(
        "/api/v1/metadata/triggers/opportunity.closing_soon",
        json={
            **CLOSING_SOON,
            "actions": [
                CLOSING_SOON["actions"][0],
                {
                    "type": "update_record",
                    "values": {"approval_status": "'Reminder sent: ' + name"},
                },
            ],
        },
    )
    assert response.status_code == 200, response.get_json()
    clock.now = midnight(13) + timedelta(minutes=1)
    org.work.run_pending()
    [run] = runs(org, opp["id"])
    assert (run.status, run.failed_step) == ("failed", "actions")
    assert run.error.startswith("400 approval_status:")
    assert task_names(crm) == []  # the first action's task went with the failed attempt


def test_a_new_schedule_cancels_runs_planned_by_the_old_one(crm, org, clock):
    opp = crm.post(f"{REC}/opportunity", json={"name": "Re", "close_date": "2026-12-20"})
    opp = opp.get_json()
    later = {**CLOSING_SOON, "schedule": {"field": "close_date", "offset": "-1d"}}
    response = crm.put("/api/v1/metadata/triggers/opportunity.closing_soon", json=later)
    assert response.status_code == 200, response.get_json()
    assert [run.status for run in runs(org, opp["id"])] == ["cancelled"]
    # the record is planned under the new schedule when it is next saved
    crm.patch(f"{REC}/opportunity/{opp['id']}", json={"amount": "1.00"})
    assert [(r.status, r.due_at) for r in runs(org, opp["id"])] == [
        ("cancelled", midnight(13)),
        ("queued", midnight(19)),
    ]


def test_renaming_the_object_keeps_the_planned_runs(crm, org, clock):
    opp = crm.post(f"{REC}/opportunity", json={"name": "Kept", "close_date": "2026-12-20"})
    opp = opp.get_json()
    response = crm.patch("/api/v1/metadata/objects/opportunity", json={"api_name": "deal"})
    assert response.status_code == 200, response.get_json()
    with org.db.read() as conn:
        [run] = outbox.list_runs(conn, source="trigger:deal.closing_soon")
    assert (run.status, run.record_id, run.object) == ("queued", opp["id"], "deal")
    clock.now = midnight(14)
    org.work.run_pending()
    assert task_names(crm) == ["Closing: Kept"]


def test_a_run_done_before_a_rename_is_not_planned_again_after_it(crm, org, clock):
    opp = crm.post(f"{REC}/opportunity", json={"name": "Once", "close_date": "2026-12-20"})
    opp = opp.get_json()
    clock.now = midnight(14)
    org.work.run_pending()
    response = crm.patch("/api/v1/metadata/objects/opportunity", json={"api_name": "deal"})
    assert response.status_code == 200, response.get_json()
    crm.patch(f"{REC}/deal/{opp['id']}", json={"amount": "5.00"})
    org.work.run_pending()
    assert task_names(crm) == ["Closing: Once"]


def test_a_deactivated_trigger_leaves_its_planned_runs_undone(crm, org, clock):
    opp = crm.post(f"{REC}/opportunity", json={"name": "Off", "close_date": "2026-12-20"})
    opp = opp.get_json()
    response = crm.put(
        "/api/v1/metadata/triggers/opportunity.closing_soon", json={**CLOSING_SOON, "active": False}
    )
    assert response.status_code == 200, response.get_json()
    assert [run.status for run in runs(org, opp["id"])] == ["cancelled"]
    clock.now = midnight(14)
    org.work.run_pending()
    assert task_names(crm) == []
    assert crm.get(f"{REC}/opportunity/{opp['id']}").get_json()["approval_status"] is None
