"""Record access follows org-wide defaults, the role hierarchy, sharing rules, manual shares
and queue ownership; a record the user cannot see is a 404 on every path."""

from __future__ import annotations

import pytest

from tests.security.conftest import create, edits, sees

REC = "/api/v1/records"


def test_private_records_are_seen_by_owner_and_the_roles_above(people):
    deal = create(people.rep, "opportunity", name="Rep deal", amount=500)
    assert sees(people.rep, "opportunity", deal["id"])
    assert sees(people.manager, "opportunity", deal["id"])
    assert sees(people.vp, "opportunity", deal["id"])
    assert not sees(people.peer, "opportunity", deal["id"])
    assert not sees(people.outsider, "opportunity", deal["id"])
    assert not sees(people.agent, "opportunity", deal["id"])
    assert sees(people.admin, "opportunity", deal["id"])


def test_managers_edit_what_their_reports_own_but_peers_do_not(people):
    deal = create(people.rep, "opportunity", name="Rep deal")
    assert edits(people.manager, "opportunity", deal["id"])
    assert (
        people.peer.patch(f"{REC}/opportunity/{deal['id']}", json={"name": "x"}).status_code == 404
    )


def test_criteria_sharing_rule_follows_the_record(people):
    big = create(people.rep, "opportunity", name="Big", amount=250000)
    small = create(people.rep, "opportunity", name="Small", amount=10)
    assert sees(people.finance, "opportunity", big["id"])
    assert not sees(people.finance, "opportunity", small["id"])
    assert not edits(people.finance, "opportunity", big["id"])  # read-only rule: 403

    people.rep.patch(f"{REC}/opportunity/{big['id']}", json={"amount": 5})
    people.rep.patch(f"{REC}/opportunity/{small['id']}", json={"amount": 200001})
    assert not sees(people.finance, "opportunity", big["id"])
    assert sees(people.finance, "opportunity", small["id"])


def test_a_new_criteria_rule_shares_existing_records(people, put_metadata):
    deal = create(people.rep, "opportunity", name="Won deal", stage="Won")
    assert not sees(people.outsider, "opportunity", deal["id"])
    put_metadata("group", {"api_name": "everyone"})
    put_metadata(
        "sharing_rule",
        {
            "api_name": "won_deals",
            "object": "opportunity",
            "criteria": "stage == 'Won'",
            "share_with": {"group": "everyone"},
            "access": "edit",
        },
    )
    people.admin.post("/api/v1/groups/everyone/members", json={"user_id": people.outsider.user_id})
    assert sees(people.outsider, "opportunity", deal["id"])
    assert edits(people.outsider, "opportunity", deal["id"])
    assert (
        people.admin.delete("/api/v1/metadata/sharing_rules/opportunity.won_deals").status_code
        == 200
    )
    assert not sees(people.outsider, "opportunity", deal["id"])


def test_owner_based_rule_opens_records_to_a_role_and_its_subordinates(people):
    account = create(people.rep, "account", name="Acme")
    assert sees(people.agent, "account", account["id"])
    assert sees(people.service_manager, "account", account["id"])
    assert not sees(people.outsider, "account", account["id"])
    response = people.agent.patch(f"{REC}/account/{account['id']}", json={"name": "x"})
    assert response.status_code == 403  # the agent has no edit permission on accounts at all


def test_manual_shares(people):
    deal = create(people.rep, "opportunity", name="Shared")
    assert not sees(people.peer, "opportunity", deal["id"])

    shared = people.rep.post(
        f"{REC}/opportunity/{deal['id']}/shares",
        json={"user": people.peer.user_id, "access": "read"},
    )
    assert shared.status_code == 201
    assert sees(people.peer, "opportunity", deal["id"])
    assert (
        people.peer.patch(f"{REC}/opportunity/{deal['id']}", json={"name": "x"}).status_code == 403
    )
    assert (
        people.peer.post(
            f"{REC}/opportunity/{deal['id']}/shares",
            json={"user": people.outsider.user_id, "access": "read"},
        ).status_code
        == 403
    )

    people.rep.post(
        f"{REC}/opportunity/{deal['id']}/shares",
        json={"user": people.peer.user_id, "access": "edit"},
    )
    assert edits(people.peer, "opportunity", deal["id"])

    shares = people.rep.get(f"{REC}/opportunity/{deal['id']}/shares").get_json()["shares"]
    assert [(s["principal"], s["access"], s["reason"]) for s in shares] == [
        ({"user": people.peer.user_id}, "edit", "manual")
    ]
    assert (
        people.rep.delete(
            f"{REC}/opportunity/{deal['id']}/shares/{people.peer.user_id}"
        ).status_code
        == 204
    )
    assert not sees(people.peer, "opportunity", deal["id"])


def test_sharing_with_a_role_and_subordinates(people):
    deal = create(people.rep, "opportunity", name="For service")
    people.rep.post(
        f"{REC}/opportunity/{deal['id']}/shares",
        json={"role_and_subordinates": "service_manager", "access": "read"},
    )
    assert sees(people.agent, "opportunity", deal["id"])
    assert sees(people.service_manager, "opportunity", deal["id"])
    assert not sees(people.outsider, "opportunity", deal["id"])


