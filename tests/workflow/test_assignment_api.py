"""On-demand assignment (``POST /records/<object>/<id>/assign``) and the notifications API:
who may ask, what the answer says, and what the new owner sees."""

from __future__ import annotations

import pytest

from ..conftest import ApiClient, make_token
from .assignment_org import build

REC = "/api/v1/records"
INBOX = "/api/v1/notifications"


@pytest.fixture
def env(org, app):
    env = build(org)
    client = app.test_client()
    for name in ("requester", "lead", "admin"):
        setattr(env, f"{name}_api", ApiClient(client, make_token(org, getattr(env, name).email)))
    env.agent_apis = [ApiClient(client, make_token(org, a.email)) for a in env.agents]
    return env


def test_assign_runs_the_active_rule_on_a_record_the_user_may_edit(env):
    # made without the rule: the rule runs on create, so switch priority after
    created = env.requester_api.post(
        f"{REC}/case", json={"name": "Slow", "subject": "Slow", "priority": "High"}
    ).get_json()
    assert created["owner_id"] == env.tier2
    # a tier 2 lead takes it back to the general pool by lowering the priority, then asks
    case_id = created["id"]
    response = env.admin_api.patch(f"{REC}/case/{case_id}", json={"priority": "Low"})
    assert response.status_code == 200
    answer = env.admin_api.post(f"{REC}/case/{case_id}/assign")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    first = min(a.id for a in env.agents)
    assert body == {"rule": "routing", "entry": 2, "owner_id": first, "changed": True}
    again = env.admin_api.post(f"{REC}/case/{case_id}/assign", json={"rule": "routing"})
    assert again.get_json() == {"rule": "routing", "entry": 2, "owner_id": first, "changed": False}
    agent = next(c for c, a in zip(env.agent_apis, env.agents, strict=True) if a.id == first)
    inbox = agent.get(INBOX).get_json()
    assert inbox["unread"] == 1
    assert inbox["notifications"][0]["message"] == "Case 'Slow' was assigned to you"
    assert inbox["notifications"][0]["record_id"] == case_id


def test_assign_needs_edit_access_and_a_known_rule(env, org):
    created = env.admin_api.post(
        f"{REC}/case", json={"name": "Mine", "subject": "Mine", "priority": "High"}
    ).get_json()
    # the requester cannot see a case the tier 2 queue owns (private sharing): 404
    response = env.requester_api.post(f"{REC}/case/{created['id']}/assign")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")
    unknown = env.admin_api.post(f"{REC}/case/{created['id']}/assign", json={"rule": "nope"})
    assert unknown.status_code == 400
    assert unknown.get_json()["errors"] == {"rule": ["no assignment rule 'nope' on case"]}
    odd = env.admin_api.post(f"{REC}/case/{created['id']}/assign", json={"rulez": "routing"})
    assert odd.get_json()["errors"] == {"rulez": ["unknown option (it takes rule)"]}
    none = env.admin_api.post(f"{REC}/account", json={"name": "Acme"}).get_json()
    answer = env.admin_api.post(f"{REC}/account/{none['id']}/assign")
    assert answer.get_json()["errors"] == {
        "rule": ["account has no active assignment rule: name one"]
    }
    assert env.admin_api.post(f"{REC}/nothing/x/assign").status_code == 404


def test_a_user_who_may_only_read_cannot_assign(env, org, make_user, put_metadata):
    put_metadata(
        "permission_set",
        {
            "api_name": "reader",
            "objects": {"case": {"read": True, "view_all": True}},
            "system": ["api_enabled"],
        },
    )
    reader = make_user("reader@example.com", profile="reader")
    created = env.admin_api.post(
        f"{REC}/case", json={"name": "R", "subject": "R", "priority": "High"}
    ).get_json()
    response = reader.post(f"{REC}/case/{created['id']}/assign")
    assert response.status_code == 403
    assert env.admin_api.get(f"{REC}/case/{created['id']}").get_json()["owner_id"] == env.tier2


def test_notifications_page_unread_first_and_are_marked_read(env):
    lead = env.lead_api
    ids = []
    for i in range(5):
        body = {"name": f"P{i}", "subject": f"P{i}", "priority": "High"}
        ids.append(env.requester_api.post(f"{REC}/case", json=body).get_json()["id"])
    first = lead.get(f"{INBOX}?limit=2").get_json()
    assert first["unread"] == 5
    assert [n["record_id"] for n in first["notifications"]] == ids[::-1][:2]
    # read the newest: it goes after every unread one
    newest = first["notifications"][0]["id"]
    marked = lead.post(f"{INBOX}/{newest}/read").get_json()
    assert marked["read"] is True and marked["read_at"]
    seen, cursor = [], None
    while True:
        page = lead.get(f"{INBOX}?limit=2" + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen += [(n["record_id"], n["read"]) for n in page["notifications"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [(i, False) for i in ids[::-1][1:]] + [(ids[-1], True)]
    assert lead.get(f"{INBOX}?unread=true").get_json()["unread"] == 4
    # someone else's notification is not there for them
    assert env.requester_api.post(f"{INBOX}/{newest}/read").status_code == 404
    assert lead.post(f"{INBOX}/read").get_json() == {"marked": 4}
    assert lead.get(f"{INBOX}?unread=true").get_json() == {
        "notifications": [],
        "next_cursor": None,
        "unread": 0,
    }
    assert lead.get(f"{INBOX}?limit=0").status_code == 400
    assert lead.get(f"{INBOX}?cursor=bogus").get_json()["errors"] == {
        "cursor": ["give the next_cursor of the previous page"]
    }
    assert lead.get(f"{INBOX}?page=2").status_code == 400


def test_the_openapi_document_describes_assignment_and_notifications(env):
    document = env.admin_api.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assign = paths["/records/case/{id}/assign"]["post"]
    assert assign["operationId"] == "assign_case"
    assert {"200", "400", "401", "403", "404"} <= set(assign["responses"])
    assert set(paths["/notifications"]) == {"get"}
    assert set(paths["/notifications/{id}/read"]) - {"parameters"} == {"post"}
    assert set(paths["/notifications/read"]) == {"post"}
    assert {"get", "post"} <= set(paths["/metadata/assignment_rules"])
