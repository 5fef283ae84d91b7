"""A stolen token (or session) cannot change the password: your own password needs the
current one, guesses at it are throttled; an administrator resetting someone else's does
not. Reactivating a user does not bring back the tokens issued before the deactivation."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, make_token

from .conftest import PASSWORD, sign_in

NEW = "N3w-passw0rd!"


@pytest.fixture
def victim(people, make_person, clock):
    return make_person("vic@example.com", profile="sales_rep", role="sales_rep")


def _signs_in(app, email, password) -> bool:
    return sign_in(app.test_client(), email, password).status_code == 302


def _change(client, user_id, **body):
    return client.patch(f"/api/v1/users/{user_id}", json=body)


def test_a_stolen_token_cannot_change_the_password_without_the_current_one(app, victim):
    missing = _change(victim, victim.user_id, password=NEW)
    assert missing.status_code == 400
    assert missing.mimetype == "application/problem+json"
    assert "current_password" in missing.get_json()["errors"]
    wrong = _change(victim, victim.user_id, password=NEW, current_password="a-guess-123")
    assert wrong.status_code == 403
    assert "current_password" in wrong.get_json()["errors"]
    assert _signs_in(app, victim.email, PASSWORD)
    assert not _signs_in(app, victim.email, NEW)


def test_the_current_password_allows_the_change(app, victim):
    response = _change(victim, victim.user_id, password=NEW, current_password=PASSWORD)
    assert response.status_code == 200, response.get_json()
    assert _signs_in(app, victim.email, NEW)
    assert not _signs_in(app, victim.email, PASSWORD)


def test_guessing_the_current_password_is_throttled(app, victim, clock):
    for n in range(5):
        response = _change(victim, victim.user_id, password=NEW, current_password=f"guess-{n}")
        assert response.status_code == 403
    throttled = _change(victim, victim.user_id, password=NEW, current_password=PASSWORD)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "1"
    assert not _signs_in(app, victim.email, PASSWORD)  # the same account back-off
    clock.advance(1)
    response = _change(victim, victim.user_id, password=NEW, current_password=PASSWORD)
    assert response.status_code == 200


def test_an_administrator_resets_someone_elses_password_without_theirs(app, api, victim):
    response = api.patch(f"/api/v1/users/{victim.user_id}", json={"password": NEW})
    assert response.status_code == 200
    assert _signs_in(app, victim.email, NEW)


def test_an_administrator_changing_their_own_password_needs_the_current_one(app, api, org):
    with org.db.read() as conn:
        from crm_platform.runtime import find_user

        admin = find_user(conn, ADMIN_EMAIL)
    assert api.patch(f"/api/v1/users/{admin.id}", json={"password": NEW}).status_code == 400
    response = api.patch(
        f"/api/v1/users/{admin.id}", json={"password": NEW, "current_password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200


def test_reactivating_a_user_does_not_revive_tokens_issued_before(org, api, victim):
    old_token_client = victim
    assert old_token_client.get("/api/v1/records/opportunity").status_code == 200
    assert api.patch(f"/api/v1/users/{victim.user_id}", json={"active": False}).status_code == 200
    assert old_token_client.get("/api/v1/records/opportunity").status_code == 401
    assert api.patch(f"/api/v1/users/{victim.user_id}", json={"active": True}).status_code == 200
    assert old_token_client.get("/api/v1/records/opportunity").status_code == 401
    listed = old_token_client.client.get(
        "/api/v1/records/opportunity",
        headers={"Authorization": f"Bearer {make_token(org, victim.email)}"},
    )
    assert listed.status_code == 200  # a token issued after the reactivation works
