"""The assignment rule builder's form through the test client: a rule built from its
entries table, saved and run on a new record; entries reordered and removed; errors shown
beside the row they name; a rule the form cannot show opening as YAML."""

from __future__ import annotations

import re

from crm_platform.core.tables import SYSTEM_USER_ID
from tests.admin_ui.conftest import form_values, post, text
from tests.web.sales_org import REP_EMAIL

NEW = "/setup/builders/assignment_rule/new"
EDIT = "/setup/builders/assignment_rule/opportunity.routing"


def _invalid(page: str, input_id: str) -> bool:
    found = re.search(rf'<input class="([^"]*)" [^>]*id="{input_id}"', page)
    return found is not None and "is-invalid" in found.group(1)


def _groups(sales) -> None:
    for name in ("closers", "skill_big"):
        sales.org.metadata.put_component(
            "group", {"api_name": name, "label": name}, author_id=SYSTEM_USER_ID
        )


def test_an_assignment_rule_is_built_in_its_form_and_assigns_new_records(sales, admin):
    page = text(admin.get(NEW))
    assert 'id="assignment-entries"' in page
    form = form_values(page, "builder-form")
    assert form["active"] == "on" and form["entry_value:0"] == "" and "entry_value:1" not in form
    form.update(
        {
            "api_name": "routing",
            "object": "opportunity",
            "label": "Opportunity routing",
            "label_zh": "商机分配",
            "entry_when:0": "amount > 1000",
            "entry_target:0": "user",
            "entry_value:0": REP_EMAIL,
        }
    )
    form.pop("entry_notify:0")  # unticked: the rep is not notified
    before = sales.org.metadata.version()
    assert post(admin, NEW, form).status_code == 302
    assert sales.org.metadata.version() == before + 1
    saved = sales.org.metadata.get_component("assignment_rule", "opportunity.routing")
    assert saved == {
        "api_name": "routing",
        "object": "opportunity",
        "label": {"en": "Opportunity routing", "zh": "商机分配"},
        "active": True,
        "entries": [{"when": "amount > 1000", "assign_to": {"user": REP_EMAIL}, "notify": False}],
    }
    created = sales.api.post(
        "/api/v1/records/opportunity", {"name": "Big", "amount": 5000, "stage": "Prospecting"}
    )
    assert created.status_code == 201
    assert created.get_json()["owner_id"] == sales.rep.id
    # the edit page shows it again with a spare row; a second entry catches the rest
    again = form_values(text(admin.get(EDIT)), "builder-form")
    assert again["entry_value:0"] == REP_EMAIL and again["entry_value:1"] == ""
    assert "entry_notify:0" not in again and again["entry_notify:1"] == "on"
    _groups(sales)
    again.update(
        {
            "entry_target:1": "least_loaded",
            "entry_value:1": "closers",
            "entry_open:1": "stage != 'Closed Won'",
            "entry_skill:1": "'skill_big'",
        }
    )
    assert post(admin, EDIT, again).status_code == 302
    saved = sales.org.metadata.get_component("assignment_rule", "opportunity.routing")
    assert saved["entries"][1] == {
        "assign_to": {
            "least_loaded": "closers",
            "open": "stage != 'Closed Won'",
            "skill": "'skill_big'",
        }
    }


def test_entries_are_ordered_by_position_and_removed_by_emptying_whom(sales, admin):
    _groups(sales)
    rule = {
        "api_name": "routing",
        "object": "opportunity",
        "active": False,
        "entries": [
            {"when": "amount > 10", "assign_to": {"user": REP_EMAIL}},
            {"when": "amount > 5", "assign_to": {"round_robin": "closers"}},
            {"assign_to": {"round_robin": "skill_big"}},
        ],
    }
    sales.org.metadata.put_component("assignment_rule", rule, author_id=SYSTEM_USER_ID)
    form = form_values(text(admin.get(EDIT)), "builder-form")
    assert "active" not in form
    form["entry_position:1"] = "-1"  # the second entry goes first
    form["entry_value:0"] = ""  # the first is removed
    assert post(admin, EDIT, form).status_code == 302
    saved = sales.org.metadata.get_component("assignment_rule", "opportunity.routing")
    assert saved["active"] is False
    assert saved["entries"] == [
        {"when": "amount > 5", "assign_to": {"round_robin": "closers"}},
        {"assign_to": {"round_robin": "skill_big"}},
    ]


def test_a_refused_rule_shows_each_error_beside_its_row_and_keeps_what_was_typed(sales, admin):
    _groups(sales)
    rule = {
        "api_name": "routing",
        "object": "opportunity",
        "entries": [
            {"when": "amount > 10", "assign_to": {"round_robin": "closers"}},
            {"assign_to": {"round_robin": "skill_big"}},
        ],
    }
    sales.org.metadata.put_component("assignment_rule", rule, author_id=SYSTEM_USER_ID)
    form = form_values(text(admin.get(EDIT)), "builder-form")
    form.update(
        {
            "entry_position:1": "-1",  # moves first: its errors follow it
            "entry_value:1": "nobody",
            "entry_when:0": "amont > 10",
        }
    )
    before = sales.org.metadata.version()
    refused = post(admin, EDIT, form)
    assert refused.status_code == 400 and sales.org.metadata.version() == before
    page = text(refused)
    shown = form_values(page, "builder-form")
    assert (shown["entry_value:0"], shown["entry_when:1"]) == ("nobody", "amont > 10")
    assert _invalid(page, "f-entry_value-0") and not _invalid(page, "f-entry_value-1")
    assert _invalid(page, "f-entry_when-1") and not _invalid(page, "f-entry_when-0")
    assert "no group &#39;nobody&#39;" in page and "amont" in page
    assert 'class="alert alert-danger"' not in page  # every error sits beside its input
    # an unknown user is named on its row too (users are checked when the rest is valid)
    form.update({"entry_when:0": "amount > 10", "entry_target:1": "user"})
    form["entry_value:1"] = "nobody@example.com"
    refused = post(admin, EDIT, form)
    assert refused.status_code == 400
    assert _invalid(text(refused), "f-entry_value-0")


def test_a_rule_the_form_cannot_show_opens_as_yaml(sales, admin):
    rule = {
        "api_name": "routing",
        "object": "opportunity",
        "label": {"en": "Routing", "zh": "分配", "fr": "Routage"},
        "entries": [{"assign_to": {"user": REP_EMAIL}}],
    }
    sales.org.metadata.put_component("assignment_rule", rule, author_id=SYSTEM_USER_ID)
    page = text(admin.get(EDIT))
    assert 'id="f-source"' in page and 'id="assignment-entries"' not in page
    assert "Routage" in page
