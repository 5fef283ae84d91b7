"""Object and field permissions on every path; attacks that must fail."""

from __future__ import annotations

import pytest

from tests.security.conftest import create

REC = "/api/v1/records"


def test_a_rep_without_delete_gets_403(people):
    deal = create(people.rep, "opportunity", name="Keep")
    response = people.rep.delete(f"{REC}/opportunity/{deal['id']}")
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert people.rep.get(f"{REC}/opportunity/{deal['id']}").status_code == 200


def test_no_read_permission_is_403_on_the_object(people):
    assert people.rep.get(f"{REC}/ticket").status_code == 200
    assert people.agent.post(f"{REC}/line_item", json={"name": "x"}).status_code == 403
    assert people.agent.get(f"{REC}/line_item").status_code == 403


def test_a_hidden_field_is_absent_everywhere(people):
    account = create(people.admin, "account", name="Acme", annual_revenue=5000000)
    people.admin.patch(f"{REC}/account/{account['id']}", json={"owner_id": people.rep.user_id})
    rep = people.rep

    got = rep.get(f"{REC}/account/{account['id']}").get_json()
    listed = rep.get(f"{REC}/account").get_json()["records"][0]
    assert "annual_revenue" not in got and "annual_revenue" not in listed
    assert "revenue_band" not in got  # a formula reading a hidden field is hidden too
    for param in (
        "fields=annual_revenue",
        "fields=revenue_band",
        "where=annual_revenue > 1",
        "where=revenue_band == 'large'",
        "order_by=annual_revenue",
    ):
        response = rep.get(f"{REC}/account?{param}")
        assert response.status_code == 400, param
        assert "unknown field" in str(response.get_json()["errors"]), param
    aggregate = rep.get(f"{REC}/account/aggregate?metrics=sum(annual_revenue)")
    assert aggregate.status_code == 400
    deal = create(rep, "opportunity", name="D", account=account["id"])
    dotted = rep.get(f"{REC}/opportunity/{deal['id']}?fields=account.annual_revenue")
    assert dotted.status_code == 400
    through = rep.get(f"{REC}/opportunity?where=account.annual_revenue > 0")
    assert through.status_code == 400
    assert (
        people.admin.get(f"{REC}/account/{account['id']}").get_json()["annual_revenue"] is not None
    )


def test_a_hidden_field_is_not_searchable(people, put_metadata):
    account = create(people.admin, "account", name="Acme")
    people.admin.patch(f"{REC}/account/{account['id']}", json={"owner_id": people.rep.user_id})
    assert [h["name"] for h in people.rep.get("/api/v1/search?q=Acme").get_json()["results"]] == [
        "Acme"
    ]


def test_writing_a_read_only_field_is_403_naming_it(people):
    response = people.rep.post(f"{REC}/opportunity", json={"name": "D", "discount": 5})
    assert response.status_code == 403
    assert response.get_json()["errors"] == {"discount": ["you may not edit this field"]}
    deal = create(people.rep, "opportunity", name="D")
    response = people.rep.patch(f"{REC}/opportunity/{deal['id']}", json={"discount": 5})
    assert response.status_code == 403 and "discount" in response.get_json()["errors"]
    assert people.rep.get(f"{REC}/opportunity/{deal['id']}").get_json()["discount"] is None


def test_writing_a_hidden_field_answers_like_an_unknown_field(people):
    response = people.rep.post(f"{REC}/account", json={"name": "A", "annual_revenue": 5})
    assert response.status_code == 400
    assert response.get_json()["errors"] == {"annual_revenue": ["unknown field of account"]}


def test_encrypted_text_is_masked_unless_view_encrypted(people):
    deal = create(people.rep, "opportunity", name="D", bank_code="DE89370400440532013000")
    assert (
        people.rep.get(f"{REC}/opportunity/{deal['id']}").get_json()["bank_code"]
        == "*" * 18 + "3000"
    )
    assert (
        people.auditor.get(f"{REC}/opportunity/{deal['id']}").get_json()["bank_code"]
        == "DE89370400440532013000"
    )
    response = people.admin.get(f"{REC}/opportunity?where=bank_code == 'x'")
    assert response.status_code == 400  # never usable in where, not even for admins


def test_history_hides_hidden_fields(people, put_metadata, api):
    api.patch(
        "/api/v1/metadata/objects/account/fields/annual_revenue", json={"track_history": True}
    )
    account = create(people.admin, "account", name="Acme", annual_revenue=1)
    people.admin.patch(
        f"{REC}/account/{account['id']}", json={"annual_revenue": 2, "owner_id": people.rep.user_id}
    )
    assert people.admin.get(f"{REC}/account/{account['id']}/history").get_json()["history"]
    assert people.rep.get(f"{REC}/account/{account['id']}/history").get_json()["history"] == []


