"""Scenario 1: create, read, update, delete to the recycle bin, restore and purge records."""

from __future__ import annotations

from decimal import Decimal

REC = "/api/v1/records"


def test_create_answers_201_with_the_stored_record(projects):
    response = projects.post(f"{REC}/project", json={"name": "Apollo", "budget": "1200.50"})

    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/records/project/{body['id']}"
    assert response.headers["ETag"] == '"1"'
    assert body["name"] == "Apollo"
    assert body["budget"] == Decimal("1200.50")
    assert body["version"] == 1
    assert len(body["id"]) == 36
    assert body["created_at"].endswith("+00:00")
    assert body["created_by"] == body["owner_id"] == body["updated_by"]
    assert body["stage"] == "Planned"  # the picklist's default value
    assert body["probability"] == Decimal("50.00")  # the field's literal default
    assert body["number"] == "PRJ-00001"


def test_read_back(projects):
    created = projects.post(f"{REC}/project", json={"name": "Apollo"}).get_json()
    response = projects.get(f"{REC}/project/{created['id']}")
    assert response.status_code == 200
    assert response.get_json() == created
    assert response.headers["ETag"] == '"1"'


def test_update_changes_only_what_is_sent(projects):
    created = projects.post(f"{REC}/project", json={"name": "Apollo", "budget": 100}).get_json()

    response = projects.patch(f"{REC}/project/{created['id']}", json={"budget": 250})

    body = response.get_json()
    assert response.status_code == 200
    assert body["budget"] == Decimal("250.00") and body["name"] == "Apollo"
    assert body["version"] == 2
    assert response.headers["ETag"] == '"2"'


def test_an_unchanged_update_keeps_the_version(projects):
    created = projects.post(f"{REC}/project", json={"name": "Apollo"}).get_json()
    response = projects.patch(f"{REC}/project/{created['id']}", json={"name": "Apollo"})
    assert response.get_json()["version"] == 1


def test_delete_moves_to_the_recycle_bin_and_restore_brings_back(projects):
    record = projects.post(f"{REC}/project", json={"name": "Apollo"}).get_json()

    deleted = projects.delete(f"{REC}/project/{record['id']}")
    gone = projects.get(f"{REC}/project/{record['id']}")
    in_bin = projects.get(f"{REC}/project?deleted=true").get_json()["records"]
    restored = projects.post(f"{REC}/project/{record['id']}/restore")

    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert [r["id"] for r in in_bin] == [record["id"]] and "deleted_at" in in_bin[0]
    assert restored.status_code == 200 and restored.get_json()["name"] == "Apollo"
    assert projects.get(f"{REC}/project?deleted=true").get_json()["records"] == []


def test_purge_removes_for_good(projects):
    record = projects.post(f"{REC}/project", json={"name": "Apollo"}).get_json()
    projects.delete(f"{REC}/project/{record['id']}")

    purged = projects.delete(f"{REC}/project/{record['id']}?purge=true")

    assert purged.status_code == 204
    assert projects.post(f"{REC}/project/{record['id']}/restore").status_code == 404
    assert projects.get(f"{REC}/project?deleted=true").get_json()["records"] == []


def test_purge_only_works_from_the_recycle_bin(projects):
    record = projects.post(f"{REC}/project", json={"name": "Apollo"}).get_json()
    assert projects.delete(f"{REC}/project/{record['id']}?purge=true").status_code == 404
    assert projects.get(f"{REC}/project/{record['id']}").status_code == 200


def test_an_object_created_a_second_ago_has_records(api):
    api.post("/api/v1/metadata/objects", json={"api_name": "gadget"})
    response = api.post(f"{REC}/gadget", json={"name": "Widget"})
    assert response.status_code == 201


def test_master_detail_children_go_and_come_back_with_their_parent(projects):
    project = projects.post(f"{REC}/project", json={"name": "Apollo"}).get_json()
    task = projects.post(
        f"{REC}/task", json={"name": "Design", "project": project["id"]}
    ).get_json()
    other = projects.post(f"{REC}/project", json={"name": "Gemini"}).get_json()
    lone = projects.post(f"{REC}/task", json={"name": "Lone", "project": other["id"]}).get_json()
    projects.delete(f"{REC}/task/{lone['id']}")  # deleted earlier, on its own

    projects.delete(f"{REC}/project/{project['id']}")
    assert projects.get(f"{REC}/task/{task['id']}").status_code == 404

    projects.post(f"{REC}/project/{project['id']}/restore")
    assert projects.get(f"{REC}/task/{task['id']}").status_code == 200
    assert projects.get(f"{REC}/task/{lone['id']}").status_code == 404  # not in that batch


def test_set_null_lookups_are_cleared_and_relinked_on_restore(projects):
    account = projects.post(f"{REC}/account", json={"name": "Acme"}).get_json()
    project = projects.post(
        f"{REC}/project", json={"name": "Apollo", "account": account["id"]}
    ).get_json()

    projects.delete(f"{REC}/account/{account['id']}")
    assert projects.get(f"{REC}/project/{project['id']}").get_json()["account"] is None

    projects.post(f"{REC}/account/{account['id']}/restore")
    assert projects.get(f"{REC}/project/{project['id']}").get_json()["account"] == account["id"]


