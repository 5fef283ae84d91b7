"""UI sessions end on the server: a session cookie saved before a sign-out, a password
change, a deactivation or an administrator's "sign out everywhere" no longer works, on
any worker."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

from .conftest import copy_session, page_token, sign_in
from .test_statements import split, statements

OBJECTS = "/api/v1/metadata/objects"
REC = "/api/v1/records"


@pytest.fixture
def person(people, make_person):
    """A sales rep who signs in with a password."""
    return make_person("pat@example.com", profile="sales_rep", role="sales_rep")


def _signed_in(app, email):
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def _still_signed_in(client) -> bool:
    status = client.get(f"{REC}/opportunity").status_code
    assert status in (200, 401), status
    return status == 200


def test_a_session_cookie_saved_before_logout_is_refused_after_it(app, person):
    browser = _signed_in(app, person.email)
    attacker = app.test_client()
    copy_session(browser, attacker)  # the cookie, stolen while the session was live
    assert _still_signed_in(attacker)

    assert browser.post("/logout", data={"csrf_token": page_token(browser)}).status_code == 302
    assert not _still_signed_in(attacker)
    assert attacker.get("/").status_code == 302  # the pages send it to sign in, too
    assert not _still_signed_in(browser)


def test_signing_out_ends_every_session_of_the_user(app, person):
    laptop = _signed_in(app, person.email)
    phone = _signed_in(app, person.email)
    laptop.post("/logout", data={"csrf_token": page_token(laptop)})
    assert not _still_signed_in(phone)
    again = _signed_in(app, person.email)  # signing in again works
    assert _still_signed_in(again)


def test_a_password_change_ends_the_other_sessions_but_not_the_one_that_made_it(app, person):
    changing = _signed_in(app, person.email)
    other = _signed_in(app, person.email)
    response = changing.patch(
        f"/api/v1/users/{person.user_id}",
        json={"password": "N3w-password!", "current_password": "Corr3ct-horse!"},
        headers={"X-CSRFToken": page_token(changing)},
    )
    assert response.status_code == 200, response.get_json()
    assert not _still_signed_in(other)
    assert _still_signed_in(changing)


def test_a_password_reset_by_an_administrator_ends_the_users_sessions(app, person, api):
    browser = _signed_in(app, person.email)
    response = api.patch(f"/api/v1/users/{person.user_id}", json={"password": "Res3t-by-admin"})
    assert response.status_code == 200
    assert not _still_signed_in(browser)


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(app, person, api):
    browser = _signed_in(app, person.email)
    saved = app.test_client()
    copy_session(browser, saved)  # replayed only after the reactivation
    assert api.patch(f"/api/v1/users/{person.user_id}", json={"active": False}).status_code == 200
    assert not _still_signed_in(browser)
    assert api.patch(f"/api/v1/users/{person.user_id}", json={"active": True}).status_code == 200
    assert not _still_signed_in(saved)


def test_an_administrator_signs_a_user_out_everywhere(app, person, api):
    browser = _signed_in(app, person.email)
    response = api.post(f"/api/v1/users/{person.user_id}/sessions/revoke")
    assert response.status_code == 204
    assert not _still_signed_in(browser)
    assert api.post("/api/v1/users/no-such-user/sessions/revoke").status_code == 404


def test_a_user_may_sign_themselves_out_everywhere_but_not_others(app, person, people):
    browser = _signed_in(app, person.email)
    refused = people.peer.post(f"/api/v1/users/{person.user_id}/sessions/revoke")
    assert refused.status_code == 403
    assert _still_signed_in(browser)
    assert person.post(f"/api/v1/users/{person.user_id}/sessions/revoke").status_code == 204
    assert not _still_signed_in(browser)


def test_a_session_ended_on_one_worker_is_refused_by_another(app, person, settings):
    """Two apps on two engines over one database stand for two worker processes."""
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org

    other_org = open_org(settings)
    try:
        other_worker = create_app(settings, org=other_org).test_client()
        browser = _signed_in(app, person.email)
        copy_session(browser, other_worker)
        assert _still_signed_in(other_worker)
        browser.post("/logout", data={"csrf_token": page_token(browser)})
        assert not _still_signed_in(other_worker)
    finally:
        other_org.dispose()


def test_a_session_read_is_one_transaction_of_three_statements(app, org, people):
    """The session check rides on the statement that loads the user's assignments."""
    browser = app.test_client()
    assert sign_in(browser, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 302
    browser.get(f"{REC}/opportunity?limit=1")  # warm the connection and the model
    with statements(org) as sent:
        response = browser.get(f"{REC}/opportunity?limit=1")
    assert response.status_code == 200
    control, others = split(sent)
    assert len(control) == 1, sent
    assert len(others) <= 3, others