# --- attacks -------------------------------------------------------------------------


def test_taking_a_record_by_changing_its_owner_fails(people):
    deal = create(people.peer, "opportunity", name="Not yours")
    response = people.rep.patch(
        f"{REC}/opportunity/{deal['id']}", json={"owner_id": people.rep.user_id}
    )
    assert response.status_code == 404
    assert (
        people.peer.get(f"{REC}/opportunity/{deal['id']}").get_json()["owner_id"]
        == people.peer.user_id
    )


def test_giving_away_a_record_then_taking_it_back_fails(people):
    deal = create(people.rep, "opportunity", name="Mine")
    assert (
        people.rep.patch(
            f"{REC}/opportunity/{deal['id']}", json={"owner_id": people.peer.user_id}
        ).status_code
        == 200
    )
    assert (
        people.rep.patch(
            f"{REC}/opportunity/{deal['id']}", json={"owner_id": people.rep.user_id}
        ).status_code
        == 404
    )


def test_guessing_an_id_is_404(people):
    deal = create(people.peer, "opportunity", name="Guess me")
    assert people.rep.get(f"{REC}/opportunity/{deal['id']}").status_code == 404
    assert (
        people.rep.get(f"{REC}/opportunity/01a205f1-0000-7000-8000-000000000000").status_code == 404
    )


def test_upsert_cannot_reach_an_invisible_record(people, api):
    api.post(
        "/api/v1/metadata/objects/opportunity/fields",
        json={"api_name": "erp_id", "type": "external_id"},
    )
    create(people.peer, "opportunity", name="Peer", erp_id="E-1")
    response = people.rep.put(f"{REC}/opportunity/by/erp_id/E-1", json={"name": "Stolen"})
    assert response.status_code == 409  # the value is taken; the record is not revealed or changed
    assert "Stolen" not in str(people.admin.get(f"{REC}/opportunity?fields=name").get_json())


@pytest.mark.parametrize(
    "change",
    [{"role": "ceo"}, {"profile": "auditor"}, {"permission_sets": ["auditor"]}, {"active": True}],
)
def test_users_cannot_raise_their_own_access(people, change):
    response = people.rep.patch(f"/api/v1/users/{people.rep.user_id}", json=change)
    assert response.status_code == 403


def test_users_may_change_their_own_name(people):
    response = people.rep.patch(f"/api/v1/users/{people.rep.user_id}", json={"name": "Rep One"})
    assert response.status_code == 200 and response.get_json()["name"] == "Rep One"


def test_metadata_changes_need_customize_application(people):
    response = people.rep.post(
        "/api/v1/metadata/permission_sets", json={"api_name": "mine", "system": ["modify_all_data"]}
    )
    assert response.status_code == 403
    response = people.rep.put(
        "/api/v1/metadata/permission_sets/sales_rep",
        json={"api_name": "sales_rep", "system": ["modify_all_data", "api_enabled"]},
    )
    assert response.status_code == 403


def test_an_admin_manages_users_through_the_api(people):
    created = people.admin.post(
        "/api/v1/users",
        json={
            "email": "new@example.com",
            "profile": "sales_rep",
            "role": "sales_rep",
            "permission_sets": ["auditor"],
        },
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["role"], body["profile"], body["permission_sets"]) == (
        "sales_rep",
        "sales_rep",
        ["auditor"],
    )
    bad = people.admin.post("/api/v1/users", json={"email": "x@example.com", "role": "nope"})
    assert bad.status_code == 400 and "role" in bad.get_json()["errors"]
    listed = [u["email"] for u in people.admin.get("/api/v1/users").get_json()["users"]]
    assert "new@example.com" in listed and "system@crm.invalid" not in listed
    assert people.rep.get("/api/v1/users").status_code == 403


def test_a_revoked_token_stops_working(people):
    made = people.rep.post("/api/v1/tokens", json={"name": "script"})
    token = made.get_json()["token"]
    client = people.rep.client
    assert (
        client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    assert people.rep.delete(f"/api/v1/tokens/{made.get_json()['id']}").status_code == 204
    assert (
        client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    other = people.peer.post("/api/v1/tokens", json={"name": "peer"}).get_json()["id"]
    assert people.rep.delete(f"/api/v1/tokens/{other}").status_code == 404


def test_setup_audit_says_who_changed_what(people):
    people.admin.post(
        "/api/v1/metadata/objects/idea/fields", json={"api_name": "votes", "type": "integer"}
    )
    changes = people.admin.get("/api/v1/audit/setup?kind=field").get_json()["changes"]
    assert changes[0]["name"] == "idea.votes" and changes[0]["by"]["email"] == "admin@example.com"
    assert people.rep.get("/api/v1/audit/setup").status_code == 403
