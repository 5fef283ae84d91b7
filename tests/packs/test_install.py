"""A consultant plans and installs packs: dependencies first, all in one transaction,
records through the record service; a broken pack leaves nothing behind."""

from __future__ import annotations

import pytest

from crm_platform.core import Conflict
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.packs import DependencyError, PackInvalid, install, plan, read_installed
from crm_platform.packs.components import checksum
from crm_platform.packs.state import read_components
from crm_platform.runtime import find_user
from tests.conftest import ADMIN_EMAIL

from .helpers import PACKS, components, records, table_names


def test_plan_shows_what_install_would_create_and_changes_nothing(org):
    version = org.metadata.version()
    found = plan(org, PACKS / "acme_projects", with_sample=True)
    assert found.packs == (("core_activities", "1.0.0"), ("acme_projects", "1.0.0"))
    created = {(i.pack, i.kind, i.name) for i in found.items if i.action == "create"}
    assert ("core_activities", "object", "task") in created
    assert ("acme_projects", "field", "project.budget") in created
    assert ("acme_projects", "validation_rule", "project.budget_positive") in created
    assert found.count("change") == 0 and found.problems == () and found.collisions == ()
    assert found.records == {"core_activities": 1, "acme_projects": 4}
    assert org.metadata.version() == version
    assert not any(name.startswith("o_") for name in table_names(org))


def test_install_with_dependencies_and_sample_data(org):
    result = install(org, PACKS / "acme_projects", with_sample=True)
    assert result.packs == (("core_activities", "1.0.0"), ("acme_projects", "1.0.0"))
    assert result.records == 5 and not result.already

    clients = {c["code"]: c for c in records(org, "client")}
    projects = records(org, "project")
    assert [p["name"] for p in projects] == ["Warehouse", "Website"]
    website = projects[1]
    assert website["client"] == clients["ACME"]["id"]  # by local key
    assert projects[0]["client"] == clients["GLOBEX"]["id"]  # by external id
    assert sorted(p["number"] for p in projects) == ["PRJ-0001", "PRJ-0002"]  # auto-numbers ran
    assert str(website["budget"]) == "1200.50" and projects[0]["stage"] == "Planned"
    assert [t["subject"] for t in records(org, "task", "subject")] == [
        "Explore the activities pack"
    ]
    # the system user authors the change; the first administrator owns the records
    with org.db.read() as conn:
        admin = find_user(conn, ADMIN_EMAIL)
    assert {p["owner_id"] for p in projects} == {admin.id}
    assert {p["created_by"] for p in projects} == {SYSTEM_USER_ID}

    owners = components(org)
    assert owners[("object", "project")][0] == "acme_projects"
    assert owners[("field", "task.subject")][0] == "core_activities"
    with org.db.read() as conn:
        installed = read_installed(conn)
        recorded = read_components(conn)
    assert {n: p.version for n, p in installed.items()} == {
        "core_activities": "1.0.0",
        "acme_projects": "1.0.0",
    }
    # what was installed is known exactly: pack, version and checksum of each component
    entry = recorded[("field", "project.budget")]
    assert (entry.pack, entry.version) == ("acme_projects", "1.0.0")
    assert entry.checksum == checksum(owners[("field", "project.budget")][1])
    assert recorded[("validation_rule", "project.budget_positive")].pack == "acme_projects"
    assert ("object", "task") in recorded and recorded[("object", "task")].pack == (
        "core_activities"
    )


def test_installing_the_same_version_again_changes_nothing(org):
    install(org, PACKS / "acme_projects")
    version = org.metadata.version()
    again = install(org, PACKS / "acme_projects", with_sample=True)
    assert again.already and again.records == 0
    assert org.metadata.version() == version
    assert records(org, "project") == []  # the sample was not loaded the second time
    assert plan(org, PACKS / "acme_projects").already == ("acme_projects",)


def test_a_pack_broken_half_way_leaves_nothing_behind(org):
    tables, version = table_names(org), org.metadata.version()
    with pytest.raises(PackInvalid) as caught:
        install(org, PACKS / "broken_half_way")
    assert caught.value.errors == {
        "data/project.yaml:2": ["project: budget: The budget cannot be negative"]
    }
    assert table_names(org) == tables  # the tables created by the change set are gone
    assert org.metadata.version() == version
    assert ("object", "task") not in components(org)  # the dependency went too
    with org.db.read() as conn:
        assert read_installed(conn) == {} and read_components(conn) == {}
    # the org works on as before: a good pack installs, its records are written
    install(org, PACKS / "acme_projects", with_sample=True)
    assert len(records(org, "project")) == 2


def test_a_missing_dependency_is_refused(org):
    with pytest.raises(DependencyError) as caught:
        install(org, PACKS / "needs_missing")
    assert caught.value.problems == (
        "needs_missing needs nowhere >=1.0, which is neither installed nor found",
    )


