"""The object manager and the new-field wizard through the test client: an admin adds a
field in four steps, saved as one change set that grants it and puts it on the layout;
the rep's form shows it at once; changes to a field (labels, picklist values, type with
its preview, the recycle bin) go through the metadata service."""

from __future__ import annotations

import re

from tests.admin_ui.conftest import form_values, post, text

WIZARD = "/setup/fields/opportunity/new"


def walk_wizard(admin, first: dict, settings=None, access=None, layouts=None, clear=()):
    """Fill each step's form as a browser would (what the page shows, changed by the
    step's inputs; ``clear`` unticks boxes) and press its button."""
    page = text(admin.get(WIZARD))
    response = None
    for extra in (first, settings, access, layouts):
        state = {**form_values(page, "field-wizard"), **(extra or {})}
        state = {k: v for k, v in state.items() if k not in clear}
        response = admin.post(WIZARD, data=state)
        page = text(response)
        if response.status_code != 200:
            break
    return response


def test_the_object_manager_lists_objects_with_fields_and_record_counts(sales, admin):
    page = text(admin.get("/setup/objects/"))
    row = re.search(r"<tr>\s*<td><a href=\"/setup/objects/opportunity\">.*?</tr>", page, re.S)
    assert row, page
    cells = re.findall(r"<td>(.*?)</td>", row.group(0), re.S)
    assert cells[3] == "32"  # the rep's 30, the other rep's one, the manager's one


def test_the_object_page_shows_where_each_field_is_used(sales, admin):
    page = text(admin.get("/setup/objects/opportunity"))
    amount = re.search(r'/setup/fields/opportunity/amount".*?</tr>', page, re.S).group(0)
    assert "expected_revenue" in amount  # the formula amount * probability / 100
    assert "layout" in amount


def test_a_simple_text_field_in_four_steps_is_one_revision_and_the_rep_sees_it(sales, admin, rep):
    before = sales.org.metadata.version()
    response = walk_wizard(admin, {"type": "text", "label_en": "Next step", "label_zh": "下一步"})
    assert response.status_code == 302, text(response)
    assert sales.org.metadata.version() == before + 1  # one change set
    field = sales.api.get("/api/v1/metadata/objects/opportunity/fields/next_step").json
    assert field["label"] == "Next step" and field["type"] == "text"
    layout = sales.api.get("/api/v1/metadata/layouts/opportunity.default").json
    assert "next_step" in layout["sections"][-1]["fields"]
    rep_set = sales.api.get("/api/v1/metadata/permission_sets/rep").json
    assert "opportunity.next_step" not in rep_set["fields"]  # what the set gives anyway
    form = text(rep.get("/o/opportunity/new"))
    assert 'name="next_step"' in form


def test_a_field_the_wizard_keeps_from_a_permission_set_is_hidden_from_its_holders(
    sales, admin, rep
):
    response = walk_wizard(
        admin,
        {"type": "text", "label_en": "Margin note"},
        clear=("read:rep", "edit:rep"),
    )
    assert response.status_code == 302
    assert 'name="margin_note"' not in text(rep.get("/o/opportunity/new"))
    rep_set = sales.api.get("/api/v1/metadata/permission_sets/rep").json
    assert rep_set["fields"]["opportunity.margin_note"] == {"read": False, "edit": False}


def test_a_picklist_a_lookup_and_an_auto_number_take_their_settings(sales, admin):
    made = [
        ({"type": "picklist", "label_en": "Priority"}, {"values": "High\nMedium\nLow"}),
        ({"type": "lookup", "label_en": "Partner"}, {"target": "account", "on_delete": "restrict"}),
        ({"type": "auto_number", "label_en": "Deal number"}, {"pattern": "D-{0000}"}),
    ]
    for first, settings in made:
        assert walk_wizard(admin, first, settings).status_code == 302
    fields = {
        f["api_name"]: f
        for f in sales.api.get("/api/v1/metadata/objects/opportunity").json["fields"]
    }
    assert [v["value"] for v in fields["priority"]["values"]] == ["High", "Medium", "Low"]
    assert fields["partner"]["target"] == "account"
    assert fields["partner"]["on_delete"] == "restrict"
    assert fields["deal_number"]["pattern"] == "D-{0000}"


