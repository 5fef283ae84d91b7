"""Issue 17 item 7: ``crm backup FILE`` writes the whole org to one file and ``crm restore
FILE`` restores it into an empty database on either engine — a SQLite org moves to
PostgreSQL (when the tests run there) or to a fresh SQLite, and is equal."""

from __future__ import annotations

import json
import re
import zipfile
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.conftest import ADMIN_EMAIL, ON_POSTGRES, ApiClient, fresh_database_url

from .source_org import (
    MANUAL,
    REP_EMAIL,
    REP_PASSWORD,
    crm,
    crm_env,
    files_of_backup,
    table_rows,
)

TARGETS = ["postgresql", "sqlite"] if ON_POSTGRES else ["sqlite"]


@pytest.fixture(params=TARGETS)
def target(request, tmp_path):
    """An empty database (PostgreSQL when the tests run there, and a fresh SQLite file)
    and an empty instance folder."""
    if request.param == "sqlite":
        yield SimpleNamespace(url=f"sqlite:///{tmp_path / 'moved.db'}", instance=tmp_path / "i")
        return
    with fresh_database_url(tmp_path) as url:
        yield SimpleNamespace(url=url, instance=tmp_path / "instance")


@pytest.fixture(scope="module")
def backup(source, tmp_path_factory):
    path = tmp_path_factory.mktemp("backup") / "org.zip"
    made = crm(crm_env(source.settings), "backup", str(path))
    assert made.exit_code == 0, made.output
    assert re.search(r"wrote .*org\.zip: \d+ platform tables, \d+ objects", made.output)
    return path


def _open(target, monkeypatch, key: str):
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings

    monkeypatch.setenv("CRM_ENCRYPTION_KEY", key)
    settings = load_settings(target.url, instance_path=target.instance)
    org = open_org(settings)
    return org, create_app(settings, org=org)


def _key_indexes(org, object_name: str) -> set[str]:
    from crm_platform.dedupe.indexes import key_indexes_on

    with org.reading() as (conn, model):
        return key_indexes_on(conn, model.objects[object_name].table.name)


def _sign_in(app, email: str, password: str) -> int:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    return response.status_code


def test_the_backup_holds_the_whole_org_in_one_file(source, backup):
    with zipfile.ZipFile(backup) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = set(archive.namelist())
    assert manifest["format"] == 1 and manifest["source_engine"] == "sqlite"
    assert manifest["org_name"] == "Backup Co" and manifest["platform_revision"]
    for table in (
        "sys_metadata_component",
        "sys_metadata_revision",  # the metadata's history
        "sys_user",
        "sys_user_permission_set",
        "sys_group_member",
        "sys_share",
        "sys_counter",
        "sys_field_history",
        "sys_pack",
        "sys_pack_component",
        "sys_automation_run",
    ):
        assert f"platform/{table}.jsonl" in names, table
    assert {"project", "client", "opportunity", "asset"} <= set(manifest["objects"])
    assert manifest["objects"]["opportunity"]["rows"] == 4  # the deleted one included
    assert manifest["files"] == 2  # the manual's bytes and what is known of it
    assert manifest["encryption_check"]  # the org has an encrypted field
    rows = table_rows(backup)
    assert not any(b"SN-0099-1234" in line for lines in rows.values() for line in lines)


def test_a_sqlite_org_restored_into_an_empty_database_is_equal(
    source,
    backup,
    target,
    tmp_path,
    monkeypatch,
):
    env = {"CRM_DATABASE_URL": target.url, "CRM_INSTANCE_PATH": str(target.instance)}
    refused = crm(env, "restore", str(backup))  # another key: the values could not be read
    assert refused.exit_code == 1 and "CRM_ENCRYPTION_KEY" in refused.output
    assert not [
        n for n in sa.inspect(sa.create_engine(target.url)).get_table_names() if n[:2] == "o_"
    ]

    env["CRM_ENCRYPTION_KEY"] = source.key
    done = crm(env, "restore", str(backup))
    assert done.exit_code == 0, done.output
    assert "restored" in done.output and "2 files" in done.output

    # every component and every record: a backup of the restored org holds the same rows
    again = tmp_path / "again.zip"
    assert crm(env, "backup", str(again)).exit_code == 0
    assert table_rows(again) == table_rows(backup)
    assert files_of_backup(again) == files_of_backup(backup)

    org, app = _open(target, monkeypatch, source.key)
    try:
        admin = ApiClient(app.test_client(), source.admin.token)  # tokens came along
        for path in (
            f"/api/v1/records/asset/{source.asset['id']}",
            "/api/v1/records/opportunity?order_by=name",
            "/api/v1/records/project?order_by=name",
            "/api/v1/metadata/objects/asset/history",
            "/api/v1/users",
        ):
            assert admin.get(path).get_json() == source.admin.get(path).get_json(), path
        asset = admin.get(f"/api/v1/records/asset/{source.asset['id']}").get_json()
        assert asset["serial"] == "SN-0099-1234" and asset["weight"] == Decimal("1234.5678")
        rep = ApiClient(app.test_client(), source.rep.token)
        mine = rep.get("/api/v1/records/opportunity?order_by=name").get_json()
        assert [r["name"] for r in mine["records"]] == ["Globex", "北京大单"]  # shared + own
        assert "secret_score" not in mine["records"][0]

        # people sign in with their passwords; files download; search finds records
        assert _sign_in(app, REP_EMAIL, REP_PASSWORD) == 302
        assert _sign_in(app, REP_EMAIL, "wrong") != 302
        download = admin.get(f"/api/v1/records/asset/{source.asset['id']}/files/manual")
        assert download.status_code == 200 and download.data == MANUAL
        found = admin.get("/api/v1/search?q=北京大单").get_json()
        assert "北京大单" in json.dumps(found, ensure_ascii=False)
        assert _key_indexes(org, "asset")  # the duplicate rule's, made again

        # the org goes on: numbers continue, ids and versions move on, metadata changes
        spare = admin.post("/api/v1/records/asset", json={"name": "Next"}).get_json()
        assert spare["tag"] == "AS-0003"
        added = admin.post(
            "/api/v1/metadata/objects/asset/fields", json={"api_name": "size", "type": "integer"}
        )
        assert added.status_code == 201, added.get_json()
        numbers = [p["number"] for p in admin.get("/api/v1/records/project").get_json()["records"]]
        project = admin.post("/api/v1/records/project", json={"name": "After"}).get_json()
        assert project["number"] == f"PRJ-{len(numbers) + 1:04d}" and len(numbers) >= 2
        gone = source.deals["Gone"]["id"]
        assert admin.post(f"/api/v1/records/opportunity/{gone}/restore").status_code == 200
    finally:
        org.dispose()


