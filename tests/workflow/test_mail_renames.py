"""A rename rewrites the templates that name the object or field, like expressions, and
the where-used list of a field names the templates that merge it."""

from __future__ import annotations

import pytest

from .mail_helpers import prepare

OBJECTS = "/api/v1/metadata/objects"
TEMPLATE = "/api/v1/metadata/email_templates/won_notice"


@pytest.fixture
def crm(api, org, load_fixture):
    prepare(org, load_fixture)
    return api


def test_a_renamed_field_is_renamed_in_merge_fields(crm):
    usages = crm.get(f"{OBJECTS}/account/fields/name/usages").get_json()["usages"]
    assert {"kind": "email_template", "name": "won_notice", "where": "subject"} in usages
    response = crm.patch(f"{OBJECTS}/account/fields/name", json={"api_name": "title"})
    assert response.status_code == 200, response.get_json()
    template = crm.get(TEMPLATE).get_json()
    assert template["subject"] == "Won: {{ name }} ({{ account.title }})"
    assert template["html_body"].startswith("<p>{{ name }} for <b>{{ account.title }}</b>")


def test_a_renamed_field_keeps_filters_and_tests_apart(crm):
    response = crm.patch(f"{OBJECTS}/opportunity/fields/amount", json={"api_name": "value"})
    assert response.status_code == 200, response.get_json()
    body = crm.get(TEMPLATE).get_json()["body"]
    assert "is won at {{ value | default('(not shown)') }}." in body


def test_a_renamed_object_is_renamed_in_its_templates(crm):
    response = crm.patch(f"{OBJECTS}/opportunity", json={"api_name": "deal"})
    assert response.status_code == 200, response.get_json()
    assert crm.get(TEMPLATE).get_json()["object"] == "deal"
