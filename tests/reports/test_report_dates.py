"""Date groupings follow the org: datetimes are bucketed by their day in the org's time
zone, fiscal buckets start in the org's fiscal year start month, and relative date
ranges such as THIS_FISCAL_YEAR() filter a report as the clock says."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient, fresh_database_url, make_token

ZONE = "Asia/Shanghai"
DEAL = {
    "api_name": "deal",
    "fields": [
        {"api_name": "name", "type": "text", "required": True},
        {"api_name": "amount", "type": "currency"},
        {"api_name": "signed_at", "type": "datetime"},
        {"api_name": "close_date", "type": "date"},
    ],
}
SIGNED = [
    # 17:30 UTC on 31 March is 1 April in Shanghai: the first day of fiscal year 2027
    (datetime(2026, 3, 31, 17, 30, tzinfo=UTC), "100.00"),
    (datetime(2026, 3, 31, 15, 0, tzinfo=UTC), "10.00"),  # 23:00 in Shanghai, still March
    (datetime(2026, 6, 30, 16, 0, tzinfo=UTC), "1.00"),  # 1 July in Shanghai: FY2027 Q2
    (datetime(2025, 12, 31, 20, 0, tzinfo=UTC), "1000.00"),  # 1 January 2026 in Shanghai
]


@pytest.fixture(scope="module")
def deals(tmp_path_factory):
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.core.tables import SYSTEM_USER_ID
    from crm_platform.runtime import initialise_org

    with fresh_database_url(tmp_path_factory.mktemp("dates")) as url:
        settings = load_settings(url, instance_path=tmp_path_factory.mktemp("instance"))
        org = open_org(settings)
        initialise_org(
            org,
            admin_email=ADMIN_EMAIL,
            admin_password=ADMIN_PASSWORD,
            time_zone=ZONE,
            fiscal_year_start_month=4,
        )
        org.metadata.apply_objects([DEAL], author_id=SYSTEM_USER_ID)
        api = ApiClient(create_app(settings, org=org).test_client(), make_token(org, ADMIN_EMAIL))
        today = datetime.now(ZoneInfo(ZONE)).date()
        for index, (moment, amount) in enumerate(SIGNED):
            body = {
                "name": f"d{index}",
                "amount": amount,
                "signed_at": moment.isoformat(),
                "close_date": (today - timedelta(days=400 * index)).isoformat(),
            }
            assert api.post("/api/v1/records/deal", json=body).status_code == 201
        yield api, today
        org.dispose()


def report(api, name: str, **parts):
    definition = {"api_name": name, "object": "deal", "format": "summary", **parts}
    saved = api.post("/api/v1/metadata/reports", json=definition)
    assert saved.status_code == 201, saved.get_json()
    response = api.post(f"/api/v1/reports/{name}/run", json={})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def keys_and_sums(body):
    return [
        (g["key"]["value"], g["key"]["label"], g["values"]["sum(amount)"]) for g in body["groups"]
    ]


def test_datetimes_are_bucketed_in_the_org_time_zone_and_fiscal_year(deals):
    api, _today = deals
    body = report(
        api,
        "by_fiscal_quarter",
        group_by=["signed_at by fiscal_quarter"],
        aggregates=["sum(amount)"],
    )
    assert keys_and_sums(body) == [
        ("2026-01-01", "FY2026 Q4", 1010),  # 1 January and 31 March (Shanghai)
        ("2026-04-01", "FY2027 Q1", 100),
        ("2026-07-01", "FY2027 Q2", 1),
    ]
    assert body["groupings"][0]["type"] == "date"
    months = report(api, "by_month", group_by=["signed_at by month"], aggregates=["sum(amount)"])
    assert keys_and_sums(months) == [
        ("2026-01-01", "2026-01", 1000),
        ("2026-03-01", "2026-03", 10),
        ("2026-04-01", "2026-04", 100),
        ("2026-07-01", "2026-07", 1),
    ]
    years = report(
        api, "by_fiscal_year", group_by=["signed_at by fiscal_year"], aggregates=["sum(amount)"]
    )
    assert keys_and_sums(years) == [("2025-04-01", "FY2026", 1010), ("2026-04-01", "FY2027", 101)]


def test_a_matrix_by_week_and_a_relative_fiscal_filter(deals):
    api, today = deals
    body = report(
        api,
        "this_fiscal_year",
        filter="close_date in THIS_FISCAL_YEAR()",
        group_by=["close_date by week"],
        aggregates=["count"],
    )
    start = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    # only the deal closing today is in this fiscal year (the others are 400+ days back)
    assert start <= today
    monday = today - timedelta(days=today.weekday())
    iso_year, week, _ = monday.isocalendar()
    assert [(g["key"]["value"], g["key"]["label"]) for g in body["groups"]] == [
        (monday.isoformat(), f"{iso_year}-W{week:02d}")
    ]
    assert body["total"]["values"]["count"] == 1
