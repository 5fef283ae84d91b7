"""The approval process builder's form through the test client: a process built from its
steps table and saved, errors shown beside the row and input they name, steps reordered
and removed, and a process the form cannot show opening as YAML."""

from __future__ import annotations

import re

from crm_platform.core.tables import SYSTEM_USER_ID
from tests.admin_ui.conftest import form_values, post, text

NEW = "/setup/builders/approval_process/new"
EDIT = "/setup/builders/approval_process/opportunity.big_deal"


def _invalid(page: str, input_id: str) -> bool:
    """Whether the input with this id is marked invalid."""
    found = re.search(rf'<input class="([^"]*)" [^>]*id="{input_id}"', page)
    return found is not None and "is-invalid" in found.group(1)


def _new_form(admin) -> dict:
    page = text(admin.get(NEW))
    assert 'id="approval-steps"' in page and 'id="f-entry"' in page
    return form_values(page, "builder-form")


def test_an_approval_process_is_built_in_its_form_and_shown_again(sales, admin):
    form = _new_form(admin)
    # a new process starts active, locking its record, with one empty step row
    assert form["active"] == "on" and form["lock_record"] == "on"
    assert form["step_name:0"] == "" and "step_name:1" not in form
    form.update(
        {
            "api_name": "big_deal",
            "object": "opportunity",
            "label": "Big deal approval",
            "label_zh": "大单审批",
            "entry": "amount > 100000",
            "step_name:0": "manager",
            "step_label:0": "Sales manager",
            "step_approver:0": "submitter_manager",
            "on_approve_field:0": "stage",
            "on_approve_value:0": "'Closed Won'",
            "escalate_after": "48h",
        }
    )
    before = sales.org.metadata.version()
    assert post(admin, NEW, form).status_code == 302
    assert sales.org.metadata.version() == before + 1
    saved = sales.org.metadata.get_component("approval_process", "opportunity.big_deal")
    assert saved == {
        "api_name": "big_deal",
        "object": "opportunity",
        "label": {"en": "Big deal approval", "zh": "大单审批"},
        "entry": "amount > 100000",
        "lock_record": True,
        "steps": [
            {"name": "manager", "label": "Sales manager", "approver": {"submitter_manager": True}}
        ],
        "on_approve": [{"type": "update_record", "values": {"stage": "'Closed Won'"}}],
        "escalate_after": "48h",
    }
    # the edit page shows it in the form again, with a spare row to add a second step
    page = text(admin.get(EDIT))
    again = form_values(page, "builder-form")
    assert (again["step_name:0"], again["step_approver:0"]) == ("manager", "submitter_manager")
    assert again["step_name:1"] == "" and again["label_zh"] == "大单审批"
    assert again["on_approve_value:0"] == "'Closed Won'" and again["on_approve_field:1"] == ""
    again.update(
        {
            "step_name:1": "director",
            "step_when:1": "amount > 1000000",
            "step_approver:1": "role",
            "step_value:1": "sales_manager",
            "step_mode:1": "unanimous",
        }
    )
    again.pop("lock_record")  # unticked
    assert post(admin, EDIT, again).status_code == 302
    saved = sales.org.metadata.get_component("approval_process", "opportunity.big_deal")
    assert saved["lock_record"] is False
    assert saved["steps"][1] == {
        "name": "director",
        "when": "amount > 1000000",
        "approver": {"role": "sales_manager"},
        "mode": "unanimous",
    }


def test_steps_are_ordered_by_position_and_removed_by_emptying_the_name(sales, admin):
    process = {
        "api_name": "big_deal",
        "object": "opportunity",
        "lock_record": True,
        "steps": [
            {"name": "first", "approver": {"submitter_manager": True}},
            {"name": "second", "approver": {"role": "sales_manager"}},
            {"name": "third", "approver": {"field": "owner_id"}},
        ],
    }
    sales.org.metadata.put_component("approval_process", process, author_id=SYSTEM_USER_ID)
    form = form_values(text(admin.get(EDIT)), "builder-form")
    assert [form[f"step_name:{i}"] for i in range(4)] == ["first", "second", "third", ""]
    form["step_position:2"] = "-1"  # third goes first
    form["step_name:0"] = ""  # first is removed
    assert post(admin, EDIT, form).status_code == 302
    saved = sales.org.metadata.get_component("approval_process", "opportunity.big_deal")
    assert saved["steps"] == [
        {"name": "third", "approver": {"field": "owner_id"}},
        {"name": "second", "approver": {"role": "sales_manager"}},
    ]


