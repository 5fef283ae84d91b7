"""List pages beyond reading (Flask test client): the Kanban board (columns per picklist
value with counts and sums; moving a card with JavaScript off and through the JSON API
the board's script calls, refused by a validation rule or a stale version), bulk select
with mass edit and mass delete (all or none), and the lookup type-ahead's endpoint (only
what the user may see)."""

from __future__ import annotations

import re
from html import unescape
from types import SimpleNamespace

import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient, fresh_database_url, make_token
from tests.web.sales_org import OTHER_EMAIL, build_sales_org
from tests.web.test_pages import names_listed, sign_in, text

STAGES = [
    {"value": "Prospecting", "default": True, "color": "#5a6268"},
    {"value": "Qualification", "label": {"en": "Qualifying", "zh": "资格审查"}, "color": "#1e6fb5"},
    {"value": "Proposal", "color": "#8a5a00"},
    {"value": "Closed Won", "color": "#1e7b34"},
    {"value": "Closed Lost"},
    {"value": "Parked", "active": False},
]
WON_NEEDS_DATE = {
    "api_name": "won_needs_date",
    "object": "opportunity",
    "condition": "stage == 'Closed Won' and ISBLANK(close_date)",
    "message": "A won deal needs a close date",
    "field": "close_date",
}


@pytest.fixture(scope="module")
def sales(tmp_path_factory):
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.runtime import initialise_org

    with fresh_database_url(tmp_path_factory.mktemp("lists")) as url:
        settings = load_settings(url, instance_path=tmp_path_factory.mktemp("instance"))
        org = open_org(settings)
        initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
        data = build_sales_org(org)
        app = create_app(settings, org=org)
        api = ApiClient(app.test_client(), make_token(org, ADMIN_EMAIL))
        changed = api.patch(
            "/api/v1/metadata/objects/opportunity/fields/stage", json={"values": STAGES}
        )
        assert changed.status_code == 200, changed.get_json()
        rule = api.post("/api/v1/metadata/validation_rules", json=WON_NEEDS_DATE)
        assert rule.status_code == 201, rule.get_json()
        yield SimpleNamespace(org=org, app=app, api=api, **vars(data))
        org.dispose()


@pytest.fixture(scope="module")
def rep(sales):
    return sign_in(sales.app)


def deal(sales, name: str, **values) -> dict:
    """A deal of the rep's, made for one test (tests never share a record they change)."""
    created = sales.api.post(
        "/api/v1/records/opportunity", json={"name": name, "owner_id": sales.rep.id, **values}
    )
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def record(sales, record_id: str) -> dict:
    return sales.api.get(f"/api/v1/records/opportunity/{record_id}").get_json()


def columns(html: str) -> dict[str, list[str]]:
    """Each board column's value and the names on its cards."""
    out = {}
    for value, body in re.findall(
        r'<section class="kanban-column[^"]*" data-value="([^"]*)".*?>(.*?)</section>', html, re.S
    ):
        out[unescape(value)] = [
            unescape(n) for n in re.findall(r'class="record-link card-name">([^<]+)<', body)
        ]
    return out


def column_html(html: str, value: str) -> str:
    found = re.search(
        rf'<section class="kanban-column[^"]*" data-value="{re.escape(value)}".*?</section>',
        html,
        re.S,
    )
    assert found, f"no column {value}"
    return found.group(0)


def flashed(client) -> str:
    return text(client.get("/o/opportunity?view=all&q=zzz-nothing"))


# --- the board -------------------------------------------------------------------------------


def test_the_board_has_a_column_per_active_value_with_counts_and_sums(sales, rep):
    html = text(rep.get("/o/opportunity?view=open_pipeline&kanban=stage&q=Deal"))
    board = columns(html)
    assert list(board) == ["Prospecting", "Qualification", "Proposal", "Closed Won", "Closed Lost"]
    assert "Parked" not in board  # inactive: no column
    assert len(board["Proposal"]) == 10 and len(board["Prospecting"]) == 20
    assert "Secret merger" not in html
    proposal = column_html(html, "Proposal")
    assert "10 records" in proposal and "26,500.00" in proposal  # 1000 + 100n, n = 3, 6 … 30
    assert "20 records" in column_html(html, "Prospecting")
    assert "0 records" in column_html(html, "Closed Won")
    assert "border-top-color: #1e7b34" in column_html(html, "Closed Won")  # the value's colour
    assert ">Qualifying</h2>" in column_html(html, "Qualification")  # its label
    card = re.search(r'<li class="kanban-card".*?</li>', proposal, re.S).group(0)
    assert 'draggable="true"' in card and 'name="version"' in card
    assert "Close date" in card and "Amount" in card  # the view's columns on the card
    assert html.count("<h1") == 1

    zh = text(
        rep.get("/o/opportunity?view=open_pipeline&kanban=stage", headers={"Accept-Language": "zh"})
    )
    assert ">资格审查</h2>" in zh and "看板" in zh


