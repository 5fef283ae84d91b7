"""The reports of issue 12 give the right numbers, as each user may see them: every
group, subtotal and total of a run is compared with the same figure computed in Python
from the rows the test created, for users with different sharing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from .expected import average, cells, flat, grouped, total, visible

RUN = "/api/v1/reports/{}/run"
CLOSED = ("Closed Won", "Closed Lost")
READERS = ["admin", "manager", "rep1"]


def run(crm, who: str, name: str, body=None):
    response = crm.users[who].client.post(RUN.format(name), json=body or {})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def is_open(row) -> bool:
    """In the pipeline: open and closing this year (the org's time zone is UTC). A
    blank stage makes is_closed NULL, and NULL == False is not true: left out."""
    this_year = datetime.now(UTC).year
    stage = row["stage"]
    return stage is not None and stage not in CLOSED and row["close_date"].year == this_year


def quarter(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def test_pipeline_by_stage_every_group_and_total(crm):
    for who in READERS:
        body = run(crm, who, "pipeline_by_stage")
        rows = [r for r in visible(crm.opportunities, crm.users[who]) if is_open(r)]
        scale = next(a["scale"] for a in body["aggregates"] if a["key"] == "avg(probability)")
        expected = {
            path: {
                "count": len(members),
                "sum(amount)": total(r["amount"] for r in members),
                "avg(probability)": average((r["probability"] for r in members), scale),
            }
            for path, members in grouped(rows, [lambda r: r["stage"]]).items()
        }
        assert flat(body) == expected, who
        # the funnel's order: the sort asks for the biggest pipeline first (blank last)
        sums = [g["values"]["sum(amount)"] for g in body["groups"]]
        known = [s for s in sums if s is not None]
        assert known == sorted(known, reverse=True)
        assert sums[len(known) :] == [None] * (len(sums) - len(known))
        assert {g["key"]["label"] for g in body["groups"]} <= {
            "Prospecting",
            "Proposal",
            "Negotiation",
        }
        # the detail rows: every open deal the user sees, grouped by stage
        assert sorted(r["id"] for r in body["rows"]) == sorted(r["id"] for r in rows)
        for row in body["rows"]:
            deal = next(r for r in rows if r["id"] == row["id"])
            assert row["group"] == [deal["stage"]]
            assert row["values"][0] == deal["name"]
            assert row["values"][3] == deal["amount"]
        assert body["chart"] == {"type": "funnel", "x": "stage", "y": ["sum(amount)"]}


def test_two_users_with_different_sharing_get_different_totals(crm):
    manager = run(crm, "manager", "pipeline_by_stage")["total"]["values"]
    rep = run(crm, "rep1", "pipeline_by_stage")["total"]["values"]
    assert rep["count"] < manager["count"]
    assert rep["sum(amount)"] != manager["sum(amount)"]
    rep2 = run(crm, "rep2", "pipeline_by_stage")["total"]["values"]
    assert rep2["count"] == len(
        [r for r in visible(crm.opportunities, crm.users["rep2"]) if is_open(r)]
    )


def test_weighted_forecast_matrix_cells_row_and_column_totals(crm):
    for who in READERS:
        body = run(crm, who, "weighted_forecast")
        person = crm.users[who]
        # every open deal, whatever its year
        rows = [
            r
            for r in visible(crm.opportunities, person)
            if r["stage"] is not None and r["stage"] not in CLOSED
        ]

        def weighted(members):
            return total(
                r["amount"] * r["probability"] / 100 for r in members if r["amount"] is not None
            )

        owners = sorted({r["owner_id"] for r in rows})
        quarters = sorted({quarter(r["close_date"]) for r in rows})
        keys = [k[0] for k in body["column_keys"]]
        assert [k["value"] for k in keys] == [q.isoformat() for q in quarters]
        assert [k["label"] for k in keys] == [f"{q.year} Q{(q.month + 2) // 3}" for q in quarters]
        assert sorted(g["key"]["value"] for g in body["groups"]) == owners
        names = {p.id: p.name for p in crm.users.values()}
        names[crm.queue] = "Deal desk"  # a queue owning deals is named by its label
        for group in body["groups"]:
            assert group["key"]["label"] == names[group["key"]["value"]]
        assert (crm.queue in owners) is (who == "admin")
        got = cells(body)
        for owner in [*owners, None]:
            for first_day in quarters:
                members = [
                    r
                    for r in rows
                    if quarter(r["close_date"]) == first_day and owner in (None, r["owner_id"])
                ]
                cell = got[(owner, first_day.isoformat())]
                assert cell == {"weighted": weighted(members), "count": len(members)}
        # row totals, then the grand total
        by_owner = flat(body)
        for owner in owners:
            members = [r for r in rows if r["owner_id"] == owner]
            assert by_owner[(owner,)] == {"weighted": weighted(members), "count": len(members)}
        assert by_owner[()] == {"weighted": weighted(rows), "count": len(rows)}


def test_won_amount_by_close_month_this_year(crm):
    this_year = datetime.now(UTC).year
    for who in READERS:
        body = run(crm, who, "won_by_month")
        rows = [
            r
            for r in visible(crm.opportunities, crm.users[who])
            if r["stage"] == "Closed Won" and r["close_date"].year == this_year
        ]

        def month(row):
            return row["close_date"].replace(day=1).isoformat()

        expected = {
            path: {"count": len(members), "sum(amount)": total(r["amount"] for r in members)}
            for path, members in grouped(rows, [month]).items()
        }
        assert flat(body) == expected, who
        keys = [g["key"] for g in body["groups"]]
        assert [k["value"] for k in keys] == sorted(k["value"] for k in keys)
        assert [k["label"] for k in keys] == [k["value"][:7] for k in keys]
        assert body["groupings"][0]["type"] == "date"
        assert body["chart"]["type"] == "column"


def test_cases_by_priority_and_status_with_average_age(crm):
    today = datetime.now(UTC).date()
    for who in READERS:
        body = run(crm, who, "cases_by_priority_status")
        rows = visible(crm.cases, crm.users[who])
        scale = next(a["scale"] for a in body["aggregates"] if a["key"] == "avg(age_days)")

        def age(row) -> int:
            return ((row["closed_on"] or today) - row["opened_on"]).days

        expected = {
            path: {"count": len(members), "avg(age_days)": average(map(age, members), scale)}
            for path, members in grouped(
                rows, [lambda r: r["priority"], lambda r: r["status"]]
            ).items()
        }
        assert flat(body) == expected, who
        # picklists in their values' order, blank last, at both levels
        order = [g["key"]["value"] for g in body["groups"]]
        assert order == [p for p in ("High", "Medium", "Low", None) if (p,) in expected]
        for group in body["groups"]:
            inner = [g["key"]["value"] for g in group["groups"]]
            assert inner == [
                s for s in ("New", "Working", "Closed") if (group["key"]["value"], s) in expected
            ]


def test_win_rate_by_owner(crm):
    for who in READERS:
        body = run(crm, who, "win_rate_by_owner")
        rows = visible(crm.opportunities, crm.users[who])

        def figures(members):
            won = sum(1 for r in members if r["stage"] == "Closed Won")
            closed = sum(1 for r in members if r["stage"] in CLOSED)
            rate = None
            if closed:
                rate = (Decimal(won * 100) / closed).quantize(Decimal("0.1"), ROUND_HALF_UP)
            return {
                "won": won,
                "closed": closed,
                "sum(amount)": total(r["amount"] for r in members),
                "win_rate": rate,
            }

        expected = {
            path: figures(members)
            for path, members in grouped(rows, [lambda r: r["owner_id"]]).items()
        }
        assert flat(body) == expected, who
        rates = [g["values"]["win_rate"] for g in body["groups"]]
        known = [r for r in rates if r is not None]
        assert known == sorted(known, reverse=True)
        formula = next(a for a in body["aggregates"] if a["key"] == "win_rate")
        assert formula == {"key": "win_rate", "label": "Win rate", "type": "percent", "scale": 1}


def test_a_lookup_grouping_never_reveals_a_parent_the_user_cannot_see(crm):
    rep = crm.users["rep1"]
    body = run(crm, "rep1", "pipeline_by_account")
    mine = visible(crm.opportunities, rep)
    seen_accounts = {a["id"]: a for a in visible(crm.accounts, rep)}
    hidden = [a for a in crm.accounts if a["id"] not in seen_accounts]
    assert hidden and any(r["account"] in {a["id"] for a in hidden} for r in mine)

    def account_of(row):
        return row["account"] if row["account"] in seen_accounts else None

    expected = {
        path: {"count": len(members), "sum(amount)": total(r["amount"] for r in members)}
        for path, members in grouped(mine, [account_of, lambda r: r["stage"]]).items()
    }
    assert flat(body) == expected
    for group in body["groups"]:
        key = group["key"]
        if key["value"] is None:
            assert key["label"] is None  # a hidden account reads blank, as no account
        else:
            assert key["label"] == seen_accounts[key["value"]]["name"]
    text = str(body)
    for account in hidden:
        assert account["id"] not in text and f"'{account['name']}'" not in text
    # the same report as the admin names every account
    admin = run(crm, "admin", "pipeline_by_account")
    labels = {g["key"]["label"] for g in admin["groups"]}
    used = {
        a["name"] for a in crm.accounts if any(r["account"] == a["id"] for r in crm.opportunities)
    }
    assert used <= labels


def test_a_tabular_report_lists_rows_in_its_order_with_totals(crm):
    body = run(crm, "rep1", "opportunity_list", {"limit": 5})
    rows = visible(crm.opportunities, crm.users["rep1"])
    ordered = sorted(rows, key=lambda r: (r["amount"] is None, -(r["amount"] or 0), r["id"]))
    assert [r["id"] for r in body["rows"]] == [r["id"] for r in ordered[:5]]
    assert body["rows_truncated"] is (len(rows) > 5)
    dates = [r["close_date"] for r in rows]
    assert body["total"]["values"] == {
        "count": len(rows),
        "sum(amount)": total(r["amount"] for r in rows),
        "max(close_date)": max(dates).isoformat(),
    }
    assert body["groups"] == [] and body["format"] == "tabular"


@pytest.mark.parametrize("who", ["manager", "rep1"])
def test_a_runtime_filter_is_anded_with_the_report_filter(crm, who):
    body = run(crm, who, "pipeline_by_stage", {"filter": "amount > 20000"})
    rows = [
        r
        for r in visible(crm.opportunities, crm.users[who])
        if is_open(r) and r["amount"] is not None and r["amount"] > 20000
    ]
    assert body["total"]["values"]["count"] == len(rows)
    assert body["total"]["values"]["sum(amount)"] == total(r["amount"] for r in rows)


def test_dates_in_rows_are_iso(crm):
    body = run(crm, "admin", "pipeline_by_stage")
    for row in body["rows"]:
        value = row["values"][4]
        assert value is None or date.fromisoformat(value)
