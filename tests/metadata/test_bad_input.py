"""Bad input gets a clear 4xx in problem+json naming the field, and changes nothing."""

from __future__ import annotations

import pytest

from tests.conftest import table_exists

OBJECTS = "/api/v1/metadata/objects"


def _version(api) -> int:
    return int(api.get("/api/v1/metadata").headers["X-Metadata-Version"])


def _assert_refused(response, status: int, path: str | None = None, contains: str = ""):
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    if path is not None:
        assert path in body["errors"], body
        assert contains in " ".join(body["errors"][path]), body
    return body


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Project", "lowercase"),
        ("my project", "lowercase"),
        ("user", "reserved: it names the platform's own user directory"),
        ("1project", "lowercase"),
        ("p", "2 to 40"),
        ("a" * 41, "2 to 40"),
        ("lambda", "Python keyword"),
        ("double__underscore", "lowercase"),
        ("trailing_", "lowercase"),
    ],
)
def test_invalid_object_api_names(api, org, name, why):
    before = _version(api)
    response = api.post(OBJECTS, json={"api_name": name})
    _assert_refused(response, 400, "api_name", why)
    assert _version(api) == before
    assert api.get(OBJECTS).get_json()["objects"] == []


@pytest.mark.parametrize(
    "name", ["id", "owner_id", "created_at", "updated_by", "version", "deleted_at"]
)
def test_reserved_field_names(api, name):
    api.post(OBJECTS, json={"api_name": "project"})
    before = _version(api)
    response = api.post(f"{OBJECTS}/project/fields", json={"api_name": name, "type": "text"})
    _assert_refused(response, 400, "api_name", "reserved by the platform")
    assert _version(api) == before


def test_names_like_name_type_value_are_fine(api):
    response = api.post(
        OBJECTS,
        json={
            "api_name": "item",
            "fields": [
                {"api_name": "type", "type": "text"},
                {"api_name": "value", "type": "integer"},
                {"api_name": "status", "type": "text"},
            ],
        },
    )
    assert response.status_code == 201


def test_duplicate_object(api):
    api.post(OBJECTS, json={"api_name": "project"})
    _assert_refused(api.post(OBJECTS, json={"api_name": "project"}), 409)


def test_duplicate_field_in_one_definition(api, org):
    response = api.post(
        OBJECTS,
        json={
            "api_name": "project",
            "fields": [
                {"api_name": "code", "type": "text"},
                {"api_name": "code", "type": "integer"},
            ],
        },
    )
    _assert_refused(response, 400, "fields[1].api_name", "defined twice")
    assert not table_exists(org, "o_project")


def test_duplicate_field(api):
    api.post(
        OBJECTS, json={"api_name": "project", "fields": [{"api_name": "code", "type": "text"}]}
    )
    response = api.post(f"{OBJECTS}/project/fields", json={"api_name": "code", "type": "text"})
    _assert_refused(response, 409)


def test_unknown_type(api):
    response = api.post(
        OBJECTS, json={"api_name": "project", "fields": [{"api_name": "x", "type": "blob"}]}
    )
    _assert_refused(response, 400, "fields[0].type", "'blob' is not one of")


def test_lookup_to_a_missing_object(api, org):
    response = api.post(
        OBJECTS,
        json={
            "api_name": "task",
            "fields": [{"api_name": "project", "type": "lookup", "target": "nope"}],
        },
    )
    _assert_refused(response, 400, "fields.project.target", "no object 'nope'")
    assert not table_exists(org, "o_task")


def test_master_detail_cycle(api):
    api.post(OBJECTS, json={"api_name": "alpha"})
    api.post(
        OBJECTS,
        json={
            "api_name": "beta",
            "fields": [{"api_name": "alpha", "type": "master_detail", "target": "alpha"}],
        },
    )
    before = _version(api)
    response = api.post(
        f"{OBJECTS}/alpha/fields",
        json={"api_name": "beta", "type": "master_detail", "target": "beta"},
    )
    _assert_refused(response, 400, "target", "cycle")
    assert _version(api) == before


