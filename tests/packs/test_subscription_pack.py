"""The subscription pack: it installs with sales, its reports match our own figures over
the sample subscriptions, the account sums active MRR, a renewal opportunity opens 60
days before the end on a controlled clock, and roles see what they should."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from crm_platform.runtime import find_user

from ..clock import Clock
from .shipped_helpers import all_records, groups, install_shipped, number, person, report


def next_quarter(today: date) -> tuple[date, date]:
    first_month = ((today.month - 1) // 3 + 1) * 3 + 1
    year = today.year + (first_month > 12)
    first_month = (first_month - 1) % 12 + 1
    start = date(year, first_month, 1)
    end_month = first_month + 3
    end = date(year + (end_month > 12), (end_month - 1) % 12 + 1, 1) - timedelta(days=1)
    return start, end


def test_subscription_installs_and_its_reports_add_up(org):
    result = install_shipped(org, "subscription")
    assert [name for name, _ in result.packs] == ["core_activities", "sales", "subscription"]
    subs = all_records(org, "subscription")
    assert len(subs) == 100
    for sub in subs:  # MRR kept on save
        expected = Decimal(sub["seats"]) * Decimal(str(sub["price_per_seat"]))
        expected = expected * (100 - Decimal(str(sub["discount"] or 0))) / 100
        assert number(sub["mrr"]) == number(expected.quantize(Decimal("0.01")))

    active = [s for s in subs if s["status"] == "Active"]
    accounts = {a["id"]: a for a in all_records(org, "account")}
    per_account: dict[str, Decimal] = defaultdict(Decimal)
    for sub in active:
        per_account[sub["account"]] += Decimal(str(sub["mrr"]))
    for account_id, mrr in per_account.items():
        assert number(accounts[account_id]["mrr"]) == number(mrr)
        assert number(accounts[account_id]["arr"]) == number(mrr * 12)

    by_plan = groups(report(org, "mrr_by_plan"))
    expected_plan: dict[str, Decimal] = defaultdict(Decimal)
    for sub in active:
        expected_plan[sub["plan"]] += Decimal(str(sub["mrr"]))
    assert {k: number(v["sum(mrr)"]) for k, v in by_plan.items()} == {
        k: number(v) for k, v in expected_plan.items()
    }

    by_month = groups(report(org, "mrr_by_month"))
    months: dict[str, Decimal] = defaultdict(Decimal)
    for sub in subs:
        if sub["status"] != "Trial":
            start = sub["start_date"]
            start = start if isinstance(start, date) else date.fromisoformat(start)
            months[start.replace(day=1).isoformat()] += Decimal(str(sub["mrr"]))
    assert {str(k): number(v["sum(mrr)"]) for k, v in by_month.items()} == {
        k: number(v) for k, v in months.items()
    }

    first, last = next_quarter(datetime.now(UTC).date())
    due = [s for s in active if first <= date.fromisoformat(str(s["end_date"])) <= last]
    renewals = report(org, "renewals_next_quarter")
    assert renewals.total.values["count"] == len(due)

    risky = [s for s in subs if s["churn_risk"]]
    churn = report(org, "churn_risk_list")
    assert len(churn.rows) == len(risky) > 0
    assert Counter(r.values[0] for r in churn.rows) == Counter(
        s["subscription_number"] for s in risky
    )


@pytest.fixture
def clock(org) -> Clock:
    clock = Clock(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    org.clock = clock
    return clock


def test_a_renewal_opportunity_opens_sixty_days_before_the_end(org, clock):
    install_shipped(org, "subscription", with_sample=False)
    with org.db.read() as conn:
        admin = find_user(conn, "admin@example.com")
    with org.records.session(admin) as session:
        account = session.create("account", {"name": "Acme"})
        sub = session.create(
            "subscription",
            {
                "name": "Acme — Team",
                "account": account["id"],
                "plan": "Team",
                "seats": 10,
                "price_per_seat": "25.00",
                "start_date": "2026-03-01",
                "end_date": "2027-03-01",
            },
        )
    assert number(sub["mrr"]) == number(250)

    clock.now = datetime(2026, 12, 30, tzinfo=UTC)  # 61 days before: nothing yet
    org.work.run_pending()
    assert all_records(org, "opportunity") == []

    clock.now = datetime(2026, 12, 31, 0, 1, tzinfo=UTC)
    org.work.run_pending()
    [renewal] = all_records(org, "opportunity")
    assert renewal["name"] == "Renewal: Acme — Team"
    assert (renewal["type"], renewal["subscription"], renewal["account"]) == (
        "Renewal",
        sub["id"],
        account["id"],
    )
    assert number(renewal["amount"]) == number(3000)
    [sub] = all_records(org, "subscription")
    assert sub["renewal_opportunities"] == 1


def test_customer_success_sees_every_subscription_a_reader_only_what_is_shared(org):
    install_shipped(org, "subscription")
    person(org, "csm@example.com", "customer_success", "customer_success_manager")
    person(org, "reader@example.com", "subscription_reader")
    total = len(all_records(org, "subscription"))
    assert len(report(org, "churn_risk_list", "csm@example.com").rows) > 0
    assert report(org, "mrr_by_plan", "csm@example.com").total.values["count"] == len(
        [s for s in all_records(org, "subscription") if s["status"] == "Active"]
    )
    # private subscriptions owned by the admin: a reader outside the role sees none
    assert report(org, "mrr_by_plan", "reader@example.com").total.values["count"] == 0
    assert total == 100
