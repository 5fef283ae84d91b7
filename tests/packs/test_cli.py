"""`crm pack` as a consultant runs it: list, validate, plan, install."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from crm_platform.cli import main

from .helpers import PACKS


@pytest.fixture
def crm(database_url, tmp_path):
    runner = CliRunner()
    env = {"CRM_DATABASE_URL": database_url, "CRM_INSTANCE_PATH": str(tmp_path / "instance")}
    # each command opens the org anew and closes it when it ends: a run of commands holds
    # no pool of connections per command on a shared PostgreSQL server

    def run(*args: str, ok: bool = True):
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return result

    return run


def test_validate_names_every_problem_with_its_file_and_line(crm):
    good = crm("pack", "validate", str(PACKS / "acme_projects"))
    assert "acme_projects 1.0.0: valid (3 definitions, 4 records)" in good.output
    bad = crm("pack", "validate", str(PACKS / "bad_reference"), ok=False)
    assert "1 problem(s)" in bad.output
    assert "data/project.yaml:2: client: refers to _key 'nobody'" in bad.output


def test_list_plan_install_and_install_again(crm):
    crm("init", "--admin-password", "S3cure-pass!")
    listed = crm("pack", "list").output
    assert "core_activities 1.0.0: Tasks, events and notes" in listed
    assert "installed: none" in listed

    planned = crm("pack", "plan", str(PACKS / "acme_projects"), "--with-sample-data").output
    assert "install core_activities 1.0.0\ninstall acme_projects 1.0.0" in planned
    assert "create  field project.budget" in planned
    assert "records acme_projects: 4" in planned

    installed = crm("pack", "install", str(PACKS / "acme_projects"), "--with-sample-data").output
    assert "Installed core_activities 1.0.0, acme_projects 1.0.0:" in installed
    assert "5 records" in installed
    again = crm("pack", "install", str(PACKS / "acme_projects")).output
    assert "acme_projects 1.0.0 is installed already: nothing changed." in again
    assert "installed at this version" in crm("pack", "plan", "core_activities").output
    listed = crm("pack", "list").output
    assert "installed:\n  core_activities 1.0.0\n  acme_projects 1.0.0" in listed


def test_install_refuses_a_missing_dependency_clearly(crm):
    crm("init", "--admin-password", "S3cure-pass!")
    result = crm("pack", "install", str(PACKS / "needs_missing"), ok=False)
    assert (
        "needs_missing needs nowhere >=1.0, which is neither installed nor found" in result.output
    )


def test_install_of_a_broken_pack_names_the_record(crm):
    crm("init", "--admin-password", "S3cure-pass!")
    result = crm("pack", "install", str(PACKS / "broken_half_way"), ok=False)
    assert "data/project.yaml:2: project: budget: The budget cannot be negative" in result.output
    assert "installed: none" in crm("pack", "list").output


def test_upgrade_lists_conflicts_and_takes_an_explicit_choice(crm, database_url, tmp_path):
    crm("init", "--admin-password", "S3cure-pass!")
    crm("pack", "install", str(PACKS / "acme_projects"))
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.core.tables import SYSTEM_USER_ID

    org = open_org(load_settings(database_url, tmp_path / "instance"))
    org.metadata.patch_object("client", {"label": "Account"}, author_id=SYSTEM_USER_ID)
    org.dispose()
    new = str(PACKS / "acme_projects_1_1")
    refused = crm("pack", "upgrade", "acme_projects", "--from-path", new, ok=False).output
    assert (
        "conflict: object:client label: the pack changed it from 'Client' to 'Customer', "
        in refused
    )
    assert "meets 1 conflict(s): choose --prefer pack or --prefer local" in refused
    assert "create    field project.risk" in refused
    done = crm(
        "pack", "upgrade", "acme_projects", "--from-path", new, "--choose", "object:client=local"
    )
    assert "Upgraded acme_projects 1.0.0 -> 1.1.0" in done.output
    assert "acme_projects 1.1.0" in crm("pack", "list").output


def test_export_then_uninstall(crm, tmp_path):
    crm("init", "--admin-password", "S3cure-pass!")
    crm("pack", "install", str(PACKS / "acme_projects"))
    out = tmp_path / "out"
    exported = crm(
        "pack",
        "export",
        "--name",
        "my_projects",
        "--include",
        "object:project,object:client",
        "--include",
        "object:task",
        "--output",
        str(out),
    ).output
    assert f"Exported 3 component(s) to {out / 'my_projects'}" in exported
    assert "my_projects 1.0.0: valid" in crm("pack", "validate", str(out / "my_projects")).output

    refused = crm("pack", "uninstall", "acme_projects", ok=False).output
    assert "client: 2 record(s)" in refused and "--delete-data" in refused
    done = crm("pack", "uninstall", "acme_projects", "--delete-data").output
    assert "Backup of 2 records: " in done
    assert "Uninstalled acme_projects 1.0.0" in done
    assert "installed:\n  core_activities 1.0.0\n" in crm("pack", "list").output


def test_plan_of_a_newer_version_shows_the_upgrade(crm):
    crm("init", "--admin-password", "S3cure-pass!")
    crm("pack", "install", str(PACKS / "acme_projects"))
    planned = crm("pack", "plan", str(PACKS / "acme_projects_1_1")).output
    assert "acme_projects 1.0.0 is installed: this is an upgrade." in planned
    assert "upgrade acme_projects 1.0.0 -> 1.1.0" in planned
    assert "deprecate field project.follow_up" in planned
    assert "Upgraded" not in planned