def test_a_formula_with_a_typo_stays_on_its_step_with_the_error_and_nothing_is_saved(sales, admin):
    before = sales.org.metadata.version()
    state = {"step": "type", "type": "formula", "label_en": "Weighted"}
    assert post(admin, WIZARD, state).status_code == 200
    state = {**state, "step": "settings", "return_type": "currency", "expression": "amout * 2"}
    response = post(admin, WIZARD, state)
    assert response.status_code == 400
    page = text(response)
    assert "unknown field &#39;amout&#39; at position 1" in page or "unknown field 'amout'" in page
    assert 'value="settings"' in page
    assert sales.org.metadata.version() == before


def test_the_expression_checker_answers_the_type_or_the_error_with_its_position(sales):
    ok = sales.api.post(
        "/api/v1/expressions/check",
        json={"object": "opportunity", "expression": "amount * 2", "expected": "currency"},
    )
    assert ok.status_code == 200 and ok.json == {"valid": True, "type": "number"}
    bad = sales.api.post(
        "/api/v1/expressions/check", json={"object": "opportunity", "expression": "amount + amout"}
    ).json
    assert bad["valid"] is False and bad["position"] == 10
    assert "amout" in bad["message"]
    refused = sales.api.post("/api/v1/expressions/check", json={"object": "opportunity"})
    assert refused.status_code == 400 and "expression" in refused.json["errors"]
    assert (
        sales.api.post(
            "/api/v1/expressions/check", json={"object": "nothing", "expression": "1"}
        ).status_code
        == 404
    )


def test_labels_and_help_text_in_english_and_chinese(sales, admin):
    response = post(
        admin,
        "/setup/fields/opportunity/amount/labels",
        {"label_en": "Deal size", "label_zh": "金额", "help_en": "Before tax", "help_zh": "税前"},
    )
    assert response.status_code == 302
    field = sales.org.metadata.get_field("opportunity", "amount")
    assert field["label"] == {"en": "Deal size", "zh": "金额"}
    assert field["help_text"] == {"en": "Before tax", "zh": "税前"}
    response = post(
        admin, "/setup/objects/opportunity/labels", {"label_en": "Deal", "label_zh": "商机"}
    )
    assert response.status_code == 302
    assert sales.org.metadata.get_object("opportunity")["label"] == {"en": "Deal", "zh": "商机"}


def test_picklist_values_are_reordered_and_deactivated_not_removed(sales, admin):
    stage = sales.org.metadata.get_field("opportunity", "stage")
    values = [v if isinstance(v, str) else v["value"] for v in stage["values"]]
    form = {f"active:{i}": "on" for i in range(len(values))}
    last = len(values) - 1
    del form[f"active:{last}"]  # the last value: deactivated
    form["position:1"] = "-1"  # the second value: first
    response = post(admin, "/setup/fields/opportunity/stage/values", form)
    assert response.status_code == 302, text(response)
    after = sales.org.metadata.get_field("opportunity", "stage")["values"]
    names = [v if isinstance(v, str) else v["value"] for v in after]
    assert names[0] == values[1] and set(names) == set(values)
    retired = next(v for v in after if not isinstance(v, str) and v["value"] == values[last])
    assert retired["active"] is False


def test_a_type_change_is_previewed_before_it_is_made(sales, admin):
    sales.api.post(
        "/api/v1/metadata/objects/opportunity/fields", json={"api_name": "code", "type": "text"}
    )
    with sales.org.records.session(sales.admin) as session:
        session.create("opportunity", {"name": "Coded", "code": "12"})
        session.create("opportunity", {"name": "Lettered", "code": "abc"})
    page = text(post(admin, "/setup/fields/opportunity/code/type", {"type": "integer"}))
    assert 'id="type-preview"' in page
    assert "1 of 2 values convert" in page and "abc" in page
    assert sales.org.metadata.get_field("opportunity", "code")["type"] == "text"
    refused = post(
        admin, "/setup/fields/opportunity/code/type", {"type": "integer", "confirm": "1"}
    )
    assert refused.status_code == 409 and "abc" not in text(refused).split("<h1")[0]
    response = post(
        admin,
        "/setup/fields/opportunity/code/type",
        {"type": "integer", "confirm": "1", "on_unconvertible": "clear"},
    )
    assert response.status_code == 302
    assert sales.org.metadata.get_field("opportunity", "code")["type"] == "integer"
    refused = text(post(admin, "/setup/fields/opportunity/name/type", {"type": "long_text"}))
    assert "a name field cannot be of type long_text" in refused


