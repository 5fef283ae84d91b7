"""What a reader sees of lookups in a report (names beside ids, a polymorphic lookup's
object and name), a matrix grouping columns twice (with first-level subtotals), and
the sales dashboard a sales manager opens: every number computed again in Python from
the rows the test created, for users with different sharing."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from .expected import cells, flat, grouped, total, visible
from .test_report_numbers import CLOSED, is_open, quarter, run

NS = {"svg": "http://www.w3.org/2000/svg"}


def test_a_lookup_column_keeps_the_id_and_names_the_record(crm):
    for who in ("admin", "rep1"):
        person = crm.users[who]
        body = run(crm, who, "opportunity_list", {"limit": 500})
        seen = {a["id"]: a["name"] for a in visible(crm.accounts, person)}
        deals = {r["id"]: r for r in visible(crm.opportunities, person)}
        assert len(body["rows"]) == len(deals)
        keys = [c["key"] for c in body["columns"]]
        assert keys[3] == "account" and body["columns"][3]["type"] == "lookup"
        for row in body["rows"]:
            account = deals[row["id"]]["account"]
            if account in seen:
                assert row["values"][3] == account
                assert row["names"] == {"account": seen[account]}
            else:  # none, or one the reader cannot see: blank, with no name
                assert row["values"][3] is None and row["names"] == {}
        hidden = [a for a in crm.accounts if a["id"] not in seen]
        for account in hidden:
            assert account["id"] not in str(body) and f"'{account['name']}'" not in str(body)


def test_an_export_shows_a_lookup_column_by_name(crm):
    response = crm.users["admin"].client.get("/api/v1/reports/opportunity_list/export?format=csv")
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    names = {a["id"]: a["name"] for a in crm.accounts}
    by_name = {r["name"]: r for r in crm.opportunities}
    for line in lines[1:]:
        account = by_name[line[0]]["account"]
        assert line[3] == (names[account] if account else "")


def _related(crm, person):
    """(group value, label) of an activity's related record as ``person`` sees it."""
    users = {p.id: p.name for p in crm.users.values()}
    accounts = {a["id"]: a["name"] for a in visible(crm.accounts, person)}
    deals = {r["id"]: r["name"] for r in visible(crm.opportunities, person)}

    def related(activity):
        ref = activity["related_to"]
        if ref is None:
            return None, None
        kind, ident = ref["object"], ref["id"]
        found = {"account": accounts, "opportunity": deals, "user": users}[kind]
        if ident not in found:
            return None, None  # a record the reader cannot see: blank
        title = {"account": "Account", "opportunity": "Opportunity", "user": "User"}[kind]
        return ident, f"{title}: {found[ident]}"

    return related


def test_grouping_by_a_polymorphic_lookup_names_the_object_and_the_record(crm):
    for who in ("admin", "manager", "rep1"):
        person = crm.users[who]
        related = _related(crm, person)
        rows = visible(crm.activities, person)
        body = run(crm, who, "activities_by_related", {"limit": 500})
        expected = {
            path: {"count": len(members), "sum(hours)": total(r["hours"] for r in members)}
            for path, members in grouped(rows, [lambda r, f=related: f(r)[0]]).items()
        }
        assert flat(body) == expected, who
        labels = {related(r)[0]: related(r)[1] for r in rows}
        for group in body["groups"]:
            assert group["key"]["label"] == labels[group["key"]["value"]], who
        kinds = {label.split(":")[0] for label in labels.values() if label}
        assert kinds == {"Account", "Opportunity", "User"} or who != "admin"
        # the same lookup as a detail column: the id, named as the group is
        mine = {r["id"]: r for r in rows}
        for row in body["rows"]:
            value, label = related(mine[row["id"]])
            assert row["values"][1] == value
            assert row["names"].get("related_to") == (label if value else None)


