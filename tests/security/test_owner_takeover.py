"""Owner takeover: an edit share lets a user change a record, never take it or give it away;
nobody creates records in someone else's name without full access or transfer_records;
the system user never owns data. Re-sharing needs full access too."""

from __future__ import annotations

import pytest

from crm_platform.core.tables import SYSTEM_USER_ID

from .conftest import create

REC = "/api/v1/records"


def _owner(client, record):
    return client.get(f"{REC}/opportunity/{record['id']}").get_json()["owner_id"]


def _refused_naming_owner(response, status=403):
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert "owner_id" in response.get_json()["errors"]


@pytest.fixture
def shared_deal(people):
    """A deal the rep owns and shares with the peer for editing."""
    deal = create(people.rep, "opportunity", name="Shared for edit", amount=100)
    response = people.rep.post(
        f"{REC}/opportunity/{deal['id']}/shares",
        json={"user": people.peer.user_id, "access": "edit"},
    )
    assert response.status_code == 201
    return deal


def test_taking_ownership_through_an_edit_share_is_refused(people, shared_deal):
    response = people.peer.patch(
        f"{REC}/opportunity/{shared_deal['id']}", json={"owner_id": people.peer.user_id}
    )
    _refused_naming_owner(response)
    assert _owner(people.rep, shared_deal) == people.rep.user_id
    # the share still lets the peer change the record itself
    assert (
        people.peer.patch(
            f"{REC}/opportunity/{shared_deal['id']}", json={"name": "Edited"}
        ).status_code
        == 200
    )


def test_a_refused_takeover_changes_nothing_else_in_the_same_request(people, shared_deal):
    response = people.peer.patch(
        f"{REC}/opportunity/{shared_deal['id']}",
        json={"owner_id": people.peer.user_id, "name": "Mine now"},
    )
    _refused_naming_owner(response)
    record = people.rep.get(f"{REC}/opportunity/{shared_deal['id']}").get_json()
    assert record["name"] == "Shared for edit" and record["version"] == 1


def test_giving_a_shared_record_to_a_third_user_is_refused(people, shared_deal):
    response = people.peer.patch(
        f"{REC}/opportunity/{shared_deal['id']}", json={"owner_id": people.outsider.user_id}
    )
    _refused_naming_owner(response)
    assert _owner(people.rep, shared_deal) == people.rep.user_id


def test_the_owner_a_manager_above_and_modify_all_may_transfer(people, put_metadata, make_user):
    deal = create(people.rep, "opportunity", name="Transferable")
    url = f"{REC}/opportunity/{deal['id']}"
    assert people.rep.patch(url, json={"owner_id": people.peer.user_id}).status_code == 200
    # the manager sits above the peer (both sales reps) in the role hierarchy
    assert people.manager.patch(url, json={"owner_id": people.rep.user_id}).status_code == 200
    assert people.admin.patch(url, json={"owner_id": people.peer.user_id}).status_code == 200
    put_metadata(
        "permission_set",
        {"api_name": "deal_admin", "objects": {"opportunity": {"read": True, "modify_all": True}}},
    )
    deal_admin = make_user("dealadmin@example.com", profile="sales_rep", sets=("deal_admin",))
    assert deal_admin.patch(url, json={"owner_id": people.rep.user_id}).status_code == 200
    assert _owner(people.admin, deal) == people.rep.user_id


def test_transfer_records_permission_lets_an_editor_transfer(people, put_metadata, make_user):
    put_metadata("permission_set", {"api_name": "transferer", "system": ["transfer_records"]})
    mover = make_user("mover@example.com", profile="sales_rep", sets=("transferer",))
    deal = create(people.rep, "opportunity", name="Moves")
    people.rep.post(
        f"{REC}/opportunity/{deal['id']}/shares", json={"user": mover.user_id, "access": "edit"}
    )
    response = mover.patch(
        f"{REC}/opportunity/{deal['id']}", json={"owner_id": people.peer.user_id}
    )
    assert response.status_code == 200
    assert _owner(people.admin, deal) == people.peer.user_id


def test_creating_a_record_in_someone_elses_name_is_refused(people):
    response = people.rep.post(
        f"{REC}/opportunity", json={"name": "Planted", "owner_id": people.peer.user_id}
    )
    _refused_naming_owner(response)
    assert people.admin.get(f"{REC}/opportunity?count=true").get_json()["total"] == 0


