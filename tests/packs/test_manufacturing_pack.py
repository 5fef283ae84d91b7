"""The manufacturing pack: installed with sales and its sample data, its reports match
our own figures over partners and agreement schedules, a big bid goes to the channel
manager's manager and then the channel director, and roles see what they should."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from crm_platform.core import Forbidden
from tests.conftest import ApiClient, make_token

from .shipped_helpers import all_records, groups, install_shipped, number, person, report


def test_manufacturing_installs_and_its_reports_add_up(org):
    result = install_shipped(org, "manufacturing")
    assert [name for name, _ in result.packs] == ["core_activities", "sales", "manufacturing"]
    agreements = {a["id"]: a for a in all_records(org, "sales_agreement")}
    schedule = all_records(org, "agreement_schedule")
    partners = {p["id"]: p for p in all_records(org, "partner")}
    assert len(partners) == 8 and len(schedule) == 12 * len(agreements)

    planned: dict[str, int] = defaultdict(int)
    actual: dict[str, int] = defaultdict(int)
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for month in schedule:
        agreement = agreements[month["agreement"]]
        partner = agreement["partner"]
        planned[partner] += month["planned_quantity"]
        actual[partner] += month["actual_quantity"] or 0
        price = Decimal(str(agreement["unit_price"]))
        revenue[partner] += (month["actual_quantity"] or 0) * price
    by_tier: dict[str, list] = defaultdict(lambda: [0, 0, 0, Decimal(0)])
    for partner_id, partner in partners.items():
        row = by_tier[partner["tier"]]
        row[0] += 1
        row[1] += planned[partner_id]
        row[2] += actual[partner_id]
        row[3] += revenue[partner_id]
    tiers = groups(report(org, "partner_performance_by_tier"))
    assert {
        k: [v["count"], int(v["planned"] or 0), int(v["actual"] or 0), number(v["revenue"] or 0)]
        for k, v in tiers.items()
    } == {k: [a, b, c, number(d)] for k, (a, b, c, d) in by_tier.items()}

    attainment = groups(report(org, "agreement_attainment"))
    for partner_id, partner in partners.items():
        if planned[partner_id]:
            got = attainment[partner["name"]]
            assert (int(got["planned"]), int(got["actual"])) == (
                planned[partner_id],
                actual[partner_id],
            )
            assert number(got["partner_attainment"]) == number(
                (Decimal(actual[partner_id]) * 100 / planned[partner_id]).quantize(Decimal("0.1"))
            )
    months = groups(report(org, "agreement_volume_by_month"))
    assert sum(int(v["sum(planned_quantity)"]) for v in months.values()) == sum(planned.values())


def test_a_big_bid_goes_to_the_manager_then_the_director(org, app):
    install_shipped(org, "manufacturing", with_sample=False)
    director = person(org, "dir@example.com", "channel_director", "channel_director")
    with org.db.write() as conn:
        from crm_platform.runtime import create_user

        rep = create_user(
            conn,
            email="rep@example.com",
            name="Rep",
            profile="channel_manager",
            role="channel_manager",
            manager_id=director.id,
        )
    as_rep = ApiClient(app.test_client(), make_token(org, "rep@example.com"))
    as_director = ApiClient(app.test_client(), make_token(org, "dir@example.com"))
    body = {
        "name": "Dock cranes",
        "stage": "Proposal",
        "close_date": "2027-06-30",
        "amount": "1200000",
        "bid_amount": "1150000",
        "bid_margin": "18",
    }
    opp = as_rep.post("/api/v1/records/opportunity", json=body)
    assert opp.status_code == 201, opp.get_json()
    opp_id = opp.get_json()["id"]
    url = f"/api/v1/records/opportunity/{opp_id}/approval"
    submitted = as_rep.post(f"{url}/submit", json={})
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["requests"][0]["current_step"] == "manager"
    assert as_rep.get(f"/api/v1/records/opportunity/{opp_id}").get_json()["bid_status"] == (
        "Pending"
    )
    # a bid may not be submitted to the customer before it is approved
    early = as_director.patch(
        f"/api/v1/records/opportunity/{opp_id}", json={"project_phase": "Bid Submitted"}
    )
    assert early.status_code in (400, 409, 423)
    step = as_director.post(f"{url}/approve", json={})
    assert step.status_code == 200, step.get_json()
    assert step.get_json()["requests"][0]["current_step"] == "director"
    done = as_director.post(f"{url}/approve", json={})
    assert done.status_code == 200, done.get_json()
    found = as_rep.get(f"/api/v1/records/opportunity/{opp_id}").get_json()
    assert found["bid_status"] == "Approved" and rep.id


def test_channel_managers_see_partners_outsiders_do_not(org):
    install_shipped(org, "manufacturing")
    person(org, "cm@example.com", "channel_manager", "channel_manager")
    person(org, "outsider@example.com", "standard")
    seen = report(org, "partner_performance_by_tier", "cm@example.com")
    assert seen.total.values["count"] == len(all_records(org, "partner"))
    with pytest.raises(Forbidden):
        report(org, "partner_performance_by_tier", "outsider@example.com")
