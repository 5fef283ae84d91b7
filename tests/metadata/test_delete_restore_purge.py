"""Deleting is soft (hidden, data kept, restorable); purging needs an explicit confirmation."""

from __future__ import annotations

from tests.conftest import insert_rows, physical, read_column, table_columns, table_exists

OBJECTS = "/api/v1/metadata/objects"


def _project(api, org):
    api.post(
        OBJECTS,
        json={
            "api_name": "project",
            "fields": [{"api_name": "code", "type": "text", "unique": True}],
        },
    )
    insert_rows(org, "project", [{"code": "A-1"}])


def _field_names(api):
    return [f["api_name"] for f in api.get(f"{OBJECTS}/project").get_json()["fields"]]


def test_deleted_field_is_hidden_but_its_data_is_kept(api, org):
    _project(api, org)

    response = api.delete(f"{OBJECTS}/project/fields/code")

    assert response.status_code == 200
    assert response.get_json()["status"] == "deleted"
    assert _field_names(api) == ["name"]
    assert "code" in table_columns(org, "o_project")
    deleted = api.get(f"{OBJECTS}/project/fields?deleted=true").get_json()["fields"]
    assert [f["api_name"] for f in deleted] == ["code"]
    with org.reading() as (_conn, model):
        assert "code" not in model.objects["project"].fields


def test_restored_field_comes_back_with_its_data(api, org):
    _project(api, org)
    api.delete(f"{OBJECTS}/project/fields/code")

    response = api.post(f"{OBJECTS}/project/fields/code/restore")

    assert response.status_code == 200
    assert _field_names(api) == ["name", "code"]
    assert read_column(org, "project", "code") == ["A-1"]


def test_a_deleted_field_keeps_its_name(api, org):
    _project(api, org)
    api.delete(f"{OBJECTS}/project/fields/code")
    response = api.post(f"{OBJECTS}/project/fields", json={"api_name": "code", "type": "integer"})
    assert response.status_code == 409
    assert "recycle bin" in response.get_json()["detail"]


def test_purge_needs_the_name_as_confirmation(api, org):
    _project(api, org)

    refused = api.delete(f"{OBJECTS}/project/fields/code?purge=true")
    wrong = api.delete(f"{OBJECTS}/project/fields/code?purge=true&confirm=name")

    assert refused.status_code == 400 and "confirm" in refused.get_json()["errors"]
    assert wrong.status_code == 400
    assert "code" in table_columns(org, "o_project")


def test_purged_field_loses_its_column_and_a_new_field_gets_a_new_one(api, org):
    _project(api, org)
    response = api.delete(f"{OBJECTS}/project/fields/code?purge=true&confirm=code")
    assert response.status_code == 200
    assert "code" not in table_columns(org, "o_project")

    again = api.post(f"{OBJECTS}/project/fields", json={"api_name": "code", "type": "integer"})

    assert again.status_code == 201
    assert read_column(org, "project", "code") == [None]  # the old data did not come back
    assert physical(org, "project", "code")["columns"][""] in table_columns(org, "o_project")


def test_purging_a_changed_field_drops_its_retired_column_too(api, org):
    api.post(
        OBJECTS, json={"api_name": "project", "fields": [{"api_name": "seats", "type": "integer"}]}
    )
    api.patch(f"{OBJECTS}/project/fields/seats", json={"type": "decimal"})
    columns = physical(org, "project", "seats")
    api.delete(f"{OBJECTS}/project/fields/seats?purge=true&confirm=seats")
    remaining = table_columns(org, "o_project")
    assert columns["columns"][""] not in remaining
    assert columns["retired_columns"][0] not in remaining


def test_deleting_and_restoring_an_object(api, org):
    _project(api, org)

    deleted = api.delete(f"{OBJECTS}/project")
    listed = api.get(OBJECTS).get_json()["objects"]
    in_bin = api.get(f"{OBJECTS}?include_deleted=true").get_json()["objects"]
    restored = api.post(f"{OBJECTS}/project/restore")

    assert deleted.get_json()["status"] == "deleted"
    assert listed == []
    assert [o["api_name"] for o in in_bin] == ["project"]
    assert restored.status_code == 200 and "status" not in restored.get_json()
    assert read_column(org, "project", "code") == ["A-1"]


def test_purging_an_object_drops_its_table(api, org):
    _project(api, org)
    assert api.delete(f"{OBJECTS}/project?purge=true").status_code == 400
    assert api.delete(f"{OBJECTS}/project?purge=true&confirm=project").status_code == 200
    assert not table_exists(org, "o_project")
    assert api.get(f"{OBJECTS}/project").status_code == 404
    assert api.post(OBJECTS, json={"api_name": "project"}).status_code == 201


def test_an_object_others_point_at_cannot_be_deleted(api):
    api.post(OBJECTS, json={"api_name": "account"})
    api.post(
        OBJECTS,
        json={
            "api_name": "contact",
            "fields": [{"api_name": "account", "type": "lookup", "target": "account"}],
        },
    )
    response = api.delete(f"{OBJECTS}/account")
    assert response.status_code == 400
    assert "contact.fields.account.target" in response.get_json()["errors"]


def test_a_field_in_use_cannot_be_deleted(api):
    api.post(OBJECTS, json={"api_name": "account"})
    api.post(
        OBJECTS,
        json={
            "api_name": "deal",
            "fields": [
                {"api_name": "account", "type": "lookup", "target": "account"},
                {"api_name": "amount", "type": "currency"},
            ],
        },
    )
    api.post(
        f"{OBJECTS}/account/fields",
        json={
            "api_name": "pipeline",
            "type": "rollup_summary",
            "relation": "deal.account",
            "function": "sum",
            "field": "amount",
        },
    )
    response = api.delete(f"{OBJECTS}/deal/fields/amount")
    assert response.status_code == 409
    assert {"kind": "field", "name": "account.pipeline", "where": "field"} in (
        response.get_json()["usages"]
    )
    assert api.get(f"{OBJECTS}/deal/fields/amount").get_json().get("status") is None


def test_the_name_field_cannot_be_deleted(api):
    api.post(OBJECTS, json={"api_name": "project"})
    response = api.delete(f"{OBJECTS}/project/fields/name")
    assert response.status_code == 409
    assert response.get_json()["usages"] == [
        {"kind": "object", "name": "project", "where": "name_field"}
    ]
