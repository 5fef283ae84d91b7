"""The layout editor through the test client: a stored layout as a form, fields moved
up and down (unsaved until saved), conditions checked on save, related lists, and each
save one change set (one revision) that the rep's form follows."""

from __future__ import annotations

from tests.admin_ui.conftest import form_values, post, text

EDITOR = "/setup/layouts/opportunity.default"


def placed(sales) -> list:
    layout = sales.org.metadata.get_component("layout", "opportunity.default")
    return [s["fields"] for s in layout["sections"]]


def editor_state(admin) -> dict:
    return form_values(text(admin.get(EDITOR)), "layout-editor")


def field_row(state: dict, name: str) -> str:
    return next(
        k.split(":", 1)[1] for k, v in state.items() if k.startswith("field:") and v == name
    )


def test_the_layouts_page_lists_layouts_and_creates_one(sales, admin):
    page = text(admin.get("/setup/layouts/"))
    assert "opportunity.default" in page
    before = sales.org.metadata.version()
    response = post(admin, "/setup/layouts/new", {"object": "account", "api_name": "compact"})
    assert response.status_code == 302
    assert sales.org.metadata.version() == before + 1
    created = sales.org.metadata.get_component("layout", "account.compact")
    assert created["sections"] == [{"fields": ["name"]}]


def test_moving_a_field_up_shows_the_new_order_and_saves_it_as_one_revision(sales, admin):
    state = editor_state(admin)
    row = field_row(state, "amount")
    before = sales.org.metadata.version()
    moved = post(admin, EDITOR, {**state, "action": f"up:{row}"})
    assert moved.status_code == 200
    assert sales.org.metadata.version() == before  # not saved yet
    page = text(moved)
    assert "Not saved yet" in page
    state = form_values(page, "layout-editor")
    assert post(admin, EDITOR, {**state, "action": "save"}).status_code == 302
    assert sales.org.metadata.version() == before + 1
    assert placed(sales)[0][:3] == ["name", "amount", "account"]


def test_moving_the_first_field_of_a_section_up_puts_it_last_in_the_one_before(sales, admin):
    state = editor_state(admin)
    moved = post(admin, EDITOR, {**state, "action": f"up:{field_row(state, 'next_call')}"})
    post(admin, EDITOR, {**form_values(text(moved), "layout-editor"), "action": "save"})
    first, second = placed(sales)
    assert first[-1] == "next_call" and second[0] == "call_time"


def test_positions_order_fields_as_typed_and_removed_fields_leave(sales, admin):
    state = editor_state(admin)
    state[f"position:{field_row(state, 'close_date')}"] = "-1"
    state[f"remove:{field_row(state, 'number')}"] = "on"
    post(admin, EDITOR, {**state, "action": "save"})
    first = placed(sales)[0]
    assert first[0] == "close_date" and "number" not in first


def test_a_condition_with_an_error_is_refused_and_nothing_changes(sales, admin):
    state = editor_state(admin)
    state[f"required_if:{field_row(state, 'stage')}"] = "amount >> 10"
    before = sales.org.metadata.version()
    response = post(admin, EDITOR, {**state, "action": "save"})
    assert response.status_code == 400
    assert "required_if" in text(response)
    assert sales.org.metadata.version() == before
    # the form keeps what the admin typed
    assert 'value="amount &gt;&gt; 10"' in text(response)


def test_conditions_sections_and_related_lists_are_saved(sales, admin):
    state = editor_state(admin)
    state[f"required_if:{field_row(state, 'stage')}"] = "amount > 10"
    state[f"remove:{field_row(state, 'number')}"] = "on"
    state.update(new_section_en="Extra", add_field="number", add_to_section="2")
    state["section_columns:1"] = "1"
    before = sales.org.metadata.version()
    assert post(admin, EDITOR, {**state, "action": "save"}).status_code == 302
    assert sales.org.metadata.version() == before + 1
    layout = sales.org.metadata.get_component("layout", "opportunity.default")
    assert {"field": "stage", "required_if": "amount > 10"} in layout["sections"][0]["fields"]
    assert "columns" not in layout["sections"][1]
    assert layout["sections"][2] == {"label": "Extra", "fields": ["number"]}


