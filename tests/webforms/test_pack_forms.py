"""The shipped packs' web forms: web-to-lead (sales) and web-to-case (service), each
creating its record as its guest user and routed by the pack's assignment rule."""

from __future__ import annotations

import re

import pytest

from crm_platform.packs import install
from crm_platform.runtime import create_user, find_user
from crm_platform.runtime.directory import add_member, remove_member
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient, fresh_database_url, make_token


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    """One org for the module: the service pack (with sales) installed, a sales rep in
    sales_reps and an agent in support_agents."""
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.runtime import initialise_org

    folder = tmp_path_factory.mktemp("packed")
    with fresh_database_url(folder) as url:
        org = open_org(load_settings(url, folder / "instance"))
        try:
            initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
            install(org, "service", with_sample=False)  # with sales and core_activities
            with org.db.write() as conn:
                model = org.models.model_for(conn)
                rep = create_user(conn, email="rep@example.com", profile="sales_rep")
                add_member(conn, model, "groups", "sales_reps", rep.id)
                agent = create_user(conn, email="agent@example.com", profile="service_agent")
                add_member(conn, model, "groups", "support_agents", agent.id)
            yield org
        finally:
            org.dispose()


@pytest.fixture(scope="module")
def app(packed):
    from crm_platform.app import create_app

    return create_app(packed.settings, org=packed)


@pytest.fixture(scope="module")
def api(app, packed):
    return ApiClient(app.test_client(), make_token(packed, ADMIN_EMAIL))


def send(client, path: str, data: dict):
    html = client.get(path).get_data(as_text=True)
    token = re.search(r'name="wf_token" value="([^"]+)"', html).group(1)
    return client.post(path, data={"wf_token": token, **data})


def test_web_to_lead_makes_a_web_lead_for_the_next_rep(packed, app, api):
    answer = send(
        app.test_client(),
        "/f/web_to_lead",
        {"last_name": "Lovelace", "company": "Analytical", "email": "ada@example.com"},
    )
    assert answer.status_code == 303
    (lead,) = api.get("/api/v1/records/lead").get_json()["records"]
    assert (lead["lead_source"], lead["status"]) == ("Web", "Open")
    assert lead["_names"]["owner_id"] == "rep"


def test_web_to_case_opens_a_web_case_for_the_least_loaded_agent(packed, app, api):
    client = app.test_client()
    page = client.get("/f/web_to_case", headers={"Accept-Language": "zh"})
    assert "联系客服" in page.get_data(as_text=True)
    answer = send(
        client,
        "/f/web_to_case",
        {
            "supplied_name": "Grace Hopper",
            "supplied_email": "grace@example.com",
            "subject": "The printer jams",
            "description": "Every morning at nine.",
        },
    )
    assert answer.status_code == 303
    (case,) = api.get("/api/v1/records/case").get_json()["records"]
    assert (case["channel"], case["status"], case["priority"]) == ("Web", "New", "Medium")
    assert case["supplied_email"] == "grace@example.com"
    assert case["_names"]["owner_id"] == "agent"
    thanks = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "your case is open" in thanks


def test_with_no_rep_in_the_group_a_web_lead_waits_in_the_new_leads_queue(packed, app, api):
    """Nobody in sales_reps (a fresh install): the lead is not left with the form's
    guest, whom nobody can see, but goes to the New leads queue, whose member sees it."""
    with packed.db.write() as conn:
        model = packed.models.model_for(conn)
        rep = find_user(conn, "rep@example.com")
        remove_member(conn, model, "groups", "sales_reps", rep.id)
        taker = create_user(conn, email="taker@example.com", profile="sales_rep")
        add_member(conn, model, "queues", "new_leads", taker.id)
    try:
        answer = send(
            app.test_client(),
            "/f/web_to_lead",
            {"last_name": "Babbage", "company": "Difference", "email": "cb@example.com"},
        )
        assert answer.status_code == 303
        taker_api = ApiClient(app.test_client(), make_token(packed, "taker@example.com"))
        leads = taker_api.get("/api/v1/records/lead?where=last_name == 'Babbage'").get_json()
        (lead,) = leads["records"]
        assert lead["_names"]["owner_id"] == "New leads"
    finally:
        with packed.db.write() as conn:
            add_member(conn, packed.models.model_for(conn), "groups", "sales_reps", rep.id)
