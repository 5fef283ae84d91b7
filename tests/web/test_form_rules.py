"""A layout's field conditions: the form asks the server which fields are visible,
required and read-only for what the user typed (no evaluator in the browser); with
JavaScript off the server applies them when the form is sent; and ``required_if`` is
enforced by the record service for every writer — the API and composite requests too."""

from __future__ import annotations

import re
from html import unescape
from types import SimpleNamespace

import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient, fresh_database_url, make_token
from tests.web.sales_org import build_sales_org
from tests.web.test_pages import field_error, sign_in, text

RULE = "amount > 10000"


@pytest.fixture(scope="module")
def sales(tmp_path_factory):
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.core.tables import SYSTEM_USER_ID
    from crm_platform.runtime import initialise_org

    with fresh_database_url(tmp_path_factory.mktemp("rules")) as url:
        settings = load_settings(url, instance_path=tmp_path_factory.mktemp("instance"))
        org = open_org(settings)
        initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
        data = build_sales_org(org)
        app = create_app(settings, org=org)
        api = ApiClient(app.test_client(), make_token(org, ADMIN_EMAIL))
        layout = api.get("/api/v1/metadata/layouts/opportunity.default").get_json()
        details = layout["sections"][1]["fields"]
        details[details.index("contact_email")] = {"field": "contact_email", "required_if": RULE}
        details[details.index("contact_phone")] = {
            "field": "contact_phone",
            "visible_if": "is_strategic",
        }
        deal = layout["sections"][0]["fields"]
        deal[deal.index("close_date")] = {
            "field": "close_date",
            "read_only_if": "stage == 'Closed Won'",
        }
        org.metadata.put_component("layout", layout, author_id=SYSTEM_USER_ID)
        yield SimpleNamespace(org=org, app=app, api=api, **vars(data))
        org.dispose()


@pytest.fixture(scope="module")
def rep(sales):
    return sign_in(sales.app)


def ask(client, values: dict, record_id: str | None = None) -> dict:
    body = {"csrf_token": client.token, **values}
    if record_id:
        body["_record"] = record_id
    response = client.post("/o/opportunity/rules", data=body)
    assert response.status_code == 200, text(response)
    return response.get_json()["fields"]


def group(html: str, field: str) -> str:
    found = re.search(rf'<div class="form-group[^"]*" data-field="{field}"[^>]*>', html)
    assert found, f"no {field} in the form"
    return found.group(0)


def test_the_server_answers_the_form_as_the_user_types(sales, rep):
    small = ask(rep, {"name": "Deal", "amount": "500"})
    assert small["contact_email"] == {"visible": True, "required": False, "read_only": False}
    big = ask(rep, {"name": "Deal", "amount": "20000"})
    assert big["contact_email"]["required"] is True
    half_typed = ask(rep, {"name": "Deal", "amount": "20000x"})  # not a number yet
    assert half_typed["contact_email"]["required"] is False
    assert ask(rep, {"is_strategic": "on"})["contact_phone"]["visible"] is True
    assert ask(rep, {})["contact_phone"]["visible"] is False
    assert ask(rep, {"stage": "Closed Won"})["close_date"]["read_only"] is True
    assert "cost_price" not in ask(rep, {})  # a field the rep may not read is not answered
    assert ask(rep, {})["name"]["required"] is True  # required by the field itself
    assert ask(rep, {})["probability"]["read_only"] is True  # read-only for reps


def test_the_first_form_already_follows_the_conditions(sales, rep):
    html = text(rep.get("/o/opportunity/new"))
    assert " hidden" in group(html, "contact_phone")  # is_strategic starts false
    assert " hidden" not in group(html, "contact_email")
    assert 'src="/static/form_rules.js"' in html or "form_rules.js" in html


