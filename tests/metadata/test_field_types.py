"""Every field type of DESIGN §3 is accepted, stored with its options and given real columns."""

from __future__ import annotations

import pytest

from tests.conftest import physical, table_columns

FIELDS = [
    {"api_name": "title", "type": "text", "max_length": 80},
    {"api_name": "notes", "type": "long_text"},
    {"api_name": "body", "type": "rich_text"},
    {"api_name": "email", "type": "email"},
    {"api_name": "phone", "type": "phone"},
    {"api_name": "website", "type": "url"},
    {"api_name": "seats", "type": "integer", "min": 0, "max": 1000},
    {"api_name": "ratio", "type": "decimal", "precision": 10, "scale": 4},
    {"api_name": "budget", "type": "currency", "precision": 16, "scale": 2},
    {"api_name": "probability", "type": "percent"},
    {"api_name": "active", "type": "boolean", "default": True},
    {"api_name": "start_date", "type": "date"},
    {"api_name": "kickoff_at", "type": "datetime"},
    {"api_name": "daily_call", "type": "time"},
    {"api_name": "effort", "type": "duration"},
    {
        "api_name": "stage",
        "type": "picklist",
        "values": ["New", {"value": "Won", "color": "#00aa00"}],
    },
    {"api_name": "tags", "type": "multi_picklist", "values": ["a", "b"]},
    {"api_name": "account", "type": "lookup", "target": "account", "on_delete": "restrict"},
    {"api_name": "related_to", "type": "lookup", "targets": ["account", "project"]},
    {"api_name": "total", "type": "formula", "return_type": "currency", "expression": "budget * 2"},
    {
        "api_name": "task_count",
        "type": "rollup_summary",
        "relation": "task.project",
        "function": "count",
    },
    {"api_name": "number", "type": "auto_number", "pattern": "PRJ-{00000}"},
    {"api_name": "erp_id", "type": "external_id"},
    {"api_name": "secret", "type": "encrypted_text"},
    {"api_name": "extra", "type": "json"},
    {"api_name": "contract", "type": "file"},
    {"api_name": "site", "type": "address"},
    {"api_name": "location", "type": "geolocation"},
    {"api_name": "sponsor", "type": "person_name"},
]


@pytest.fixture
def project(api):
    api.post("/api/v1/metadata/objects", json={"api_name": "account"})
    assert api.post("/api/v1/metadata/objects", json={"api_name": "project"}).status_code == 201
    assert (
        api.post(
            "/api/v1/metadata/objects",
            json={
                "api_name": "task",
                "fields": [{"api_name": "project", "type": "master_detail", "target": "project"}],
            },
        ).status_code
        == 201
    )
    for field in FIELDS:
        response = api.post("/api/v1/metadata/objects/project/fields", json=field)
        assert response.status_code == 201, (field, response.get_json())
    return api.get("/api/v1/metadata/objects/project").get_json()


def test_every_type_is_stored_with_its_options(project):
    stored = {f["api_name"]: f for f in project["fields"]}
    for field in FIELDS:
        for option, value in field.items():
            if option == "values":
                continue
            assert stored[field["api_name"]][option] == value, (field["api_name"], option)
    # the metadata API answers every value as a full map
    assert [(v["value"], v.get("color")) for v in stored["stage"]["values"]] == [
        ("New", None),
        ("Won", "#00aa00"),
    ]
    assert stored["budget"]["precision"] == 16
    assert stored["probability"]["scale"] == 2  # a type default, filled in
    assert stored["account"]["on_delete"] == "restrict"
    assert stored["related_to"]["on_delete"] == "set_null"


def test_every_stored_type_has_real_columns(project, org):
    columns = table_columns(org, "o_project")
    single = [
        f["api_name"]
        for f in FIELDS
        if f["type"] not in {"formula", "address", "geolocation", "person_name"}
        and "targets" not in f
    ]
    for name in single:
        assert name in columns, name
    assert "total" not in columns  # formulas are computed, not stored
    for sub in ("street", "city", "state", "postal_code", "country"):
        assert f"site_{sub}" in columns
    assert {"location_latitude", "location_longitude"} <= set(columns)
    assert {"sponsor_salutation", "sponsor_first", "sponsor_middle", "sponsor_last"} <= set(columns)
    assert {"related_to", "related_to_object"} <= set(columns)


def test_compound_fields_record_their_columns(project, org):
    site = physical(org, "project", "site")
    assert site["columns"] == {
        "street": "site_street",
        "city": "site_city",
        "state": "site_state",
        "postal_code": "site_postal_code",
        "country": "site_country",
    }


def test_a_compound_sub_column_never_collides_with_another_field(api, org):
    api.post("/api/v1/metadata/objects", json={"api_name": "site"})
    api.post("/api/v1/metadata/objects/site/fields", json={"api_name": "home_city", "type": "text"})
    response = api.post(
        "/api/v1/metadata/objects/site/fields", json={"api_name": "home", "type": "address"}
    )
    assert response.status_code == 201
    home = physical(org, "site", "home")
    assert home["columns"]["city"] != "home_city"
    assert home["columns"]["city"] in table_columns(org, "o_site")


def test_the_compiled_model_knows_every_field(project, org):
    with org.reading() as (_conn, model):
        fields = model.objects["project"].fields
    assert set(fields) == {"name"} | {f["api_name"] for f in FIELDS}
    assert set(fields["site"].columns) == {"street", "city", "state", "postal_code", "country"}
    assert fields["total"].columns == {}