def test_the_list_offers_the_views_board_and_the_board_the_table(sales, rep):
    listed = text(rep.get("/o/opportunity?view=open_pipeline"))
    link = re.search(r'href="([^"]+)" id="board-link"', listed).group(1)
    assert "kanban=stage" in unescape(link) and "view=open_pipeline" in unescape(link)
    board = text(rep.get(unescape(link)))
    assert 'href="/o/opportunity?view=open_pipeline"' in board  # back to the table


def test_a_board_groups_only_by_a_readable_picklist(sales, rep):
    assert rep.get("/o/opportunity?kanban=amount").status_code == 400
    assert rep.get("/o/opportunity?kanban=nothing").status_code == 400
    assert "Secret merger" not in text(rep.get("/o/opportunity?view=all&kanban=stage"))


def test_a_card_moves_without_javascript(sales, rep):
    moving = deal(sales, "Kanban move", stage="Prospecting", close_date="2026-03-01")
    form = {
        "csrf_token": rep.token,
        "id": moving["id"],
        "version": str(moving["version"]),
        "field": "stage",
        "value": "Proposal",
        "back": "/o/opportunity?view=all&kanban=stage",
    }
    moved = rep.post("/o/opportunity/kanban/move", data=form)
    assert moved.status_code == 302
    assert moved.headers["Location"] == "/o/opportunity?view=all&kanban=stage"
    assert record(sales, moving["id"])["stage"] == "Proposal"
    assert "“Kanban move” moved to Proposal." in flashed(rep)

    stale = rep.post("/o/opportunity/kanban/move", data={**form, "value": "Closed Lost"})
    assert stale.status_code == 302
    assert record(sales, moving["id"])["stage"] == "Proposal"
    assert "Someone else changed this record" in flashed(rep)

    elsewhere = rep.post(
        "/o/opportunity/kanban/move", data={**form, "back": "https://evil.example/"}
    )
    assert elsewhere.headers["Location"] == "/o/opportunity"
    forged = rep.post("/o/opportunity/kanban/move", data={**form, "csrf_token": ""})
    assert forged.status_code == 400


def test_a_refused_move_changes_nothing_and_says_why(sales, rep):
    undated = deal(sales, "Kanban undated", stage="Proposal")
    refused = rep.post(
        "/o/opportunity/kanban/move",
        data={
            "csrf_token": rep.token,
            "id": undated["id"],
            "version": str(undated["version"]),
            "field": "stage",
            "value": "Closed Won",
            "back": "/o/opportunity?kanban=stage",
        },
    )
    assert refused.status_code == 302
    assert record(sales, undated["id"])["stage"] == "Proposal"
    assert "Not moved: A won deal needs a close date" in flashed(rep)


def test_the_boards_script_moves_through_the_api_with_the_version(sales, rep):
    """What kanban.js sends: a PATCH with the page's CSRF token and If-Match."""
    dragged = deal(sales, "Kanban drag", stage="Prospecting")
    headers = {"X-CSRFToken": rep.token, "If-Match": f'"{dragged["version"]}"'}
    moved = rep.patch(
        f"/api/v1/records/opportunity/{dragged['id']}", json={"stage": "Proposal"}, headers=headers
    )
    assert moved.status_code == 200 and moved.get_json()["stage"] == "Proposal"
    stale = rep.patch(
        f"/api/v1/records/opportunity/{dragged['id']}",
        json={"stage": "Closed Lost"},
        headers=headers,
    )
    assert stale.status_code == 412
    fresh = {**headers, "If-Match": f'"{moved.get_json()["version"]}"'}
    refused = rep.patch(
        f"/api/v1/records/opportunity/{dragged['id']}", json={"stage": "Closed Won"}, headers=fresh
    )
    assert refused.status_code == 400
    assert "A won deal needs a close date" in str(refused.get_json()["errors"])
    assert record(sales, dragged["id"])["stage"] == "Proposal"


# --- bulk select, mass edit and delete -------------------------------------------------------


