"""The layout, list_view and app kinds: saved through the metadata API, checked against
the object, rewritten by renames and listed among a field's usages."""

from __future__ import annotations

import pytest

from crm_platform.ui import layout_for, list_views_for, ui_model


@pytest.fixture
def sales(api, load_metadata):
    load_metadata("webapp")
    return api


def _errors(response) -> dict:
    """The problems by path inside the definition (the API prefixes the component name)."""
    assert response.status_code == 400, response.get_json()
    out = {}
    for path, messages in response.get_json()["errors"].items():
        for prefix in (
            "opportunity.compact.",
            "opportunity.bad.",
            "ops.",
            "opportunity.x.",
            "opportunity.quick.",
            "opportunity.big.",
            "opportunity.cond.",
        ):
            path = path.removeprefix(prefix)
        out[path] = messages
    return out


def test_an_org_built_from_yaml_compiles_its_layouts_views_and_apps(sales, org):
    with org.reading() as (_conn, model):
        ui = ui_model(model)
        layout = layout_for(model, model.objects["opportunity"])
        assert layout.api_name == "default" and not layout.derived
        assert [f.name for f in layout.fields][:3] == ["name", "account", "amount"]
        assert set(ui.list_views["opportunity"]) == {"all", "open_pipeline", "team_pipeline"}
        assert [a.api_name for a in ui.apps] == ["sales"]
        assert ui.apps[0].tabs == ("home", "account", "opportunity", "note")


def test_a_new_object_gets_a_derived_layout_and_list_view(sales, org):
    created = sales.post(
        "/api/v1/metadata/objects",
        json={
            "api_name": "project",
            "fields": [
                {"api_name": "name", "type": "text", "required": True},
                {"api_name": "budget", "type": "currency"},
                {"api_name": "notes", "type": "long_text"},
            ],
        },
    )
    assert created.status_code == 201, created.get_json()
    with org.reading() as (_conn, model):
        project = model.objects["project"]
        layout = layout_for(model, project)
        assert layout.derived and [f.name for f in layout.fields] == ["name", "budget", "notes"]
        (view,) = list_views_for(model, project)
        assert view.derived and view.columns == ("name", "budget")


def test_unknown_fields_and_paths_are_refused(sales):
    errors = _errors(
        sales.post(
            "/api/v1/metadata/layouts",
            json={
                "api_name": "compact",
                "object": "opportunity",
                "create": False,
                "sections": [{"fields": ["name", "nonsense"]}],
                "related": [{"relation": "note.name"}],
            },
        )
    )
    assert "no field 'nonsense' on opportunity" in errors["sections[0].fields[1]"][0]
    assert "does not point at opportunity" in errors["related[0].relation"][0]
    errors = _errors(
        sales.post(
            "/api/v1/metadata/list_views",
            json={
                "api_name": "bad",
                "object": "opportunity",
                "columns": ["name", "account.nope"],
                "sort": ["-tags"],
                "kanban_by": "amount",
            },
        )
    )
    assert "no field 'account.nope'" in errors["columns[1]"][0]
    assert "no field 'tags'" in errors["sort[0]"][0]
    assert "not a picklist" in errors["kanban_by"][0]
    errors = _errors(
        sales.post("/api/v1/metadata/apps", json={"api_name": "ops", "tabs": ["home", "ticket"]})
    )
    assert "no object 'ticket'" in errors["tabs[1]"][0]
    errors = _errors(
        sales.post(
            "/api/v1/metadata/layouts",
            json={
                "api_name": "x",
                "object": "opportunity",
                "sections": [{"fields": ["name"]}],
                "colour": 1,
            },
        )
    )
    assert "colour" in errors


def test_a_create_layout_must_hold_every_required_field(sales):
    errors = _errors(
        sales.post(
            "/api/v1/metadata/layouts",
            json={
                "api_name": "quick",
                "object": "opportunity",
                "sections": [{"fields": ["amount"]}],
            },
        )
    )
    assert any("required field 'name' is missing" in m for m in errors["sections"])
    # not used to create: allowed
    ok = sales.post(
        "/api/v1/metadata/layouts",
        json={
            "api_name": "quick",
            "object": "opportunity",
            "create": False,
            "sections": [{"fields": ["amount"]}],
        },
    )
    assert ok.status_code == 201, ok.get_json()


