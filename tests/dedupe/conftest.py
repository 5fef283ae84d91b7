"""An org with accounts and contacts under duplicate rules (tests/fixtures/dedupe), an
admin and a rep who sees only their own accounts and may not read ``tax_id``; built
once per module on the engine under test."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    FIXTURES,
    ApiClient,
    fresh_database_url,
    make_token,
)

REP_EMAIL = "rep@example.com"
REP_PASSWORD = "rep-password-1"


def build_dedupe_org(org, app) -> SimpleNamespace:
    """Apply the fixture and add the rep (with a password, for the pages)."""
    from crm_platform.core.tables import SYSTEM_USER_ID
    from crm_platform.runtime import create_user
    from crm_platform.yamlio import read_definitions

    definitions = [(k, d) for k, d, _ in read_definitions(FIXTURES / "dedupe")]
    org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)
    with org.db.write() as conn:
        rep = create_user(conn, email=REP_EMAIL, password=REP_PASSWORD, profile="rep")
    admin = ApiClient(app.test_client(), make_token(org, ADMIN_EMAIL))
    rep_api = ApiClient(app.test_client(), make_token(org, REP_EMAIL))
    rep_api.user_id = rep.id
    return SimpleNamespace(org=org, app=app, api=admin, rep=rep_api, rep_id=rep.id)


@pytest.fixture(scope="module")
def dd(tmp_path_factory):
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.runtime import initialise_org

    with fresh_database_url(tmp_path_factory.mktemp("dedupe")) as url:
        settings = load_settings(url, instance_path=tmp_path_factory.mktemp("instance"))
        org = open_org(settings)
        initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
        app = create_app(settings, org=org)
        yield build_dedupe_org(org, app)
        org.dispose()


def create(client, object_name: str, values: dict, status: int = 201):
    response = client.post(f"/api/v1/records/{object_name}", json=values)
    assert response.status_code == status, response.get_json()
    return response


def warnings_of(response) -> list[str]:
    return response.headers.getlist("Warning")