def test_a_matrix_with_two_column_groupings_has_first_level_subtotals(crm):
    for who in ("admin", "rep1"):
        person = crm.users[who]
        rows = visible(crm.opportunities, person)
        body = run(crm, who, "forecast_by_quarter_stage")

        def figures(members):
            return {"count": len(members), "sum(amount)": total(r["amount"] for r in members)}

        quarters = sorted({quarter(r["close_date"]) for r in rows})
        order = ["Prospecting", "Proposal", "Negotiation", "Closed Won", "Closed Lost", None]
        pairs = sorted(
            {(quarter(r["close_date"]), r["stage"]) for r in rows},
            key=lambda p: (p[0], order.index(p[1])),
        )
        keys = [tuple(k["value"] for k in ks) for ks in body["column_keys"]]
        assert keys == [(q.isoformat(), s) for q, s in pairs]
        for group in [*body["groups"], {"key": None, **body["total"]}]:
            owner = group["key"]["value"] if group["key"] else None
            members = [r for r in rows if owner in (None, r["owner_id"])]
            subtotals = group["column_subtotals"]
            assert [[k["value"] for k in c["keys"]] for c in subtotals] == [
                [q.isoformat()] for q in quarters
            ]
            for cell, first_day in zip(subtotals, quarters, strict=True):
                inside = [r for r in members if quarter(r["close_date"]) == first_day]
                assert cell["values"] == figures(inside), (who, owner, first_day)
                label = f"{first_day.year} Q{(first_day.month + 2) // 3}"
                assert cell["keys"][0]["label"] == label
        got = cells(body)  # (owner, first column key) -> values: check the full cells too
        for owner in [*{r["owner_id"] for r in rows}, None]:
            for first_day, stage in pairs:
                inside = [
                    r
                    for r in rows
                    if owner in (None, r["owner_id"])
                    and (quarter(r["close_date"]), r["stage"]) == (first_day, stage)
                ]
                assert _cell(body, owner, first_day.isoformat(), stage) == figures(inside)
        assert got  # every row has a cell per column key (checked by cells())
        assert flat(body)[()] == figures(rows)


def _cell(body, owner, first_day: str, stage):
    groups = [*body["groups"], {"key": None, **body["total"]}]
    group = next(g for g in groups if (g["key"]["value"] if g["key"] else None) == owner)
    for cell in group["by_column"]:
        if [k["value"] for k in cell["keys"]] == [first_day, stage]:
            return cell["values"]
    raise AssertionError((owner, first_day, stage))


def test_the_sales_overview_dashboard_answers_as_each_viewer(crm):
    """Pipeline funnel, won by month, weighted forecast and win rate, as the admin and
    as a rep: each component's numbers are the viewer's own."""
    this_year = datetime.now(UTC).year
    for who in ("admin", "rep1"):
        person = crm.users[who]
        response = person.client.get("/api/v1/dashboards/sales_overview")
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        funnel, won, forecast, rate, metric = body["components"]
        rows = visible(crm.opportunities, person)

        pipeline = [r for r in rows if is_open(r)]
        stages = {g["key"]["value"]: g["values"] for g in funnel["result"]["groups"]}
        for stage, members in grouped(pipeline, [lambda r: r["stage"]]).items():
            if stage:
                assert stages[stage[0]]["sum(amount)"] == total(r["amount"] for r in members)
        assert ET.fromstring(funnel["svg"]).findtext("svg:title", namespaces=NS) == "Pipeline"

        won_rows = [
            r for r in rows if r["stage"] == "Closed Won" and r["close_date"].year == this_year
        ]
        months = {g["key"]["value"]: g["values"]["sum(amount)"] for g in won["result"]["groups"]}
        assert months == {
            path[0]: total(r["amount"] for r in members)
            for path, members in grouped(
                won_rows, [lambda r: r["close_date"].replace(day=1).isoformat()]
            ).items()
            if path
        }
        assert ET.fromstring(won["svg"]).tag == "{http://www.w3.org/2000/svg}svg"

        open_rows = [r for r in rows if r["stage"] is not None and r["stage"] not in CLOSED]
        weighted = total(
            r["amount"] * r["probability"] / 100 for r in open_rows if r["amount"] is not None
        )
        assert forecast["type"] == "table" and "svg" not in forecast
        assert forecast["result"]["total"]["values"]["weighted"] == weighted
        assert {g["key"]["value"] for g in forecast["result"]["groups"]} == {
            r["owner_id"] for r in open_rows
        }

        won_count = sum(1 for r in rows if r["stage"] == "Closed Won")
        closed = sum(1 for r in rows if r["stage"] in CLOSED)
        expected_rate = (Decimal(won_count * 100) / closed).quantize(Decimal("0.1"), ROUND_HALF_UP)
        assert rate["result"]["total"]["values"]["win_rate"] == expected_rate
        assert metric["value"] == expected_rate
        band = "red" if expected_rate <= 30 else "yellow" if expected_rate <= 50 else "green"
        assert metric["color"] == band
        for component in (funnel, won, rate, metric):
            svg = person.client.get(component["svg_url"])
            assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"


def test_a_report_that_only_counts_counts_the_readers_records(crm):
    from crm_platform.core.tables import SYSTEM_USER_ID

    definition = {"api_name": "deal_count", "object": "opportunity", "aggregates": ["count"]}
    crm.org.metadata.put_component("report", definition, author_id=SYSTEM_USER_ID)
    for who in ("admin", "rep1"):
        body = run(crm, who, "deal_count")
        expected = len(visible(crm.opportunities, crm.users[who]))
        assert body["total"]["values"] == {"count": expected}, who
