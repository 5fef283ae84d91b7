"""The trigger builder's form through the test client: an admin builds a trigger (its
events, criteria and a list of actions), it runs; its actions are added, reordered and
removed in the form; a refused save shows each problem beside its input and keeps what
was typed; a trigger the form cannot show opens as YAML."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from crm_platform import packs
from crm_platform.admin_ui.trigger_form import (
    trigger_fits_form,
    trigger_form_values,
    trigger_from_form,
    trigger_rows,
)
from crm_platform.core.tables import SYSTEM_USER_ID
from tests.admin_ui.conftest import form_values, post, text

NEW = "/setup/builders/trigger/new"
EDIT = "/setup/builders/trigger/opportunity.big_deal"


def row_inputs(form: dict[str, str], row: int, kind: str, **options: str) -> None:
    """Fill in action row ``row`` as an admin would: its type and that type's inputs
    (``field_0``/``value_0`` for the rows of its values table)."""
    form[f"actions-{row}-type"] = kind
    for key, value in options.items():
        if key.startswith(("field_", "value_")):
            key = key.replace("_", "-")
        form[f"actions-{row}-{kind}-{key}"] = value


def beside(page: str, input_id: str) -> str:
    """The page from an input to the next input: what is shown beside it."""
    start = page.index(f'id="{input_id}"')
    return page[start : page.index("<input", start)]


def big_deal_form(admin) -> dict[str, str]:
    form = form_values(text(admin.get(NEW)), "builder-form")
    form.update(
        api_name="big_deal",
        object="opportunity",
        label="Big deal",
        label_zh="大单",
        when="amount > 100000",
        only_when_changed_to_meet="on",
    )
    row_inputs(
        form,
        0,
        "update_record",
        field_0="is_strategic",
        value_0="True",
        field_1="description",
        value_1="CONCAT('Big: ', name)",
    )
    return form


def test_a_trigger_is_built_in_its_form_and_runs(sales, admin):
    page = text(admin.get(NEW))
    # a new trigger: created and updated ticked, after save, active, one empty action row
    form = form_values(page, "builder-form")
    assert (form["event_create"], form["event_update"], form["active"]) == ("on", "on", "on")
    assert "event_delete" not in form and form["timing"] == "after_save"
    assert form["actions-0-type"] == "" and "actions-1-type" not in form
    assert 'id="f-when"' in page and 'data-check-expected="boolean"' in page
    for kind in ("update_record", "create_record", "send_email", "notify", "webhook"):
        assert f'<option value="{kind}">' in page
    form = big_deal_form(admin)
    before = sales.org.metadata.version()
    response = post(admin, NEW, form)
    assert response.status_code == 302, text(response)
    assert sales.org.metadata.version() == before + 1
    assert sales.org.metadata.get_component("trigger", "opportunity.big_deal") == {
        "api_name": "big_deal",
        "object": "opportunity",
        "label": {"en": "Big deal", "zh": "大单"},
        "events": ["create", "update"],
        "timing": "after_save",
        "when": "amount > 100000",
        "only_when_changed_to_meet": True,
        "actions": [
            {
                "type": "update_record",
                "values": {"is_strategic": "True", "description": "CONCAT('Big: ', name)"},
            }
        ],
    }
    created = sales.api.post(
        "/api/v1/records/opportunity", {"name": "Huge", "amount": 500000, "stage": "Prospecting"}
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    record = sales.api.get(f"/api/v1/records/opportunity/{created.get_json()['id']}").get_json()
    assert record["is_strategic"] is True and record["description"] == "Big: Huge"
    # the edit page shows it in the form again, with one spare action row
    again = form_values(text(admin.get(EDIT)), "builder-form")
    assert again["when"] == "amount > 100000" and again["label_zh"] == "大单"
    assert again["actions-0-type"] == "update_record" and again["actions-1-type"] == ""
    assert again["actions-0-update_record-field-1"] == "description"
    assert again["actions-0-update_record-value-0"] == "True"


def test_actions_are_added_ordered_and_removed_in_the_form(sales, admin):
    assert post(admin, NEW, big_deal_form(admin)).status_code == 302
    form = form_values(text(admin.get(EDIT)), "builder-form")
    # the spare row adds a notification, placed first by its position
    row_inputs(form, 1, "notify", to="owner", message="'Big deal: ' + name")
    form["actions-1-position"] = "0"
    assert post(admin, EDIT, form).status_code == 302
    saved = sales.org.metadata.get_component("trigger", "opportunity.big_deal")
    assert [a["type"] for a in saved["actions"]] == ["notify", "update_record"]
    assert saved["actions"][0] == {
        "type": "notify",
        "to": "owner",
        "message": "'Big deal: ' + name",
    }
    # then a task-like note is created from the spare row, and the update is removed
    form = form_values(text(admin.get(EDIT)), "builder-form")
    assert (form["actions-0-type"], form["actions-1-type"]) == ("notify", "update_record")
    row_inputs(form, 2, "create_record", object="note", field_0="name", value_0="'Follow ' + name")
    form["actions-1-type"] = ""
    assert post(admin, EDIT, form).status_code == 302
    saved = sales.org.metadata.get_component("trigger", "opportunity.big_deal")
    assert saved["actions"] == [
        {"type": "notify", "to": "owner", "message": "'Big deal: ' + name"},
        {"type": "create_record", "object": "note", "values": {"name": "'Follow ' + name"}},
    ]
    sales.api.post(
        "/api/v1/records/opportunity", {"name": "Vast", "amount": 900000, "stage": "Prospecting"}
    )
    notes = sales.api.get("/api/v1/records/note").get_json()["records"]
    assert [n["name"] for n in notes] == ["Follow Vast"]


def test_a_refused_save_shows_each_problem_beside_its_input(sales, admin):
    form = big_deal_form(admin)
    form["when"] = "amont > 100000"
    # the second action (by position) sets a field the object does not have
    row_inputs(form, 1, "update_record", field_0="amout", value_0="1")
    form["actions-1-position"] = "5"
    form["actions-0-position"] = "1"
    form["actions-2-type"] = ""  # the spare row the admin left empty
    before = sales.org.metadata.version()
    response = post(admin, NEW, form)
    assert response.status_code == 400
    page = text(response)
    assert sales.org.metadata.version() == before
    # the criteria's error under the criteria
    when = beside(page, "f-when")
    assert "field-error" in when and "amont" in when.split("field-error")[1]
    assert re.search(r'class="form-control is-invalid" id="f-when"', page)
    # the action's error (actions[1].values.amout) beside the field it names, in its row
    field = re.search(
        r'<input class="form-control form-control-sm is-invalid" id="f-actions-1-update_record-field-0"'
        r".*?</tr>",
        page,
        re.S,
    )
    assert field and "amout" in field.group(0) and "field-error" in field.group(0)
    assert 'id="f-actions-0-update_record-field-0"' in page
    assert "actions[1]" not in page  # no problem left on top of the form
    # what was typed stays
    kept = form_values(page, "builder-form")
    assert kept["when"] == "amont > 100000" and kept["actions-1-update_record-field-0"] == "amout"
    assert kept["actions-0-update_record-value-1"] == "CONCAT('Big: ', name)"
    kept["when"] = "amount > 100000"
    kept["actions-1-update_record-field-0"] = "amount"
    assert post(admin, NEW, kept).status_code == 302
    saved = sales.org.metadata.get_component("trigger", "opportunity.big_deal")
    assert saved["actions"][1] == {"type": "update_record", "values": {"amount": "1"}}


def test_an_email_action_names_a_missing_template_beside_its_input(sales, admin):
    form = big_deal_form(admin)
    row_inputs(form, 0, "send_email", template="no_such", to="owner")
    response = post(admin, NEW, form)
    assert response.status_code == 400
    page = text(response)
    found = re.search(r'id="f-actions-0-send_email-template".*?</div>', page, re.S)
    assert "no_such" in found.group(0) and "field-error" in found.group(0)


def test_no_event_ticked_is_refused_beside_the_events(sales, admin):
    form = big_deal_form(admin)
    del form["event_create"], form["event_update"]
    response = post(admin, NEW, form)
    assert response.status_code == 400
    events = re.search(r'id="f-events".*?</fieldset>', text(response), re.S).group(0)
    assert "field-error" in events


def test_a_trigger_the_form_cannot_show_opens_as_yaml(sales, admin):
    scheduled = {
        "api_name": "follow_up",
        "object": "opportunity",
        "events": ["create", "update"],
        "timing": "scheduled",
        "schedule": {"field": "close_date", "offset": "-7d"},
        "actions": [{"type": "notify", "to": "owner", "message": "'Closing soon: ' + name"}],
    }
    sales.org.metadata.put_component("trigger", scheduled, author_id=SYSTEM_USER_ID)
    page = text(admin.get("/setup/builders/trigger/opportunity.follow_up"))
    assert 'id="f-source"' in page and "offset: -7d" in page
    assert 'id="f-when"' not in page
    # a parent update fits the form; an email to a list of recipients does not
    assert post(admin, NEW, big_deal_form(admin)).status_code == 302
    saved = sales.org.metadata.get_component("trigger", "opportunity.big_deal")
    saved["actions"][0]["record"] = "account"
    saved["actions"][0]["values"] = {"description": "name"}
    sales.org.metadata.put_component("trigger", saved, author_id=SYSTEM_USER_ID)
    again = form_values(text(admin.get(EDIT)), "builder-form")
    assert again["actions-0-update_record-record"] == "account"
    email = {"type": "send_email", "template": "t", "to": ["owner", "contact_email"]}
    assert not trigger_fits_form({**saved, "actions": [email]})
    assert trigger_fits_form({**saved, "actions": [{**email, "to": "owner"}]})
    assert not trigger_fits_form({**saved, "actions": [{"type": "count_records", "x": "1"}]})
    assert not trigger_fits_form({**saved, "label": {"en": "a", "fr": "b"}})


def test_the_shipped_triggers_the_form_shows_are_saved_unchanged():
    """Every shipped trigger but the scheduled ones opens in the form, and saving the form
    untouched gives the same definition back."""
    shown = 0
    for path in sorted(Path(packs.__file__).parent.glob("shipped/*/triggers/*.yaml")):
        stored = yaml.safe_load(path.read_text())
        if stored.get("timing") == "scheduled":
            assert not trigger_fits_form(stored), path
            continue
        assert trigger_fits_form(stored), path
        shown += 1
        inputs = trigger_form_values(stored)
        # what a browser posts: each row with its spare field = value rows left empty
        for row in trigger_rows(inputs):
            for kind, pairs in row.values.items():
                for number, (name, source) in enumerate(pairs):
                    inputs.setdefault(f"actions-{row.row}-{kind}-field-{number}", name)
                    inputs.setdefault(f"actions-{row.row}-{kind}-value-{number}", source)
            inputs.setdefault(f"actions-{row.row}-type", row.type)
        expected = {"timing": "after_save", **stored}
        assert trigger_from_form(inputs) == expected, path
    assert shown >= 15
