"""The list view editor and the app editor through the test client: each save one
change set (one revision); a filter with an error is refused and changes nothing."""

from __future__ import annotations

from tests.admin_ui.conftest import form_values, post, text

VIEW = "/setup/list-views/opportunity.open_pipeline"


def test_a_list_views_columns_filter_sort_scope_and_kanban_are_saved(sales, admin):
    state = form_values(text(admin.get(VIEW)), "list-view-editor")
    assert state["columns"] == "name, amount, stage, close_date"
    assert state["kanban_by"] == "stage"
    state.update(
        columns="name, account.name, amount",
        filter="amount > 1000",
        sort="-amount, name",
        scope="all",
        kanban_by="",
        label_zh="我的管道",
    )
    before = sales.org.metadata.version()
    assert post(admin, VIEW, state).status_code == 302
    assert sales.org.metadata.version() == before + 1
    saved = sales.org.metadata.get_component("list_view", "opportunity.open_pipeline")
    assert saved["columns"] == ["name", "account.name", "amount"]
    assert saved["filter"] == "amount > 1000"
    assert saved["sort"] == ["-amount", "name"]
    assert saved["scope"] == "all"
    assert "kanban_by" not in saved
    assert saved["label"] == {"en": "My open pipeline", "zh": "我的管道"}


def test_a_filter_with_a_typo_is_refused_and_nothing_changes(sales, admin):
    state = form_values(text(admin.get(VIEW)), "list-view-editor")
    state["filter"] = "amont > 1000"
    before = sales.org.metadata.version()
    response = post(admin, VIEW, state)
    assert response.status_code == 400
    assert "amont" in text(response)
    assert 'class="field-error small"' in text(response)
    assert sales.org.metadata.version() == before


def test_a_list_view_is_created_and_deleted(sales, admin):
    response = post(
        admin, "/setup/list-views/new", {"object": "account", "api_name": "all_accounts"}
    )
    assert response.status_code == 302
    assert sales.org.metadata.get_component("list_view", "account.all_accounts")["columns"] == [
        "name"
    ]
    assert post(admin, "/setup/list-views/account.all_accounts/delete").status_code == 302
    names = [v["api_name"] for v in sales.org.metadata.list_components("list_view")]
    assert "all_accounts" not in names


def test_the_app_editor_chooses_and_orders_tabs(sales, admin, rep):
    state = form_values(text(admin.get("/setup/apps/sales")), "app-editor")
    assert state["tab:account"] == "on" and "tab:note" in state
    del state["tab:note"]
    state["position:opportunity"] = "-1"
    before = sales.org.metadata.version()
    assert post(admin, "/setup/apps/sales", state).status_code == 302
    assert sales.org.metadata.version() == before + 1
    assert sales.org.metadata.get_component("app", "sales")["tabs"] == [
        "opportunity",
        "home",
        "account",
    ]


def test_the_app_editor_names_each_tab_as_the_reps_navigation_does(sales, admin):
    page = text(admin.get("/setup/apps/sales"))
    assert '<label for="t-opportunity" class="mb-0">Opportunities <code' in page
    assert '<label for="t-account" class="mb-0">Accounts <code' in page
    assert '<code class="small">opportunity</code>' in page


def test_the_app_editor_chooses_the_list_view_a_tab_opens(sales, admin):
    page = text(admin.get("/setup/apps/sales"))
    state = form_values(page, "app-editor")
    assert state["view:opportunity"] == ""  # the object's first, until one is chosen
    assert '<option value="team_pipeline">team_pipeline</option>' in page
    state["view:opportunity"] = "team_pipeline"
    assert post(admin, "/setup/apps/sales", state).status_code == 302
    saved = sales.org.metadata.get_component("app", "sales")
    assert saved["views"] == {"opportunity": "team_pipeline"}
    state = form_values(text(admin.get("/setup/apps/sales")), "app-editor")
    assert state["view:opportunity"] == "team_pipeline"
    state["view:opportunity"] = ""  # back to the first
    assert post(admin, "/setup/apps/sales", state).status_code == 302
    assert "views" not in sales.org.metadata.get_component("app", "sales")


def test_an_app_without_tabs_is_refused(sales, admin):
    state = form_values(text(admin.get("/setup/apps/sales")), "app-editor")
    for key in [k for k in state if k.startswith("tab:")]:
        del state[key]
    before = sales.org.metadata.version()
    assert post(admin, "/setup/apps/sales", state).status_code == 400
    assert sales.org.metadata.version() == before


def test_a_new_app_starts_with_home(sales, admin):
    response = post(admin, "/setup/apps/new", {"api_name": "service", "label_en": "Service"})
    assert response.status_code == 302
    assert sales.org.metadata.get_component("app", "service")["tabs"] == ["home"]


def test_the_object_page_says_which_apps_show_the_object(sales, admin):
    page = text(admin.get("/setup/objects/opportunity"))
    assert 'id="object-apps"' in page and 'href="/setup/apps/sales"' in page
    made = post(admin, "/setup/objects/new", {"api_name": "gadget", "label_en": "Gadget"})
    assert made.status_code == 302, text(made)[:500]
    page = text(admin.get("/setup/objects/gadget"))
    assert "No app shows this object as a tab" in page and 'href="/setup/apps/"' in page
