"""A record names what its lookups point to (``_names``) without changing their values,
as the reader may see the targets; lists filter and sort by the owner's and a manager's
name; criteria shares that read a user's columns follow changes of that user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.api.test_openapi import assert_valid, fetch

REC = "/api/v1/records"


@pytest.fixture
def crm(api, org, load_metadata, make_user):
    """Ada and Grace (account managers), Kim (in key_accounts), Gus (in government_watch)
    and Ben, all reps; the admin is named Admin Person."""
    load_metadata("lookup_names")
    people = SimpleNamespace(admin=api)
    people.ada = make_user("ada@example.com", profile="rep")
    people.grace = make_user("grace@example.com", profile="rep")
    people.kim = make_user("kim@example.com", profile="rep")
    people.gus = make_user("gus@example.com", profile="rep")
    people.ben = make_user("ben@example.com", profile="rep")
    everyone = api.get("/api/v1/users").get_json()["users"]
    admin_id = next(u["id"] for u in everyone if u["email"] == "admin@example.com")
    people.admin_id = admin_id
    for who, name in (
        (admin_id, "Admin Person"),
        (people.ada.user_id, "Ada Lovelace"),
        (people.grace.user_id, "Grace Hopper"),
        (people.ben.user_id, "Ben Bitdiddle"),
    ):
        assert api.patch(f"/api/v1/users/{who}", json={"name": name}).status_code == 200
    for group, member in (("key_accounts", people.kim), ("government_watch", people.gus)):
        added = api.post(f"/api/v1/groups/{group}/members", json={"user_id": member.user_id})
        assert added.status_code == 200, added.get_json()
    with org.reading() as (_conn, model):
        people.support_queue = model.security.queues["support"].id
    return people


def create(client, obj, **values):
    response = client.post(f"{REC}/{obj}", json=values)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def got(client, obj, record_id, **params):
    response = client.get(f"{REC}/{obj}/{record_id}", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def listed(client, obj, **params):
    response = client.get(f"{REC}/{obj}", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def names(records):
    return [r["name"] for r in records]


def every_page(client, obj, **params) -> list[dict]:
    records, cursor = [], None
    while True:
        page = listed(client, obj, **params, **({"cursor": cursor} if cursor else {}))
        records.extend(page["records"])
        cursor = page["next_cursor"]
        if cursor is None:
            return records


def test_a_record_names_what_each_reference_points_to(crm):
    globex = create(crm.admin, "account", name="Globex")
    acme = create(
        crm.admin,
        "account",
        name="Acme",
        account_manager=crm.ada.user_id,
        parent_account=globex["id"],
    )
    admin = "Admin Person"
    expected = {
        "owner_id": admin,
        "account_manager": "Ada Lovelace",
        "parent_account": "Globex",
        "created_by": admin,
        "updated_by": admin,
    }
    assert acme["_names"] == expected  # the create's answer too
    shown = got(crm.admin, "account", acme["id"])
    assert shown["_names"] == expected
    # the values themselves stay ids
    assert shown["account_manager"] == crm.ada.user_id
    assert shown["parent_account"] == globex["id"]
    # an empty lookup has no key; names follow the user's name as it is now
    assert got(crm.admin, "account", globex["id"])["_names"] == {
        "owner_id": admin,
        "created_by": admin,
        "updated_by": admin,
    }
    crm.admin.patch(f"/api/v1/users/{crm.ada.user_id}", json={"name": "Ada King"})
    assert got(crm.admin, "account", acme["id"])["_names"]["account_manager"] == "Ada King"
    # only the references the record shows are named
    narrow = got(crm.admin, "account", acme["id"], fields="name,parent_account")
    assert set(narrow["_names"]) == {"owner_id", "parent_account", "created_by", "updated_by"}


def test_lists_pages_and_related_lists_carry_names(crm):
    acme = create(crm.admin, "account", name="Acme")
    for number in range(7):
        create(
            crm.admin,
            "contact",
            name=f"Contact {number}",
            account=acme["id"],
            owner_id=crm.ben.user_id,
        )
    pages = every_page(crm.admin, "contact", limit=3, order_by="name")
    assert len(pages) == 7
    for record in pages:
        assert record["account"] == acme["id"]
        assert record["_names"]["account"] == "Acme"
        assert record["_names"]["owner_id"] == "Ben Bitdiddle"
    related = crm.admin.get(
        f"{REC}/account/{acme['id']}/related/contact", query_string={"limit": 5}
    )
    assert related.status_code == 200, related.get_json()
    assert {r["_names"]["account"] for r in related.get_json()["records"]} == {"Acme"}


def test_a_read_with_names_is_still_one_statement(crm, org):
    acme = create(crm.admin, "account", name="Acme", account_manager=crm.ada.user_id)
    partner = create(crm.admin, "partner", name="Initech")
    for number in range(12):
        create(
            crm.admin,
            "contact",
            name=f"C{number}",
            account=acme["id"],
            partner=partner["id"],
            assistant=crm.grace.user_id,
        )
    listed(crm.admin, "contact", limit=1)  # warm the token and the model
    with statements(org) as few:
        small = listed(crm.admin, "contact", limit=2)
    with statements(org) as many:
        large = listed(crm.admin, "contact", limit=12)
    assert len(small["records"]) == 2 and len(large["records"]) == 12
    assert {r["_names"]["assistant"] for r in large["records"]} == {"Grace Hopper"}
    # the names come with the page: no statement per row, none per target
    assert len(many) == len(few) <= 3, many


def test_a_name_the_reader_may_not_see_reads_as_null(crm):
    hidden = create(crm.admin, "account", name="Secret Corp")  # private, the admin's
    partner = create(crm.admin, "partner", name="Initech")  # readable, its name is not
    vendor = create(crm.admin, "vendor", name="Acme Supplies")  # an object Ben may not read
    contact = create(
        crm.admin,
        "contact",
        name="Pat",
        account=hidden["id"],
        partner=partner["id"],
        referred_by=crm.grace.user_id,
        supplier=vendor["id"],
    )
    seen = got(crm.ben, "contact", contact["id"])
    assert seen["_names"]["account"] is None
    assert seen["_names"]["partner"] is None
    assert seen["supplier"] == vendor["id"] and seen["_names"]["supplier"] is None
    assert seen["_names"]["owner_id"] == "Admin Person"
    assert "referred_by" not in seen and "referred_by" not in seen["_names"]
    shown = got(crm.ben, "contact", contact["id"], fields="name,account,account.name")
    assert shown["account"] == hidden["id"]  # the value stays
    assert shown["account.name"] is None and shown["_names"]["account"] is None
    assert "Secret Corp" not in str(listed(crm.ben, "contact"))
    # the admin sees every name of the same record
    full = got(crm.admin, "contact", contact["id"])["_names"]
    assert full["account"] == "Secret Corp" and full["partner"] == "Initech"
    assert full["referred_by"] == "Grace Hopper" and full["supplier"] == "Acme Supplies"
    # once Ben may see the account, its name shows
    mine = create(crm.ben, "account", name="Ben's Own")
    crm.ben.patch(f"{REC}/contact/{contact['id']}", json={"account": mine["id"]})
    assert got(crm.ben, "contact", contact["id"])["_names"]["account"] == "Ben's Own"


def test_polymorphic_lookups_and_queues_are_named(crm):
    acme = create(crm.admin, "account", name="Acme")
    pat = create(crm.admin, "contact", name="Pat")
    tickets = [
        create(
            crm.admin,
            "ticket",
            subject="About Acme",
            related_to={"object": "account", "id": acme["id"]},
        ),
        create(
            crm.admin,
            "ticket",
            subject="About Pat",
            related_to={"object": "contact", "id": pat["id"]},
        ),
        create(
            crm.admin,
            "ticket",
            subject="About Ada",
            related_to={"object": "user", "id": crm.ada.user_id},
            owner_id=crm.support_queue,
        ),
    ]
    assert [t["_names"]["related_to"] for t in tickets] == ["Acme", "Pat", "Ada Lovelace"]
    assert tickets[2]["_names"]["owner_id"] == "Support Team"
    reply = create(crm.admin, "contact", name="Sam", reports_to=pat["id"])
    assert reply["_names"]["reports_to"] == "Pat"  # a lookup to its own object
    # a ticket's name is its name field (subject): a contact's lookups show it alike
    by_subject = listed(
        crm.admin, "ticket", where="owner.name == 'Admin Person'", order_by="subject"
    )
    assert [t["subject"] for t in by_subject["records"]] == ["About Acme", "About Pat"]
    queued = got(crm.admin, "ticket", tickets[2]["id"], fields="subject,owner.name")
    assert queued["owner.name"] is None  # owner.<column> reads the owning user's columns


def test_composite_results_and_history_name_lookups(crm):
    acme = create(crm.admin, "account", name="Acme")
    globex = create(crm.admin, "account", name="Globex")
    batch = crm.admin.post(
        "/api/v1/composite",
        json={
            "operations": [
                {
                    "method": "POST",
                    "url": "/records/contact",
                    "ref": "pat",
                    "body": {"name": "Pat", "account": acme["id"]},
                },
                {"method": "GET", "url": "/records/contact/@{pat.id}"},
            ]
        },
    )
    assert batch.status_code == 200, batch.get_json()
    results = batch.get_json()["results"]
    assert [r["body"]["_names"]["account"] for r in results] == ["Acme", "Acme"]
    pat = results[0]["body"]
    moved = crm.admin.patch(f"{REC}/contact/{pat['id']}", json={"account": globex["id"]})
    assert moved.status_code == 200 and moved.get_json()["_names"]["account"] == "Globex"
    crm.admin.patch(f"{REC}/contact/{pat['id']}", json={"account": None, "name": "Pat B."})
    entries = crm.admin.get(f"{REC}/contact/{pat['id']}/history").get_json()["history"]
    latest = {e["field"]: e for e in entries[:2]}
    cleared, renamed, change = latest["account"], latest["name"], entries[2]
    assert (cleared["field"], cleared["_names"]) == ("account", {"old_value": "Globex"})
    assert renamed["field"] == "name" and "_names" not in renamed
    assert change["old_value"] == acme["id"] and change["new_value"] == globex["id"]
    assert change["_names"] == {"old_value": "Acme", "new_value": "Globex"}
    # Ben may read the contact and its history, not the admin's private accounts
    for entry in crm.ben.get(f"{REC}/contact/{pat['id']}/history").get_json()["history"]:
        if entry["field"] == "account":
            assert set(entry["_names"].values()) == {None}


def test_the_openapi_document_describes_names_for_each_reader(crm):
    admin_doc = fetch(crm.admin)
    names = admin_doc["components"]["schemas"]["contact"]["properties"]["_names"]
    assert names["additionalProperties"] is False
    assert list(names["properties"]) == [
        "owner_id",
        "account",
        "partner",
        "assistant",
        "referred_by",
        "reports_to",
        "supplier",
        "created_by",
        "updated_by",
    ]
    assert names["properties"]["account"]["type"] == ["string", "null"]
    assert "_names" in admin_doc["components"]["schemas"]["contact"]["required"]
    rep_doc = fetch(crm.ben)
    rep_names = rep_doc["components"]["schemas"]["contact"]["properties"]["_names"]
    assert "referred_by" not in rep_names["properties"]  # a field Ben may not read
    acme = create(crm.admin, "account", name="Acme", account_manager=crm.ada.user_id)
    contact = create(crm.admin, "contact", name="Pat", account=acme["id"])
    assert_valid(rep_doc, "contact", got(crm.ben, "contact", contact["id"]))
    assert_valid(admin_doc, "account", got(crm.admin, "account", acme["id"]))
    assert_valid(admin_doc, "contact_page", listed(crm.admin, "contact"))


def test_lists_filter_and_sort_by_the_owners_and_the_managers_name(crm):
    for name, owner, manager in (
        ("Acme", crm.ada, crm.grace),
        ("Globex", crm.grace, crm.ada),
        ("Initech", crm.ada, None),
        ("Umbrella", crm.grace, crm.grace),
    ):
        values = {"account_manager": manager.user_id} if manager else {}
        create(owner, "account", name=name, **values)
    assert names(
        listed(crm.admin, "account", where="owner.name == 'Ada Lovelace'", order_by="name")[
            "records"
        ]
    ) == ["Acme", "Initech"]
    assert names(
        listed(
            crm.admin, "account", where="account_manager.name == 'Grace Hopper'", order_by="name"
        )["records"]
    ) == ["Acme", "Umbrella"]
    by_owner = every_page(crm.admin, "account", order_by="-owner.name,name", limit=1)
    assert names(by_owner) == ["Globex", "Umbrella", "Acme", "Initech"]
    by_manager = every_page(crm.admin, "account", order_by="account_manager.name,-name", limit=2)
    assert names(by_manager) == ["Globex", "Umbrella", "Acme", "Initech"]  # no manager last
    figures = crm.admin.get(
        f"{REC}/account/aggregate", query_string={"group_by": "owner.name", "metrics": "count"}
    )
    assert figures.status_code == 200, figures.get_json()
    assert figures.get_json()["groups"] == [
        {"owner.name": "Ada Lovelace", "count": 2},
        {"owner.name": "Grace Hopper", "count": 2},
    ]
    # formulas and dotted paths read the owning user's public columns, in SQL and Python
    acme = listed(
        crm.ada, "account", where="name == 'Acme'", fields="name,owner_email,owner.email,owner_id"
    )["records"][0]
    assert acme["owner_email"] == "ada@example.com" and acme["owner.email"] == "ada@example.com"
    assert names(
        listed(crm.admin, "account", where="owner_email == 'grace@example.com'", order_by="name")[
            "records"
        ]
    ) == ["Globex", "Umbrella"]
    # only public columns: anything else is an unknown field, as for any user lookup
    refused = crm.admin.get(f"{REC}/account", query_string={"where": "owner.password_hash == 'x'"})
    assert refused.status_code == 400 and "owner.password_hash" in str(refused.get_json())
    refused = crm.admin.get(f"{REC}/account", query_string={"fields": "owner.is_system"})
    assert refused.status_code == 400


def test_a_validation_rule_reads_the_owners_role(crm):
    refused = crm.admin.post(f"{REC}/account", json={"name": "City Hall", "industry": "Government"})
    assert refused.status_code == 400
    assert "public sector" in str(refused.get_json()["errors"]["industry"])
    crm.admin.patch(f"/api/v1/users/{crm.grace.user_id}", json={"role": "public_sector"})
    city = create(crm.grace, "account", name="City Hall", industry="Government")
    assert city["_names"]["owner_id"] == "Grace Hopper"


def test_criteria_shares_follow_changes_of_the_user_they_read(crm):
    acme = create(crm.admin, "account", name="Acme", account_manager=crm.ada.user_id)
    create(crm.admin, "account", name="Globex", account_manager=crm.grace.user_id)
    create(crm.grace, "account", name="Hooli")
    create(crm.admin, "deal", name="Acme renewal", account=acme["id"])
    assert names(listed(crm.kim, "account")["records"]) == []
    assert names(listed(crm.kim, "deal")["records"]) == []
    # Ada becomes a key account manager: her accounts are shared with key_accounts
    promoted = crm.admin.patch(
        f"/api/v1/users/{crm.ada.user_id}", json={"role": "key_account_manager"}
    )
    assert promoted.status_code == 200, promoted.get_json()
    assert names(listed(crm.kim, "account")["records"]) == ["Acme"]
    shown = got(crm.kim, "account", acme["id"])
    assert shown["_names"]["account_manager"] == "Ada Lovelace"
    # a rule reading her role two lookups away (deal -> account -> manager) follows too
    deals = listed(crm.kim, "deal")["records"]
    assert names(deals) == ["Acme renewal"] and deals[0]["_names"]["account"] == "Acme"
    # ... and no longer once she is not
    crm.admin.patch(f"/api/v1/users/{crm.ada.user_id}", json={"role": None})
    assert names(listed(crm.kim, "account")["records"]) == []
    assert names(listed(crm.kim, "deal")["records"]) == []
    # a rule on the owner's role follows the owner
    assert names(listed(crm.gus, "account")["records"]) == []
    crm.admin.patch(f"/api/v1/users/{crm.grace.user_id}", json={"role": "public_sector"})
    assert names(listed(crm.gus, "account")["records"]) == ["Hooli"]
    # a rule reading a user's column through a formula follows the user too
    rule = {
        "api_name": "graces_accounts",
        "object": "account",
        "criteria": "manager_name == 'Grace Hopper'",
        "share_with": {"group": "key_accounts"},
        "access": "read",
    }
    assert crm.admin.post("/api/v1/metadata/sharing_rules", json=rule).status_code == 201
    assert names(listed(crm.kim, "account")["records"]) == ["Globex"]
    crm.admin.patch(f"/api/v1/users/{crm.grace.user_id}", json={"name": "Grace B. Hopper"})
    assert names(listed(crm.kim, "account")["records"]) == []


@contextmanager
def statements(org) -> Iterator[list[str]]:
    """The SQL statements (not transaction control) sent while the block runs."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        text = statement.strip().upper()
        if not text.startswith(
            ("BEGIN", "SET TRANSACTION", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
        ):
            sent.append(statement)

    sa.event.listen(org.db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(org.db.engine, "before_cursor_execute", record)
