"""The service pack: it installs with its dependencies and sample data, every shipped
report's figures match a computation of our own over the sample records, the
resolution milestone breaches on a controlled clock and escalates, and the service
roles see what their permission sets and sharing allow."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest

from crm_platform.core import Forbidden
from crm_platform.runtime import find_user
from crm_platform.runtime.records import ListRequest

from ..clock import Clock
from .shipped_helpers import all_records, groups, install_shipped, number, person, report

REPORTS = (
    "open_cases_by_priority_and_age",
    "sla_breaches_this_month",
    "first_response_time_by_agent",
    "csat_by_product",
    "cases_by_channel",
)


def when(value) -> datetime | None:
    if value is None:
        return None
    found = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def test_service_installs_with_its_dependencies_and_its_reports_add_up(org):
    result = install_shipped(org, "service")
    assert [name for name, _ in result.packs] == ["core_activities", "sales", "service"]
    cases = all_records(org, "case")
    assert len(cases) == 44
    assert {c["channel"] for c in cases} == {"Phone", "Email", "Web", "Chat", "Social"}
    assert any(c["first_response_breached"] or c["resolution_breached"] for c in cases)
    # the cases installed as New started both timers at install: their due times are set
    new = [c for c in cases if c["status"] == "New"]
    assert new and all(c["first_response_due"] and c["resolution_due"] for c in new)

    open_cases = [c for c in cases if c["status"] != "Closed"]
    matrix = report(org, "open_cases_by_priority_and_age")
    assert {k: v["count"] for k, v in groups(matrix).items()} == Counter(
        c["priority"] for c in open_cases
    )
    assert matrix.total.values["count"] == len(open_cases)
    by_band = Counter(c["age_band"] for c in open_cases)
    columns = [keys[0].value for keys in matrix.column_keys]
    assert {
        b: cell.values["count"] for b, cell in zip(columns, matrix.total.by_column, strict=True)
    } == {b: by_band.get(b, 0) for b in columns}

    now = datetime.now(UTC)
    month = (now.year, now.month)

    def this_month(value) -> bool:
        found = when(value)
        return found is not None and (found.year, found.month) == month

    breached = [
        c
        for c in cases
        if (c["first_response_breached"] and this_month(c["first_response_due"]))
        or (c["resolution_breached"] and this_month(c["resolution_due"]))
    ]
    breaches = report(org, "sla_breaches_this_month")
    assert breaches.total.values["count"] == len(breached)
    assert sorted(row.values[0] for row in breaches.rows) == sorted(
        c["case_number"] for c in breached
    )

    answered = [c for c in cases if c["first_responded_at"] is not None]
    minutes = [
        int((when(c["first_responded_at"]) - when(c["opened_at"])).total_seconds() / 60)
        for c in answered
    ]
    timing = report(org, "first_response_time_by_agent")
    assert timing.total.values["count"] == len(answered)
    assert number(timing.total.values["avg(first_response_minutes)"]) == number(
        sum(minutes) / len(minutes)
    )
    assert timing.total.values["max(first_response_minutes)"] == max(minutes)

    products = {p["id"]: p["name"] for p in all_records(org, "product")}
    case_product = {c["id"]: products.get(c["product"]) for c in cases}
    scores: dict[str, list[int]] = defaultdict(list)
    for response in all_records(org, "csat_response"):
        scores[case_product[response["case"]]].append(response["score"])
    csat = groups(report(org, "csat_by_product"))
    assert {k: (v["count"], number(v["avg(score)"])) for k, v in csat.items()} == {
        k: (len(v), number(sum(v) / len(v))) for k, v in scores.items()
    }

    channels = report(org, "cases_by_channel")
    assert {k: v["count"] for k, v in groups(channels).items()} == Counter(
        c["channel"] for c in cases
    )
    for name in REPORTS:  # every shipped report runs
        assert report(org, name).total is not None


@pytest.fixture
def clock(org) -> Clock:
    # Thursday 2026-12-03 09:00 UTC: support hours are 08:00-18:00 UTC (the org's zone)
    clock = Clock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    org.clock = clock
    return clock


def test_the_resolution_sla_breaches_on_the_clock_and_escalates(org, clock):
    install_shipped(org, "service", with_sample=False)
    with org.db.read() as conn:
        admin = find_user(conn, "admin@example.com")
    with org.records.session(admin) as session:
        account = session.create("account", {"name": "Acme"})
        plan = session.create(
            "entitlement",
            {
                "name": "Acme premium",
                "account": account["id"],
                "urgent_response_minutes": 30,
                "urgent_resolution_minutes": 240,
            },
        )
        case = session.create(
            "case",
            {
                "subject": "Checkout is down",
                "priority": "Urgent",
                "account": account["id"],
                "entitlement": plan["id"],
            },
        )
    # 30 and 240 business minutes from Thursday 09:00, inside support hours
    assert when(case["first_response_due"]) == datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    assert when(case["resolution_due"]) == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)

    clock.advance(minutes=20)  # answered in time: the first-response timer stops
    with org.records.session(admin) as session:
        session.update(
            "case",
            case["id"],
            {"status": "Working", "first_responded_at": "2026-12-03T09:20:00+00:00"},
        )
    clock.now = datetime(2026, 12, 3, 12, 59, tzinfo=UTC)
    org.work.run_pending()
    with org.records.session(admin, write=False) as session:
        assert session.get("case", case["id"])["status"] == "Working"

    clock.advance(minutes=2)
    org.work.run_pending()
    with org.reading() as (conn, model):
        escalations = model.security.queues["escalations"].id
    with org.records.session(admin, write=False) as session:
        found = session.get("case", case["id"])
    assert (found["status"], found["resolution_breached"]) == ("Escalated", True)
    assert found["first_response_breached"] is False
    assert found["owner_id"] == escalations


def test_service_roles_see_what_their_permission_sets_allow(org):
    install_shipped(org, "service")
    agent = person(org, "agent@example.com", "service_agent", "service_agent")
    person(org, "outsider@example.com", "standard")
    total = len(all_records(org, "case"))
    # cases are private, owned by the admin: the sharing rule opens them to the team
    seen = report(org, "cases_by_channel", "agent@example.com").total.values["count"]
    assert seen == total
    # an agent answers any caller: the account and contact of every case are readable
    # (accounts and contacts are private to sales; the service pack shares them read-only)
    cases = all_records(org, "case")
    with org.records.session(agent, write=False) as session:
        for case in cases:
            for lookup in ("account", "contact"):
                if case.get(lookup):
                    assert session.get(lookup, case[lookup])["id"] == case[lookup]
        assert len(session.list("account", ListRequest(limit=500)).records) == len(
            all_records(org, "account")
        )
        with pytest.raises(Forbidden):
            session.update("account", cases[0]["account"], {"name": "Renamed by support"})
    with pytest.raises(Forbidden):
        report(org, "cases_by_channel", "outsider@example.com")


def test_publishing_a_new_article_version_archives_the_old_one(org):
    install_shipped(org, "service", with_sample=False)
    with org.db.read() as conn:
        admin = find_user(conn, "admin@example.com")
    with org.records.session(admin) as session:
        first = session.create("knowledge_article", {"title": "Reset a password"})
        session.update("knowledge_article", first["id"], {"status": "Published"})
        assert session.get("knowledge_article", first["id"])["published_at"] is not None
        second = session.create(
            "knowledge_article",
            {"title": "Reset a password", "previous_version": first["id"]},
        )
        assert (second["version_number"], second["status"]) == (2, "Draft")
        session.update("knowledge_article", second["id"], {"status": "Published"})
        assert session.get("knowledge_article", first["id"])["status"] == "Archived"
        assert session.get("knowledge_article", second["id"])["status"] == "Published"
