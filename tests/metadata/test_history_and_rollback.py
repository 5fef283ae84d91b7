"""Every change is a revision: listed, diffed, and rolled back as a new forward revision."""

from __future__ import annotations

from tests.conftest import insert_rows, read_column

OBJECTS = "/api/v1/metadata/objects"


def _version(response) -> int:
    return int(response.headers["X-Metadata-Version"])


def test_history_lists_each_change_newest_first(api):
    v1 = _version(api.post(OBJECTS, json={"api_name": "project", "label": "Project"}))
    v2 = _version(
        api.post(f"{OBJECTS}/project/fields", json={"api_name": "due_date", "type": "date"})
    )
    v3 = _version(api.patch(f"{OBJECTS}/project", json={"label": "Initiative"}))

    history = api.get(f"{OBJECTS}/project/history").get_json()["history"]

    assert [h["revision"] for h in history] == [v3, v2, v1]
    assert history[0]["by"]["email"] == "admin@example.com"
    assert history[0]["changes"] == [
        {
            "kind": "object",
            "name": "project",
            "action": "update",
            "before": {
                "api_name": "project",
                "label": "Project",
                "plural_label": "Projects",
                "name_field": "name",
                "sharing": "public_read_write",
            },
            "after": {
                "api_name": "project",
                "label": "Initiative",
                "plural_label": "Projects",
                "name_field": "name",
                "sharing": "public_read_write",
            },
        }
    ]
    assert {c["name"] for c in history[-1]["changes"]} == {"project", "project.name"}


def test_definition_reads_back_exactly_as_stored_at_each_revision(api):
    v1 = _version(api.post(OBJECTS, json={"api_name": "project"}))
    api.post(f"{OBJECTS}/project/fields", json={"api_name": "budget", "type": "currency"})

    at_v1 = api.get(f"{OBJECTS}/project/history/{v1}").get_json()["definition"]
    now = api.get(f"{OBJECTS}/project").get_json()

    assert [f["api_name"] for f in at_v1["fields"]] == ["name"]
    assert now == api.get(f"{OBJECTS}/project").get_json()
    assert [f["api_name"] for f in now["fields"]] == ["name", "budget"]


def test_diff_between_revisions(api):
    v1 = _version(api.post(OBJECTS, json={"api_name": "project"}))
    api.post(
        f"{OBJECTS}/project/fields",
        json={"api_name": "budget", "type": "currency", "precision": 10},
    )
    assert api.patch(f"{OBJECTS}/project/fields/budget", json={"precision": 16}).status_code == 200

    diff = api.get(f"{OBJECTS}/project/diff?from={v1}").get_json()

    assert diff["from"] == v1
    assert diff["changes"] == [
        {
            "path": "fields.budget",
            "before": None,
            "after": {
                "api_name": "budget",
                "type": "currency",
                "label": "Budget",
                "precision": 16,
                "scale": 2,
            },
        }
    ]
    assert "+- api_name: budget" in diff["text"]


def test_rollback_restores_an_earlier_definition_as_a_new_revision(api, org):
    v1 = _version(
        api.post(
            OBJECTS,
            json={
                "api_name": "project",
                "fields": [{"api_name": "code", "type": "text", "max_length": 20}],
            },
        )
    )
    insert_rows(org, "project", [{"code": "P-1"}])
    api.patch(f"{OBJECTS}/project/fields/code", json={"max_length": 80, "label": "Project code"})
    api.post(f"{OBJECTS}/project/fields", json={"api_name": "budget", "type": "currency"})
    api.delete(f"{OBJECTS}/project/fields/code")

    response = api.post(f"{OBJECTS}/project/rollback", json={"revision": v1})

    assert response.status_code == 200
    fields = {f["api_name"]: f for f in response.get_json()["fields"]}
    assert set(fields) == {"name", "code"}
    assert fields["code"]["max_length"] == 20 and fields["code"]["label"] == "Code"
    assert read_column(org, "project", "code") == ["P-1"]  # the restored field kept its data
    history = api.get(f"{OBJECTS}/project/history").get_json()["history"]
    assert history[0]["revision"] == _version(response) > v1
    restored_budget = api.post(f"{OBJECTS}/project/fields/budget/restore")
    assert restored_budget.status_code == 200  # budget went to the recycle bin, not away


def test_rollback_needs_a_revision(api):
    api.post(OBJECTS, json={"api_name": "project"})
    assert api.post(f"{OBJECTS}/project/rollback", json={}).status_code == 400
    assert api.post(f"{OBJECTS}/nothing/rollback", json={"revision": 1}).status_code == 404


def test_applying_an_unchanged_definition_is_a_no_op(api):
    created = api.post(
        OBJECTS,
        json={"api_name": "project", "fields": [{"api_name": "budget", "type": "currency"}]},
    )
    stored = created.get_json()

    short = api.put(
        f"{OBJECTS}/project",
        json={
            "api_name": "project",
            "fields": [
                {"api_name": "name", "type": "text", "required": True},
                {"api_name": "budget", "type": "currency"},
            ],
        },
    )
    full = api.put(f"{OBJECTS}/project", json=stored)

    assert _version(short) == _version(created)
    assert _version(full) == _version(created)
    assert len(api.get(f"{OBJECTS}/project/history").get_json()["history"]) == 1


def test_put_replaces_the_field_list(api):
    api.post(
        OBJECTS,
        json={"api_name": "project", "fields": [{"api_name": "budget", "type": "currency"}]},
    )
    response = api.put(
        f"{OBJECTS}/project",
        json={
            "api_name": "project",
            "fields": [{"api_name": "name", "type": "text", "required": True}],
        },
    )
    assert [f["api_name"] for f in response.get_json()["fields"]] == ["name"]
    assert [
        f["api_name"]
        for f in api.get(f"{OBJECTS}/project/fields?deleted=true").get_json()["fields"]
    ] == ["budget"]
