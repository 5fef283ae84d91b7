"""Home, ``/``: the app's dashboard run as the viewer (its charts and metrics as SVG
images with a text alternative, its tables as tables), pending approvals and the
viewer's recent records, newest first."""

from __future__ import annotations

import re
from base64 import b64decode

import pytest

from tests.web.sales_org import sales_app
from tests.web.test_pages import sign_in, text


@pytest.fixture(scope="module")
def sales(tmp_path_factory):
    with sales_app(tmp_path_factory) as found:
        yield found


@pytest.fixture(scope="module")
def rep(sales):
    return sign_in(sales.app)


def cells(html: str) -> dict[str, str]:
    return dict(
        re.findall(r'<figure class="card dashboard-cell cell-(\w+)"(.*?)</figure>', html, re.S)
    )


def test_home_shows_the_apps_dashboard_as_the_rep_sees_it(sales, rep):
    html = text(rep.get("/"))
    assert 'data-dashboard="sales_home"' in html and ">My pipeline</h2>" in html
    found = cells(html)
    assert set(found) == {"chart", "metric", "table"}
    chart = re.search(
        r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="Pipeline"', found["chart"]
    )
    svg = b64decode(chart.group(1)).decode()
    assert svg.startswith("<svg") or "<svg" in svg[:200]
    assert "Prospecting" in svg and "Proposal" in svg  # the stages of the rep's deals
    assert "Secret" not in svg
    assert 'alt="Open amount"' in found["metric"]
    # the table: accounts by industry, only the rep's (Acme: Technology, Globex: Retail)
    assert ">Technology</td>" in found["table"] and ">Retail</td>" in found["table"]
    assert html.count("<h1") == 1


def test_the_dashboard_speaks_the_users_language(sales, rep):
    html = text(rep.get("/", headers={"Accept-Language": "zh-CN"}))
    assert ">我的销售管道</h2>" in html and 'alt="管道"' in html
    assert "首页" in html and "最近" in html


def test_a_user_who_may_not_read_its_reports_gets_no_dashboard(sales):
    from crm_platform.runtime import create_user

    with sales.org.db.write() as conn:
        create_user(conn, email="nobody@example.com", name="No Body", password="Nobody-pass-2026!")
    nobody = sign_in(sales.app, "nobody@example.com", "Nobody-pass-2026!")
    html = text(nobody.get("/"))
    assert 'id="dashboard"' not in html and 'id="pending-title"' in html


def test_recent_records_are_the_users_newest_first(sales, rep):
    first, second = sales.deals[3], sales.deals[4]
    for deal in (first, second):
        changed = rep.patch(
            f"/api/v1/records/opportunity/{deal['id']}",
            json={"amount": "4321"},
            headers={"X-CSRFToken": rep.token},
        )
        assert changed.status_code == 200, changed.get_json()
    recent = re.search(r'id="recent-title".*?</section>', text(rep.get("/")), re.S).group(0)
    names = re.findall(r'<a href="/r/\w+/[^"]+">([^<]+)</a>', recent)
    assert names[:2] == [second["name"], first["name"]]
    assert "Acme" in names and "Deal 10" not in names  # created by the admin, unchanged


def test_an_app_names_a_dashboard_that_exists(sales):
    refused = sales.api.post(
        "/api/v1/metadata/apps",
        json={"api_name": "service", "tabs": ["home", "account"], "dashboard": "nope"},
    )
    assert refused.status_code == 400, refused.get_json()
    assert "no dashboard 'nope'" in str(refused.get_json())
    assert sales.api.get("/api/v1/metadata/apps/service").status_code == 404


def test_home_lists_the_records_the_user_opened_lately(sales):
    rep = sign_in(sales.app)
    first, second = sales.deals[7], sales.acme
    assert rep.get(f"/r/opportunity/{first['id']}").status_code == 200
    assert rep.get(f"/r/account/{second['id']}").status_code == 200
    assert rep.get(f"/r/opportunity/{sales.secret['id']}").status_code == 404  # not kept
    viewed = re.search(r'id="viewed-title".*?</section>', text(rep.get("/")), re.S).group(0)
    names = re.findall(r'<a href="/r/\w+/[^"]+">([^<]+)</a>', viewed)
    assert names == ["Acme", first["name"]]
    # another person's session keeps their own
    other = sign_in(sales.app, "other@example.com")
    assert "Acme" not in re.search(
        r'id="viewed-title".*?</section>', text(other.get("/")), re.S
    ).group(0)
