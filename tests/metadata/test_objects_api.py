"""Scenario 3 of the metadata issue: objects and fields through the API become real tables."""

from __future__ import annotations

from tests.conftest import physical, table_columns, table_exists, table_indexes

PROJECT = {
    "api_name": "project",
    "label": "Project",
    "fields": [
        {"api_name": "budget", "type": "currency"},
        {"api_name": "stage", "type": "picklist", "values": ["Planned", "Active", "Done"]},
    ],
}


def test_creating_an_object_creates_its_table(api, org):
    response = api.post("/api/v1/metadata/objects", json=PROJECT)

    assert response.status_code == 201
    assert response.headers["Location"] == "/api/v1/metadata/objects/project"
    body = response.get_json()
    assert [f["api_name"] for f in body["fields"]] == ["name", "budget", "stage"]
    assert body["name_field"] == "name"
    table = physical(org, "project")
    assert table == "o_project"
    columns = table_columns(org, table)
    for system in ("id", "owner_id", "created_at", "created_by", "updated_at", "version"):
        assert system in columns
    assert {"name", "budget", "stage"} <= set(columns)


def test_adding_a_field_adds_a_column_without_restart(api, org):
    api.post("/api/v1/metadata/objects", json=PROJECT)

    response = api.post(
        "/api/v1/metadata/objects/project/fields",
        json={"api_name": "due_date", "type": "date", "label": "Due date"},
    )

    assert response.status_code == 201
    assert response.get_json() == {
        "api_name": "due_date",
        "type": "date",
        "label": "Due date",
        "labels": {},  # one label for every language
    }
    assert "due_date" in table_columns(org, "o_project")
    shown = api.get("/api/v1/metadata/objects/project").get_json()
    assert [f["api_name"] for f in shown["fields"]] == ["name", "budget", "stage", "due_date"]
    with org.reading() as (_conn, model):
        assert "due_date" in model.objects["project"].fields


def test_listing_objects(api):
    api.post("/api/v1/metadata/objects", json=PROJECT)
    api.post("/api/v1/metadata/objects", json={"api_name": "task"})

    listed = api.get("/api/v1/metadata/objects").get_json()["objects"]

    assert [o["api_name"] for o in listed] == ["project", "task"]
    assert listed[1]["fields"][0] == {
        "api_name": "name",
        "type": "text",
        "label": "Name",
        "labels": {},
        "max_length": 255,
        "required": True,
    }


def test_every_write_moves_the_metadata_version(api):
    before = int(api.get("/api/v1/metadata").headers["X-Metadata-Version"])
    response = api.post("/api/v1/metadata/objects", json=PROJECT)
    assert int(response.headers["X-Metadata-Version"]) == before + 1


def test_lookup_columns_are_indexed_and_unique_fields_get_a_partial_unique_index(api, org):
    api.post("/api/v1/metadata/objects", json={"api_name": "account"})
    api.post(
        "/api/v1/metadata/objects",
        json={
            "api_name": "contact",
            "fields": [
                {"api_name": "account", "type": "lookup", "target": "account"},
                # (an email's unique index is on lower(email): test_unique_contact_fields)
                {"api_name": "phone", "type": "phone", "unique": True},
                {"api_name": "erp_key", "type": "external_id"},
            ],
        },
    )

    indexes = table_indexes(org, "o_contact")
    by_column = {tuple(i["column_names"]): i for i in indexes.values()}
    assert by_column[("account",)]["unique"] is False or by_column[("account",)]["unique"] == 0
    assert by_column[("phone",)]["unique"]
    assert by_column[("erp_key",)]["unique"]


def test_an_object_names_its_own_name_field(api):
    response = api.post(
        "/api/v1/metadata/objects",
        json={
            "api_name": "invoice",
            "name_field": "number",
            "fields": [{"api_name": "number", "type": "auto_number", "pattern": "INV-{00000}"}],
        },
    )
    assert response.status_code == 201
    assert [f["api_name"] for f in response.get_json()["fields"]] == ["number"]


def test_labels_may_be_translated(api):
    response = api.post(
        "/api/v1/metadata/objects",
        json={"api_name": "deal", "label": {"en": "Opportunity", "zh": "商机"}},
    )
    body = response.get_json()
    assert body["label"] == "Opportunity"  # no Accept-Language: the org's language
    assert body["labels"] == {"en": "Opportunity", "zh": "商机"}
    assert body["plural_labels"] == {"en": "Opportunities", "zh": "商机"}


def test_unknown_object_is_404_problem(api):
    response = api.get("/api/v1/metadata/objects/nothing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == "no object 'nothing'"


def test_label_change_needs_no_ddl(api, org):
    api.post("/api/v1/metadata/objects", json=PROJECT)
    before = table_columns(org, "o_project")

    response = api.patch(
        "/api/v1/metadata/objects/project/fields/budget",
        json={"label": "Budget (USD)", "help_text": "Approved budget"},
    )

    assert response.status_code == 200
    assert response.get_json()["label"] == "Budget (USD)"
    assert table_columns(org, "o_project") == before


def test_deleted_object_table_survives(api, org):
    api.post("/api/v1/metadata/objects", json=PROJECT)
    api.delete("/api/v1/metadata/objects/project")
    assert table_exists(org, "o_project")
    assert api.get("/api/v1/metadata/objects").get_json()["objects"] == []