def test_a_version_conflict_with_an_installed_pack_is_refused(org):
    install(org, "core_activities")
    with pytest.raises(DependencyError) as caught:
        plan(org, PACKS / "needs_newer")
    assert caught.value.problems == (
        "needs_newer 1.0.0 needs core_activities >=2.0, but 1.0.0 is installed",
    )


def test_a_local_component_of_the_same_name_is_a_collision_not_an_overwrite(org):
    org.metadata.create_object(
        {"api_name": "client", "fields": [{"api_name": "vat", "type": "text"}]},
        author_id=SYSTEM_USER_ID,
    )
    found = plan(org, PACKS / "acme_projects")
    assert "acme_projects: object 'client' exists already (a local one)" in found.collisions
    with pytest.raises(Conflict, match="object 'client' exists already"):
        install(org, PACKS / "acme_projects")
    assert components(org)[("object", "client")][0] == "local"
    assert ("object", "task") not in components(org)


def test_an_installed_pack_at_another_version_is_not_installed_over(org, tmp_path):
    import shutil

    copy = tmp_path / "core_activities"
    shutil.copytree(PACKS.parent.parent.parent / "crm_platform/packs/shipped/core_activities", copy)
    (copy / "pack.yaml").write_text(
        (copy / "pack.yaml").read_text().replace("1.0.0", "1.1.0"), encoding="utf-8"
    )
    install(org, "core_activities")
    with pytest.raises(Conflict, match=r"core_activities 1\.0\.0 is installed: upgrade it"):
        install(org, copy)


def test_records_refer_to_later_records_of_the_same_object(org):
    install(org, PACKS / "regions")
    regions = {r["name"]: r for r in records(org, "region")}
    assert regions["Paris"]["parent"] == regions["France"]["id"]
    assert regions["Lyon"]["parent"] == regions["France"]["id"]  # by external id, set later
    assert regions["France"]["parent"] == regions["Europe"]["id"]
    assert regions["Europe"]["parent"] is None


def test_installing_a_definition_the_schema_refuses_names_its_line(org):
    with pytest.raises(PackInvalid) as caught:
        install(org, PACKS / "bad_definition")
    ((where, messages),) = caught.value.errors.items()
    assert where == "objects/thing.yaml:4"
    assert "colourful" in messages[0]
    assert ("object", "thing") not in components(org)


def test_an_available_dependency_outside_the_range_is_refused(org):
    with pytest.raises(DependencyError) as caught:
        install(org, PACKS / "needs_newer")
    assert caught.value.problems == (
        "needs_newer 1.0.0 needs core_activities >=2.0, but 1.0.0 is available",
    )
    assert ("object", "task") not in components(org)


def test_a_pack_for_another_platform_version_is_refused(org, tmp_path):
    folder = tmp_path / "future"
    folder.mkdir()
    (folder / "pack.yaml").write_text("name: future\nversion: 1.0.0\nplatform: '>=9'\n")
    with pytest.raises(DependencyError, match=r"future 1\.0\.0 needs platform >=9; this is 0\."):
        install(org, folder)


def test_the_plan_names_problems_the_install_would_meet(org):
    found = plan(org, PACKS / "acme_projects_bad")
    assert len(found.problems) == 1
    assert found.problems[0].startswith(
        "validation_rules/project.risk_needs_budget.yaml:3: project.risk_needs_budget.condition"
    )
    with pytest.raises(PackInvalid):
        install(org, PACKS / "acme_projects_bad")
    assert ("object", "project") not in components(org)


def test_a_pack_installs_on_a_dependency_installed_earlier(org):
    install(org, "core_activities")
    result = install(org, PACKS / "acme_projects", with_sample=True)
    assert result.packs == (("acme_projects", "1.0.0"),)
    assert result.records == 4  # the dependency's data is not loaded again
    field = components(org)[("field", "project.follow_up")][1]
    assert field["target"] == "task"


def test_a_pack_extends_an_object_of_its_dependency_with_fields(org):
    result = install(org, PACKS / "activity_links")
    assert [n for n, _ in result.packs] == ["core_activities", "acme_projects", "activity_links"]
    owners = components(org)
    assert owners[("object", "task")][0] == "core_activities"  # the header stays theirs
    assert owners[("field", "task.project")][0] == "activity_links"
    with org.db.read() as conn:
        recorded = read_components(conn, "activity_links")
    assert set(recorded) == {("field", "task.project")}
    # and leaves it again: only its field goes
    from crm_platform.packs.uninstall import uninstall

    uninstall(org, "activity_links")
    assert ("field", "task.project") not in components(org)
    assert ("object", "task") in components(org)
