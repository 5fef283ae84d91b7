"""Every /api/v1 endpoint needs a valid token; metadata writes need an administrator."""

from __future__ import annotations

import pytest

from crm_platform.runtime import revoke_token
from tests.conftest import ApiClient


def test_no_token_is_401_problem(anonymous):
    response = anonymous.get("/api/v1/metadata/objects")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer nonsense", "Basic YWRtaW46cGFzcw==", "Bearer crm_0123456789abcdef_wrong"],
)
def test_bad_tokens_are_401(app, header):
    response = app.test_client().get("/api/v1/metadata", headers={"Authorization": header})
    assert response.status_code == 401


def test_a_tampered_token_is_401(app, admin_token):
    tampered = admin_token[:-2] + ("AA" if not admin_token.endswith("AA") else "BB")
    response = app.test_client().get(
        "/api/v1/metadata", headers={"Authorization": f"Bearer {tampered}"}
    )
    assert response.status_code == 401


def test_a_revoked_token_is_401(app, org, admin_token):
    token_id = admin_token.split("_")[1]
    with org.db.write() as conn:
        revoke_token(conn, token_id)
    response = app.test_client().get(
        "/api/v1/metadata", headers={"Authorization": f"Bearer {admin_token}"}
    )
    assert response.status_code == 401


def test_tokens_are_stored_hashed(org, admin_token):
    import sqlalchemy as sa

    from crm_platform.core.tables import api_tokens

    with org.db.read() as conn:
        stored = conn.execute(sa.select(api_tokens.c.secret_hash)).scalars().all()
    secret = admin_token.split("_", 2)[2]
    assert secret not in stored and all(len(h) == 64 for h in stored)


@pytest.fixture
def rep(make_user, put_metadata) -> ApiClient:
    put_metadata("permission_set", {"api_name": "api_user", "system": ["api_enabled"]})
    return make_user("rep@example.com", profile="api_user")


def test_api_access_needs_api_enabled(make_user):
    nobody = make_user("nobody@example.com")
    response = nobody.get("/api/v1/metadata/objects")
    assert response.status_code == 403
    assert "api_enabled" in response.get_json()["detail"]


def test_a_non_admin_can_read_but_not_change_metadata(api, rep, put_metadata):
    api.post("/api/v1/metadata/objects", json={"api_name": "project"})
    put_metadata(
        "permission_set",
        {"api_name": "api_user", "system": ["api_enabled"], "objects": {"project": {"read": True}}},
    )

    assert rep.get("/api/v1/metadata/objects/project").status_code == 200
    refused = rep.post("/api/v1/metadata/objects", json={"api_name": "task"})
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"
    assert rep.delete("/api/v1/metadata/objects/project").status_code == 403
    assert (
        rep.post(
            "/api/v1/metadata/objects/project/fields", json={"api_name": "x", "type": "text"}
        ).status_code
        == 403
    )
    assert api.get("/api/v1/metadata/objects/task").status_code == 404


def test_passwords_are_hashed_with_a_kdf(org):
    import sqlalchemy as sa

    from crm_platform.core.tables import users

    with org.db.read() as conn:
        hashes = conn.execute(
            sa.select(users.c.password_hash).where(users.c.email == "admin@example.com")
        ).scalar_one()
    assert hashes.startswith("$argon2id$")


def test_a_busy_database_answers_503_with_retry_after(api, monkeypatch):
    import sqlalchemy as sa

    from crm_platform.runtime.records import RecordSession

    def locked(*_args, **_kwargs):
        raise sa.exc.OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    api.post("/api/v1/metadata/objects", json={"api_name": "project"})
    monkeypatch.setattr(RecordSession, "create", locked)
    response = api.post("/api/v1/records/project", json={"name": "x"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.mimetype == "application/problem+json"