def test_a_manager_may_create_records_for_their_reports(people):
    deal = create(people.manager, "opportunity", name="For you", owner_id=people.rep.user_id)
    assert deal["owner_id"] == people.rep.user_id
    refused = people.manager.post(
        f"{REC}/opportunity", json={"name": "Upward", "owner_id": people.vp.user_id}
    )
    _refused_naming_owner(refused)


def test_creating_a_record_owned_by_the_system_user_is_refused(people):
    _refused_naming_owner(
        people.rep.post(f"{REC}/opportunity", json={"name": "Ghost", "owner_id": SYSTEM_USER_ID})
    )
    # not even an administrator may give data to the system user
    _refused_naming_owner(
        people.admin.post(f"{REC}/opportunity", json={"name": "Ghost", "owner_id": SYSTEM_USER_ID}),
        status=400,
    )
    deal = create(people.admin, "opportunity", name="Real")
    _refused_naming_owner(
        people.admin.patch(f"{REC}/opportunity/{deal['id']}", json={"owner_id": SYSTEM_USER_ID}),
        status=400,
    )
    assert people.admin.get(f"{REC}/opportunity?count=true").get_json()["total"] == 1


def test_the_system_user_itself_cannot_own_what_it_creates(org):
    from crm_platform.core import ValidationFailed
    from crm_platform.runtime import system_user

    org.metadata.create_object({"api_name": "memo"}, author_id=SYSTEM_USER_ID)
    with org.db.read() as conn:
        system = system_user(conn)
    with pytest.raises(ValidationFailed) as refused, org.records.session(system) as session:
        session.create("memo", {"name": "Orphan"})
    assert "owner_id" in refused.value.errors


def test_taking_ownership_through_a_composite_batch_is_refused(people, shared_deal):
    body = {
        "operations": [
            {
                "method": "PATCH",
                "url": f"/records/opportunity/{shared_deal['id']}",
                "body": {"owner_id": people.peer.user_id},
            },
            {
                "method": "POST",
                "url": "/records/opportunity",
                "body": {"name": "Planted", "owner_id": people.outsider.user_id},
            },
        ],
        "all_or_none": False,
    }
    response = people.peer.post("/api/v1/composite", json=body)
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [403, 403]
    assert all("owner_id" in r["body"]["errors"] for r in results)
    assert _owner(people.rep, shared_deal) == people.rep.user_id


def test_taking_ownership_through_an_upsert_is_refused(people, api, shared_deal):
    added = api.post(
        "/api/v1/metadata/objects/opportunity/fields",
        json={"api_name": "ext_ref", "type": "external_id"},
    )
    assert added.status_code == 201, added.get_json()
    people.rep.patch(f"{REC}/opportunity/{shared_deal['id']}", json={"ext_ref": "D-1"})
    update = people.peer.put(
        f"{REC}/opportunity/by/ext_ref/D-1", json={"owner_id": people.peer.user_id}
    )
    _refused_naming_owner(update)
    insert = people.peer.put(
        f"{REC}/opportunity/by/ext_ref/D-2", json={"name": "New", "owner_id": people.rep.user_id}
    )
    _refused_naming_owner(insert)
    assert _owner(people.rep, shared_deal) == people.rep.user_id
    assert people.admin.get(f"{REC}/opportunity?count=true").get_json()["total"] == 1


def test_resharing_with_only_edit_access_is_refused(people, shared_deal):
    url = f"{REC}/opportunity/{shared_deal['id']}/shares"
    response = people.peer.post(url, json={"user": people.outsider.user_id, "access": "edit"})
    assert response.status_code == 403
    assert "full access" in response.get_json()["detail"]
    assert people.peer.delete(f"{url}/{people.peer.user_id}").status_code == 403
    keys = [s["key"] for s in people.rep.get(url).get_json()["shares"]]
    assert keys == [people.peer.user_id]


def test_owner_and_manager_above_may_share(people, shared_deal):
    url = f"{REC}/opportunity/{shared_deal['id']}/shares"
    response = people.manager.post(url, json={"user": people.outsider.user_id, "access": "read"})
    assert response.status_code == 201
    assert people.rep.delete(f"{url}/{people.outsider.user_id}").status_code == 204