def test_a_list_has_a_box_per_row_and_a_select_all(sales, rep):
    html = text(rep.get("/o/opportunity?view=all"))
    assert html.count('name="ids"') == 25 and 'id="select-all"' in html
    assert 'formaction="/o/opportunity/mass/edit"' in html
    assert 'formaction="/o/opportunity/mass/delete"' in html
    every = text(rep.get("/o/opportunity?view=all&selected=all"))
    assert every.count('class="select-row" aria-label') == 25
    assert len(re.findall(r'name="ids" value="[^"]+" class="select-row"[^>]* checked', every)) == 25


def test_mass_edit_sets_one_field_on_every_selected_record(sales, rep):
    picked = [deal(sales, f"Mass edit {n}", stage="Prospecting") for n in range(3)]
    ids = [d["id"] for d in picked]
    base = {"csrf_token": rep.token, "ids": ids, "back": "/o/opportunity?view=all"}
    chooser = text(rep.post("/o/opportunity/mass/edit", data=base))
    assert "3 records selected" in chooser and 'id="mass-field"' in chooser
    assert 'value="probability"' not in chooser  # read-only for reps
    assert 'value="cost_price"' not in chooser  # hidden from reps
    step_two = text(rep.post("/o/opportunity/mass/edit", data={**base, "field": "stage"}))
    assert '<select class="custom-select" id="in-stage" name="stage"' in step_two
    done = rep.post(
        "/o/opportunity/mass/edit",
        data={**base, "field": "stage", "stage": "Qualification", "apply": "1"},
    )
    assert done.status_code == 302 and done.headers["Location"] == "/o/opportunity?view=all"
    assert {record(sales, i)["stage"] for i in ids} == {"Qualification"}
    assert "3 records changed" in flashed(rep)


def test_mass_edit_is_all_or_none_and_names_each_refused_record(sales, rep):
    dated = deal(sales, "Mass dated", stage="Proposal", close_date="2026-04-01")
    undated = deal(sales, "Mass undated", stage="Proposal")
    base = {"csrf_token": rep.token, "ids": [dated["id"], undated["id"]], "field": "stage"}
    refused = rep.post(
        "/o/opportunity/mass/edit", data={**base, "stage": "Closed Won", "apply": "1"}
    )
    html = text(refused)
    assert refused.status_code == 400
    assert "Nothing was changed: 1 record was refused." in html
    failures = re.search(r'class="alert alert-danger mass-failures".*?</div>', html, re.S).group(0)
    assert "Mass undated" in failures and "A won deal needs a close date" in failures
    assert "Mass dated" not in failures
    assert record(sales, dated["id"])["stage"] == "Proposal"  # none changed, not even it
    assert '<option value="Closed Won" selected>' in html  # the value chosen is kept

    bad = rep.post(
        "/o/opportunity/mass/edit", data={**base, "field": "amount", "amount": "-5", "apply": "1"}
    )
    assert bad.status_code == 400 and "Amount:" in text(bad)
    assert record(sales, dated["id"])["amount"] is None


def test_mass_delete_asks_first_and_is_all_or_none(sales, rep):
    mine = [deal(sales, f"Mass delete {n}") for n in range(2)]
    ids = [d["id"] for d in mine]
    base = {"csrf_token": rep.token, "ids": ids, "back": "/o/opportunity?view=all"}
    confirm = rep.post("/o/opportunity/mass/delete", data=base)
    assert confirm.status_code == 200 and "Mass delete 0" in text(confirm)
    assert record(sales, ids[0])["name"] == "Mass delete 0"  # asked, not done

    # one more the rep may read but not delete: nothing goes
    other = sign_in(sales.app, OTHER_EMAIL)
    theirs = other.post(
        "/api/v1/records/opportunity",
        json={"name": "Shared to read"},
        headers={"X-CSRFToken": other.token},
    ).get_json()
    shared = sales.api.post(
        f"/api/v1/records/opportunity/{theirs['id']}/shares",
        json={"user": sales.rep.id, "access": "read"},
    )
    assert shared.status_code == 201, shared.get_json()
    refused = rep.post(
        "/o/opportunity/mass/delete", data={**base, "ids": [*ids, theirs["id"]], "confirm": "1"}
    )
    assert refused.status_code == 400 and "Shared to read" in text(refused)
    assert all(sales.api.get(f"/api/v1/records/opportunity/{i}").status_code == 200 for i in ids)

    done = rep.post("/o/opportunity/mass/delete", data={**base, "confirm": "1"})
    assert done.status_code == 302
    assert all(sales.api.get(f"/api/v1/records/opportunity/{i}").status_code == 404 for i in ids)