def test_without_javascript_the_server_enforces_required_if_on_send(sales, rep):
    refused = rep.post(
        "/o/opportunity/new",
        data={"csrf_token": rep.token, "name": "Big deal", "amount": "20000"},
    )
    assert refused.status_code == 400
    html = text(refused)
    assert [unescape(m) for m in field_error(html, "contact_email")] == [f"required (when {RULE})"]
    assert 'value="Big deal"' in html and 'value="20000"' in html  # nothing typed is lost
    done = rep.post(
        "/o/opportunity/new",
        data={
            "csrf_token": rep.token,
            "name": "Big deal",
            "amount": "20000",
            "contact_email": "buyer@example.com",
        },
    )
    assert done.status_code == 302, text(done)


def test_a_chinese_reader_gets_the_messages_in_chinese(sales, rep):
    from crm_platform.core.tables import SYSTEM_USER_ID

    rule = {
        "api_name": "no_test_deals",
        "object": "opportunity",
        "condition": "name == 'Test'",
        "message": {"en": "Name a real deal", "zh": "请填写真实的商机名称"},
        "field": "name",
    }
    sales.org.metadata.put_component("validation_rule", rule, author_id=SYSTEM_USER_ID)
    try:
        for language, named, required in (
            ("en", "Name a real deal", f"required (when {RULE})"),
            ("zh", "请填写真实的商机名称", f"必填（当 {RULE} 时）"),
        ):
            refused = rep.post(
                "/o/opportunity/new",
                data={"csrf_token": rep.token, "name": "Test", "amount": "20000"},
                headers={"Accept-Language": language},
            )
            assert refused.status_code == 400
            html = text(refused)
            assert [unescape(m) for m in field_error(html, "contact_email")] == [required]
            ruled = rep.post(  # the rules run once the record's own checks pass
                "/o/opportunity/new",
                data={"csrf_token": rep.token, "name": "Test", "amount": "5"},
                headers={"Accept-Language": language},
            )
            assert [unescape(m) for m in field_error(text(ruled), "name")] == [named]
            typed = rep.post(
                "/o/opportunity/new",
                data={"csrf_token": rep.token, "name": "Deal", "amount": "many"},
                headers={"Accept-Language": language},
            )
            said = [unescape(m) for m in field_error(text(typed), "amount")]
            assert said == (["must be a number"] if language == "en" else ["必须是数字"])
        # the API answers in the language asked for too; English by default
        for headers, message in (
            ({}, "Name a real deal"),
            ({"Accept-Language": "zh"}, rule["message"]["zh"]),
        ):
            refused = sales.api.post(
                "/api/v1/records/opportunity", json={"name": "Test"}, headers=headers
            )
            assert refused.get_json()["errors"] == {"name": [message]}
    finally:
        sales.org.metadata.remove_component(
            "validation_rule", "opportunity.no_test_deals", author_id=SYSTEM_USER_ID
        )


def test_the_api_and_composite_requests_are_held_to_required_if(sales):
    refused = sales.api.post("/api/v1/records/opportunity", json={"name": "X", "amount": 20000})
    assert refused.status_code == 400
    assert refused.get_json()["errors"] == {"contact_email": [f"required (when {RULE})"]}
    small = sales.api.post("/api/v1/records/opportunity", json={"name": "Y", "amount": 5})
    assert small.status_code == 201
    grown = sales.api.patch(
        f"/api/v1/records/opportunity/{small.get_json()['id']}", json={"amount": 50000}
    )
    assert grown.status_code == 400 and "contact_email" in grown.get_json()["errors"]
    batch = sales.api.post(
        "/api/v1/composite",
        json={
            "operations": [
                {"method": "POST", "url": "/records/opportunity", "body": {"name": "Z"}},
                {
                    "method": "POST",
                    "url": "/records/opportunity",
                    "body": {"name": "Z2", "amount": 99999},
                },
            ]
        },
    )
    assert batch.status_code == 400
    results = batch.get_json()["results"]
    assert [r["status"] for r in results] == [201, 400]
    assert "contact_email" in results[1]["body"]["errors"]
    listed = sales.api.get("/api/v1/records/opportunity?where=name=='Z'&count=true").get_json()
    assert listed["total"] == 0  # all or none: nothing of the batch was kept