def test_a_restore_into_a_database_that_is_not_empty_refuses(source, backup):
    before = source.admin.get("/api/v1/records/opportunity").get_json()
    refused = crm(crm_env(source.settings), "restore", str(backup))
    assert refused.exit_code == 1
    assert "is not empty" in refused.output and "empty database only" in refused.output
    assert source.admin.get("/api/v1/records/opportunity").get_json() == before


def test_a_file_that_is_no_backup_is_refused(tmp_path):
    with fresh_database_url(tmp_path) as url:
        env = {"CRM_DATABASE_URL": url, "CRM_INSTANCE_PATH": str(tmp_path / "instance")}
        junk = tmp_path / "junk.zip"
        junk.write_bytes(b"not a zip")
        refused = crm(env, "restore", str(junk))
        assert refused.exit_code == 1 and "cannot read" in refused.output
        with zipfile.ZipFile(tmp_path / "empty.zip", "w") as archive:
            archive.writestr("hello.txt", "hi")
        refused = crm(env, "restore", str(tmp_path / "empty.zip"))
        assert refused.exit_code == 1 and "not a crm backup" in refused.output


def test_a_backup_of_an_unknown_format_or_migration_is_refused(backup, tmp_path):
    env = {"CRM_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "CRM_INSTANCE_PATH": str(tmp_path)}
    for change, message in (
        ({"format": 2}, "this backup has format 2; this crm-platform reads format 1"),
        ({"platform_revision": "9999"}, "made at platform migration 9999"),
    ):
        changed = tmp_path / "changed.zip"
        with zipfile.ZipFile(backup) as original, zipfile.ZipFile(changed, "w") as out:
            for item in original.infolist():
                data = original.read(item)
                if item.filename == "manifest.json":
                    data = json.dumps({**json.loads(data), **change}).encode()
                out.writestr(item, data)
        refused = crm(env, "restore", str(changed))
        assert refused.exit_code == 1 and message in refused.output
    assert not sa.inspect(sa.create_engine(env["CRM_DATABASE_URL"])).get_table_names()


def test_a_restore_that_fails_half_way_leaves_the_database_empty(source, backup, tmp_path):
    """A damaged object file (its last row cut off) fails after the platform rows and
    some object tables went in: all of it rolls back, and the good backup then restores."""
    with fresh_database_url(tmp_path) as url:
        env = {
            "CRM_DATABASE_URL": url,
            "CRM_INSTANCE_PATH": str(tmp_path / "instance"),
            "CRM_ENCRYPTION_KEY": source.key,
        }
        damaged = tmp_path / "damaged.zip"
        with zipfile.ZipFile(backup) as original, zipfile.ZipFile(damaged, "w") as out:
            for item in original.infolist():
                data = original.read(item)
                if item.filename == "objects/opportunity.jsonl":
                    data = b"\n".join(data.splitlines()[:-1])
                out.writestr(item, data)
        refused = crm(env, "restore", str(damaged))
        assert refused.exit_code == 1
        assert "objects/opportunity.jsonl has 3 rows; the manifest says 4" in refused.output
        engine = sa.create_engine(url)
        names = sa.inspect(engine).get_table_names()
        assert not [n for n in names if n.startswith("o_")] and "sys_user" in names
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT COUNT(*) FROM sys_user")).scalar() == 0
        engine.dispose()
        done = crm(env, "restore", str(backup))
        assert done.exit_code == 0, done.output


def test_every_platform_table_is_backed_up_or_left_out_on_purpose(org):
    from crm_platform.backup.tables import LEFT_OUT, unknown_platform_tables

    names = sa.inspect(org.db.engine).get_table_names()
    assert unknown_platform_tables(names) == []
    assert "sys_user" in names and "sys_search" in LEFT_OUT


def test_admins_and_the_system_user_came_along(source, backup):
    with zipfile.ZipFile(backup) as archive:
        users = archive.read("platform/sys_user.jsonl").decode()
    assert ADMIN_EMAIL in users and REP_EMAIL in users and "system@crm.invalid" in users
