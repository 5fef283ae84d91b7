"""The marketing pack: installed with sales and its sample data, lead scores match the
points we compute ourselves and are recomputed when a lead's activities change, the
segments count their members, the reports match our own figures, and roles see what
they should."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from crm_platform.core import Forbidden
from crm_platform.runtime import find_user

from .shipped_helpers import all_records, groups, install_shipped, number, person, report

RESPONDED = {"Clicked", "Registered", "Attended"}


def expected_score(lead, activities: int, responses: int) -> int:
    """The points of lead.score, written out independently of the trigger."""
    employees = lead["employees"] or 0
    points = (10 if lead["email"] else 0) + (5 if lead["phone"] else 0)
    points += 5 if lead["title"] else 0
    points += 20 if employees >= 1000 else 10 if employees >= 100 else 0
    points += {"Technology": 10, "Finance": 10, "Manufacturing": 5}.get(lead["industry"], 0)
    points += {"Partner Referral": 15, "Trade Show": 10, "Web": 10, "Email Campaign": 5}.get(
        lead["lead_source"], 0
    )
    points += 15 if activities >= 5 else activities * 3
    points += 20 if responses >= 3 else responses * 7
    return points


def grade(score: int) -> str:
    return "A" if score >= 70 else "B" if score >= 50 else "C" if score >= 30 else "D"


@pytest.fixture
def marketing(org):
    install_shipped(org, "marketing")
    return org


def test_scores_segments_and_reports_match_our_own_figures(marketing):
    org = marketing
    leads = all_records(org, "lead")
    members = all_records(org, "campaign_member")
    tasks = Counter(t["lead"] for t in all_records(org, "task") if t["lead"])
    responses = Counter(m["lead"] for m in members if m["status"] in RESPONDED)
    for lead in leads:
        wanted = expected_score(lead, tasks[lead["id"]], responses[lead["id"]])
        assert (lead["score"], lead["grade"]) == (wanted, grade(wanted)), lead["name"]

    org.work.run_pending()  # the sample segments' daily recount is due at once
    segments = {s["name"]: s["member_count"] for s in all_records(org, "segment")}
    large_tech = [
        x for x in leads if x["industry"] == "Technology" and (x["employees"] or 0) >= 1000
    ]
    assert segments["Large technology leads"] == len(large_tech) > 0
    referred = [x for x in leads if x["lead_source"] == "Partner Referral"]
    assert segments["Partner referrals"] == len(referred)

    matrix = report(org, "leads_by_source_and_score_band")
    assert {k: v["count"] for k, v in groups(matrix).items()} == Counter(
        x["lead_source"] for x in leads
    )
    bands = Counter(x["grade"] for x in leads)
    columns = [keys[0].value for keys in matrix.column_keys]
    cells = {b: c.values["count"] for b, c in zip(columns, matrix.total.by_column, strict=True)}
    assert cells == dict(bands)

    campaigns = {c["id"]: c for c in all_records(org, "campaign")}
    converted = {x["id"] for x in leads if x["converted"]}
    figures: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for member in members:
        row = figures[campaigns[member["campaign"]]["name"]]
        row[0] += 1
        row[1] += member["status"] in RESPONDED
        row[2] += member["lead"] in converted
    rates = groups(report(org, "response_and_conversion_by_campaign"))
    assert {k: [v["members"], v["responded"], v["converted"]] for k, v in rates.items()} == {
        k: v for k, v in figures.items()
    }
    for name, (count, responded, _converted) in figures.items():
        assert number(rates[name]["response_rate"]) == number(
            (Decimal(responded) * 100 / count).quantize(Decimal("0.1"))
        )

    costed = [c for c in campaigns.values() if c["actual_cost"] is not None]
    won = defaultdict(Decimal)
    for opp in all_records(org, "opportunity"):
        if opp["campaign"] and opp["stage"] == "Closed Won":
            won[opp["campaign"]] += Decimal(str(opp["amount"]))
    roi = report(org, "campaign_roi")
    cost = sum(Decimal(str(c["actual_cost"])) for c in costed)
    revenue = sum(won[c["id"]] for c in costed)
    assert number(roi.total.values["cost"]) == number(cost)
    assert number(roi.total.values["revenue"]) == number(revenue)
    assert number(roi.total.values["total_roi"]) == number(
        ((revenue - cost) * 100 / cost).quantize(Decimal("0.1"))
    )


def test_an_activity_rescored_the_lead_and_a_changed_criteria_recounts(marketing):
    org = marketing
    with org.db.read() as conn:
        admin = find_user(conn, "admin@example.com")
    with org.records.session(admin) as session:
        lead = session.create("lead", {"last_name": "Ito", "company": "Kiso", "lead_source": "Web"})
        assert lead["score"] == 10 and lead["grade"] == "D"
        session.create("task", {"subject": "Call", "lead": lead["id"]})
        session.create("task", {"subject": "Demo", "lead": lead["id"]})
        assert session.get("lead", lead["id"])["score"] == 16
        segment = session.create(
            "segment", {"name": "Kiso", "target_object": "lead", "criteria": "company == 'Kiso'"}
        )
        assert session.get("segment", segment["id"])["member_count"] == 1
        session.update("segment", segment["id"], {"criteria": "company == 'Nobody'"})
        assert session.get("segment", segment["id"])["member_count"] == 0


def test_marketing_users_see_campaigns_and_open_leads_outsiders_do_not(marketing):
    org = marketing
    person(org, "mkt@example.com", "marketing_user", "marketing_user")
    person(org, "outsider@example.com", "standard")
    leads = all_records(org, "lead")
    open_leads = [x for x in leads if not x["converted"]]
    seen = report(org, "leads_by_source_and_score_band", "mkt@example.com")
    assert seen.total.values["count"] == len(open_leads) < len(leads)
    assert report(org, "campaign_roi", "mkt@example.com").total.values["count"] > 0
    with pytest.raises(Forbidden):
        report(org, "campaign_roi", "outsider@example.com")
