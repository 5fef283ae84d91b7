"""A portal user reaches only what is theirs, by every path (issue 18, item 3).

Ann of Acme is a portal user. Carl of Globex is another customer; Bob is Ann's colleague
at Acme. Whatever Ann tries — portal URLs with guessed ids, the API, the internal pages,
search, files, reports, lookups, history — she never reaches Carl's case, an internal
comment or an internal field; with the org's setting at "account" she also reaches
Bob's case (never Carl's)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from crm_platform.core import CrmError
from crm_platform.core.tables import user_permission_sets
from crm_platform.portal import portal_sharing, set_portal_sharing
from crm_platform.reports.run import run_report
from crm_platform.runtime import create_token, find_user
from crm_platform.runtime.records import ListRequest
from tests.portal.conftest import PASSWORD, csrf_of, sign_in

INTERNAL_TEXT = "INTERNAL: customer is on a discount hold"
HIDDEN_CASE_FIELDS = {
    "skill",
    "entitlement",
    "first_response_due",
    "resolution_due",
    "first_response_breached",
    "sla_breached",
    "age_hours",
    "lowest_csat",
    "product",
}


@contextmanager
def as_ann(portal, write: bool = False):
    with portal.org.db.read() as conn:
        ann = find_user(conn, "ann@customer.example")
    assert ann is not None and ann.user_type == "portal"
    with portal.org.records.session(ann, write=write) as records:
        yield records


@contextmanager
def account_sharing(portal):
    with portal.org.db.write() as conn:
        set_portal_sharing(conn, "account")
    try:
        yield
    finally:
        with portal.org.db.write() as conn:
            set_portal_sharing(conn, "contact")


def ids_of(page) -> set[str]:
    return {r["id"] for r in page.records}


# --- the portal's own pages ------------------------------------------------------------
def test_ann_sees_her_case_and_its_public_comment_but_never_the_internal_one(portal):
    client = sign_in(portal.app)
    home = client.get("/portal/").get_data(as_text=True)
    assert "Ann&#39;s printer is jammed" in home
    assert "Bob" not in home and "Carl" not in home
    page = client.get(f"/portal/cases/{portal.ids['ann_case']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "We are sending a technician" in html
    assert INTERNAL_TEXT not in html
    # internal fields of the case: the skill's value and the SLA's labels never show
    assert "Technical" not in html and "SLA" not in html and "Skill" not in html


@pytest.mark.parametrize("key", ["carl_case", "bob_case"])
def test_another_customers_case_is_not_found_by_a_guessed_url(portal, key):
    client = sign_in(portal.app)
    page = client.get(f"/portal/cases/{portal.ids[key]}")
    assert page.status_code == 404
    assert "secret outage" not in page.get_data(as_text=True)
    for made_up in ("nope", "../../api/v1/records/case", "0" * 36):
        assert client.get(f"/portal/cases/{made_up}").status_code == 404


def test_a_comment_on_another_customers_case_is_refused_and_nothing_is_written(portal):
    client = sign_in(portal.app)
    token = csrf_of(client.get(f"/portal/cases/{portal.ids['ann_case']}").get_data(as_text=True))
    carl = portal.ids["carl_case"]
    response = client.post(
        f"/portal/cases/{carl}/comments", data={"body": "sneaky", "csrf_token": token}
    )
    assert response.status_code == 404
    comments = portal.admin.get("/api/v1/records/case_comment?where=body == 'sneaky'").json
    assert comments["records"] == []


def test_a_draft_article_is_not_found_and_only_published_ones_are_listed(portal):
    client = sign_in(portal.app)
    listing = client.get("/portal/articles").get_data(as_text=True)
    assert "Clear a paper jam" in listing and "Unreleased firmware" not in listing
    assert client.get(f"/portal/articles/{portal.ids['draft']}").status_code == 404
    assert client.get(f"/portal/articles/{portal.ids['published']}").status_code == 200


# --- the internal app and the API -------------------------------------------------------
def test_a_portal_session_opens_no_internal_page_and_no_api(portal):
    client = sign_in(portal.app)
    carl = portal.ids["carl_case"]
    for path in (
        "/",
        "/o/case",
        f"/r/case/{carl}",
        f"/r/case/{portal.ids['ann_case']}",
        "/search?q=Carl",
        "/lookup/case/contact?q=Carl",
        f"/r/case/{carl}/files/description",
        "/setup/",
    ):
        response = client.get(path)
        # signed out as far as the internal app knows: sent to its sign-in page
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"], path
        assert "/portal" not in response.headers["Location"], path
    for path in (
        "/api/v1/records/case",
        f"/api/v1/records/case/{carl}",
        "/api/v1/search?q=Carl",
        "/api/v1/reports/cases_by_channel",
        f"/api/v1/records/case/{carl}/files/description",
    ):
        response = client.get(path)
        assert response.status_code == 401, path
    assert client.post("/api/v1/reports/cases_by_channel/run", json={}).status_code == 401


def test_a_portal_user_with_an_api_token_is_refused_without_api_enabled(portal):
    with portal.org.db.write() as conn:
        ann = find_user(conn, "ann@customer.example")
        token = create_token(conn, ann.id, "tried")
    response = portal.app.test_client().get(
        "/api/v1/records/case", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
    assert "api_enabled" in response.json["detail"]


def test_portal_and_internal_sign_ins_do_not_mix(portal):
    # Ann's password does not open the internal app; the admin's does not open the portal
    client = portal.app.test_client()
    html = client.get("/login").get_data(as_text=True)
    answer = client.post(
        "/login",
        data={
            "email": "ann@customer.example",
            "password": PASSWORD,
            "csrf_token": csrf_of(html),
        },
    )
    assert answer.status_code == 401
    from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

    html = client.get("/portal/login").get_data(as_text=True)
    answer = client.post(
        "/portal/login",
        data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": csrf_of(html)},
    )
    assert answer.status_code == 401


# --- the security model itself (what every path asks) ------------------------------------
def test_lists_records_search_and_aggregates_keep_to_anns_records(portal):
    ids = portal.ids
    with as_ann(portal) as records:
        assert ids_of(records.list("case", ListRequest())) == {ids["ann_case"]}
        assert ids_of(records.list("contact", ListRequest())) == {ids["ann"]}
        assert ids_of(records.list("account", ListRequest())) == {ids["acme"]}
        assert ids_of(records.list("case_comment", ListRequest())) == {ids["ann_public"]}
        assert ids_of(records.list("knowledge_article", ListRequest())) == {ids["published"]}
        for key, obj in (
            ("carl_case", "case"),
            ("bob_case", "case"),
            ("ann_internal", "case_comment"),
            ("draft", "knowledge_article"),
            ("carl", "contact"),
            ("globex", "account"),
        ):
            with pytest.raises(CrmError) as refused:
                records.get(obj, ids[key])
            assert refused.value.status == 404, key
        found = {r["id"] for r in records.search("Carl secret outage Globex", None, 20)}
        assert found.isdisjoint({ids["carl_case"], ids["carl"], ids["globex"]})
        assert records.aggregate("case", [], ["count"], None)[0]["count"] == 1
        # a filter naming another customer's id finds nothing either
        where = f"id == '{ids['carl_case']}'"
        assert records.list("case", ListRequest(where=where)).records == []
        # history of a case she cannot see
        with pytest.raises(CrmError):
            records.history("case", ids["carl_case"])
        # objects outside the portal: nothing at all
        assert records.access.can("task", "read") is False


def test_internal_fields_are_never_read(portal):
    with as_ann(portal) as records:
        case = records.get("case", portal.ids["ann_case"])
        assert HIDDEN_CASE_FIELDS.isdisjoint(case), sorted(HIDDEN_CASE_FIELDS & set(case))
        assert {"subject", "status", "description"} <= set(case)
        # filtering or sorting by a hidden field is refused as if the field did not exist
        with pytest.raises(CrmError) as refused:
            records.list("case", ListRequest(where="skill == 'Technical'"))
        assert refused.value.status == 400
        contact = records.get("contact", portal.ids["ann"])
        assert "phone" not in contact and "birthdate" not in contact


def test_reports_run_by_a_portal_user_count_only_her_cases(portal):
    with as_ann(portal) as records:
        result = run_report(records, "cases_by_channel")
    assert sum(g.values["count"] for g in result.groups) == 1


def test_a_lookup_to_another_customers_contact_is_refused(portal):
    with as_ann(portal, write=True) as records, pytest.raises(CrmError) as refused:
        records.create("case", {"subject": "Pretend to be Carl", "contact": portal.ids["carl"]})
    assert refused.value.status == 400
    assert "Carl" not in str(refused.value.detail)


def test_no_permission_set_widens_a_portal_users_reach(portal):
    """Even given the service manager's set (view_all on cases) and the admin's, a portal
    user reaches only her records: a scope is never "all"."""
    with portal.org.db.write() as conn:
        ann = find_user(conn, "ann@customer.example")
        for name in ("service_manager", "admin"):
            conn.execute(user_permission_sets.insert().values(user_id=ann.id, permission_set=name))
    try:
        with as_ann(portal) as records:
            assert ids_of(records.list("case", ListRequest())) == {portal.ids["ann_case"]}
            assert records.access.all_powerful is False
            assert not records.access.has("customize_application")
            assert records.list("task", ListRequest()).records == []
    finally:
        with portal.org.db.write() as conn:
            conn.execute(
                user_permission_sets.delete().where(user_permission_sets.c.user_id == ann.id)
            )


# --- the account-level setting ----------------------------------------------------------
def test_by_account_ann_also_sees_bobs_case_but_never_carls(portal):
    ids = portal.ids
    with account_sharing(portal):
        with portal.org.db.read() as conn:
            assert portal_sharing(conn) == "account"
        with as_ann(portal) as records:
            assert ids_of(records.list("case", ListRequest())) == {ids["ann_case"], ids["bob_case"]}
            assert ids_of(records.list("contact", ListRequest())) == {ids["ann"], ids["bob"]}
            with pytest.raises(CrmError):
                records.get("case", ids["carl_case"])
        client = sign_in(portal.app)
        assert client.get(f"/portal/cases/{ids['bob_case']}").status_code == 200
        assert client.get(f"/portal/cases/{ids['carl_case']}").status_code == 404
    with as_ann(portal) as records:  # back to her own
        assert ids_of(records.list("case", ListRequest())) == {ids["ann_case"]}


def test_a_case_she_opened_and_owns_is_still_not_hers_to_edit_share_or_delete(portal):
    with as_ann(portal, write=True) as records:
        mine = records.create("case", {"subject": "Opened by Ann", "contact": portal.ids["ann"]})
    with as_ann(portal, write=True) as records:
        for attempt in (
            lambda: records.update("case", mine["id"], {"subject": "Changed"}),
            lambda: records.delete("case", mine["id"]),
            lambda: records.update("case", mine["id"], {"owner_id": records.user.id}),
        ):
            with pytest.raises(CrmError) as refused:
                attempt()
            assert refused.value.status in {403, 404}
        assert records.has_full_access(records.object("case"), mine["id"], records.user.id) is False
