"""Issue 18, web forms: a prospect fills ``/f/contact_sales`` (no sign-in) and lands as a
lead the form's assignment rule routes; spam and abuse are refused (honeypot, a rate limit
per address across app instances, a size limit, a missing token); the service's problems
show next to their inputs with what was typed kept; the guest user reads nothing."""

from __future__ import annotations

import re

import pytest

from crm_platform.core import Forbidden
from crm_platform.runtime import find_user
from crm_platform.runtime.records import ListRequest
from crm_platform.runtime.security import load_access
from tests.conftest import ApiClient, make_token

from .conftest import FORM, REPS, post

ADA = {"last_name": "Lovelace", "company": "Analytical Engines", "email": "ada@example.com"}


def leads(api) -> list[dict]:
    return api.get("/api/v1/records/lead").get_json()["records"]


def owner_email(api, lead: dict) -> str:
    return api.get(f"/api/v1/users/{lead['owner_id']}").get_json()["email"]


def test_the_public_page_shows_the_forms_inputs_without_signing_in(web_org, app):
    page = app.test_client().get(FORM)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Set-Cookie" not in page.headers  # no session is opened for a visitor
    assert "<h1" in html and "Talk to sales" in html
    assert 'for="in-last_name">Your last name' in html  # the form's own label
    assert 'for="in-company">Company' in html  # else the field's
    assert 'name="lead_source"' not in html  # hidden values are never in the page
    assert 'name="wf_homepage"' in html and 'name="wf_token"' in html


