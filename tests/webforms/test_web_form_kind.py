"""The ``web_form`` kind's save-time checks: a form may only write simple fields of its
object, its guest set must grant create on that object and nothing else (no read
anywhere, no system permission) with edit on every field it writes, and its rule must be
one of the object's. Plus the snippet (API and CLI) and the guest kept with the form."""

from __future__ import annotations

import re

import pytest

from crm_platform.core import ValidationFailed
from crm_platform.runtime import find_user

from .conftest import FORM

GUEST = "web-form.contact-sales@guest.invalid"


@pytest.fixture
def form(web_org):
    return dict(web_org.metadata.get_component("web_form", "contact_sales"))


@pytest.fixture
def guest_set(web_org):
    return dict(web_org.metadata.get_component("permission_set", "contact_sales_guest"))


def refused(put_metadata, kind: str, definition: dict) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        put_metadata(kind, definition)
    return caught.value.errors


def test_a_guest_set_that_reads_anything_is_refused(web_org, put_metadata, guest_set):
    errors = refused(
        put_metadata,
        "permission_set",
        {**guest_set, "objects": {"lead": {"create": True, "read": True}}},
    )
    assert any(
        "grants read on lead: a guest may only create lead" in m
        for ms in errors.values()
        for m in ms
    )
    errors = refused(put_metadata, "permission_set", {**guest_set, "system": ["api_enabled"]})
    assert any("system permissions" in m for ms in errors.values() for m in ms)


def test_a_form_writing_a_field_its_guest_may_not_edit_is_refused(web_org, put_metadata, form):
    errors = refused(put_metadata, "web_form", {**form, "hidden": {"rating": "Hot"}})
    assert errors == {
        "contact_sales.guest_permission_set": [
            "'contact_sales_guest' does not grant edit on lead.rating"
        ]
    }


def test_only_simple_fields_of_the_object_and_its_own_rules(web_org, put_metadata, form):
    fields = [*form["fields"], {"field": "nothing"}, {"field": "email"}]
    errors = refused(
        put_metadata, "web_form", {**form, "fields": fields, "assignment_rule": "nope"}
    )
    assert errors["contact_sales.fields[6].field"] == ["lead has no field 'nothing'"]
    assert errors["contact_sales.fields[7].field"] == ["'email' is on the form twice"]
    assert errors["contact_sales.assignment_rule"] == ["lead has no assignment rule 'nope'"]


def test_the_guest_is_kept_with_the_form(web_org, put_metadata, form):
    with web_org.db.read() as conn:
        guest = find_user(conn, GUEST)
    assert guest is not None and guest.active
    put_metadata("web_form", {**form, "active": False})
    with web_org.db.read() as conn:
        assert not find_user(conn, GUEST).active  # no form, no guest


def test_the_snippet_posts_to_the_platform_with_its_token_and_honeypot(web_org, app, api):
    listed = api.get("/api/v1/web-forms").get_json()["web_forms"]
    assert [(f["name"], f["url"]) for f in listed] == [
        ("contact_sales", "http://localhost/f/contact_sales")
    ]
    body = api.get("/api/v1/web-forms/contact_sales/snippet?language=zh").get_json()
    html = body["html"]
    assert 'action="http://localhost/f/contact_sales"' in html
    assert 'name="wf_homepage"' in html and "您的姓" in html and "发送" in html
    # a post with the snippet's token is accepted, as a page's is
    token = re.search(r'name="wf_token" value="([^"]+)"', html).group(1)
    data = {"wf_token": token, "last_name": "L", "company": "C", "email": "x@example.com"}
    assert app.test_client().post(FORM, data=data).status_code == 303
    assert api.get("/api/v1/web-forms/nothing/snippet").status_code == 404


def test_a_cross_site_post_from_the_snippet_is_accepted(web_org, app):
    html = app.test_client().get(FORM).get_data(as_text=True)
    token = re.search(r'name="wf_token" value="([^"]+)"', html).group(1)
    data = {"wf_token": token, "last_name": "L", "company": "C", "email": "x@example.com"}
    answer = app.test_client().post(FORM, data=data, headers={"Origin": "https://www.example.org"})
    assert answer.status_code == 303
    # while the app's own pages still refuse another origin's post
    login = app.test_client().post("/login", headers={"Origin": "https://www.example.org"})
    assert login.status_code == 403


def test_the_snippet_needs_view_setup(web_org, make_user):
    rep = make_user("someone@example.com")
    assert rep.get("/api/v1/web-forms").status_code == 403
