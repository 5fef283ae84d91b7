"""SLA milestones on a controlled clock: a ticket's first-response target counts working
minutes of its business hours (a weekend and a holiday skipped), its due time is stored
on the record, a breach sets the flag and runs the actions when the clock passes it, and
responding in time stops the timer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm_platform.workflow import outbox

from ..clock import Clock

REC = "/api/v1/records"
META = "/api/v1/metadata"

TICKET = {
    "api_name": "ticket",
    "label": "Ticket",
    "fields": [
        {"api_name": "name", "type": "text", "required": True},
        {"api_name": "priority", "type": "picklist", "values": ["High", "Low"]},
        {"api_name": "response_minutes", "type": "integer"},
        {"api_name": "responded_at", "type": "datetime"},
        {"api_name": "response_due", "type": "datetime"},
        {"api_name": "response_breached", "type": "boolean"},
        {"api_name": "escalated", "type": "boolean"},
    ],
}
HOURS = {
    "api_name": "office",
    "time_zone": "Asia/Shanghai",  # UTC+8: 09:00-18:00 there is 01:00-10:00 UTC
    "week": {day: ["09:00-12:00", "13:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-12-07"],
}
FIRST_RESPONSE = {
    "api_name": "first_response",
    "object": "ticket",
    "target_minutes": "IF(ISBLANK(response_minutes), "
    "CASE(priority, 'High', 120, 480), response_minutes)",
    "business_hours": "office",
    "due_field": "response_due",
    "breached_field": "response_breached",
    "complete_when": "NOT(ISBLANK(responded_at))",
    "actions": [{"type": "update_record", "values": {"escalated": "True"}}],
}


@pytest.fixture
def clock(org) -> Clock:
    # Friday 2026-12-04 17:00 in Shanghai (09:00 UTC): one working hour left that day
    clock = Clock(datetime(2026, 12, 4, 9, 0, tzinfo=UTC))
    org.clock = clock
    return clock


@pytest.fixture
def desk(api, clock):
    for path, body in (("objects", TICKET), ("business_hours", HOURS)):
        response = api.post(f"{META}/{path}", json=body)
        assert response.status_code == 201, response.get_json()
    response = api.post(f"{META}/milestones", json=FIRST_RESPONSE)
    assert response.status_code == 201, response.get_json()
    return api


def ticket(api, record_id):
    return api.get(f"{REC}/ticket/{record_id}").get_json()


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_the_due_time_counts_business_hours_and_a_breach_escalates(desk, org, clock):
    high = desk.post(f"{REC}/ticket", json={"name": "Down", "priority": "High"}).get_json()
    # 60 minutes on Friday, the weekend and Monday's holiday skipped, 60 on Tuesday 08 Dec
    assert instant(high["response_due"]) == datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
    assert high["response_breached"] is not True

    clock.now = datetime(2026, 12, 8, 1, 59, tzinfo=UTC)
    org.work.run_pending()
    assert ticket(desk, high["id"])["escalated"] is not True

    clock.now = datetime(2026, 12, 8, 2, 1, tzinfo=UTC)
    org.work.run_pending()
    found = ticket(desk, high["id"])
    assert (found["response_breached"], found["escalated"]) == (True, True)


def test_responding_in_time_stops_the_timer(desk, org, clock):
    low = desk.post(f"{REC}/ticket", json={"name": "Question", "priority": "Low"}).get_json()
    # 480 minutes: 60 on Friday, 420 on Tuesday (09:00-12:00, 13:00-17:00 Shanghai)
    assert instant(low["response_due"]) == datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    desk.patch(f"{REC}/ticket/{low['id']}", json={"responded_at": "2026-12-08T03:00:00Z"})
    with org.db.read() as conn:
        runs = outbox.list_runs(conn, source="milestone:ticket.first_response")
    assert [run.status for run in runs] == ["cancelled"]

    clock.now = datetime(2026, 12, 9, tzinfo=UTC)
    org.work.run_pending()
    found = ticket(desk, low["id"])
    assert (found["response_breached"], found["escalated"]) != (True, True)


def test_a_target_read_from_the_record_and_a_bad_definition_refused(desk, org, clock):
    quick = desk.post(f"{REC}/ticket", json={"name": "Q", "response_minutes": 30}).get_json()
    assert instant(quick["response_due"]) == datetime(2026, 12, 4, 9, 30, tzinfo=UTC)

    bad = {**FIRST_RESPONSE, "api_name": "bad", "due_field": "priority", "business_hours": "x"}
    response = desk.post(f"{META}/milestones", json=bad)
    assert response.status_code == 400
    text = str(response.get_json())
    assert "not a datetime field" in text and "no business hours 'x'" in text
