"""The registry describes every field's values exactly as ``api/openapi.py`` does today.

``api/openapi.py`` is being split into a package; once it reads the registry's
``write_schema``/``read_schema`` this test has done its job (ADR 0008).
"""

from __future__ import annotations

import pytest

from crm_platform.api.openapi import values as openapi_values
from crm_platform.fieldtypes import FIELD_TYPES, SIMPLE, field_type
from tests.metadata.test_field_types import FIELDS


def _model(org):
    with org.db.read() as conn:
        return org.models.model_for(conn)


def _assert_same_schemas(org) -> int:
    model = _model(org)
    compared = 0
    for obj in model.objects.values():
        for name, field in obj.fields.items():
            entry = field_type(field.type)
            definition = field.definition
            column = field.columns.get(SIMPLE)
            read = entry.read_schema(definition, column.type if column is not None else None)
            assert read == openapi_values.output_value_schema(model, obj, name), (obj.api_name, name)
            if not entry.read_only:
                for required in (True, False):
                    write = entry.write_schema(definition, required=required)
                    old = openapi_values.input_value_schema(definition, required=required)
                    assert write == old, (obj.api_name, name, required)
            compared += 1
    return compared


@pytest.mark.parametrize("fixture", ["sales", "projects", "security"])
def test_fixture_fields_are_described_as_before(app, org, load_metadata, fixture):
    load_metadata(fixture)
    assert _assert_same_schemas(org) > 0


def test_a_field_of_every_type_is_described_as_before(api, org):
    for name in ("account", "project"):
        assert api.post("/api/v1/metadata/objects", json={"api_name": name}).status_code == 201
    task = {
        "api_name": "task",
        "fields": [{"api_name": "project", "type": "master_detail", "target": "project"}],
    }
    assert api.post("/api/v1/metadata/objects", json=task).status_code == 201
    for field in FIELDS:
        assert api.post("/api/v1/metadata/objects/project/fields", json=field).status_code == 201
    decimal_rollup = {
        "api_name": "task_budget",
        "type": "rollup_summary",
        "relation": "task.project",
        "function": "sum",
        "field": "budget",
    }
    budget = {"api_name": "budget", "type": "currency"}
    assert api.post("/api/v1/metadata/objects/task/fields", json=budget).status_code == 201
    assert (
        api.post("/api/v1/metadata/objects/project/fields", json=decimal_rollup).status_code == 201
    )
    objects = _model(org).objects.values()
    assert {f.type for obj in objects for f in obj.fields.values()} == set(FIELD_TYPES)
    assert _assert_same_schemas(org) >= len(FIELDS)
