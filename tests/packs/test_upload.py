"""An administrator uploads a pack as a zip to /api/v1/packs: it is planned or installed
like a shipped pack; a zip that would write outside its folder, holds a link, is too big
or holds a broken pack is refused, naming why, before anything changes."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.packs import archive
from crm_platform.runtime import create_user
from tests.conftest import ApiClient, make_token

from .helpers import PACKS, components, records

BASE = "/api/v1/packs"


def _zip(folder: Path, prefix: str = "", extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out.write(path, prefix + path.relative_to(folder).as_posix())
        for name, data in (extra or {}).items():
            out.writestr(name, data)
    return buffer.getvalue()


def _upload(api, path: str, data: bytes, **form):
    return api.post(
        path,
        data={"file": (io.BytesIO(data), "pack.zip"), **form},
        content_type="multipart/form-data",
    )


def test_an_uploaded_pack_is_planned_then_installed_with_its_dependencies(api, org):
    data = _zip(PACKS / "acme_projects", prefix="acme_projects/")
    planned = _upload(api, f"{BASE}/plan", data, with_sample_data="true")
    assert planned.status_code == 200, planned.get_json()
    body = planned.get_json()
    assert [p["name"] for p in body["packs"]] == ["core_activities", "acme_projects"]
    assert body["records"]["acme_projects"] > 2  # the clients and the sample projects
    assert ("object", "project") not in components(org)  # a plan changes nothing

    installed = _upload(api, f"{BASE}/install", data, with_sample_data="true")
    assert installed.status_code == 201, installed.get_json()
    assert [p["name"] for p in installed.get_json()["packs"]] == [
        "core_activities",
        "acme_projects",
    ]
    assert {c["code"] for c in records(org, "client")} == {"ACME", "GLOBEX"}
    assert records(org, "project")


def test_a_zip_body_with_the_manifest_at_its_top_installs_too(api, org):
    response = api.post(
        f"{BASE}/install",
        data=_zip(PACKS / "regions"),
        content_type="application/zip",
    )
    assert response.status_code == 201, response.get_json()
    assert len(records(org, "region")) == 4


def _refused(api, org, data: bytes, why: str) -> None:
    response = _upload(api, f"{BASE}/install", data)
    assert response.status_code == 400, response.get_json()
    assert why in str(response.get_json()["errors"]), response.get_json()
    assert api.get(BASE).get_json()["installed"] == []


def test_zip_slip_links_size_and_broken_packs_are_refused(api, org, tmp_path, monkeypatch):
    good = _zip(PACKS / "regions")
    _refused(api, org, _zip(PACKS / "regions", extra={"../evil.yaml": b"x: 1"}), "leaving")
    _refused(api, org, _zip(PACKS / "regions", extra={"/etc/evil.yaml": b"x"}), "absolute")

    buffer = io.BytesIO(good)
    with zipfile.ZipFile(buffer, "a") as out:
        link = zipfile.ZipInfo("objects/link.yaml")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        out.writestr(link, "/etc/passwd")
    _refused(api, org, buffer.getvalue(), "symbolic links")

    _refused(api, org, b"not a zip", "not a zip file")
    _refused(api, org, _zip(PACKS / "bad_kind"), "unknown kind folder")
    _refused(api, org, _zip(PACKS / "regions" / "objects"), "no pack.yaml")
    missing = api.post(f"{BASE}/install", data={}, content_type="multipart/form-data")
    assert missing.status_code == 400 and "file" in missing.get_json()["errors"]

    monkeypatch.setattr(archive, "MAX_ZIP_BYTES", 100)
    _refused(api, org, good, "larger than")
    assert not (tmp_path.parent / "evil.yaml").exists()


def test_uploading_needs_manage_packs(app, org):
    setup = {"api_name": "setup", "system": ["api_enabled", "customize_application"]}
    org.metadata.put_component("permission_set", setup, author_id=SYSTEM_USER_ID)
    with org.db.write() as conn:
        create_user(conn, email="rep@example.com", password="S3cure-pass!", profile="setup")
    rep = ApiClient(app.test_client(), make_token(org, "rep@example.com"))
    response = _upload(rep, f"{BASE}/install", _zip(PACKS / "regions"))
    assert response.status_code == 403