def test_a_field_in_use_is_not_deleted_and_a_free_one_goes_to_the_bin_and_back(sales, admin):
    refused = post(admin, "/setup/fields/opportunity/amount/delete")
    assert refused.status_code == 409
    assert "used by" in text(refused)
    made = walk_wizard(admin, {"type": "text", "label_en": "Scratch"}, clear=("layout:default",))
    assert made.status_code == 302
    assert post(admin, "/setup/fields/opportunity/scratch/delete").status_code == 302
    page = text(admin.get("/setup/objects/opportunity"))
    assert "Recycle bin" in page and "scratch" in page
    assert post(admin, "/setup/fields/opportunity/scratch/restore").status_code == 302
    assert sales.org.metadata.get_field("opportunity", "scratch").get("status") is None


def test_an_admin_creates_an_object_with_labels_in_two_languages(sales, admin):
    refused = post(admin, "/setup/objects/new", {"api_name": "Bad Name", "label_en": "Bad"})
    assert refused.status_code == 400
    assert "Bad Name" in text(refused)  # the form keeps what was typed, beside its error
    before = sales.org.metadata.version()
    response = post(
        admin,
        "/setup/objects/new",
        {
            "api_name": "project",
            "label_en": "Project",
            "label_zh": "项目",
            "plural_en": "Projects",
            "plural_zh": "项目",
            "sharing": "public_read",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/setup/objects/project"
    assert sales.org.metadata.version() == before + 1
    project = sales.org.metadata.get_object("project")
    assert project["label"] == {"en": "Project", "zh": "项目"}
    assert project["sharing"] == "public_read"
    assert [f["api_name"] for f in project["fields"]] == ["name"]
    page = text(admin.get("/setup/objects/"))
    assert '/setup/objects/project"' in page


def test_a_formula_and_a_roll_up_from_the_wizard_compute_for_the_rep(sales, admin, rep):
    made = walk_wizard(
        admin,
        {"type": "formula", "label_en": "Double amount"},
        {"return_type": "currency", "expression": "amount * 2"},
    )
    assert made.status_code == 302, text(made)
    wizard = "/setup/fields/account/new"
    page = text(admin.get(wizard))
    state = {**form_values(page, "field-wizard"), "type": "rollup_summary", "label_en": "Pipeline"}
    page = text(admin.post(wizard, data=state))
    assert "opportunity.account" in page  # the relations to summarise
    state = {
        **form_values(page, "field-wizard"),
        "relation": "opportunity.account",
        "function": "sum",
        "rollup_field": "amount",
    }
    for _ in range(3):
        response = admin.post(wizard, data=state)
        if response.status_code == 302:
            break
        assert response.status_code == 200, text(response)
        state = form_values(text(response), "field-wizard")
    assert response.status_code == 302
    pipeline = sales.org.metadata.get_field("account", "pipeline")
    assert pipeline["relation"] == "opportunity.account" and pipeline["function"] == "sum"
    deal = sales.deals[0]
    shown = text(rep.get(f"/r/opportunity/{deal['id']}"))
    assert 'data-field="double_amount"' in shown


def test_setup_speaks_the_admins_language(sales, admin):
    sales.api.patch(f"/api/v1/users/{sales.admin.id}", json={"locale": "zh"})
    home = text(admin.get("/setup/"))
    assert "对象管理器" in home and "权限集" in home
    page = text(admin.get("/setup/objects/opportunity"))
    assert "新建字段" in page and "商机" in page  # the UI's words, and the object's label