def test_a_field_locked_by_read_only_if_is_shown_and_not_changed(sales, rep):
    deal = sales.deals[0]
    sales.api.patch(f"/api/v1/records/opportunity/{deal['id']}", json={"stage": "Closed Won"})
    form = text(rep.get(f"/r/opportunity/{deal['id']}/edit"))
    block = re.search(r'data-field="close_date".*?<fieldset class="rule-lock"[^>]*>', form, re.S)
    assert block and "disabled" in block.group(0)
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    saved = rep.post(
        f"/r/opportunity/{deal['id']}/edit",
        data={
            "csrf_token": rep.token,
            "version": version,
            "name": deal["name"],
            "stage": "Closed Won",
            "close_date": "2030-01-01",  # a forged value for the locked field
        },
    )
    assert saved.status_code == 302, text(saved)
    record = sales.api.get(f"/api/v1/records/opportunity/{deal['id']}").get_json()
    assert str(record["close_date"]) == str(deal["close_date"])
    admin = sign_in(sales.app, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert ask(admin, {"stage": "Prospecting"}, deal["id"])["close_date"]["read_only"] is False


def test_a_field_hidden_by_visible_if_is_not_sent(sales, rep):
    created = rep.post(
        "/o/opportunity/new",
        data={
            "csrf_token": rep.token,
            "name": "Quiet deal",
            "contact_phone": "+1 555 0100",  # hidden: is_strategic is off
        },
    )
    assert created.status_code == 302, text(created)
    record_id = created.headers["Location"].rsplit("/", 1)[1]
    record = sales.api.get(f"/api/v1/records/opportunity/{record_id}").get_json()
    assert record["contact_phone"] is None
    shown = rep.post(
        "/o/opportunity/new",
        data={
            "csrf_token": rep.token,
            "name": "Loud deal",
            "is_strategic": "on",
            "contact_phone": "+1 555 0100",
        },
    )
    record_id = shown.headers["Location"].rsplit("/", 1)[1]
    record = sales.api.get(f"/api/v1/records/opportunity/{record_id}").get_json()
    assert record["contact_phone"] == "+1 555 0100"


def test_a_dependent_picklist_offers_the_values_valid_for_its_controlling_value(sales, rep):
    created = sales.api.post(
        "/api/v1/metadata/objects",
        json={
            "api_name": "office",
            "fields": [
                {"api_name": "country", "type": "picklist", "values": ["Norway", "Japan"]},
                {
                    "api_name": "city",
                    "type": "picklist",
                    "controlling_field": "country",
                    "values": [
                        {"value": "Oslo", "valid_for": ["Norway"]},
                        {"value": "Tokyo", "valid_for": ["Japan"]},
                        "Anywhere",
                    ],
                },
            ],
        },
    )
    assert created.status_code == 201, created.get_json()
    admin = sign_in(sales.app, ADMIN_EMAIL, ADMIN_PASSWORD)

    def offered(html: str) -> list[str]:
        block = re.search(r'<select[^>]*name="city".*?</select>', html, re.S).group(0)
        return [v for v in re.findall(r'<option value="([^"]*)"', block) if v]

    assert offered(text(admin.get("/o/office/new"))) == ["Anywhere"]  # no country yet
    response = admin.post(
        "/o/office/rules", data={"csrf_token": admin.token, "name": "HQ", "country": "Japan"}
    )
    answer = response.get_json()["fields"]
    assert answer["city"]["choices"] == [["Tokyo", "Tokyo"], ["Anywhere", "Anywhere"]]

    refused = admin.post(
        "/o/office/new",
        data={"csrf_token": admin.token, "name": "HQ", "country": "Japan", "city": "Oslo"},
    )
    assert refused.status_code == 400
    html = text(refused)
    assert [unescape(e) for e in field_error(html, "city")] == [
        "'Oslo' is not valid when country is 'Japan'"
    ]
    assert offered(html) == ["Oslo", "Tokyo", "Anywhere"]  # what was typed stays, shown
