"""The duplicate rule builder's form through the test client: a rule built from its
criteria table, saved and enforced on the next record; criteria changed and removed; errors
shown beside the row and input they name; a rule the form cannot show opening as YAML."""

from __future__ import annotations

import re

from crm_platform.core.tables import SYSTEM_USER_ID
from tests.admin_ui.conftest import form_values, post, text

NEW = "/setup/builders/duplicate_rule/new"
EDIT = "/setup/builders/duplicate_rule/account.same_company"
RULE = {
    "api_name": "same_company",
    "object": "account",
    "action": "warn",
    "criteria": [
        {"field": "name", "method": "normalized"},
        {"field": "website", "method": "exact"},
    ],
}


def _invalid(page: str, input_id: str) -> bool:
    found = re.search(rf'<(?:input|select) class="([^"]*)" [^>]*id="{input_id}"', page)
    return found is not None and "is-invalid" in found.group(1)


def test_a_duplicate_rule_is_built_in_its_form_and_blocks_the_next_lookalike(sales, admin):
    page = text(admin.get(NEW))
    assert 'id="duplicate-criteria"' in page
    assert "<code>name</code>" in page  # the fields it can compare are named
    form = form_values(page, "builder-form")
    assert (form["active"], form["action"]) == ("on", "warn")
    assert form["event_create"] == form["event_update"] == "on"
    assert form["criterion_field:0"] == "" and "criterion_field:1" not in form
    form.update(
        {
            "api_name": "same_company",
            "object": "account",
            "label": "Same company",
            "label_zh": "同一公司",
            "action": "block",
            "criterion_field:0": "name",
            "criterion_method:0": "fuzzy",
            "criterion_threshold:0": "85",
        }
    )
    form.pop("event_update")  # unticked: checked when records are created only
    before = sales.org.metadata.version()
    assert post(admin, NEW, form).status_code == 302
    assert sales.org.metadata.version() == before + 1
    saved = sales.org.metadata.get_component("duplicate_rule", "account.same_company")
    assert saved == {
        "api_name": "same_company",
        "object": "account",
        "label": {"en": "Same company", "zh": "同一公司"},
        "active": True,
        "action": "block",
        "events": ["create"],
        "criteria": [{"field": "name", "method": "fuzzy", "threshold": 85}],
    }
    refused = sales.api.post("/api/v1/records/account", {"name": "Acme"})
    assert refused.status_code == 409, refused.get_json()
    assert "Same company" in str(refused.get_json())
    assert sales.api.post("/api/v1/records/account", {"name": "Initech"}).status_code == 201
    # the edit page shows it again, with a spare row
    again = form_values(text(admin.get(EDIT)), "builder-form")
    assert (again["criterion_field:0"], again["criterion_threshold:0"]) == ("name", "85")
    assert again["criterion_field:1"] == "" and "event_update" not in again


def test_criteria_are_changed_added_and_removed_in_their_rows(sales, admin):
    sales.org.metadata.put_component("duplicate_rule", RULE, author_id=SYSTEM_USER_ID)
    form = form_values(text(admin.get(EDIT)), "builder-form")
    assert form["criterion_method:0"] == "normalized" and form["criterion_field:1"] == "website"
    form["criterion_field:0"] = ""  # the name's criterion is removed
    form["criterion_method:1"] = "normalized"
    form.update({"criterion_field:2": "industry", "criterion_method:2": "exact"})  # added
    form["active"] = ""
    assert post(admin, EDIT, form).status_code == 302
    saved = sales.org.metadata.get_component("duplicate_rule", "account.same_company")
    assert saved["active"] is False
    assert saved["criteria"] == [
        {"field": "website", "method": "normalized"},
        {"field": "industry", "method": "exact"},
    ]


def test_a_refused_rule_shows_each_error_beside_its_input_and_keeps_what_was_typed(sales, admin):
    sales.org.metadata.put_component("duplicate_rule", RULE, author_id=SYSTEM_USER_ID)
    form = form_values(text(admin.get(EDIT)), "builder-form")
    form["criterion_field:1"] = "webiste"
    before = sales.org.metadata.version()
    refused = post(admin, EDIT, form)
    assert refused.status_code == 400 and sales.org.metadata.version() == before
    page = text(refused)
    assert form_values(page, "builder-form")["criterion_field:1"] == "webiste"
    assert _invalid(page, "f-criterion_field-1") and not _invalid(page, "f-criterion_field-0")
    assert "no field &#39;webiste&#39; on account" in page
    assert 'class="alert alert-danger"' not in page  # every error sits beside its input
    # a threshold out of range beside the threshold; no event ticked beside the events
    form.update(
        {
            "criterion_field:1": "website",
            "criterion_method:0": "fuzzy",
            "criterion_threshold:0": "30",
        }
    )
    form.pop("event_create")
    form.pop("event_update")
    page = text(post(admin, EDIT, form))
    assert _invalid(page, "f-criterion_threshold-0")
    assert 'class="alert alert-danger"' not in page
    form["criterion_threshold:0"] = "90"
    page = text(post(admin, EDIT, form))
    assert "field-error" in page.split('id="f-event_update"')[1].split("</fieldset>")[0]


def test_a_rule_the_form_cannot_show_opens_as_yaml(sales, admin):
    rule = {**RULE, "label": {"en": "Same company", "zh": "同一公司", "fr": "Même société"}}
    sales.org.metadata.put_component("duplicate_rule", rule, author_id=SYSTEM_USER_ID)
    page = text(admin.get(EDIT))
    assert 'id="f-source"' in page and 'id="duplicate-criteria"' not in page
    assert "Même société" in page
