"""Setup's security pages through the test client: the permission matrix and field grid
(one change set each), sharing settings, users, roles, groups and queues through the
directory services; and setup refuses whoever may not use it."""

from __future__ import annotations

import re

from tests.admin_ui.conftest import form_values, post, sign_in, text
from tests.conftest import ADMIN_EMAIL
from tests.web.sales_org import REP_PASSWORD


def setup_pages(app) -> list[str]:
    """Every setup URL the app serves (parameters filled with real names)."""
    values = {"name": "opportunity", "field": "amount", "user_id": "x", "kind": "groups"}
    paths = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/setup") or "static" in rule.endpoint:
            continue
        # an any() converter takes its first choice
        path = re.sub(r"<any\(([^,)]*)[^)]*\):kind>", lambda m: m.group(1).strip(), rule.rule)
        for key, value in values.items():
            path = re.sub(rf"<(?:[^:>]+:)?{key}>", value, path)
        paths.append((path, sorted(rule.methods - {"HEAD", "OPTIONS"})))
    return paths


def test_a_user_without_setup_permissions_gets_403_on_every_setup_url(sales, rep):
    pages = setup_pages(sales.app)
    assert len(pages) > 20
    for path, methods in pages:
        for method in methods:
            response = rep.get(path) if method == "GET" else post(rep, path, {"confirm": "1"})
            assert response.status_code == 403, (method, path, response.status_code)
    assert sales.org.metadata.version() == sales.org.metadata.version()


def test_signed_out_visitors_are_sent_to_sign_in(sales):
    response = sales.app.test_client().get("/setup/objects/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/setup/objects/")


def test_a_form_without_its_csrf_token_changes_nothing(sales, admin):
    before = sales.org.metadata.version()
    response = admin.post("/setup/objects/new", data={"api_name": "project"})
    assert response.status_code == 400
    assert sales.org.metadata.version() == before


def test_the_matrix_saves_object_and_system_permissions_as_one_change_set(sales, admin):
    page = text(admin.get("/setup/permissions/"))
    state = form_values(page, "permission-matrix")
    assert state["obj:rep:opportunity:delete"] == "on"
    del state["obj:rep:opportunity:delete"]
    state["obj:rep:account:delete"] = "on"
    state["sys:rep:export_data"] = "on"
    before = sales.org.metadata.version()
    assert admin.post("/setup/permissions/", data=state).status_code == 302
    assert sales.org.metadata.version() == before + 1
    rep_set = sales.api.get("/api/v1/metadata/permission_sets/rep").json
    assert rep_set["objects"]["opportunity"] == {"read": True, "create": True, "edit": True}
    assert rep_set["objects"]["account"]["delete"] is True
    assert rep_set["system"] == ["export_data"]
    assert rep_set["fields"]["opportunity.cost_price"] == {"read": False}  # untouched


def test_an_unchanged_matrix_writes_no_revision(sales, admin):
    state = form_values(text(admin.get("/setup/permissions/")), "permission-matrix")
    before = sales.org.metadata.version()
    assert admin.post("/setup/permissions/", data=state).status_code == 302
    assert sales.org.metadata.version() == before


def test_the_field_grid_grants_read_on_a_hidden_field_and_the_rep_sees_it(sales, admin, rep):
    record = f"/r/opportunity/{sales.deals[0]['id']}"
    assert 'data-field="cost_price"' not in text(rep.get(record))
    state = form_values(text(admin.get("/setup/permissions/fields/opportunity")), "field-grid")
    assert "fld:rep:cost_price:read" not in state
    state["fld:rep:cost_price:read"] = "on"
    assert admin.post("/setup/permissions/fields/opportunity", data=state).status_code == 302
    rep_set = sales.api.get("/api/v1/metadata/permission_sets/rep").json
    assert rep_set["fields"]["opportunity.cost_price"] == {"read": True, "edit": False}
    assert rep_set["fields"]["opportunity.probability"] == {"read": True, "edit": False}
    assert 'data-field="cost_price"' in text(rep.get(record))


