"""The `crm` command as a new user runs it: init, token, user, metadata apply/dump/check."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from crm_platform.cli import main
from tests.conftest import FIXTURES, physical


def _open(database_url, tmp_path):
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings

    return open_org(load_settings(database_url, tmp_path / "instance"))


@pytest.fixture
def crm(database_url, tmp_path):
    runner = CliRunner()
    env = {"CRM_DATABASE_URL": database_url, "CRM_INSTANCE_PATH": str(tmp_path / "instance")}

    def run(*args: str, ok: bool = True):
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


def test_init_creates_the_org_and_is_safe_to_run_twice(crm):
    first = crm("init", "--admin-email", "admin@example.com", "--admin-password", "S3cure-pass!")
    second = crm("init", "--admin-email", "admin@example.com", "--admin-password", "S3cure-pass!")
    assert "Created the org" in first.output
    assert "Admin login: admin@example.com" in first.output
    assert "already exists" in second.output and "nothing changed" in second.output


def test_init_generates_a_password_when_none_is_given(crm):
    result = crm("init")
    assert "Admin password: " in result.output


def test_token_create_prints_a_token_that_works(crm, database_url, tmp_path):
    crm("init", "--admin-password", "S3cure-pass!")
    token = crm("token", "create", "--user", "admin@example.com").output.strip()
    from crm_platform.app import create_app
    from crm_platform.core import load_settings

    app = create_app(load_settings(database_url, tmp_path / "instance"))
    response = app.test_client().get(
        "/api/v1/metadata/objects", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    app.extensions["crm_org"].dispose()


def test_token_for_an_unknown_user(crm):
    crm("init", "--admin-password", "S3cure-pass!")
    result = crm("token", "create", "--user", "nobody@example.com", ok=False)
    assert result.exit_code == 1 and "no user" in result.output


def test_commands_before_init_say_what_to_do(crm):
    result = crm("token", "create", "--user", "admin@example.com", ok=False)
    assert result.exit_code == 1 and "crm init" in result.output


def test_user_create(crm):
    crm("init", "--admin-password", "S3cure-pass!")
    assert (
        "Created user rep@example.com"
        in crm(
            "user", "create", "--email", "rep@example.com", "--password", "rep-password-1"
        ).output
    )
    duplicate = crm("user", "create", "--email", "rep@example.com", ok=False)
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output


def test_apply_a_folder_then_dump_then_apply_again_changes_nothing(crm, tmp_path, database_url):
    crm("init", "--admin-password", "S3cure-pass!")

    applied = crm("metadata", "apply", str(FIXTURES / "sales"))
    dumped = crm("metadata", "dump", str(tmp_path / "out"))
    again = crm("metadata", "apply", str(tmp_path / "out"))

    assert "Applied" in applied.output
    files = sorted(Path(line).name for line in dumped.output.split())
    assert files == ["account.yaml", "opportunity.yaml", "system_administrator.yaml"]
    assert "Nothing to change" in again.output
    from tests.conftest import table_columns

    org = _open(database_url, tmp_path)
    assert (
        "NUMERIC" in table_columns(org, "o_account")["open_pipeline"]
        or "BIGINT" in (table_columns(org, "o_account")["open_pipeline"])
    )
    assert physical(org, "account", "open_pipeline")["storage"] == {
        "storage": "decimal",
        "precision": 18,
        "scale": 2,
    }
    org.dispose()
    opportunity = yaml.safe_load((tmp_path / "out/objects/opportunity.yaml").read_text())
    assert opportunity["label"] == {"en": "Opportunity", "zh": "商机"}
    stage = next(f for f in opportunity["fields"] if f["api_name"] == "stage")
    assert stage["values"][0] == {
        "value": "Prospecting",
        "default": True,
        "attributes": {"probability": 10},
    }


def test_apply_validates_everything_first_and_applies_nothing_on_error(crm, tmp_path):
    crm("init", "--admin-password", "S3cure-pass!")
    folder = tmp_path / "broken"
    shutil.copytree(FIXTURES / "sales", folder)
    (folder / "objects" / "zz_bad.yaml").write_text(
        "api_name: invoice\nfields:\n  - {api_name: account, type: lookup, target: nowhere}\n"
    )

    result = crm("metadata", "apply", str(folder), ok=False)
    dumped = crm("metadata", "dump", str(tmp_path / "out"))

    assert result.exit_code == 1
    assert "invoice.fields.account.target: no object 'nowhere'" in result.output
    assert "objects/" not in dumped.output


def test_apply_a_single_file_with_decimals(crm, tmp_path):
    crm("init", "--admin-password", "S3cure-pass!")
    file = tmp_path / "rate.yaml"
    file.write_text(
        "api_name: rate_card\nfields:\n  - {api_name: rate, type: decimal, scale: 4, default: 0.1000}\n"
    )
    crm("metadata", "apply", str(file))
    crm("metadata", "dump", str(tmp_path / "out"))
    text = (tmp_path / "out/objects/rate_card.yaml").read_text()
    assert "default: 0.1000" in text


def test_metadata_check_reports_a_valid_org(crm):
    crm("init", "--admin-password", "S3cure-pass!")
    crm("metadata", "apply", str(FIXTURES / "sales"))
    assert "All metadata is valid" in crm("metadata", "check").output


def test_bad_yaml_is_reported(crm, tmp_path):
    crm("init", "--admin-password", "S3cure-pass!")
    file = tmp_path / "bad.yaml"
    file.write_text("api_name: [unclosed\n")
    result = crm("metadata", "apply", str(file), ok=False)
    assert result.exit_code == 1 and "not valid YAML" in result.output


def test_search_reindex(crm, database_url, tmp_path):
    crm("init", "--admin-password", "S3cure-pass!")
    crm("metadata", "apply", str(FIXTURES / "sales"))
    result = crm("search", "reindex")
    assert "account: 0 records indexed" in result.output
    assert crm("search", "reindex", "nothing", ok=False).exit_code == 1


def test_crm_upgrade_rewrites_the_search_entries_of_an_older_org(crm, database_url, tmp_path):
    """Entries written one per field (before migration 0024) match nothing now: the
    upgrade rewrites them, one per record and visibility group."""
    import sqlalchemy as sa

    from crm_platform.core.migrate import VERSION_TABLE
    from crm_platform.runtime import find_user

    crm("init", "--admin-email", "admin@example.com", "--admin-password", "S3cure-pass!")
    crm("metadata", "apply", str(FIXTURES / "sales"))
    org = _open(database_url, tmp_path)
    with org.db.read() as conn:
        admin = find_user(conn, "admin@example.com")

    def found(q: str) -> list[str]:
        with org.records.session(admin) as session:
            return [hit["name"] for hit in session.search(q, None, 10)]

    try:
        with org.records.session(admin) as session:
            session.create("account", {"name": "Umbrella Works"})
        with org.db.write() as conn:  # as the version before 0024 left it
            conn.execute(sa.text("UPDATE sys_search SET field = 'name'"))
            conn.execute(sa.text("DROP TABLE sys_search_group"))
            conn.execute(sa.text("ALTER TABLE sys_import_job DROP COLUMN unchanged"))  # 0025's
            conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '0023'"))

        assert "Rebuilt the search index (" in crm("upgrade").output
        assert found("Umbrella") == ["Umbrella Works"]
    finally:
        org.dispose()


def test_user_create_with_profile_role_and_manager(crm, tmp_path):
    crm("init", "--admin-password", "S3cure-pass!")
    folder = tmp_path / "meta"
    (folder / "roles").mkdir(parents=True)
    (folder / "roles" / "r.yaml").write_text(
        "---\n{api_name: boss}\n---\n{api_name: worker, parent: boss}\n"
    )
    (folder / "permission_sets").mkdir()
    (folder / "permission_sets" / "p.yaml").write_text("api_name: basic\nsystem: [api_enabled]\n")
    crm("metadata", "apply", str(folder))
    crm("user", "create", "--email", "boss@example.com", "--profile", "basic", "--role", "boss")
    result = crm(
        "user",
        "create",
        "--email",
        "w@example.com",
        "--profile",
        "basic",
        "--role",
        "worker",
        "--permission-set",
        "basic",
        "--manager",
        "boss@example.com",
    )
    assert "Created user w@example.com" in result.output
    bad = crm("user", "create", "--email", "x@example.com", "--role", "nobody", ok=False)
    assert bad.exit_code == 1 and "no role 'nobody'" in bad.output


def test_help_and_version_are_crm_platforms_own(crm):
    from importlib.metadata import version

    shown = crm("--help").output
    assert "crm-platform: a low-code CRM platform" in shown
    assert "CRM_DATABASE_URL" in shown
    for command in ("init", "serve", "token", "user", "metadata", "upgrade"):
        assert f"  {command}" in shown
    assert "--env-file" not in shown and "--app" not in shown and "Flask" not in shown
    assert crm("--version").output.strip() == f"crm, version {version('crm-platform')}"


def test_user_list_shows_every_user(crm):
    crm("init", "--admin-password", "S3cure-pass!")
    crm("user", "create", "--email", "rep@example.com")
    lines = crm("user", "list").output.splitlines()
    assert lines == [
        "admin@example.com  active  profile=system_administrator  sets=-  role=-",
        "rep@example.com  active  profile=-  sets=-  role=-",
    ]


def test_token_list_and_revoke(crm, database_url, tmp_path):
    crm("init", "--admin-password", "S3cure-pass!")
    token = crm("token", "create", "--user", "admin@example.com", "--name", "ci").output.strip()
    token_id = token.split("_")[1]
    listed = crm("token", "list", "--user", "admin@example.com").output
    assert token_id in listed and "active  ci" in listed and token not in listed

    assert f"Revoked token {token_id}." in crm("token", "revoke", token_id).output
    assert "revoked " in crm("token", "list", "--user", "admin@example.com").output
    from crm_platform.app import create_app
    from crm_platform.core import load_settings

    app = create_app(load_settings(database_url, tmp_path / "instance"))
    response = app.test_client().get(
        "/api/v1/metadata/objects", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    app.extensions["crm_org"].dispose()
    again = crm("token", "revoke", token_id, ok=False)
    assert again.exit_code == 1 and "no active token" in again.output


def test_a_command_on_platform_tables_behind_this_version_asks_for_crm_upgrade(
    crm, database_url, tmp_path
):
    import sqlalchemy as sa

    from crm_platform.core.migrate import VERSION_TABLE

    crm("init", "--admin-password", "S3cure-pass!")
    org = _open(database_url, tmp_path)
    try:
        with org.db.write() as conn:  # as if installed by the version before 0022
            for column in ("warned", "runner", "error_bytes", "unchanged"):  # 0022's to 0025's
                conn.execute(sa.text(f"ALTER TABLE sys_import_job DROP COLUMN {column}"))
            conn.execute(sa.text("DROP TABLE sys_search_group"))  # 0024's
            conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '0021'"))
    finally:
        org.dispose()
    source = tmp_path / "people.csv"
    source.write_text("Name\nAcme\n", encoding="utf-8")
    refused = crm("import", str(source), "--object", "account", ok=False)
    assert refused.exit_code == 1
    assert "the platform tables are behind: run `crm upgrade`" in refused.output
    refused = crm("backup", str(tmp_path / "before-upgrade.zip"), ok=False)
    assert "the platform tables are behind: run `crm upgrade`" in refused.output
    assert "Platform tables are up to date." in crm("upgrade").output
    assert "no object" in crm("import", str(source), "--object", "account", ok=False).output