def test_labels_come_in_the_visitors_language(web_org, app):
    page = app.test_client().get(FORM, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    html = page.get_data(as_text=True)
    assert "联系销售" in html and "您的姓" in html and "公司" in html
    assert "发送" in html  # the page's own words, translated


def test_a_post_creates_a_lead_that_the_forms_rule_routes_in_turn(web_org, app, api):
    client = app.test_client()
    first = post(client, {**ADA, "first_name": "Ada", "employees": "12"})
    assert first.status_code == 303
    assert first.headers["Location"].endswith("/f/contact_sales/thanks")
    thanks = client.get(first.headers["Location"])
    assert "A sales rep will call you" in thanks.get_data(as_text=True)
    post(client, {**ADA, "last_name": "Hopper", "email": "grace@example.com"})
    made = {lead["last_name"]: lead for lead in leads(api)}
    assert set(made) == {"Lovelace", "Hopper"}
    ada = made["Lovelace"]
    assert ada["lead_source"] == "Web" and ada["employees"] == 12
    assert ada["_names"]["created_by"] == "Web form guest (contact_sales)"
    # the form's rule (round robin over web_reps) gave one lead to each rep
    assert {owner_email(api, lead) for lead in made.values()} == set(REPS)


def test_the_honeypot_is_answered_as_a_success_and_creates_nothing(web_org, app, api):
    answer = post(app.test_client(), {**ADA, "wf_homepage": "http://spam.example"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/thanks")
    assert leads(api) == []


def test_a_post_without_the_forms_token_is_refused(web_org, app, api):
    client = app.test_client()
    answer = post(client, ADA, token="forged")
    assert answer.status_code == 400
    assert "The form expired or was incomplete" in answer.get_data(as_text=True)
    assert leads(api) == []


def test_the_rate_limit_holds_across_two_app_instances_sharing_the_database(web_org, settings, api):
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org

    other_org = open_org(settings)  # a second server on the same database
    try:
        apps = [create_app(settings, org=web_org), create_app(settings, org=other_org)]
        clients = [a.test_client() for a in apps]
        answers = [
            post(clients[i % 2], {**ADA, "last_name": f"Bot{i}"}).status_code for i in range(4)
        ]
        assert answers == [303, 303, 303, 429]  # the form allows 3 posts in 10 minutes
        refused = post(clients[0], ADA)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0
        assert "Too many submissions" in refused.get_data(as_text=True)
        # someone else, from another address, is not held back
        assert post(clients[1], ADA, address="198.51.100.9").status_code == 303
    finally:
        other_org.dispose()
    assert len(leads(api)) == 4


def test_a_post_bigger_than_the_form_allows_is_refused_unread(web_org, app, api):
    answer = post(app.test_client(), {**ADA, "description": "x" * 5000})  # max_bytes: 4096
    assert answer.status_code == 413
    assert "too large" in answer.get_data(as_text=True)
    assert leads(api) == []


def test_problems_show_next_to_their_inputs_with_what_was_typed_kept(web_org, app, api):
    answer = post(
        app.test_client(),
        {"first_name": "Ada", "company": "Analytical", "email": "not-an-email", "employees": "-3"},
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    errors = dict(re.findall(r'id="err-(\w+)">([^<]*)<', html))
    assert set(errors) == {"email", "employees", "last_name"}
    assert "required" in errors["last_name"].lower()
    # what was typed is still there, and the inputs are marked invalid
    assert 'name="first_name" value="Ada"' in html
    assert 'name="email" value="not-an-email"' in html
    assert re.search(r'is-invalid" type="text" id="in-employees" name="employees" value="-3"', html)
    assert leads(api) == []


def test_a_field_the_form_requires_is_required_even_when_the_object_does_not(web_org, app, api):
    answer = post(app.test_client(), {"last_name": "Lovelace", "company": "Analytical"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert re.search(r'id="err-email">This field is required\.<', html)
    assert leads(api) == []  # the record the service would have made is rolled back


def test_an_unknown_or_inactive_form_is_not_found(web_org, app, put_metadata):
    client = app.test_client()
    assert client.get("/f/nothing_here").status_code == 404
    definition = dict(web_org.metadata.get_component("web_form", "contact_sales"))
    put_metadata("web_form", {**definition, "active": False})
    assert client.get(FORM).status_code == 404


def test_the_guest_user_can_create_and_read_nothing(web_org, app, api):
    post(app.test_client(), ADA)
    (lead,) = leads(api)
    with web_org.db.read() as conn:
        guest = find_user(conn, "web-form.contact-sales@guest.invalid")
        model = web_org.models.model_for(conn)
        access = load_access(conn, guest, model, model.security)
    assert access.can("lead", "create") and not access.can("lead", "read")
    assert access.readable_fields("lead") == ()
    # through the record service: no list, no record
    with web_org.records.session(guest, write=False) as session, pytest.raises(Forbidden):
        session.list("lead", ListRequest())
    with web_org.records.session(guest, write=False) as session, pytest.raises(Forbidden):
        session.get("lead", lead["id"])
    # through the API, even with a token someone made for it: no API access
    token_client = ApiClient(app.test_client(), make_token(web_org, guest.email))
    assert token_client.get("/api/v1/records/lead").status_code == 403
    assert token_client.get(f"/api/v1/records/lead/{lead['id']}").status_code == 403


def test_the_guest_user_cannot_sign_in_even_with_a_password(web_org, app):
    from crm_platform.core.tables import users
    from crm_platform.runtime import hash_password

    email = "web-form.contact-sales@guest.invalid"
    with web_org.db.write() as conn:  # an admin gave it a password by hand
        conn.execute(
            users.update()
            .where(users.c.email == email)
            .values(password_hash=hash_password("S3cure-pass!"))
        )
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    answer = client.post("/login", data={"email": email, "password": "S3cure-pass!"})
    assert answer.status_code == 401
    page = client.get("/o/lead")  # and the pages still ask for a sign-in
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_the_guest_writes_only_the_fields_its_set_grants(web_org):
    from crm_platform.core import ValidationFailed
    from crm_platform.webforms import web_forms_of
    from crm_platform.webforms.guest import guest_access

    with web_org.db.read() as conn:
        guest = find_user(conn, "web-form.contact-sales@guest.invalid")
    with web_org.records.session(guest) as session:
        session.access = guest_access(
            guest, web_forms_of(session.model).get("contact_sales"), session.model
        )
        made = session.create("lead", {"last_name": "L", "company": "C"})
        assert made == {"id": made["id"]}  # created, and nothing read back
        with pytest.raises(ValidationFailed) as refused:
            session.create("lead", {"last_name": "L", "company": "C", "rating": "Hot"})
    # a field the set does not grant edit on is refused as unknown: nothing tells it apart
    assert refused.value.errors == {"rating": ["unknown field of lead"]}
