"""Lookups to the platform's users: accounts with an account manager, tasks assigned to
someone, a sharing rule by manager — the user's public columns through dotted paths."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from crm_platform.core import new_id
from crm_platform.core.tables import users


@pytest.fixture
def crm(api, org, load_metadata, make_user):
    """Accounts managed by Ada or Grace; a rep in the key accounts group; Ben, a rep."""
    load_metadata("user_lookups")
    people = SimpleNamespace(admin=api)
    people.ada = make_user("ada@example.com", profile="sales_rep")
    people.grace = make_user("grace@example.com", profile="sales_rep")
    people.rep = make_user("rep@example.com", profile="sales_rep")
    people.ben = make_user("ben@example.com", profile="sales_rep")
    for who, name in ((people.ada, "Ada Lovelace"), (people.grace, "Grace Hopper")):
        assert api.patch(f"/api/v1/users/{who.user_id}", json={"name": name}).status_code == 200
    added = api.post("/api/v1/groups/key_accounts/members", json={"user_id": people.rep.user_id})
    assert added.status_code == 200, added.get_json()
    return people


def create(client, obj, **values):
    response = client.post(f"/api/v1/records/{obj}", json=values)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def listed(client, obj, **params):
    response = client.get(f"/api/v1/records/{obj}", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["records"]


def names(records):
    return [r["name"] for r in records]


def test_the_field_points_at_users_in_the_model(crm, org):
    with org.reading() as (_conn, model):
        account = model.objects["account"]
        assert account.fields["account_manager"].targets == ("user",)
        assert account.fields["parent_account"].targets == ("account",)
        assert model.objects["task"].fields["related_to"].targets == ("account", "contact", "user")
        assert account.fields["name"].targets == ()
    stored = crm.admin.get("/api/v1/metadata/objects/account/fields/account_manager").get_json()
    assert stored["target"] == "user" and "on_delete" not in stored


def test_an_account_shows_its_managers_name_through_the_lookup(crm):
    acme = create(crm.admin, "account", name="Acme", account_manager=crm.ada.user_id)
    assert acme["account_manager"] == crm.ada.user_id
    got = crm.admin.get(
        f"/api/v1/records/account/{acme['id']}",
        query_string={"fields": "name,account_manager,account_manager.name,account_manager.email"},
    ).get_json()
    assert got["account_manager"] == crm.ada.user_id
    assert got["account_manager.name"] == "Ada Lovelace"
    assert got["account_manager.email"] == "ada@example.com"
    assert got.get("manager_email") is None  # not asked for
    full = crm.admin.get(f"/api/v1/records/account/{acme['id']}").get_json()
    assert full["manager_email"] == "ada@example.com"  # a formula through the lookup, in SQL


def test_a_rep_filters_and_sorts_accounts_by_their_manager(crm):
    for name, manager in (("Acme", crm.ada), ("Globex", crm.grace), ("Initech", crm.ada)):
        create(crm.ben, "account", name=name, account_manager=manager.user_id)
    create(crm.ben, "account", name="Umbrella")
    ada = listed(crm.ben, "account", where="account_manager.email == 'ada@example.com'")
    assert sorted(names(ada)) == ["Acme", "Initech"]
    by_formula = listed(crm.ben, "account", where="manager_email == 'grace@example.com'")
    assert names(by_formula) == ["Globex"]
    assert names(listed(crm.ben, "account", where="ISBLANK(account_manager)")) == ["Umbrella"]
    ordered = listed(
        crm.ben, "account", order_by="-account_manager.name,name", fields="name,account_manager"
    )
    # Grace before Ada (descending), accounts without a manager last
    assert names(ordered) == ["Globex", "Acme", "Initech", "Umbrella"]
    by_id = listed(crm.ben, "account", where=f"account_manager == '{crm.grace.user_id}'")
    assert names(by_id) == ["Globex"]
    figures = crm.ben.get(
        "/api/v1/records/account/aggregate",
        query_string={"group_by": "account_manager.name", "metrics": "count"},
    )
    assert figures.status_code == 200, figures.get_json()
    assert figures.get_json()["groups"] == [
        {"account_manager.name": "Ada Lovelace", "count": 2},
        {"account_manager.name": "Grace Hopper", "count": 1},
        {"account_manager.name": None, "count": 1},
    ]


def test_only_the_directorys_public_columns_are_reachable(crm):
    acme = create(crm.ben, "account", name="Acme", account_manager=crm.ada.user_id)
    url = f"/api/v1/records/account/{acme['id']}"
    shown = crm.ben.get(url, query_string={"fields": "account_manager.active,account_manager.role"})
    assert shown.status_code == 200
    assert shown.get_json()["account_manager.active"] is True
    for column in ("password_hash", "is_system", "created_at", "nope"):
        refused = crm.ben.get(url, query_string={"fields": f"account_manager.{column}"})
        assert refused.status_code == 400, column
        where = crm.ben.get(
            "/api/v1/records/account", query_string={"where": f"ISBLANK(account_manager.{column})"}
        )
        assert where.status_code == 400, column
        assert f"account_manager.{column}" in str(where.get_json()["errors"])


def test_a_user_that_does_not_exist_is_refused_naming_the_field(crm, org):
    nobody = new_id()
    response = crm.ben.post(
        "/api/v1/records/account", json={"name": "Acme", "account_manager": nobody}
    )
    assert response.status_code == 400
    assert response.get_json()["errors"]["account_manager"] == [f"no user '{nobody}'"]
    with org.db.read() as conn:
        system_id = conn.execute(users.select().where(users.c.is_system)).first().id
    response = crm.ben.post(
        "/api/v1/records/account", json={"name": "Acme", "account_manager": system_id}
    )
    assert response.status_code == 400  # the system user is nobody's account manager
    assert listed(crm.admin, "account") == []


def test_a_deactivated_user_stays_on_their_records(crm):
    acme = create(
        crm.admin,
        "account",
        name="Acme",
        account_manager=crm.grace.user_id,
        executive_sponsor=crm.grace.user_id,
    )
    assert (
        crm.admin.patch(f"/api/v1/users/{crm.grace.user_id}", json={"active": False}).status_code
        == 200
    )
    url = f"/api/v1/records/account/{acme['id']}"
    got = crm.admin.get(url, query_string={"fields": "account_manager,account_manager.name"})
    assert got.get_json()["account_manager"] == crm.grace.user_id
    assert got.get_json()["account_manager.name"] == "Grace Hopper"
    # other changes keep the reference, even on the active-only field
    changed = crm.admin.patch(url, json={"industry": "Retail"})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["executive_sponsor"] == crm.grace.user_id
    # an inactive user may still be named where the field allows it ...
    other = create(crm.admin, "account", name="Globex", account_manager=crm.grace.user_id)
    assert other["account_manager"] == crm.grace.user_id
    # ... but not where only active users may be set
    refused = crm.admin.patch(
        f"/api/v1/records/account/{other['id']}", json={"executive_sponsor": crm.grace.user_id}
    )
    assert refused.status_code == 400
    assert "inactive" in refused.get_json()["errors"]["executive_sponsor"][0]
    task = crm.admin.post(
        "/api/v1/records/task", json={"name": "Call", "assigned_to": crm.grace.user_id}
    )
    assert task.status_code == 400 and "assigned_to" in task.get_json()["errors"]
    assert (
        crm.admin.get(f"/api/v1/records/account/{other['id']}").get_json()["executive_sponsor"]
        is None
    )


def test_a_sharing_rule_shares_one_managers_accounts_with_a_group(crm):
    acme = create(crm.admin, "account", name="Acme", account_manager=crm.ada.user_id)
    globex = create(crm.admin, "account", name="Globex", account_manager=crm.grace.user_id)
    # the rep is in key_accounts: the rule (criteria on account_manager.email) shares Ada's
    assert names(listed(crm.rep, "account")) == ["Acme"]
    assert names(listed(crm.ben, "account")) == []
    moved = crm.admin.patch(
        f"/api/v1/records/account/{acme['id']}", json={"account_manager": crm.grace.user_id}
    )
    assert moved.status_code == 200
    assert names(listed(crm.rep, "account")) == []
    # a rule added later, naming the manager by id, is built over the existing records
    rule = {
        "api_name": "grace_accounts",
        "object": "account",
        "criteria": f"account_manager == '{crm.grace.user_id}'",
        "share_with": {"group": "key_accounts"},
        "access": "read",
    }
    created = crm.admin.post("/api/v1/metadata/sharing_rules", json=rule)
    assert created.status_code == 201, created.get_json()
    assert sorted(names(listed(crm.rep, "account"))) == ["Acme", "Globex"]
    assert globex["id"] in {r["id"] for r in listed(crm.rep, "account")}


def test_a_task_may_be_related_to_a_user(crm):
    acme = create(crm.ben, "account", name="Acme", industry="Retail")
    about_ada = create(
        crm.ben, "task", name="1:1 with Ada", related_to={"object": "user", "id": crm.ada.user_id}
    )
    create(crm.ben, "task", name="Renewal", related_to={"object": "account", "id": acme["id"]})
    got = crm.ben.get(
        f"/api/v1/records/task/{about_ada['id']}",
        query_string={"fields": "related_to,related_to[user].name,related_to[account].name"},
    ).get_json()
    assert got["related_to"] == {"object": "user", "id": crm.ada.user_id}
    assert got["related_to[user].name"] == "Ada Lovelace"
    assert got["related_to[account].name"] is None
    found = listed(crm.ben, "task", where="related_to[user].email == 'ada@example.com'")
    assert names(found) == ["1:1 with Ada"]
    bad = crm.ben.post(
        "/api/v1/records/task",
        json={"name": "Ghost", "related_to": {"object": "user", "id": new_id()}},
    )
    assert bad.status_code == 400 and "no user" in bad.get_json()["errors"]["related_to"][0]


def test_a_lookup_to_user_takes_no_on_delete(crm):
    url = "/api/v1/metadata/objects/contact/fields"
    for on_delete in ("cascade", "restrict", "set_null"):
        field = {
            "api_name": "owner_rep",
            "type": "lookup",
            "target": "user",
            "on_delete": on_delete,
        }
        response = crm.admin.post(url, json=field)
        assert response.status_code == 400, on_delete
        problem = response.get_json()
        assert "on_delete" in str(problem["errors"]) and "deactivated" in str(problem["errors"])
    wrong = {"api_name": "boss", "type": "lookup", "target": "account", "active_only": True}
    assert crm.admin.post(url, json=wrong).status_code == 400
    detail = {"api_name": "boss", "type": "master_detail", "target": "user"}
    assert crm.admin.post(url, json=detail).status_code == 400
    fine = {"api_name": "owner_rep", "type": "lookup", "target": "user", "active_only": True}
    assert crm.admin.post(url, json=fine).status_code == 201
    # a polymorphic lookup's on_delete is about its record targets: users are kept
    poly = {
        "api_name": "about",
        "type": "lookup",
        "targets": ["account", "user"],
        "on_delete": "cascade",
    }
    assert crm.admin.post(url, json=poly).status_code == 201


def test_the_openapi_document_describes_user_lookups(crm):
    schemas = crm.admin.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    manager = schemas["account"]["properties"]["account_manager"]
    assert "user" in manager["description"]
    sponsor = schemas["account_input"]["properties"]["executive_sponsor"]
    assert "active" in sponsor["description"]
    related = schemas["task"]["properties"]["related_to"]
    variants = related.get("anyOf") or related.get("oneOf") or [related]
    enums = [v["properties"]["object"]["enum"] for v in variants if "properties" in v]
    assert any("user" in e for e in enums)