def test_expressions_must_type_check(sales):
    errors = _errors(
        sales.post(
            "/api/v1/metadata/list_views",
            json={
                "api_name": "big",
                "object": "opportunity",
                "columns": ["name"],
                "filter": "amount + 1",
            },
        )
    )
    assert "filter" in errors
    errors = _errors(
        sales.post(
            "/api/v1/metadata/layouts",
            json={
                "api_name": "cond",
                "object": "opportunity",
                "sections": [{"fields": ["name", {"field": "amount", "required_if": "stage > 3"}]}],
            },
        )
    )
    assert "sections[0].fields[1].required_if" in errors


def test_a_rename_rewrites_layouts_and_views_and_they_show_in_usages(sales):
    usages = sales.get("/api/v1/metadata/objects/opportunity/fields/amount/usages").get_json()
    kinds = {(u["kind"], u["name"], u["where"]) for u in usages["usages"]}
    assert ("layout", "opportunity.default", "sections[0].fields[2]") in kinds
    assert ("layout", "opportunity.default", "sections[1].fields[7].visible_if") in kinds
    assert ("list_view", "opportunity.all", "columns[2]") in kinds
    assert ("layout", "account.default", "related[0].columns") in kinds
    refused = sales.delete("/api/v1/metadata/objects/opportunity/fields/amount")
    assert refused.status_code == 409

    renamed = sales.patch(
        "/api/v1/metadata/objects/opportunity/fields/amount", json={"api_name": "value"}
    )
    assert renamed.status_code == 200, renamed.get_json()
    layout = sales.get("/api/v1/metadata/layouts/opportunity.default").get_json()
    assert layout["sections"][0]["fields"][2] == "value"
    assert layout["sections"][1]["fields"][7]["visible_if"] == "value > 0"
    view = sales.get("/api/v1/metadata/list_views/opportunity.all").get_json()
    assert view["columns"][2] == "value"
    account = sales.get("/api/v1/metadata/layouts/account.default").get_json()
    assert account["related"][0]["columns"][1] == "value"

    moved = sales.patch("/api/v1/metadata/objects/opportunity", json={"api_name": "deal"})
    assert moved.status_code == 200, moved.get_json()
    app = sales.get("/api/v1/metadata/apps/sales").get_json()
    assert app["tabs"] == ["home", "account", "deal", "note"]
    assert sales.get("/api/v1/metadata/layouts/deal.default").get_json()["object"] == "deal"
    account = sales.get("/api/v1/metadata/layouts/account.default").get_json()
    assert account["related"][0]["relation"] == "deal.account"


def test_an_org_without_apps_or_layouts_is_usable_at_once(app, load_metadata):
    """Every object the user may read becomes a tab; its list and form are derived."""
    import re

    from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

    load_metadata("projects")
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', login).group(1)
    client.post(
        "/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": token}
    )
    home = client.get("/").get_data(as_text=True)
    assert 'href="/o/project"' in home and 'href="/o/account"' in home
    listed = client.get("/o/project")
    assert listed.status_code == 200 and "0 records" in listed.get_data(as_text=True)
    form = client.get("/o/project/new").get_data(as_text=True)
    assert 'id="in-name"' in form


def test_a_renamed_object_keeps_its_tab_and_the_list_view_the_tab_opens():
    from types import SimpleNamespace

    from crm_platform.ui.renames import rename_app

    ctx = SimpleNamespace(object_name=lambda name: "deal" if name == "opportunity" else name)
    app = {"api_name": "s", "tabs": ["home", "opportunity"], "views": {"opportunity": "mine"}}
    renamed, places = rename_app(ctx, None, app)
    assert renamed["tabs"] == ["home", "deal"]
    assert renamed["views"] == {"deal": "mine"}
    assert places == ["tabs[1]", "views.opportunity"]
    untouched = {"api_name": "t", "tabs": ["home", "account"], "views": {"account": "all"}}
    assert rename_app(ctx, None, untouched) == (untouched, [])