def test_restrict_lookups_refuse_the_delete(api):
    api.post("/api/v1/metadata/objects", json={"api_name": "vendor"})
    api.post(
        "/api/v1/metadata/objects",
        json={
            "api_name": "purchase",
            "fields": [
                {
                    "api_name": "vendor",
                    "type": "lookup",
                    "target": "vendor",
                    "on_delete": "restrict",
                }
            ],
        },
    )
    vendor = api.post(f"{REC}/vendor", json={"name": "Initech"}).get_json()
    api.post(f"{REC}/purchase", json={"name": "PO-1", "vendor": vendor["id"]})

    response = api.delete(f"{REC}/vendor/{vendor['id']}")

    assert response.status_code == 409
    assert "1 purchase records point at it" in response.get_json()["detail"]
    assert api.get(f"{REC}/vendor/{vendor['id']}").status_code == 200


def test_restoring_into_a_unique_conflict_is_409(projects):
    first = projects.post(f"{REC}/project", json={"name": "A", "code": "X-1"}).get_json()
    projects.delete(f"{REC}/project/{first['id']}")
    projects.post(f"{REC}/project", json={"name": "B", "code": "X-1"})

    response = projects.post(f"{REC}/project/{first['id']}/restore")

    assert response.status_code == 409
    assert projects.get(f"{REC}/project/{first['id']}").status_code == 404


def test_related_children(projects):
    project = projects.post(f"{REC}/project", json={"name": "Apollo"}).get_json()
    for name in ("Design", "Build"):
        projects.post(f"{REC}/task", json={"name": name, "project": project["id"]})

    response = projects.get(f"{REC}/project/{project['id']}/related/task?order_by=name&fields=name")

    assert response.status_code == 200
    assert [r["name"] for r in response.get_json()["records"]] == ["Build", "Design"]
    assert projects.get(f"{REC}/project/{project['id']}/related/nothing").status_code == 404


def test_a_polymorphic_lookup_is_relinked_to_the_right_object_on_restore(api):
    api.post("/api/v1/metadata/objects", json={"api_name": "company"})
    api.post("/api/v1/metadata/objects", json={"api_name": "person"})
    api.post(
        "/api/v1/metadata/objects",
        json={
            "api_name": "note",
            "fields": [
                {"api_name": "about", "type": "lookup", "targets": ["company", "person"]},
            ],
        },
    )
    person = api.post(f"{REC}/person", json={"name": "Ada"}).get_json()
    note = api.post(
        f"{REC}/note", json={"name": "n", "about": {"object": "person", "id": person["id"]}}
    ).get_json()

    api.delete(f"{REC}/person/{person['id']}")
    assert api.get(f"{REC}/note/{note['id']}").get_json()["about"] is None
    api.post(f"{REC}/person/{person['id']}/restore")

    assert api.get(f"{REC}/note/{note['id']}").get_json()["about"] == {
        "object": "person",
        "id": person["id"],
    }


def test_a_delete_answers_204_without_a_body_or_a_content_type(projects):
    record = projects.post(f"{REC}/project", json={"name": "Apollo"}).get_json()
    deleted = projects.delete(f"{REC}/project/{record['id']}")
    assert deleted.status_code == 204
    assert deleted.data == b""
    assert "Content-Type" not in deleted.headers
    purged = projects.delete(f"{REC}/project/{record['id']}?purge=true")
    assert purged.status_code == 204 and "Content-Type" not in purged.headers


def test_unknown_query_parameters_are_refused_naming_them(projects):
    record = projects.post(f"{REC}/project", json={"name": "Apollo"}).get_json()
    projects.post(f"{REC}/project", json={"name": "Gemini"})
    for url, names in (
        (f"{REC}/project?limt=1", ["limt"]),
        (f"{REC}/project?format=csv&limit=1", ["format"]),
        (f"{REC}/project/{record['id']}?format=csv", ["format"]),
        (f"{REC}/project/{record['id']}?limit=1", ["limit"]),
        (f"{REC}/project/{record['id']}/history?page=2", ["page"]),
        (f"{REC}/project/aggregate?metric=count", ["metric"]),
    ):
        response = projects.get(url)
        assert response.status_code == 400, url
        assert response.content_type == "application/problem+json"
        problem = response.get_json()
        assert sorted(problem["errors"]) == names, url
        assert "unknown query parameter" in problem["detail"]
    assert (
        "purge"
        in projects.delete(f"{REC}/project/{record['id']}?purg=true").get_json()["errors"]["purg"][
            0
        ]
    )
    assert projects.get(f"{REC}/project/{record['id']}").status_code == 200  # nothing deleted
    assert len(projects.get(f"{REC}/project?limit=1").get_json()["records"]) == 1