def test_taking_administration_from_the_last_administrator_is_refused(sales, admin):
    state = form_values(text(admin.get("/setup/permissions/")), "permission-matrix")
    admin_sets = [k for k in state if k.endswith((":customize_application", ":modify_all_data"))]
    for key in admin_sets:
        del state[key]
    before = sales.org.metadata.version()
    response = admin.post("/setup/permissions/", data=state)
    assert response.status_code == 409
    assert "would leave no active user holding" in text(response)
    assert sales.org.metadata.version() == before


def test_sharing_defaults_and_rules_with_their_criteria_checked(sales, admin):
    response = post(admin, "/setup/sharing/defaults/account", {"sharing": "public_read"})
    assert response.status_code == 302
    assert sales.org.metadata.get_object("account")["sharing"] == "public_read"
    rule = {
        "api_name": "big_deals",
        "object": "opportunity",
        "criteria": "amount > 100000",
        "principal": "role",
        "principal_name": "sales_manager",
        "access": "read",
    }
    refused = post(admin, "/setup/sharing/rules", {**rule, "criteria": "amont > 1"})
    assert refused.status_code == 400
    assert "amont" in text(refused)
    assert post(admin, "/setup/sharing/rules", rule).status_code == 302
    saved = sales.api.get("/api/v1/metadata/sharing_rules/opportunity.big_deals").json
    assert saved["share_with"] == {"role": "sales_manager"}
    assert post(admin, "/setup/sharing/rules/opportunity.big_deals/delete").status_code == 302
    assert sales.api.get("/api/v1/metadata/sharing_rules/opportunity.big_deals").status_code == 404


def test_an_admin_adds_a_user_resets_a_password_and_deactivates_them(sales, admin):
    response = post(
        admin,
        "/setup/users/",
        {
            "email": "new@example.com",
            "name": "Nia New",
            "password": "Nia-pass-2026!",
            "profile": "rep",
            "role": "sales_rep",
        },
    )
    assert response.status_code == 302
    user_id = response.headers["Location"].rsplit("/", 1)[-1]
    newcomer = sign_in(sales.app, "new@example.com", "Nia-pass-2026!")
    assert newcomer.get("/o/opportunity").status_code == 200
    too_short = post(admin, f"/setup/users/{user_id}/password", {"password": "x"})
    assert too_short.status_code == 400
    assert (
        post(
            admin, f"/setup/users/{user_id}/password", {"password": "Other-pass-2026!"}
        ).status_code
        == 302
    )
    assert newcomer.get("/o/opportunity").status_code == 302  # signed out everywhere
    state = form_values(text(admin.get(f"/setup/users/{user_id}")), "user-form")
    del state["active"]
    state["set:rep"] = "on"
    assert admin.post(f"/setup/users/{user_id}", data=state).status_code == 302
    user = sales.api.get(f"/api/v1/users/{user_id}").json
    assert user["active"] is False and user["permission_sets"] == ["rep"]


def test_deactivating_the_only_administrator_shows_the_no_lock_out_message(sales, admin):
    state = form_values(text(admin.get(f"/setup/users/{sales.admin.id}")), "user-form")
    del state["active"]
    response = admin.post(f"/setup/users/{sales.admin.id}", data=state)
    assert response.status_code == 409
    assert "would leave no active user holding" in text(response)
    assert sales.api.get(f"/api/v1/users/{sales.admin.id}").json["active"] is True


def role_tree(page: str) -> str:
    """The role tree's HTML (each role with its editor), up to the new role's form."""
    return page[page.index('id="role-tree"') : page.index('id="new-role"')]


def test_roles_show_as_a_tree_and_members_of_groups_are_edited(sales, admin):
    sales.api.post("/api/v1/metadata/groups", json={"api_name": "finance", "label": "Finance"})
    page = text(admin.get("/setup/teams/"))
    tree = role_tree(page)
    assert re.search(r"sales_manager</code>.*?<ul>\s*<li>[^<]*<code[^>]*>sales_rep", tree, re.S)
    response = post(admin, "/setup/teams/groups/finance/members", {"user_id": sales.rep.id})
    assert response.status_code == 302
    assert sales.api.get("/api/v1/groups/finance/members").json["members"] == [sales.rep.id]
    path = f"/setup/teams/groups/finance/members/{sales.rep.id}/remove"
    assert post(admin, path).status_code == 302
    assert sales.api.get("/api/v1/groups/finance/members").json["members"] == []
    assert post(admin, "/setup/teams/roles", {"api_name": "vp_sales"}).status_code == 302
    assert "vp_sales" in text(admin.get("/setup/teams/"))