def test_mass_actions_need_the_csrf_token_and_a_selection(sales, rep):
    target = deal(sales, "Mass forged")
    forged = rep.post("/o/opportunity/mass/delete", data={"ids": [target["id"]], "confirm": "1"})
    assert forged.status_code == 400
    assert sales.api.get(f"/api/v1/records/opportunity/{target['id']}").status_code == 200
    empty = rep.post(
        "/o/opportunity/mass/edit", data={"csrf_token": rep.token, "back": "/o/opportunity"}
    )
    assert empty.status_code == 302 and "Select at least one record first." in flashed(rep)
    # a record not shared with the rep is not selectable: it is simply not there
    hidden = rep.post(
        "/o/opportunity/mass/delete",
        data={"csrf_token": rep.token, "ids": [sales.secret["id"]], "confirm": "1"},
    )
    assert hidden.status_code == 302
    assert sales.api.get(f"/api/v1/records/opportunity/{sales.secret['id']}").status_code == 200


# --- lookups -------------------------------------------------------------------------------


def test_the_type_ahead_offers_only_records_the_user_may_see(sales, rep):
    with sales.org.records.session(sales.other) as session:  # not shared with the rep
        session.create("account", {"name": "Acme Hidden"})
    found = rep.get("/lookup/opportunity/account?q=Acm")
    assert found.status_code == 200 and found.headers["Cache-Control"] == "no-store"
    assert found.get_json() == {
        "results": [{"id": sales.acme["id"], "text": "Acme"}],
        "target": "account",
    }
    first = rep.get("/lookup/opportunity/account").get_json()["results"]
    assert [r["text"] for r in first] == ["Acme", "Globex"]
    admin = sign_in(sales.app, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert {
        r["text"] for r in admin.get("/lookup/opportunity/account?q=Acme").get_json()["results"]
    } == {
        "Acme",
        "Acme Hidden",
    }


def test_the_type_ahead_refuses_what_is_not_a_lookup(sales, rep):
    for url in ("/lookup/opportunity/amount", "/lookup/opportunity/nothing", "/lookup/nothing/x"):
        response = rep.get(url + "?q=a")
        assert response.status_code == 404, url
    assert rep.get("/lookup/opportunity/account?q=a").mimetype == "application/json"
    assert rep.get("/lookup/opportunity/amount").mimetype == "application/problem+json"
    anonymous = sales.app.test_client().get("/lookup/opportunity/account?q=a")
    assert anonymous.status_code == 302


def test_a_polymorphic_lookup_searches_the_target_picked_first(sales, rep):
    added = sales.api.post(
        "/api/v1/metadata/objects/note/fields",
        json={"api_name": "about", "type": "lookup", "targets": ["account", "opportunity"]},
    )
    assert added.status_code == 201, added.get_json()
    unpicked = rep.get("/lookup/note/about?q=Glo")
    assert unpicked.status_code == 400 and "target" in unpicked.get_json()["errors"]
    picked = rep.get("/lookup/note/about?q=Glo&target=account").get_json()
    assert picked["results"] == [{"id": sales.globex["id"], "text": "Globex"}]
    deals = rep.get("/lookup/note/about?q=Deal 07&target=opportunity").get_json()["results"]
    assert [r["text"] for r in deals] == ["Deal 07"]


def test_a_related_lists_new_shows_the_lookups_name(sales, rep, monkeypatch):
    from crm_platform.web.pages import forms

    as_select = text(rep.get(f"/o/opportunity/new?account={sales.globex['id']}"))
    assert f'<option value="{sales.globex["id"]}" selected>Globex</option>' in as_select
    assert 'data-lookup-url="/lookup/opportunity/account"' in as_select
    monkeypatch.setattr(forms, "LOOKUP_OPTIONS", 1)  # too many accounts: typed by name
    typed = text(rep.get(f"/o/opportunity/new?account={sales.globex['id']}"))
    assert 'name="account__name" value="Globex"' in typed
    with sales.org.records.session(sales.other) as session:
        hidden = session.create("account", {"name": "Not for reps"})
    unseen = text(rep.get(f"/o/opportunity/new?account={hidden['id']}"))
    assert hidden["id"] not in unseen and "Not for reps" not in unseen


def test_mass_edit_uses_the_forms_lookup_widget(sales, rep):
    moved = deal(sales, "Mass account")
    base = {"csrf_token": rep.token, "ids": [moved["id"]], "field": "account"}
    page = text(rep.post("/o/opportunity/mass/edit", data=base))
    assert 'data-lookup-url="/lookup/opportunity/account"' in page
    done = rep.post(
        "/o/opportunity/mass/edit", data={**base, "account": sales.acme["id"], "apply": "1"}
    )
    assert done.status_code == 302
    assert record(sales, moved["id"])["account"] == sales.acme["id"]
    assert names_listed(text(rep.get("/o/opportunity?view=all&q=Mass account"))) == ["Mass account"]


def test_a_board_costs_a_query_per_column_whatever_the_cards(sales, rep):
    """One grouped query for the figures and one list per column with cards: the same
    for a column of one card as for one of twenty."""
    from tests.web.test_pages import _statements

    rep.get("/o/opportunity?view=all&kanban=stage")  # the model compiled and cached
    many = _statements(sales, rep, "/o/opportunity?view=all&kanban=stage&f.name=Deal")
    one = _statements(sales, rep, "/o/opportunity?view=all&kanban=stage&f.name=Deal 03")
    html = text(rep.get("/o/opportunity?view=all&kanban=stage&f.name=Deal"))
    filled = sum(1 for cards in columns(html).values() if cards)
    single = text(rep.get("/o/opportunity?view=all&kanban=stage&f.name=Deal 03"))
    assert sum(1 for cards in columns(single).values() if cards) == 1
    assert many - one == filled - 1  # a list per extra column with cards, nothing per card


def test_a_polymorphic_lookup_in_a_form_picks_its_target_first(sales, rep):
    added = sales.api.post(
        "/api/v1/metadata/objects/note/fields",
        json={"api_name": "regarding", "type": "lookup", "targets": ["account", "opportunity"]},
    )
    assert added.status_code == 201, added.get_json()
    form = text(rep.get("/o/note/new"))
    assert 'name="regarding.object"' in form and 'name="regarding__name"' in form
    assert '<option value="account" selected>Account</option>' in form
    assert 'data-target-select="in-regarding-object"' in form

    missing = rep.post(
        "/o/note/new",
        data={
            "csrf_token": rep.token,
            "name": "Call notes",
            "regarding.object": "opportunity",
            "regarding__name": "Nothing like it",
        },
    )
    assert missing.status_code == 400
    html = text(missing)
    assert re.search(r'data-field="regarding".*no record named “Nothing like it”', html, re.S)
    assert '<option value="opportunity" selected>' in html and 'value="Nothing like it"' in html

    saved = rep.post(
        "/o/note/new",
        data={
            "csrf_token": rep.token,
            "name": "Call notes",
            "regarding.object": "opportunity",
            "regarding__name": "Deal 07",
        },
    )
    assert saved.status_code == 302, text(saved)
    note_id = saved.headers["Location"].rsplit("/", 1)[1]
    stored = sales.api.get(f"/api/v1/records/note/{note_id}").get_json()
    deal07 = next(d for d in sales.deals if d["name"] == "Deal 07")
    assert stored["regarding"] == {"object": "opportunity", "id": deal07["id"]}
    edit = text(rep.get(f"/r/note/{note_id}/edit"))
    assert '<option value="opportunity" selected>' in edit and 'value="Deal 07"' in edit

    prefilled = text(rep.get(f"/o/note/new?regarding={sales.globex['id']}"))
    assert '<option value="account" selected>' in prefilled
    assert 'name="regarding__name" value="Globex"' in prefilled


def test_the_record_picked_by_the_type_ahead_wins_over_a_shared_name(sales, rep, monkeypatch):
    from crm_platform.web.pages import forms

    with sales.org.records.session(sales.rep) as session:
        first = session.create("account", {"name": "Twin Peaks"})
        second = session.create("account", {"name": "Twin Peaks"})
    with sales.org.records.session(sales.other) as session:
        hidden = session.create("account", {"name": "Twin Peaks"})
    monkeypatch.setattr(forms, "LOOKUP_OPTIONS", 1)
    form = {"csrf_token": rep.token, "name": "Twin deal", "account__name": "Twin Peaks"}
    ambiguous = rep.post("/o/opportunity/new", data=form)
    assert ambiguous.status_code == 400 and "several records match" in text(ambiguous)
    created = rep.post("/o/opportunity/new", data={**form, "account__id": second["id"]})
    assert created.status_code == 302, text(created)
    assert record(sales, created.headers["Location"].rsplit("/", 1)[1])["account"] == second["id"]
    # an id the rep may not see, or one whose name is no longer what is typed, is ignored
    sneaky = rep.post("/o/opportunity/new", data={**form, "account__id": hidden["id"]})
    assert sneaky.status_code == 400
    renamed = rep.post(
        "/o/opportunity/new",
        data={**form, "account__name": "Acme", "account__id": first["id"]},
    )
    assert renamed.status_code == 302
    assert (
        record(sales, renamed.headers["Location"].rsplit("/", 1)[1])["account"] == sales.acme["id"]
    )