def test_a_refused_process_shows_each_error_beside_its_row_and_keeps_what_was_typed(sales, admin):
    process = {
        "api_name": "big_deal",
        "object": "opportunity",
        "steps": [
            {"name": "manager", "approver": {"submitter_manager": True}},
            {"name": "director", "approver": {"role": "sales_manager"}},
        ],
    }
    sales.org.metadata.put_component("approval_process", process, author_id=SYSTEM_USER_ID)
    form = form_values(text(admin.get(EDIT)), "builder-form")
    form.update(
        {
            "entry": "amont > 5",
            "step_position:1": "-1",  # director moves first: its errors follow it
            "step_approver:1": "user",
            "step_value:1": "nobody@example.com",
            "step_when:0": "stage = = 'x'",
            "on_reject_field:0": "stag",
            "on_reject_value:0": "'Lost'",
        }
    )
    before = sales.org.metadata.version()
    refused = post(admin, EDIT, form)
    assert refused.status_code == 400
    assert sales.org.metadata.version() == before
    page = text(refused)
    shown = form_values(page, "builder-form")
    # the rows come back in their new order, as typed
    assert (shown["step_name:0"], shown["step_value:0"]) == ("director", "nobody@example.com")
    assert (shown["step_name:1"], shown["step_when:1"]) == ("manager", "stage = = 'x'")
    assert shown["entry"] == "amont > 5" and shown["on_reject_field:0"] == "stag"
    assert _invalid(page, "f-entry")
    assert _invalid(page, "f-step_when-1") and not _invalid(page, "f-step_when-0")
    assert _invalid(page, "f-on_reject_field-0")
    assert "amont" in page and "stag" in page
    # users are checked when the rest is valid: the unknown approver is named on its row
    form.update({"entry": "amount > 5", "step_when:0": "", "on_reject_field:0": "stage"})
    refused = post(admin, EDIT, form)
    assert refused.status_code == 400
    page = text(refused)
    assert _invalid(page, "f-step_value-0") and not _invalid(page, "f-step_value-1")
    assert "no active user &#39;nobody@example.com&#39;" in page
    assert 'class="alert alert-danger"' not in page  # every error sits beside its input


def test_a_step_without_an_approver_value_is_refused_on_its_row(sales, admin):
    form = _new_form(admin)
    form.update(
        {
            "api_name": "big_deal",
            "object": "opportunity",
            "step_name:0": "Manager",
            "step_approver:0": "role",
            "step_value:0": "",
        }
    )
    refused = post(admin, NEW, form)
    assert refused.status_code == 400
    page = text(refused)
    assert _invalid(page, "f-step_name-0") and _invalid(page, "f-step_value-0")


def test_a_process_with_no_step_is_refused(sales, admin):
    form = _new_form(admin)
    form.update(api_name="big_deal", object="opportunity")
    refused = post(admin, NEW, form)
    assert refused.status_code == 400
    assert "should be non-empty" in text(refused)


def test_a_process_the_form_cannot_show_opens_as_yaml(sales, admin):
    process = {
        "api_name": "big_deal",
        "object": "opportunity",
        "steps": [{"name": "manager", "approver": {"submitter_manager": True}}],
        # two actions: the form shows one update of the record's fields per list
        "on_approve": [
            {"type": "update_record", "values": {"stage": "'Closed Won'"}},
            {"type": "update_record", "values": {"probability": "100"}},
        ],
    }
    sales.org.metadata.put_component("approval_process", process, author_id=SYSTEM_USER_ID)
    page = text(admin.get(EDIT))
    assert 'id="f-source"' in page and 'id="approval-steps"' not in page
    assert "on_approve:" in page
    # the shipped packs' processes fit the form
    shipped = {
        "api_name": "discount",
        "object": "opportunity",
        "label": {"en": "Discount approval", "zh": "折扣审批"},
        "description": "More than 20 % off needs the rep's manager.",
        "entry": "amount > 20",
        "lock_record": True,
        "steps": [
            {
                "name": "manager",
                "label": "Sales manager",
                "when": "amount > 20",
                "approver": {"submitter_manager": True},
            },
        ],
        "on_submit": [{"type": "update_record", "values": {"stage": "'Negotiation'"}}],
        "escalate_after": "72h",
    }
    sales.org.metadata.put_component("approval_process", shipped, author_id=SYSTEM_USER_ID)
    form = form_values(
        text(admin.get("/setup/builders/approval_process/opportunity.discount")), "builder-form"
    )
    assert form["on_submit_value:0"] == "'Negotiation'" and form["step_when:0"] == "amount > 20"
    # saving the form unchanged keeps the definition as it was
    assert (
        post(admin, "/setup/builders/approval_process/opportunity.discount", form).status_code
        == 302
    )
    assert sales.org.metadata.get_component("approval_process", "opportunity.discount") == shipped