def test_roles_groups_and_queues_are_added_edited_and_deleted(sales, admin):
    metadata = sales.org.metadata
    added = post(
        admin,
        "/setup/teams/group/new",
        {"api_name": "finance", "label_en": "Finance", "label_zh": "财务"},
    )
    assert added.status_code == 302
    assert metadata.get_component("group", "finance")["label"] == {"en": "Finance", "zh": "财务"}
    queue = {"api_name": "triage", "label_en": "Triage", "objects": ["opportunity"]}
    assert post(admin, "/setup/teams/queue/new", queue).status_code == 302
    assert metadata.get_component("queue", "triage")["objects"] == ["opportunity"]
    # a queue owns records of at least one object: the form says so beside nothing lost
    refused = post(admin, "/setup/teams/queue/triage", {"label_en": "Triage"})
    assert refused.status_code == 400 and "objects" in text(refused)
    assert metadata.get_component("queue", "triage")["objects"] == ["opportunity"]
    # a role moves under another and is relabelled; the tree shows it there
    post(admin, "/setup/teams/role/new", {"api_name": "vp_sales", "label_en": "VP sales"})
    moved = post(
        admin,
        "/setup/teams/role/sales_manager",
        {"label_en": "Sales manager", "label_zh": "销售经理", "parent": "vp_sales"},
    )
    assert moved.status_code == 302
    page = text(admin.get("/setup/teams/"))
    tree = role_tree(page)
    assert re.search(r"vp_sales</code>.*?<ul>\s*<li>[^<]*<code[^>]*>sales_manager", tree, re.S)
    assert metadata.get_component("role", "sales_manager")["parent"] == "vp_sales"
    # a role someone holds is not deleted; an unused group is
    held = post(admin, "/setup/teams/role/sales_rep/delete")
    assert held.status_code == 409
    assert "role &#39;sales_rep&#39; is held by 1 user" in text(held)
    assert sales.api.delete("/api/v1/metadata/roles/sales_rep").status_code == 409
    assert metadata.get_component("role", "sales_rep")
    assert post(admin, "/setup/teams/group/finance/delete").status_code == 302
    assert "finance" not in {g["api_name"] for g in metadata.list_components("group")}


def test_a_user_manager_without_customize_application_sees_only_their_areas(sales, admin):
    sales.api.post(
        "/api/v1/metadata/permission_sets",
        json={"api_name": "user_admin", "system": ["manage_users", "api_enabled"]},
    )
    post(admin, "/setup/users/", {"email": "hr@example.com", "password": REP_PASSWORD})
    hr_id = next(
        u["id"]
        for u in sales.api.get("/api/v1/users").json["users"]
        if u["email"] == "hr@example.com"
    )
    sales.api.patch(f"/api/v1/users/{hr_id}", json={"permission_sets": ["user_admin"]})
    hr = sign_in(sales.app, "hr@example.com", REP_PASSWORD)
    home = text(hr.get("/setup/"))
    assert "/setup/users/" in home and "/setup/objects/" not in home
    assert hr.get("/setup/users/").status_code == 200
    assert hr.get("/setup/objects/").status_code == 403
    assert ADMIN_EMAIL in text(hr.get("/setup/users/"))


def test_the_field_grid_offers_no_edit_box_for_a_computed_field(sales, admin):
    page = text(admin.get("/setup/permissions/fields/opportunity"))
    assert 'type="checkbox" name="fld:rep:expected_revenue:read"' in page
    assert 'type="checkbox" name="fld:rep:expected_revenue:edit"' not in page
    assert 'type="checkbox" name="fld:rep:amount:edit"' in page
    # saved as it was: what the set says of the formula is kept, nothing is rewritten
    before = sales.org.metadata.version()
    state = form_values(page, "field-grid")
    assert admin.post("/setup/permissions/fields/opportunity", data=state).status_code == 302
    assert sales.org.metadata.version() == before
