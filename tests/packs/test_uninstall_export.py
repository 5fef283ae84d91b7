"""A consultant removes packs (never losing data silently) and builds a new pack by
configuring an org and exporting it: it installs into a fresh org as an equal
configuration."""

from __future__ import annotations

import json

import pytest

from crm_platform.core import Conflict
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.packs import install, read_installed, read_pack, validate_pack
from crm_platform.packs.export import changed_since_install, export_pack, parse_include
from crm_platform.packs.state import read_components
from crm_platform.packs.uninstall import uninstall
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, fresh_database_url

from .helpers import PACKS, components, records, table_names


def test_uninstall_is_refused_while_a_dependent_pack_is_installed(org):
    install(org, PACKS / "acme_projects")
    with pytest.raises(Conflict, match="acme_projects depend"):
        uninstall(org, "core_activities", delete_data=True)
    with org.db.read() as conn:
        assert set(read_installed(conn)) == {"core_activities", "acme_projects"}


def test_uninstall_is_refused_while_records_exist_naming_the_counts(org):
    install(org, PACKS / "acme_projects", with_sample=True)
    version = org.metadata.version()
    with pytest.raises(Conflict) as caught:
        uninstall(org, "acme_projects")
    assert caught.value.extra["records"] == {"client": 2, "project": 2}
    assert "client: 2 record(s), project: 2 record(s)" in caught.value.detail
    assert org.metadata.version() == version


def test_uninstall_with_delete_data_writes_a_backup_first(org, tmp_path):
    install(org, PACKS / "acme_projects", with_sample=True)
    result = uninstall(org, "acme_projects", delete_data=True, backup_dir=tmp_path / "backups")
    assert result.records_deleted == 4
    backup = json.loads(result.backup.read_text())
    assert sorted(r["name"] for r in backup["records"]["project"]) == ["Warehouse", "Website"]
    assert {d["name"] for d in backup["definitions"]} >= {"project", "project.budget_positive"}
    left = components(org)
    assert ("object", "project") not in left and ("object", "client") not in left
    assert ("validation_rule", "project.budget_positive") not in left
    assert not {"o_project", "o_client"} & table_names(org)
    with org.db.read() as conn:
        assert set(read_installed(conn)) == {"core_activities"}
        assert {c.pack for c in read_components(conn).values()} == {"core_activities"}
    assert [t["subject"] for t in records(org, "task", "subject")] == [
        "Explore the activities pack"
    ]


def test_uninstall_without_data_removes_the_pack_and_rules_on_its_objects(org):
    install(org, PACKS / "plain")
    org.metadata.put_component(
        "validation_rule",
        {
            "api_name": "serial_needed",
            "object": "asset",
            "condition": "ISBLANK(serial)",
            "message": "Give the serial",
        },
        author_id=SYSTEM_USER_ID,
    )
    result = uninstall(org, "plain")
    assert result.backup is None and result.records_deleted == 0
    left = components(org)
    assert not [k for k in left if k[1].startswith("asset")]
    with org.db.read() as conn:
        assert read_installed(conn) == {}


def _customise(org):
    meta = org.metadata
    meta.add_field("project", {"api_name": "region", "type": "text"}, author_id=SYSTEM_USER_ID)
    stage = meta.get_field("project", "stage")
    meta.patch_field(
        "project", "stage", {"values": [*stage["values"], "Cancelled"]}, author_id=SYSTEM_USER_ID
    )


def test_changed_since_install_finds_the_customised_objects(org):
    install(org, PACKS / "acme_projects")
    assert changed_since_install(org, "acme_projects") == []
    _customise(org)
    assert changed_since_install(org, "acme_projects") == [("object", "project")]


def test_an_exported_pack_validates_and_installs_into_a_fresh_org_equal(org, tmp_path):
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.runtime import initialise_org

    install(org, PACKS / "acme_projects", with_sample=True)
    _customise(org)
    include = parse_include(["object:project,object:client", "object:task"])
    folder = export_pack(
        org, tmp_path / "out", name="acme_consulting", include=include, label="Consulting"
    )
    pack, problems = read_pack(folder, org.registry)
    assert problems == [] and validate_pack(pack, org.registry) == []

    source = components(org)
    exported = {key for key in source if key[1].split(".")[0] in {"project", "client", "task"}}
    assert ("validation_rule", "project.budget_positive") in exported
    (tmp_path / "fresh").mkdir()
    with fresh_database_url(tmp_path / "fresh") as url:
        fresh = open_org(load_settings(url, tmp_path / "fresh" / "instance"))
        try:
            initialise_org(fresh, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
            result = install(fresh, folder)
            assert result.packs == (("acme_consulting", "1.0.0"),)
            target = components(fresh)
            for key in exported:
                assert target[key][1] == source[key][1], key
                assert target[key][0] == "acme_consulting"
            assert {k for k in target if k in exported} == exported
        finally:
            fresh.dispose()