def test_a_related_list_is_removed_and_offered_again(sales, admin):
    editor = "/setup/layouts/account.default"
    state = form_values(text(admin.get(editor)), "layout-editor")
    assert state["related:0"] == "opportunity.account"
    state["related_columns:0"] = "name, amount"
    post(admin, editor, {**state, "action": "save"})
    layout = sales.org.metadata.get_component("layout", "account.default")
    assert layout["related"][0]["columns"] == ["name", "amount"]
    state = form_values(text(admin.get(editor)), "layout-editor")
    state["related_remove:0"] = "on"
    post(admin, editor, {**state, "action": "save"})
    assert "related" not in sales.org.metadata.get_component("layout", "account.default")
    page = text(admin.get(editor))
    assert '<option value="opportunity.account">' in page


def test_the_reps_form_follows_the_saved_order(sales, admin, rep):
    state = editor_state(admin)
    state[f"position:{field_row(state, 'stage')}"] = "-1"
    post(admin, EDITOR, {**state, "action": "save"})
    page = text(rep.get("/o/opportunity/new"))
    assert page.index('name="stage"') < page.index('name="name"')


def test_sections_given_tabs_make_a_tabbed_layout_that_opens_and_saves_as_tabs(sales, admin):
    state = editor_state(admin)
    state.update({"section_tab_en:0": "Deal", "section_tab_zh:0": "商机"})
    state.update({"section_tab_en:1": "More", "section_tab_zh:1": ""})
    sections = len([k for k in state if k.startswith("section_columns:")])
    # a new section joins the last tab
    state.update(new_section_en="Notes", add_field="number", add_to_section=str(sections))
    state[f"remove:{field_row(state, 'number')}"] = "on"
    assert post(admin, EDITOR, {**state, "action": "save"}).status_code == 302
    layout = sales.org.metadata.get_component("layout", "opportunity.default")
    assert "sections" not in layout
    assert [t["label"] for t in layout["tabs"]] == [{"en": "Deal", "zh": "商机"}, "More"]
    assert [s.get("label") for s in layout["tabs"][1]["sections"]][-1] == "Notes"
    assert layout["tabs"][1]["sections"][-1]["fields"] == ["number"]

    # the tabbed layout opens with each section's tab, and saving it unchanged keeps it
    again = editor_state(admin)
    assert (again["section_tab_en:0"], again["section_tab_zh:0"]) == ("Deal", "商机")
    assert again[f"section_tab_en:{sections}"] == "More"
    before = sales.org.metadata.version()
    assert post(admin, EDITOR, {**again, "action": "save"}).status_code == 302
    assert sales.org.metadata.get_component("layout", "opportunity.default") == layout
    assert sales.org.metadata.version() in (before, before + 1)

    # naming no tab anywhere makes it untabbed again
    flat = {k: ("" if k.startswith("section_tab_") else v) for k, v in again.items()}
    assert post(admin, EDITOR, {**flat, "action": "save"}).status_code == 302
    layout = sales.org.metadata.get_component("layout", "opportunity.default")
    assert "tabs" not in layout and len(layout["sections"]) == sections + 1


def test_every_field_not_on_a_layout_is_added_in_one_save(sales, admin):
    made = post(admin, "/setup/layouts/new", {"object": "account", "api_name": "full"})
    assert made.status_code == 302
    editor = "/setup/layouts/account.full"
    state = form_values(text(admin.get(editor)), "layout-editor")
    assert [v for k, v in state.items() if k.startswith("field:")] == ["name"]
    state.update(add_all="on")
    assert post(admin, editor, {**state, "action": "save"}).status_code == 302
    layout = sales.org.metadata.get_component("layout", "account.full")
    fields = [f["api_name"] for f in sales.org.metadata.get_object("account")["fields"]]
    placed = [f if isinstance(f, str) else f["field"] for f in layout["sections"][0]["fields"]]
    assert placed == fields  # name first, then the others in the object's order
