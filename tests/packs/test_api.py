"""Packs over /api/v1/packs, as an administrator (manage_packs) uses them."""

from __future__ import annotations

import io
import zipfile

from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.packs import read_pack, validate_pack
from crm_platform.runtime import create_user, find_user
from tests.conftest import ADMIN_EMAIL, ApiClient, make_token

from .helpers import records

BASE = "/api/v1/packs"


def test_list_plan_install_upgrade_export_uninstall(api, org, tmp_path):
    listed = api.get(BASE).get_json()
    assert {"name": "core_activities", "version": "1.0.0"}.items() <= listed["shipped"][0].items()
    assert listed["installed"] == []

    planned = api.post(f"{BASE}/plan", {"pack": "core_activities", "with_sample_data": True})
    assert planned.status_code == 200
    body = planned.get_json()
    assert body["packs"] == [{"name": "core_activities", "version": "1.0.0"}]
    assert {
        "pack": "core_activities",
        "kind": "object",
        "name": "task",
        "action": "create",
    } in body["components"]

    installed = api.post(f"{BASE}/install", {"pack": "core_activities"})
    assert installed.status_code == 201, installed.get_json()
    assert installed.get_json()["records"] == 1
    (task,) = records(org, "task", "subject")
    with org.db.read() as conn:
        assert task["owner_id"] == find_user(conn, ADMIN_EMAIL).id  # the installing user's
    again = api.post(f"{BASE}/install", {"pack": "core_activities"})
    assert again.status_code == 200 and again.get_json()["already_installed"] is True
    assert api.get(BASE).get_json()["installed"] == [
        {"name": "core_activities", "version": "1.0.0"}
    ]

    dry = api.post(f"{BASE}/core_activities/upgrade", {"dry_run": True}).get_json()
    assert (dry["from_version"], dry["to_version"], dry["conflicts"]) == ("1.0.0", "1.0.0", [])
    assert api.post(f"{BASE}/core_activities/upgrade", {}).get_json()["components"] == 0

    exported = api.post(f"{BASE}/export", {"name": "my_activities", "include": ["object:task"]})
    assert exported.status_code == 200 and exported.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(exported.data)) as archive:
        assert "my_activities/objects/task.yaml" in archive.namelist()
        archive.extractall(tmp_path)
    pack, problems = read_pack(tmp_path / "my_activities", org.registry)
    assert problems == [] and validate_pack(pack, org.registry) == []

    refused = api.delete(f"{BASE}/core_activities")
    assert refused.status_code == 409
    assert refused.get_json()["records"] == {"task": 1}
    removed = api.delete(f"{BASE}/core_activities", query_string={"delete_data": "true"})
    assert removed.status_code == 200, removed.get_json()
    assert removed.get_json()["records_deleted"] == 1
    assert removed.get_json()["backup"].endswith(".json")
    assert api.get(BASE).get_json()["installed"] == []


def test_errors_are_problems(api):
    unknown = api.post(f"{BASE}/install", {"pack": "nowhere"})
    assert unknown.status_code == 400
    assert unknown.get_json()["errors"] == {"pack": ["no shipped pack 'nowhere'"]}
    assert api.post(f"{BASE}/nowhere/upgrade", {}).status_code == 404
    missing = api.delete(f"{BASE}/core_activities")
    assert missing.status_code == 404 and missing.get_json()["detail"] == (
        "core_activities is not installed"
    )
    bad = api.post(f"{BASE}/export", {"name": "x1", "include": ["widget:w"]})
    assert bad.status_code == 400


def test_packs_need_manage_packs(app, org):
    # customising the application is not enough: packs need manage_packs
    setup = {"api_name": "setup", "system": ["api_enabled", "customize_application"]}
    org.metadata.put_component("permission_set", setup, author_id=SYSTEM_USER_ID)
    with org.db.write() as conn:
        create_user(conn, email="rep@example.com", password="S3cure-pass!", profile="setup")
    rep = ApiClient(app.test_client(), make_token(org, "rep@example.com"))
    for response in (
        rep.get(BASE),
        rep.post(f"{BASE}/install", {"pack": "core_activities"}),
        rep.delete(f"{BASE}/core_activities"),
    ):
        assert response.status_code == 403
        assert response.get_json()["detail"] == "this needs the manage_packs permission"
