"""Setup leaks nothing: the metadata read endpoints and the OpenAPI document show a user
who does not administer the org only the objects and fields they may read — no
definition, picklist value, formula or rule expression of a hidden field — while
admins and setup viewers see everything."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate as validate_openapi

DOC = "/api/v1/openapi.json"


@pytest.fixture
def payroll(confidential, put_metadata):
    """An object nobody but admins may read, and a setup viewer."""
    confidential.admin.post(
        "/api/v1/metadata/objects",
        json={
            "api_name": "payroll",
            "fields": [{"api_name": "salary", "type": "currency"}],
        },
    )
    put_metadata(
        "permission_set", {"api_name": "setup_viewer", "system": ["api_enabled", "view_setup"]}
    )
    return confidential


def field_names(definition: dict) -> set[str]:
    return {f["api_name"] for f in definition["fields"]}


def test_a_rep_lists_only_the_objects_they_may_read(payroll):
    listed = payroll.seller.get("/api/v1/metadata/objects").get_json()["objects"]
    names = {o["api_name"] for o in listed}
    assert {"client", "deal", "opportunity"} <= names
    assert "payroll" not in names
    assert "salary" not in payroll.seller.get("/api/v1/metadata/objects").get_data(True)


def test_an_object_a_rep_may_not_read_answers_like_one_that_does_not_exist(payroll):
    for path in ("/api/v1/metadata/objects/{}", "/api/v1/metadata/objects/{}/fields"):
        hidden = payroll.seller.get(path.format("payroll"))
        unknown = payroll.seller.get(path.format("nosuch"))
        assert hidden.status_code == unknown.status_code == 404
        assert hidden.get_data(True).replace("payroll", "nosuch") == unknown.get_data(True)
    assert payroll.seller.get("/api/v1/metadata/objects/payroll/fields/salary").status_code == 404


def test_a_rep_sees_no_definition_of_a_field_they_may_not_read(payroll):
    deal = payroll.seller.get("/api/v1/metadata/objects/deal").get_json()
    assert field_names(deal) == {"name", "amount", "buyer", "margin_band", "amount_k"}
    body = payroll.seller.get("/api/v1/metadata/objects/deal").get_data(True)
    assert "margin /" not in body and "buyer.tier" not in body
    listed = payroll.seller.get("/api/v1/metadata/objects/deal/fields").get_json()["fields"]
    assert {f["api_name"] for f in listed} == field_names(deal)
    for name in ("margin", "margin_pct", "client_tier"):
        hidden = payroll.seller.get(f"/api/v1/metadata/objects/deal/fields/{name}")
        unknown = payroll.seller.get("/api/v1/metadata/objects/deal/fields/nosuch")
        assert hidden.status_code == unknown.status_code == 404
        assert hidden.get_data(True).replace(name, "nosuch") == unknown.get_data(True)


def test_a_derived_field_opened_with_read_derived_shows_no_expression(payroll):
    shown = payroll.seller.get("/api/v1/metadata/objects/deal/fields/margin_band").get_json()
    assert shown["type"] == "formula" and "expression" not in shown
    readable = payroll.seller.get("/api/v1/metadata/objects/deal/fields/amount_k").get_json()
    assert readable["expression"] == "amount / 1000"


def test_rollups_and_formulas_over_hidden_fields_are_not_defined_for_a_rep(payroll):
    client = payroll.seller.get("/api/v1/metadata/objects/client").get_json()
    assert field_names(client) == {
        "name",
        "grade",
        "secret_note",
        "deal_count",
        "seen_deals",
        "seen_amount",
    }


def test_a_dependent_picklist_shows_nothing_of_its_hidden_controlling_field(payroll):
    grade = payroll.seller.get("/api/v1/metadata/objects/client/fields/grade").get_json()
    assert "controlling_field" not in grade
    assert [v["value"] for v in grade["values"]] == ["G1", "P1"]
    # each value as any picklist value reads, without the controlling values it is valid for
    shown_keys = {"value", "label", "labels", "active", "default", "attributes", "color"}
    assert all(set(v) <= shown_keys for v in grade["values"]), grade["values"]
    body = payroll.seller.get("/api/v1/metadata/objects/client").get_data(True)
    assert "Platinum" not in body and "tier" not in body


def test_a_validation_rule_over_a_hidden_field_is_hidden_from_a_rep(payroll):
    rules = payroll.seller.get("/api/v1/metadata/validation_rules").get_json()
    assert [r["api_name"] for r in rules["validation_rules"]] == ["no_free_deals"]
    assert (
        payroll.seller.get("/api/v1/metadata/validation_rules/deal.thin_margin").status_code == 404
    )
    assert (
        payroll.admin.get("/api/v1/metadata/validation_rules/deal.thin_margin").status_code == 200
    )


@pytest.mark.parametrize(
    "plural", ["permission_sets", "roles", "groups", "queues", "sharing_rules"]
)
def test_the_security_design_is_setup_only(payroll, plural, make_user):
    assert payroll.seller.get(f"/api/v1/metadata/{plural}").status_code == 403
    assert payroll.admin.get(f"/api/v1/metadata/{plural}").status_code == 200
    viewer = make_user("viewer@example.com", profile="setup_viewer")
    assert viewer.get(f"/api/v1/metadata/{plural}").status_code == 200


def test_a_single_permission_set_is_setup_only_too(payroll):
    refused = payroll.seller.get("/api/v1/metadata/permission_sets/deal_rep")
    assert refused.status_code == 403
    assert "margin" not in refused.get_data(True)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/metadata/objects/deal/history",
        "/api/v1/metadata/objects/deal/history/1",
        "/api/v1/metadata/objects/deal/diff?from=1",
        "/api/v1/metadata/objects/deal/fields?deleted=true",
    ],
)
def test_revisions_and_deleted_definitions_are_setup_only(payroll, path):
    assert payroll.seller.get(path).status_code == 403
    assert payroll.admin.get(path).status_code == 200


def test_admins_and_setup_viewers_see_every_definition(payroll, make_user):
    viewer = make_user("viewer@example.com", profile="setup_viewer")
    for who in (payroll.admin, viewer):
        deal = who.get("/api/v1/metadata/objects/deal").get_json()
        assert {"margin", "margin_pct", "client_tier"} <= field_names(deal)
        names = {o["api_name"] for o in who.get("/api/v1/metadata/objects").get_json()["objects"]}
        assert "payroll" in names


def test_the_openapi_document_of_a_rep_names_no_hidden_object_or_field(payroll):
    body = payroll.seller.get(DOC).get_data(True)
    document = payroll.seller.get(DOC).get_json()
    validate_openapi(document)
    assert "/records/deal" in document["paths"]
    assert not any(p.startswith("/records/payroll") for p in document["paths"])
    for secret in ('"margin"', '"margin_pct"', '"client_tier"', '"best_margin"', "Platinum"):
        assert secret not in body, secret
    assert "margin /" not in body and "salary" not in body
    assert '"margin_band"' in body and '"seen_deals"' in body


def test_the_openapi_document_of_an_admin_describes_everything(payroll):
    document = payroll.admin.get(DOC).get_json()
    assert any(p.startswith("/records/payroll") for p in document["paths"])
    assert '"margin_pct"' in payroll.admin.get(DOC).get_data(True)


def test_a_cached_openapi_document_is_never_served_to_another_audience(payroll):
    admin_first = payroll.admin.get(DOC)
    seller_then = payroll.seller.get(DOC)
    admin_again = payroll.admin.get(DOC)
    assert '"margin_pct"' in admin_first.get_data(True)
    assert '"margin_pct"' not in seller_then.get_data(True)
    assert admin_again.get_data(True) == admin_first.get_data(True)
    assert admin_first.headers["ETag"] != seller_then.headers["ETag"]
    # the seller's copy is not current for the admin
    revalidated = payroll.admin.get(DOC, headers={"If-None-Match": seller_then.headers["ETag"]})
    assert revalidated.status_code == 200
