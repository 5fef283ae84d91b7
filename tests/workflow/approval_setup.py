"""The approvals org: the automation fixture plus `approvals` (the issue's discount process, the
``finance_approvers`` queue), roles with a hierarchy, users with managers, queue and
group members — each an API client."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from crm_platform.core.tables import group_members, queue_members
from crm_platform.runtime import create_user
from tests.clock import Clock

from ..conftest import ApiClient, make_token

# email -> (profile, role, manager's email, queues, groups)
PEOPLE = {
    "vp": ("approvals_rep", "approvals_vp", None, (), ()),
    "manager": ("approvals_rep", "approvals_manager", "vp", (), ()),
    "rep": ("approvals_rep", "approvals_rep", "manager", (), ()),
    "loner": ("approvals_rep", "approvals_rep", None, (), ()),
    "outsider": ("approvals_rep", None, None, (), ()),
    "finance1": ("approvals_finance", None, None, ("finance_approvers",), ()),
    "finance2": ("approvals_finance", None, None, ("finance_approvers",), ()),
    "desk1": ("approvals_finance", None, None, (), ("deal_desk",)),
    "desk2": ("approvals_finance", None, None, (), ("deal_desk",)),
}


@pytest.fixture
def deal(org, app, api, load_metadata):
    """Everyone as an API client (``deal.rep``...), the admin, the org and its clock."""
    load_metadata("automation")
    load_metadata("approvals")
    clock = Clock()
    org.clock = clock
    people = SimpleNamespace(org=org, admin=api, clock=clock, ids={})
    with org.db.write() as conn:
        for name, (profile, role, manager, queues, groups) in PEOPLE.items():
            user = create_user(
                conn,
                email=f"{name}@example.com",
                name=name.title(),
                profile=profile,
                role=role,
                manager_id=people.ids.get(manager),
            )
            people.ids[name] = user.id
            for queue in queues:
                conn.execute(queue_members.insert().values(queue_name=queue, user_id=user.id))
            for group in groups:
                conn.execute(group_members.insert().values(group_name=group, user_id=user.id))
    for name in PEOPLE:
        client = ApiClient(app.test_client(), make_token(org, f"{name}@example.com"))
        client.user_id = people.ids[name]
        setattr(people, name, client)
    return people


def opportunity(client, **values) -> str:
    """A new opportunity created by ``client``; its id."""
    response = client.post("/api/v1/records/opportunity", json={"name": "Deal", **values})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def act(client, record_id: str, action: str, body=None, object_name: str = "opportunity"):
    """POST an approval action on a record."""
    return client.post(f"/api/v1/records/{object_name}/{record_id}/approval/{action}", json=body)


def state(client, record_id: str, object_name: str = "opportunity") -> dict:
    response = client.get(f"/api/v1/records/{object_name}/{record_id}/approval")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def pending_of(client) -> list[dict]:
    response = client.get("/api/v1/approvals/pending")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["pending"]


def record(client, record_id: str) -> dict:
    response = client.get(f"/api/v1/records/opportunity/{record_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()