def test_malformed_json(api):
    response = api.client.post(
        OBJECTS,
        data='{"api_name": "project",',
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"},
    )
    _assert_refused(response, 400, "(body)", "malformed JSON")


def test_not_json(api):
    response = api.client.post(
        OBJECTS, data="api_name=project", headers={"Authorization": f"Bearer {api.token}"}
    )
    _assert_refused(response, 400)


@pytest.mark.parametrize(
    ("field", "path", "contains"),
    [
        ({"api_name": "x", "type": "text", "max_length": "long"}, "max_length", "not of type"),
        ({"api_name": "x", "type": "text", "max_length": 0}, "max_length", "minimum"),
        (
            {"api_name": "x", "type": "text", "precision": 3},
            "precision",
            "not an option of a text field",
        ),
        ({"api_name": "x", "type": "currency", "precision": 30}, "precision", "maximum"),
        (
            {"api_name": "x", "type": "decimal", "precision": 4, "scale": 6},
            "scale",
            "cannot exceed",
        ),
        ({"api_name": "x", "type": "picklist"}, "(root)", "'values' is a required property"),
        ({"api_name": "x", "type": "picklist", "values": ["a", "a"]}, "values", "duplicate"),
        ({"api_name": "x", "type": "required"}, "type", "is not one of"),
        ({"api_name": "x", "type": "text", "required": "yes"}, "required", "not of type 'boolean'"),
        ({"api_name": "x", "type": "lookup"}, "(root)", "target"),
        ({"api_name": "x", "type": "integer", "default": "ten"}, "default", "must be an integer"),
        (
            {"api_name": "x", "type": "picklist", "values": ["a"], "default": "b"},
            "default",
            "not one of",
        ),
        ({"api_name": "x", "type": "auto_number", "pattern": "NO-PLACEHOLDER"}, "pattern", "match"),
        ({"api_name": "x", "type": "boolean", "required": True}, "required", "cannot be required"),
        ({"api_name": "x", "type": "json", "unique": True}, "unique", "cannot be unique"),
        ({"api_name": "x", "type": "formula", "return_type": "text"}, "(root)", "expression"),
    ],
)
def test_wrong_options(api, field, path, contains):
    api.post(OBJECTS, json={"api_name": "project"})
    before = _version(api)
    response = api.post(f"{OBJECTS}/project/fields", json=field)
    _assert_refused(response, 400, path, contains)
    assert _version(api) == before
    names = [f["api_name"] for f in api.get(f"{OBJECTS}/project").get_json()["fields"]]
    assert names == ["name"]


def test_unknown_top_level_option(api):
    response = api.post(OBJECTS, json={"api_name": "project", "colour": "red"})
    _assert_refused(response, 400, "colour", "not an option")


def test_body_must_be_an_object(api):
    _assert_refused(api.post(OBJECTS, json=["project"]), 400, "(root)", "expected a JSON object")


def test_oversized_body(api, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = api.post(OBJECTS, json={"api_name": "project", "description": "x" * 5000})
    _assert_refused(response, 413)
    assert api.get(OBJECTS).get_json()["objects"] == []


def test_the_whole_definition_is_refused_when_one_field_is_bad(api, org):
    response = api.post(
        OBJECTS,
        json={
            "api_name": "project",
            "fields": [
                {"api_name": "budget", "type": "currency"},
                {"api_name": "owner_id", "type": "text"},
            ],
        },
    )
    _assert_refused(response, 400, "fields.owner_id.api_name", "reserved")
    assert not table_exists(org, "o_project")


def test_wrong_method_and_unknown_path_are_problems(api):
    _assert_refused(api.delete("/api/v1/metadata"), 405)
    _assert_refused(api.get("/api/v1/nowhere"), 404)


def test_too_many_fields(api):
    fields = [{"api_name": f"f{i:03d}", "type": "integer"} for i in range(500)]
    response = api.post(OBJECTS, json={"api_name": "wide", "fields": fields})
    _assert_refused(response, 400)
