"""A failure half-way leaves the database and the metadata exactly as before."""

from __future__ import annotations

import pytest

from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.metadata import service as metadata_service
from tests.conftest import insert_rows, physical, read_column, table_columns, table_exists


class Boom(RuntimeError):
    pass


@pytest.fixture
def fail_after_ddl(monkeypatch):
    """Make the step that runs after the DDL (storing the revisions) fail."""

    def explode(*_args, **_kwargs):
        raise Boom("forced failure after the DDL")

    monkeypatch.setattr(metadata_service, "write_changes", explode)


def test_a_failed_create_leaves_no_table_and_no_metadata(org, fail_after_ddl):
    version = org.metadata.version()
    with pytest.raises(Boom):
        org.metadata.create_object(
            {
                "api_name": "project",
                "fields": [{"api_name": "code", "type": "text", "unique": True}],
            },
            author_id=SYSTEM_USER_ID,
        )
    assert not table_exists(org, "o_project")
    assert org.metadata.version() == version
    assert org.metadata.list_objects(include_deleted=True) == []


def test_a_failed_field_add_leaves_no_column(org, monkeypatch):
    org.metadata.create_object({"api_name": "project"}, author_id=SYSTEM_USER_ID)
    before = table_columns(org, "o_project")
    version = org.metadata.version()
    monkeypatch.setattr(metadata_service, "write_changes", _explode)

    with pytest.raises(Boom):
        org.metadata.add_field(
            "project",
            {"api_name": "account", "type": "lookup", "target": "project"},
            author_id=SYSTEM_USER_ID,
        )

    assert table_columns(org, "o_project") == before
    assert org.metadata.version() == version
    assert [f["api_name"] for f in org.metadata.get_object("project")["fields"]] == ["name"]


def test_a_failed_type_change_keeps_the_old_column_and_data(org, monkeypatch):
    org.metadata.create_object(
        {"api_name": "project", "fields": [{"api_name": "seats", "type": "integer"}]},
        author_id=SYSTEM_USER_ID,
    )
    insert_rows(org, "project", [{"seats": 7}])
    before_columns = table_columns(org, "o_project")
    before_physical = physical(org, "project", "seats")
    monkeypatch.setattr(metadata_service, "write_changes", _explode)

    with pytest.raises(Boom):
        org.metadata.patch_field("project", "seats", {"type": "decimal"}, author_id=SYSTEM_USER_ID)

    assert table_columns(org, "o_project") == before_columns
    assert physical(org, "project", "seats") == before_physical
    assert read_column(org, "project", "seats") == [7]


def test_a_failed_purge_keeps_the_table(org, monkeypatch):
    org.metadata.create_object({"api_name": "project"}, author_id=SYSTEM_USER_ID)
    insert_rows(org, "project", [{"name": "Apollo"}])
    monkeypatch.setattr(metadata_service, "write_changes", _explode)

    with pytest.raises(Boom):
        org.metadata.purge_object("project", confirm="project", author_id=SYSTEM_USER_ID)

    assert read_column(org, "project", "name") == ["Apollo"]


def test_a_failure_inside_a_request_is_a_500_problem_and_changes_nothing(api, org, monkeypatch):
    monkeypatch.setattr(metadata_service, "write_changes", _explode)
    response = api.post("/api/v1/metadata/objects", json={"api_name": "project"})
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert "Traceback" not in response.get_data(as_text=True)
    assert not table_exists(org, "o_project")


def _explode(*_args, **_kwargs):
    raise Boom("forced failure after the DDL")