def test_controlled_by_parent_children_follow_the_master(people):
    deal = create(people.rep, "opportunity", name="Parent")
    item = create(people.rep, "line_item", name="Item", opportunity=deal["id"])
    assert sees(people.manager, "line_item", item["id"])
    assert not sees(people.peer, "line_item", item["id"])
    people.rep.post(
        f"{REC}/opportunity/{deal['id']}/shares",
        json={"user": people.peer.user_id, "access": "read"},
    )
    assert sees(people.peer, "line_item", item["id"])
    assert (
        people.peer.patch(f"{REC}/line_item/{item['id']}", json={"quantity": 3}).status_code == 403
    )


def test_public_read_and_public_read_write(people):
    note = create(people.rep, "announcement", name="Hello")
    idea = create(people.rep, "idea", name="Better coffee")
    assert sees(people.outsider, "announcement", note["id"])
    assert (
        people.outsider.patch(f"{REC}/announcement/{note['id']}", json={"name": "x"}).status_code
        == 403
    )
    assert sees(people.outsider, "idea", idea["id"])
    assert edits(people.outsider, "idea", idea["id"])


def test_queue_ownership(people, org):
    queue_id = org.models.model_for_snapshot_version if False else None
    with org.reading() as (_conn, model):
        queue_id = model.security.queues["support"].id
    ticket = (
        create(people.agent, "ticket", name="Printer on fire", owner_id=queue_id) if False else None
    )
    ticket = create(people.admin, "ticket", name="Printer on fire")
    assert (
        people.admin.patch(f"{REC}/ticket/{ticket['id']}", json={"owner_id": queue_id}).status_code
        == 200
    )
    assert sees(people.queue_member, "ticket", ticket["id"])
    assert edits(people.queue_member, "ticket", ticket["id"])
    assert not sees(people.agent, "ticket", ticket["id"])


def test_view_all_and_admins_bypass_sharing(people):
    deal = create(people.rep, "opportunity", name="Hidden")
    assert sees(people.auditor, "opportunity", deal["id"])
    assert sees(people.admin, "opportunity", deal["id"])
    assert (
        people.auditor.patch(f"{REC}/opportunity/{deal['id']}", json={"name": "x"}).status_code
        == 403
    )


@pytest.mark.parametrize(
    "path", ["get", "history", "related", "restore", "shares", "composite", "lookup"]
)
def test_an_invisible_record_is_404_on_every_path(people, path):
    deal = create(people.rep, "opportunity", name="Secret")
    rid = deal["id"]
    outsider = people.outsider
    if path == "get":
        response = outsider.get(f"{REC}/opportunity/{rid}")
    elif path == "history":
        response = outsider.get(f"{REC}/opportunity/{rid}/history")
    elif path == "related":
        response = outsider.get(f"{REC}/opportunity/{rid}/related/line_item")
    elif path == "restore":
        people.admin.delete(f"{REC}/opportunity/{rid}")
        response = people.deleter.post(f"{REC}/opportunity/{rid}/restore")  # may delete, cannot see
    elif path == "shares":
        response = outsider.get(f"{REC}/opportunity/{rid}/shares")
    elif path == "composite":
        body = {"operations": [{"method": "GET", "url": f"/records/opportunity/{rid}"}]}
        response = outsider.post("/api/v1/composite", json=body)
        assert response.get_json()["results"][0]["status"] == 404
        return
    else:
        response = outsider.post(f"{REC}/line_item", json={"name": "x", "opportunity": rid})
        assert response.status_code == 400
        assert response.get_json()["errors"]["opportunity"] == [f"no opportunity record '{rid}'"]
        return
    assert response.status_code == 404, response.get_json()


def test_search_only_finds_visible_records(people):
    create(people.rep, "opportunity", name="Zebra deal")
    assert [
        h["name"] for h in people.manager.get("/api/v1/search?q=Zebra").get_json()["results"]
    ] == ["Zebra deal"]
    assert people.outsider.get("/api/v1/search?q=Zebra").get_json()["results"] == []


def test_aggregates_only_count_visible_records(people):
    create(people.rep, "opportunity", name="A", amount=10)
    create(people.peer, "opportunity", name="B", amount=20)
    groups = people.rep.get(f"{REC}/opportunity/aggregate?metrics=count,sum(amount)").get_json()[
        "groups"
    ]
    assert groups[0]["count"] == 1
    assert (
        people.manager.get(f"{REC}/opportunity/aggregate?metrics=count").get_json()["groups"][0][
            "count"
        ]
        == 2
    )


def test_dotted_lookup_values_through_an_invisible_record_read_as_empty(people):
    account = create(people.peer, "account", name="Peer account")
    deal = create(people.peer, "opportunity", name="Deal", account=account["id"])
    people.peer.post(
        f"{REC}/opportunity/{deal['id']}/shares",
        json={"user": people.outsider.user_id, "access": "read"},
    )
    record = people.outsider.get(
        f"{REC}/opportunity/{deal['id']}?fields=name,account.name"
    ).get_json()
    assert record["account.name"] is None
    filtered = people.outsider.get(
        f"{REC}/opportunity?where=account.name == 'Peer account'"
    ).get_json()
    assert filtered["records"] == []
