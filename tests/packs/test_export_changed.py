"""A consultant customises an installed pack, then exports what changed since installing
it (`crm pack export --changed-since-install`): the pack validates and installs alone into
a fresh org, where the customised components are equal to the source org's."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.packs import install, read_installed, read_pack, validate_folder
from crm_platform.packs.export import export_changed
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, fresh_database_url

from .helpers import PACKS, components


def _customise(org) -> None:
    meta = org.metadata
    meta.add_field("project", {"api_name": "region", "type": "text"}, author_id=SYSTEM_USER_ID)
    stage = meta.get_field("project", "stage")
    meta.patch_field(
        "project", "stage", {"values": [*stage["values"], "Cancelled"]}, author_id=SYSTEM_USER_ID
    )
    meta.put_component(
        "validation_rule",
        {
            "api_name": "region_known",
            "object": "project",
            "condition": "stage == 'Active' and ISBLANK(region)",
            "message": "An active project needs its region",
        },
        author_id=SYSTEM_USER_ID,
    )


def _install_fresh(tmp_path, folder):
    """Install ``folder`` alone into a fresh org: its components and installed packs."""
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.runtime import initialise_org

    (tmp_path / "fresh").mkdir()
    with fresh_database_url(tmp_path / "fresh") as url:
        fresh = open_org(load_settings(url, tmp_path / "fresh" / "instance"))
        try:
            initialise_org(fresh, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
            install(fresh, folder)
            with fresh.db.read() as conn:
                installed = {n: p.version for n, p in read_installed(conn).items()}
            return components(fresh), installed
        finally:
            fresh.dispose()


@pytest.fixture
def customised(org):
    install(org, PACKS / "acme_projects", with_sample=True)
    install(org, PACKS / "activity_links")  # builds on acme_projects: adds task.project
    _customise(org)
    return org


def _check(org, tmp_path, folder) -> None:
    pack, problems = validate_folder(folder, org.registry)
    assert problems == [], problems
    assert dict(pack.manifest.as_dict()["depends"]) == {"core_activities": ">=1.0.0"}
    kinds = {(d.kind, d.definition["api_name"]) for d in pack.definitions}
    # the changed object, the object it looks up (copied), the org's own rule
    assert kinds == {
        ("object", "project"),
        ("object", "client"),
        ("validation_rule", "budget_positive"),
        ("validation_rule", "region_known"),
    }
    target, installed = _install_fresh(tmp_path, folder)
    assert installed == {"core_activities": "1.0.0", "acme_custom": "1.0.0"}
    source = components(org)
    compared = [
        k for k in source if k[1].split(".")[0] in {"project", "client"} and k[0] != "sharing_rule"
    ]
    assert ("field", "project.region") in compared
    assert ("validation_rule", "project.region_known") in compared
    for key in compared:
        assert key in target, key
        assert target[key][1] == source[key][1], key
        assert target[key][0] == "acme_custom"
    assert ("field", "task.project") not in target  # activity_links' field stays behind


def test_what_changed_since_install_installs_alone_into_a_fresh_org(customised, tmp_path):
    folder = export_changed(customised, tmp_path / "out", name="acme_custom", pack="acme_projects")
    _check(customised, tmp_path, folder)


def test_the_cli_export_installs_alone_into_a_fresh_org(customised, tmp_path, monkeypatch):
    import crm_platform.cli as cli

    monkeypatch.setattr(cli, "_org", lambda: customised)  # the org this module customised
    result = CliRunner().invoke(
        cli.main,
        [
            "pack",
            "export",
            "--name",
            "acme_custom",
            "--changed-since-install",
            "acme_projects",
            "--output",
            str(tmp_path / "out"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / "acme_custom"
    assert read_pack(folder, customised.registry)[1] == []
    _check(customised, tmp_path, folder)


def test_an_included_report_on_a_packs_object_depends_on_that_pack(customised, tmp_path):
    # a consultant ships one report built on acme_projects' objects: the export depends on
    # acme_projects (it owns `project`) and installs into a fresh org, bringing that pack
    from crm_platform.packs import export_included

    customised.metadata.put_component(
        "report",
        {
            "api_name": "projects_by_stage",
            "object": "project",
            "format": "summary",
            "columns": ["name", "client.name"],
            "group_by": ["stage"],
            "aggregates": ["count"],
        },
        author_id=SYSTEM_USER_ID,
    )
    folder = export_included(
        customised,
        tmp_path / "out",
        name="project_reports",
        include=[("report", "projects_by_stage")],
    )
    # acme_projects is a test pack, not shipped: the consultant ships it beside the export
    shutil.copytree(PACKS / "acme_projects", folder.parent / "acme_projects")
    pack, problems = validate_folder(folder, customised.registry)
    assert problems == [], problems
    assert dict(pack.manifest.as_dict()["depends"]) == {"acme_projects": ">=1.0.0"}
    assert {(d.kind, d.definition["api_name"]) for d in pack.definitions} == {
        ("report", "projects_by_stage")
    }
    target, installed = _install_fresh(tmp_path, folder)
    assert installed["project_reports"] == "1.0.0" and "acme_projects" in installed
    assert target[("report", "projects_by_stage")][0] == "project_reports"
