"""Which apps a user gets: an app naming ``profiles`` shows only to users holding one of
those permission sets (administrators see every app), an app whose every object tab the
user may not read is not offered, and a user's first app is where they land."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.web.sales_org import sales_app
from tests.web.test_pages import sign_in, text


@pytest.fixture(scope="module")
def sales(tmp_path_factory):
    with sales_app(tmp_path_factory) as found:
        api = found.api
        made = [
            api.post(
                "/api/v1/metadata/permission_sets",
                json={"api_name": "auditor", "objects": {"account": {"read": True}}},
            ),
            # first of all apps, but only for auditors
            api.post(
                "/api/v1/metadata/apps",
                json={
                    "api_name": "audit",
                    "tabs": ["home", "account"],
                    "position": 1,
                    "profiles": ["auditor"],
                },
            ),
            # before Sales, for reps: where a rep lands
            api.post(
                "/api/v1/metadata/apps",
                json={
                    "api_name": "notes_desk",
                    "label": "Notes desk",
                    "tabs": ["home", "note"],
                    "position": 5,
                    "profiles": ["rep"],
                },
            ),
            # for everyone, but reps may read none of its object tabs
            api.post(
                "/api/v1/metadata/objects",
                json={"api_name": "ledger", "fields": [{"api_name": "name", "type": "text"}]},
            ),
            api.post(
                "/api/v1/metadata/apps", json={"api_name": "books", "tabs": ["home", "ledger"]}
            ),
        ]
        for response in made:
            assert response.status_code == 201, response.get_json()
        yield found


def switcher(html: str) -> list[str]:
    return re.findall(r'href="/\?app=(\w+)"', html)


def test_a_rep_lands_on_the_first_app_meant_for_them_and_sees_no_other(sales):
    rep = sign_in(sales.app)
    home = text(rep.get("/"))
    assert "Notes desk" in home and 'href="/o/note"' in home
    assert 'href="/o/opportunity"' not in home  # the Sales app's tabs are one switch away
    assert switcher(home)[:2] == ["notes_desk", "sales"]
    assert "audit" not in switcher(home) and "books" not in switcher(home)
    # asking for an app not meant for them gives their first one
    assert 'href="/o/note"' in text(rep.get("/?app=audit"))


def test_an_administrator_sees_every_app(sales):
    admin = sign_in(sales.app, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert set(switcher(text(admin.get("/")))) >= {"audit", "notes_desk", "sales", "books"}


def test_an_app_naming_an_unknown_permission_set_is_refused(sales):
    refused = sales.api.post(
        "/api/v1/metadata/apps",
        json={"api_name": "ghost", "tabs": ["home"], "profiles": ["nobody_has_this"]},
    )
    assert refused.status_code == 400
    assert "nobody_has_this" in str(refused.get_json()["errors"])


def chosen_view(html: str) -> str:
    return re.search(r'<option value="(\w+)" selected>', html).group(1)


def test_an_app_tab_opens_the_list_view_the_app_names(sales):
    made = sales.api.post(
        "/api/v1/metadata/apps",
        json={
            "api_name": "team_desk",
            "tabs": ["home", "opportunity"],
            "position": 90,
            "views": {"opportunity": "team_pipeline"},
        },
    )
    assert made.status_code == 201, made.get_json()
    rep = sign_in(sales.app)
    first = chosen_view(text(rep.get("/o/opportunity")))  # in Sales: the object's first view
    assert first != "team_pipeline"
    rep.get("/?app=team_desk")
    assert chosen_view(text(rep.get("/o/opportunity"))) == "team_pipeline"
    # a view asked for in the URL still wins
    assert chosen_view(text(rep.get(f"/o/opportunity?view={first}"))) == first


@pytest.mark.parametrize(
    ("views", "where", "says"),
    [
        ({"opportunity": "no_such_view"}, "views.opportunity", "no list view 'no_such_view'"),
        ({"account": "all"}, "views.account", "not an object tab of this app"),
    ],
)
def test_an_app_naming_a_list_view_it_cannot_open_is_refused(sales, views, where, says):
    refused = sales.api.post(
        "/api/v1/metadata/apps",
        json={"api_name": "odd_desk", "tabs": ["home", "opportunity"], "views": views},
    )
    assert refused.status_code == 400
    assert says in str(refused.get_json()["errors"][f"odd_desk.{where}"])
