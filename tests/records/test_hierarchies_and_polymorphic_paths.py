"""Account hierarchies with IS_UNDER, and paths through a polymorphic lookup narrowed to
one target (``related_to[account].industry``), in filters, formulas and rules."""

from __future__ import annotations

from types import SimpleNamespace

import pytest


def create(client, obj, **values):
    response = client.post(f"/api/v1/records/{obj}", json=values)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def listed(client, obj, **params):
    response = client.get(f"/api/v1/records/{obj}", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["records"]


def names(records):
    return sorted(r["name"] for r in records)


@pytest.fixture
def globex(api, load_metadata):
    """Globex > Globex EMEA > Globex France > Globex Paris, and Acme on its own."""
    load_metadata("user_lookups")
    tree = SimpleNamespace(api=api)
    tree.top = create(api, "account", name="Globex", industry="Technology")
    tree.emea = create(api, "account", name="Globex EMEA", parent_account=tree.top["id"])
    tree.france = create(api, "account", name="Globex France", parent_account=tree.emea["id"])
    tree.paris = create(api, "account", name="Globex Paris", parent_account=tree.france["id"])
    tree.acme = create(api, "account", name="Acme", industry="Retail")
    return tree


def test_is_under_finds_every_account_below_one_four_levels_deep(globex):
    api = globex.api
    below_top = listed(api, "account", where=f"IS_UNDER(parent_account, '{globex.top['id']}')")
    # the record itself is not under itself
    assert names(below_top) == ["Globex EMEA", "Globex France", "Globex Paris"]
    below_emea = listed(api, "account", where=f"IS_UNDER(parent_account, '{globex.emea['id']}')")
    assert names(below_emea) == ["Globex France", "Globex Paris"]
    with_itself = listed(
        api,
        "account",
        where=f"id == '{globex.france['id']}' or IS_UNDER(parent_account, '{globex.france['id']}')",
    )
    assert names(with_itself) == ["Globex France", "Globex Paris"]
    outside = listed(api, "account", where=f"not IS_UNDER(parent_account, '{globex.top['id']}')")
    assert names(outside) == ["Acme", "Globex"]
    assert listed(api, "account", where=f"IS_UNDER(parent_account, '{globex.acme['id']}')") == []
    counted = api.get(
        "/api/v1/records/account",
        query_string={"count": "true", "where": f"IS_UNDER(parent_account, '{globex.top['id']}')"},
    ).get_json()
    assert counted["total"] == 3


def test_a_formula_and_a_contact_filter_reach_the_hierarchy(globex):
    api = globex.api
    field = {
        "api_name": "in_globex_group",
        "type": "formula",
        "return_type": "boolean",
        "expression": f"IS_UNDER(parent_account, '{globex.top['id']}')",
    }
    added = api.post("/api/v1/metadata/objects/account/fields", json=field)
    assert added.status_code == 201, added.get_json()
    shown = {r["name"]: r["in_globex_group"] for r in listed(api, "account")}
    assert shown == {
        "Globex": False,
        "Globex EMEA": True,
        "Globex France": True,
        "Globex Paris": True,
        "Acme": False,
    }
    assert names(listed(api, "account", where="in_globex_group")) == [
        "Globex EMEA",
        "Globex France",
        "Globex Paris",
    ]
    create(api, "contact", name="Jean", account=globex.paris["id"])
    create(api, "contact", name="Wile", account=globex.acme["id"])
    create(api, "contact", name="Nobody")
    under = listed(api, "contact", where=f"IS_UNDER(account.parent_account, '{globex.emea['id']}')")
    assert names(under) == ["Jean"]


def test_a_validation_rule_reads_the_hierarchy_in_python(globex):
    api = globex.api
    rule = {
        "api_name": "no_retail_in_globex",
        "object": "account",
        "condition": f"IS_UNDER(parent_account, '{globex.top['id']}') and industry == 'Retail'",
        "message": "Globex has no retail arm",
        "field": "industry",
    }
    assert api.post("/api/v1/metadata/validation_rules", json=rule).status_code == 201
    refused = api.post(
        "/api/v1/records/account",
        json={"name": "Globex Shop", "industry": "Retail", "parent_account": globex.paris["id"]},
    )
    assert refused.status_code == 400
    assert refused.get_json()["errors"]["industry"] == ["Globex has no retail arm"]
    create(api, "account", name="Acme Shop", industry="Retail", parent_account=globex.acme["id"])
    moved = api.patch(
        f"/api/v1/records/account/{globex.acme['id']}", json={"parent_account": globex.france["id"]}
    )
    assert moved.status_code == 400  # Acme is Retail: it may not move under Globex


def test_a_plain_self_lookup_with_a_cycle_still_answers(api, load_metadata):
    load_metadata("user_lookups")
    field = {"api_name": "referred_by", "type": "lookup", "target": "account"}
    assert api.post("/api/v1/metadata/objects/account/fields", json=field).status_code == 201
    a = create(api, "account", name="A")
    b = create(api, "account", name="B", referred_by=a["id"])
    assert (
        api.patch(f"/api/v1/records/account/{a['id']}", json={"referred_by": b["id"]}).status_code
        == 200
    )
    # A and B refer to each other: the walk is bounded, so the query ends
    found = listed(api, "account", where=f"IS_UNDER(referred_by, '{a['id']}')")
    assert names(found) == ["A", "B"]


def test_is_under_takes_an_id_computed_per_record(api, load_metadata, make_user):
    """``IS_UNDER(parent_account, referred_by)``: the accounts referred by an account
    above them, in a filter (SQL, both databases), a formula and a validation rule
    (Python); a blank id is above nothing."""
    load_metadata("user_lookups")
    field = {"api_name": "referred_by", "type": "lookup", "target": "account"}
    assert api.post("/api/v1/metadata/objects/account/fields", json=field).status_code == 201
    top = create(api, "account", name="Top")
    mid = create(api, "account", name="Mid", parent_account=top["id"], referred_by=top["id"])
    low = create(api, "account", name="Low", parent_account=mid["id"], referred_by=top["id"])
    create(api, "account", name="Side", parent_account=mid["id"], referred_by=low["id"])
    create(api, "account", name="Loose", parent_account=low["id"])
    create(api, "account", name="Self", referred_by=top["id"])
    where = "IS_UNDER(parent_account, referred_by)"
    assert names(listed(api, "account", where=where)) == ["Low", "Mid"]
    assert names(listed(api, "account", where=f"not {where}")) == [
        "Loose",
        "Self",
        "Side",
        "Top",
    ]
    # the id may be any text expression, e.g. through a lookup
    deeper = "IS_UNDER(parent_account, referred_by.parent_account)"
    assert names(listed(api, "account", where=deeper)) == ["Side"]
    formula = {
        "api_name": "referred_from_above",
        "type": "formula",
        "return_type": "boolean",
        "expression": where,
    }
    assert api.post("/api/v1/metadata/objects/account/fields", json=formula).status_code == 201
    shown = {r["name"]: r["referred_from_above"] for r in listed(api, "account")}
    assert shown == {
        "Top": False,
        "Mid": True,
        "Low": True,
        "Side": False,
        "Loose": False,
        "Self": False,
    }
    rule = {
        "api_name": "referrer_is_above",
        "object": "account",
        "condition": f"not ISBLANK(referred_by) and not {where}",
        "message": "the referrer must be above the account",
    }
    assert api.post("/api/v1/metadata/validation_rules", json=rule).status_code == 201
    refused = api.post(
        "/api/v1/records/account",
        json={"name": "Bad", "parent_account": top["id"], "referred_by": low["id"]},
    )
    assert refused.status_code == 400
    good = create(api, "account", name="Good", parent_account=low["id"], referred_by=mid["id"])
    assert good["referred_from_above"] is True


def test_is_under_is_refused_where_it_cannot_mean_anything(api, load_metadata):
    load_metadata("user_lookups")
    for where, fragment in (
        ("IS_UNDER(industry, 'x')", "lookup of a record to its own object"),
        ("IS_UNDER(account_manager, 'x')", "lookup of a record to its own object"),
        ("IS_UNDER(parent_account, 5)", "the id of the record above as text"),
        ("IS_UNDER(parent_account)", "IS_UNDER expects"),
    ):
        response = api.get("/api/v1/records/account", query_string={"where": where})
        assert response.status_code == 400, where
        assert fragment in str(response.get_json()["errors"]), (where, response.get_json())
    response = api.get("/api/v1/records/contact", query_string={"where": "IS_UNDER(account, 'x')"})
    assert response.status_code == 400  # contact.account points at another object


@pytest.fixture
def tasks(api, load_metadata, make_user):
    load_metadata("user_lookups")
    world = SimpleNamespace(api=api)
    world.ada = make_user("ada@example.com", profile="sales_rep")
    world.shop = create(api, "account", name="Shop", industry="Retail")
    world.bank = create(api, "account", name="Bank", industry="Finance")
    world.jean = create(api, "contact", name="Jean", account=world.shop["id"])
    create(
        api, "task", name="Visit the shop", related_to={"object": "account", "id": world.shop["id"]}
    )
    create(api, "task", name="Call Jean", related_to={"object": "contact", "id": world.jean["id"]})
    create(api, "task", name="Coach Ada", related_to={"object": "user", "id": world.ada.user_id})
    create(api, "task", name="Tidy up")
    return world


def test_a_narrowed_polymorphic_path_filters_and_shows(tasks):
    api = tasks.api
    retail = listed(api, "task", where="related_to[account].industry == 'Retail'")
    assert names(retail) == ["Visit the shop"]
    # a contact's own account is reached through the narrowed step
    via_contact = listed(api, "task", where="related_to[contact].account.industry == 'Retail'")
    assert names(via_contact) == ["Call Jean"]
    rows = listed(
        api,
        "task",
        fields="name,related_to[account].industry,related_to[contact].name",
        order_by="name",
    )
    assert [
        (r["name"], r["related_to[account].industry"], r["related_to[contact].name"]) for r in rows
    ] == [
        ("Call Jean", None, "Jean"),
        ("Coach Ada", None, None),
        ("Tidy up", None, None),
        ("Visit the shop", "Retail", None),
    ]
    # the formula (SQL) of the fixture reads the same path
    formulas = {r["name"]: r["account_industry"] for r in listed(api, "task")}
    assert formulas["Visit the shop"] == "Retail" and formulas["Call Jean"] is None
    assert names(listed(api, "task", where="account_industry == 'Retail'")) == ["Visit the shop"]


def test_a_validation_rule_reads_a_narrowed_path_in_python(tasks):
    api = tasks.api
    refused = api.post(
        "/api/v1/records/task",
        json={"name": "Audit", "related_to": {"object": "account", "id": tasks.bank["id"]}},
    )
    assert refused.status_code == 400
    assert refused.get_json()["errors"]["due_date"] == [
        "A task on a finance account needs a due date"
    ]
    create(
        api,
        "task",
        name="Audit",
        due_date="2030-01-31",
        related_to={"object": "account", "id": tasks.bank["id"]},
    )
    create(api, "task", name="Chat", related_to={"object": "contact", "id": tasks.jean["id"]})


def test_paths_a_polymorphic_lookup_cannot_take_are_refused(tasks):
    api = tasks.api
    for where in (
        "related_to.industry == 'Retail'",  # which target?
        "related_to[opportunity].name == 'x'",  # not one of its targets
        "related_to[user].password_hash == 'x'",  # not a public column
        "related_to[account] == 'x'",  # a narrowed step needs a field after it
    ):
        response = api.get("/api/v1/records/task", query_string={"where": where})
        assert response.status_code == 400, where
    response = api.get("/api/v1/records/contact", query_string={"fields": "account[account].name"})
    assert response.status_code == 400  # only a polymorphic lookup is narrowed
    bad_formula = {
        "api_name": "bad",
        "type": "formula",
        "return_type": "text",
        "expression": "related_to[lead].name",
    }
    added = api.post("/api/v1/metadata/objects/task/fields", json=bad_formula)
    assert added.status_code == 400
    assert "related_to[lead].name" in str(added.get_json()["errors"])


def test_a_field_a_narrowed_path_reads_cannot_be_deleted_from_under_it(tasks):
    api = tasks.api
    response = api.delete("/api/v1/metadata/objects/account/fields/industry")
    assert response.status_code in (400, 409), response.get_json()
    assert "account_industry" in str(response.get_json())
    assert api.get("/api/v1/metadata/objects/account/fields/industry").status_code == 200


def test_the_hierarchy_breaks_where_the_user_cannot_see(api, load_metadata, make_user):
    """A rep sees the accounts they own; IS_UNDER in their filters walks only those, as a
    dotted path through a hidden record reads as empty."""
    load_metadata("user_lookups")
    ben = make_user("ben@example.com", profile="sales_rep")
    top = create(ben, "account", name="Top")
    hidden = create(api, "account", name="Hidden", parent_account=top["id"])
    leaf = create(api, "account", name="Leaf", parent_account=hidden["id"])
    moved = api.patch(f"/api/v1/records/account/{leaf['id']}", json={"owner_id": ben.user_id})
    assert moved.status_code == 200, moved.get_json()
    where = f"IS_UNDER(parent_account, '{top['id']}')"
    assert names(listed(api, "account", where=where)) == ["Hidden", "Leaf"]
    assert names(listed(ben, "account")) == ["Leaf", "Top"]
    assert listed(ben, "account", where=where) == []


def test_a_sharing_rule_shares_a_whole_branch_of_the_hierarchy(globex, make_user):
    api = globex.api
    rep = make_user("rep@example.com", profile="sales_rep")
    added = api.post("/api/v1/groups/key_accounts/members", json={"user_id": rep.user_id})
    assert added.status_code == 200
    rule = {
        "api_name": "emea_branch",
        "object": "account",
        "criteria": f"IS_UNDER(parent_account, '{globex.emea['id']}')",
        "share_with": {"group": "key_accounts"},
        "access": "read",
    }
    # built over the existing records in SQL ...
    assert api.post("/api/v1/metadata/sharing_rules", json=rule).status_code == 201
    assert names(listed(rep, "account")) == ["Globex France", "Globex Paris"]
    # ... and kept on each write in Python
    lyon = create(api, "account", name="Globex Lyon", parent_account=globex.france["id"])
    assert names(listed(rep, "account")) == ["Globex France", "Globex Lyon", "Globex Paris"]
    moved = api.patch(
        f"/api/v1/records/account/{lyon['id']}", json={"parent_account": globex.acme["id"]}
    )
    assert moved.status_code == 200
    assert names(listed(rep, "account")) == ["Globex France", "Globex Paris"]
