"""Bad assignment rules are refused when saved, naming the path: an unknown object, queue,
group or user, a queue that does not take the object, an expression that does not
type-check, a second active rule on the object; the metadata API and YAML both take them."""

from __future__ import annotations

import pytest

from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.yamlio import read_definitions

from ..conftest import FIXTURES

RULES = "/api/v1/metadata/assignment_rules"


@pytest.fixture
def crm(api, org, load_metadata):
    load_metadata("automation")
    definitions = [(k, d) for k, d, _ in read_definitions(FIXTURES / "assignment")]
    org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)
    return api


def rule(*entries, **more):
    return {
        "api_name": "other",
        "object": "case",
        "active": False,
        "entries": list(entries),
        **more,
    }


def errors(response) -> dict:
    assert response.status_code == 400, response.get_json()
    return response.get_json()["errors"]


def test_the_routing_rule_reads_back_as_written(crm):
    body = crm.get(f"{RULES}/case.routing").get_json()
    assert body["entries"][2] == {
        "assign_to": {"least_loaded": "support", "open": "status != 'Closed'"}
    }
    assert [r["api_name"] for r in crm.get(RULES).get_json()["assignment_rules"]] == ["routing"]


@pytest.mark.parametrize(
    ("entry", "path", "message"),
    [
        ({"assign_to": {"queue": "nowhere"}}, "entries[0].assign_to.queue", "no queue 'nowhere'"),
        ({"assign_to": {"round_robin": "ghosts"}}, "entries[0].assign_to.round_robin", "no group"),
        (
            {"assign_to": {"least_loaded": "ghosts", "open": "status != 'Closed'"}},
            "entries[0].assign_to.least_loaded",
            "no group 'ghosts'",
        ),
        (
            {"assign_to": {"least_loaded": "support", "open": "stauts != 'Closed'"}},
            "entries[0].assign_to.open",
            "unknown field 'stauts'",
        ),
        (
            {"when": "priority", "assign_to": {"queue": "tier2"}},
            "entries[0].when",
            "boolean",
        ),
        (
            {"assign_to": {"user": "nobody@example.com"}},
            "entries[0].assign_to.user",
            "no active user 'nobody@example.com'",
        ),
        ({"assign_to": {"team": "x"}}, "entries[0].assign_to", ""),
    ],
)
def test_a_bad_entry_is_refused_naming_its_path(crm, entry, path, message):
    found = errors(crm.post(RULES, json=rule(entry)))
    where = next(k for k in found if k.endswith(path))
    assert message in " ".join(found[where])
    assert crm.get(f"{RULES}/case.other").status_code == 404


def test_a_queue_that_does_not_take_the_object_is_refused(crm):
    queue = {"api_name": "deals", "objects": ["opportunity"]}
    assert crm.post("/api/v1/metadata/queues", json=queue).status_code == 201
    found = errors(crm.post(RULES, json=rule({"assign_to": {"queue": "deals"}})))
    assert found["case.other.entries[0].assign_to.queue"] == [
        "queue 'deals' does not take case records"
    ]


def test_an_unknown_object_and_a_second_active_rule_are_refused(crm):
    found = errors(crm.post(RULES, json={**rule({"assign_to": {"queue": "tier2"}}), "object": "x"}))
    assert found["x.other.object"] == ["no object 'x'"]
    second = rule({"assign_to": {"queue": "tier2"}}, active=True)
    found = errors(crm.post(RULES, json=second))
    assert (
        "'routing' is already the active assignment rule of case" in found["case.other.active"][0]
    )


def test_a_known_user_is_taken_and_a_queue_in_use_cannot_be_deleted(crm):
    ok = rule({"assign_to": {"user": "Admin@Example.com"}})
    assert crm.post(RULES, json=ok).status_code == 201
    response = crm.delete("/api/v1/metadata/queues/tier2")
    assert response.status_code == 400
    assert "no queue 'tier2'" in str(response.get_json()["errors"])


def test_renames_rewrite_the_rule_and_the_where_used_list_names_it(crm, org):
    objects = "/api/v1/metadata/objects"
    renamed = crm.patch(f"{objects}/case/fields/status", json={"api_name": "state"})
    assert renamed.status_code == 200, renamed.get_json()
    routing = crm.get(f"{RULES}/case.routing").get_json()
    assert routing["entries"][2]["assign_to"]["open"] == "state != 'Closed'"
    usages = crm.get(f"{objects}/case/fields/priority/usages").get_json()
    assert {"kind": "assignment_rule", "name": "case.routing", "where": "entries[0].when"} in (
        usages["usages"]
    )
    moved = crm.patch(f"{objects}/case", json={"api_name": "ticket"})
    assert moved.status_code == 200, moved.get_json()
    ticket = crm.get(f"{RULES}/ticket.routing").get_json()
    assert ticket["object"] == "ticket"
    assert crm.get("/api/v1/metadata/queues/tier2").get_json()["objects"] == ["ticket"]
    created = crm.post(
        "/api/v1/records/ticket", json={"name": "n", "subject": "n", "priority": "High"}
    )
    with org.reading() as (_conn, model):
        assert created.get_json()["owner_id"] == model.security.queues["tier2"].id


def test_a_rule_an_assign_action_uses_cannot_be_deleted_or_deactivated(crm, org):
    from crm_platform.metadata import Kind

    # a stand-in for the kinds that hold actions (triggers, approval processes)
    org.registry.register_kind(Kind("probe", "probes", {"type": "object"}, True))
    author = {"author_id": SYSTEM_USER_ID}
    manual = {**rule({"assign_to": {"queue": "tier2"}}), "api_name": "manual"}
    assert crm.post(RULES, json=manual).status_code == 201
    org.metadata.put_component(
        "probe",
        {
            "api_name": "probe_t",
            "object": "case",
            "actions": [{"type": "assign", "rule": "manual"}, {"type": "assign"}],
        },
        **author,
    )
    response = crm.delete(f"{RULES}/case.manual")
    assert response.status_code == 409
    assert response.get_json()["usages"] == [
        {"kind": "probe", "name": "case.probe_t", "where": "actions[0]"}
    ]
    routing = crm.get(f"{RULES}/case.routing").get_json()
    off = {k: v for k, v in routing.items() if k in {"api_name", "object", "entries"}}
    response = crm.put(f"{RULES}/case.routing", json={**off, "active": False})
    assert response.status_code == 409
    assert response.get_json()["usages"] == [
        {"kind": "probe", "name": "case.probe_t", "where": "actions[1]"}
    ]
    assert crm.get(f"{RULES}/case.routing").get_json().get("active", True) is True
    # once no action needs them, both go
    org.metadata.put_component("probe", {"api_name": "probe_t", "object": "case"}, **author)
    assert crm.delete(f"{RULES}/case.manual").status_code == 200
    assert crm.put(f"{RULES}/case.routing", json={**off, "active": False}).status_code == 200
