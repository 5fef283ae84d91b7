"""The org a backup is made of, always on SQLite (the issue's move is SQLite to
PostgreSQL; the restore goes to the engine under test): a pack installed with sample data
(auto-numbers), the report outputs' objects, reports, roles and permission sets, an asset
object with a value of every kind (an encrypted one and a file among them), people with
profiles, roles, extra permission sets, a group and an API token, records of two owners, a
manual share, a record in the recycle bin and metadata changed after it was created.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, FIXTURES, ApiClient, make_token

REP_EMAIL = "rep@example.com"
REP_PASSWORD = "Rep-pass-123!"
MANUAL = b"%PDF-1.4 the manual of the press\n" * 50

ASSET = {
    "name": "Press 7",
    "serial": "SN-0099-1234",
    "weight": "1234.5678",
    "price": "99999.99",
    "units": 7,
    "bought_on": "2024-03-05",
    "bought_at": "2024-03-05T09:30:00+08:00",
    "opens_at": "08:15:00",
    "in_service": True,
    "tags": ["red", "蓝色"],
    "specs": {"volts": 380, "ratio": 0.125, "名字": ["a", None]},
    "site": {"street": "1 Main St", "city": "上海", "country": "CN"},
    "notes": 'line one\nline two, "quoted"',
}


def crm_env(settings, **extra: str) -> dict[str, str]:
    return {
        "CRM_DATABASE_URL": settings.database_url,
        "CRM_INSTANCE_PATH": str(settings.instance_path),
        **extra,
    }


def crm(env: dict[str, str], *args: str):
    from crm_platform.cli import main

    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Iterator[SimpleNamespace]:
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.core.tables import SYSTEM_USER_ID, user_permission_sets
    from crm_platform.packs.install import install
    from crm_platform.runtime import create_user, initialise_org
    from crm_platform.runtime.directory import add_member
    from crm_platform.yamlio import read_definitions

    folder = tmp_path_factory.mktemp("source")
    settings = load_settings(f"sqlite:///{folder / 'crm.db'}", instance_path=folder / "instance")
    org = open_org(settings)
    initialise_org(
        org,
        admin_email=ADMIN_EMAIL,
        admin_password=ADMIN_PASSWORD,
        name="Backup Co",
        time_zone="Asia/Shanghai",
        currency="CNY",
    )
    install(org, FIXTURES / "packs" / "acme_projects", with_sample=True)
    definitions = [
        (kind, d)
        for folder_name in ("report_outputs", "backup", "security/groups")
        for kind, d, _ in read_definitions(FIXTURES / folder_name)
    ]
    org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)
    with org.db.write() as conn:
        rep = create_user(
            conn, email=REP_EMAIL, password=REP_PASSWORD, profile="sales_rep", role="sales_rep"
        )
        conn.execute(
            user_permission_sets.insert().values(user_id=rep.id, permission_set="exporter")
        )
        add_member(conn, org.models.model_for(conn), "groups", "finance", rep.id)
    app = create_app(settings, org=org)
    admin = ApiClient(app.test_client(), make_token(org, ADMIN_EMAIL))
    rep_api = ApiClient(app.test_client(), make_token(org, REP_EMAIL))

    deals = {}
    for who, name, amount in (
        (admin, "Umbrella", "80000.00"),
        (admin, "Globex", "300000.10"),
        (rep_api, "北京大单", "250000.50"),
        (admin, "Gone", "1.00"),
    ):
        body = {"name": name, "amount": amount, "stage": "Prospecting"}
        if who is admin:
            body["secret_score"] = "7.25"  # hidden from the rep
        response = who.post("/api/v1/records/opportunity", json=body)
        assert response.status_code == 201, response.get_json()
        deals[name] = response.get_json()
    shared = admin.post(
        f"/api/v1/records/opportunity/{deals['Globex']['id']}/shares",
        json={"user": rep.id, "access": "read"},
    )
    assert shared.status_code in (200, 201), shared.get_json()
    assert admin.delete(f"/api/v1/records/opportunity/{deals['Gone']['id']}").status_code == 204

    upload = admin.client.post(
        "/api/v1/files/asset/manual",
        data={"file": (io.BytesIO(MANUAL), "manual.pdf")},
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert upload.status_code == 201, upload.get_json()
    body = {**ASSET, "manual": upload.get_json()["value"], "opportunity": deals["Umbrella"]["id"]}
    asset = admin.post("/api/v1/records/asset", json=body)
    assert asset.status_code == 201, asset.get_json()
    assert admin.post("/api/v1/records/asset", json={"name": "Spare"}).status_code == 201

    # metadata with a history: a field added after the object, then one deleted
    changed = admin.post(
        "/api/v1/metadata/objects/asset/fields",
        json={"api_name": "colour", "type": "text", "label": "Colour"},
    )
    assert changed.status_code == 201, changed.get_json()
    assert admin.delete("/api/v1/metadata/objects/asset/fields/notes").status_code in (200, 204)

    yield SimpleNamespace(
        org=org,
        app=app,
        settings=settings,
        admin=admin,
        rep=rep_api,
        rep_id=rep.id,
        deals=deals,
        asset=asset.get_json(),
        key=(settings.instance_path / "encryption.key").read_text().strip(),
    )
    org.dispose()


def table_rows(backup: Path) -> dict[str, list[list]]:
    """Every table of a backup as its rows, by member name, sorted. Numbers are kept as
    their digits (``1234.5678`` and ``1234.56780`` differ); a JSON value compares as JSON
    (a ``json`` field is JSONB on PostgreSQL, which orders an object's keys its own way)."""

    def row(line: bytes) -> list:
        return json.loads(line, parse_float=str)

    with zipfile.ZipFile(backup) as archive:
        return {
            name: sorted(
                (row(line) for line in archive.read(name).splitlines()),
                key=lambda r: json.dumps(r, sort_keys=True),
            )
            for name in archive.namelist()
            if name.endswith(".jsonl")
        }


def files_of_backup(backup: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(backup) as archive:
        return {n: archive.read(n) for n in archive.namelist() if n.startswith("files/")}
