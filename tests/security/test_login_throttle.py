"""The login throttle backs off per account and per address: one person's typos never lock
out their office, attempts during a back-off do not extend it, and the right password
works as soon as it has passed. Time moves through the org's clock, never by sleeping."""

from __future__ import annotations

import pytest

from .conftest import PASSWORD, sign_in

OFFICE = "10.0.0.1"  # one NAT address for everyone in the office


@pytest.fixture
def office(org, app, clock, make_person):
    """Two colleagues behind the same address, each with a browser."""
    make_person("ann@example.com")
    make_person("bob@example.com")
    return app


def _try(app, email, password=PASSWORD, address=OFFICE):
    return sign_in(app.test_client(), email, password, address).status_code


def _fail(app, email, times, address=OFFICE):
    for _ in range(times):
        assert _try(app, email, "wrong-guess", address) == 401


def test_one_users_typos_do_not_lock_out_the_office(office):
    _fail(office, "ann@example.com", 5)
    assert _try(office, "ann@example.com") == 429
    assert _try(office, "bob@example.com") == 302  # same address, another account


def test_the_right_password_is_accepted_once_the_back_off_has_passed(office, clock):
    _fail(office, "ann@example.com", 5)
    response = sign_in(office.test_client(), "ann@example.com", PASSWORD, OFFICE)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    clock.advance(1)
    assert _try(office, "ann@example.com") == 302


def test_attempts_during_the_back_off_do_not_extend_it(office, clock):
    _fail(office, "ann@example.com", 5)
    for _ in range(20):  # an attacker keeps hammering while the account is blocked
        assert _try(office, "ann@example.com", "another-guess") == 429
    clock.advance(1)
    assert _try(office, "ann@example.com") == 302


def test_the_back_off_doubles_up_to_fifteen_minutes(office, clock):
    _fail(office, "ann@example.com", 5)
    waits = []
    for _ in range(14):
        blocked = sign_in(office.test_client(), "ann@example.com", "x-guess", OFFICE)
        assert blocked.status_code == 429
        wait = int(blocked.headers["Retry-After"])
        waits.append(wait)
        clock.advance(wait)
        assert _try(office, "ann@example.com", "wrong-again") == 401
    assert waits[:6] == [1, 2, 4, 8, 16, 32]
    assert max(waits) == waits[-1] == 15 * 60


def test_a_success_resets_the_accounts_failures(office):
    _fail(office, "ann@example.com", 4)
    assert _try(office, "ann@example.com") == 302
    _fail(office, "ann@example.com", 4)
    assert _try(office, "ann@example.com") == 302


def test_a_password_spray_from_one_address_is_throttled_for_that_address(office, clock):
    for n in range(20):  # one guess each at many accounts, from one address
        assert _try(office, f"user{n}@example.com", "Summer2026!", "203.0.113.9") == 401
    assert _try(office, "ann@example.com", address="203.0.113.9") == 429
    assert _try(office, "ann@example.com", address=OFFICE) == 302  # elsewhere: unaffected
    clock.advance(1)
    assert _try(office, "bob@example.com", address="203.0.113.9") == 302


def test_unknown_accounts_back_off_like_real_ones(office):
    _fail(office, "nobody@example.com", 5)
    assert _try(office, "nobody@example.com") == 429  # no hint the account does not exist


def test_the_throttle_holds_across_workers(office, org, settings, clock):
    """A second app on its own engine stands for another worker process."""
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org

    other = open_org(settings)
    other.clock = clock
    try:
        _fail(office, "ann@example.com", 5)
        assert _try(create_app(settings, org=other), "ann@example.com") == 429
    finally:
        other.dispose()


def test_throttled_attempts_are_in_the_login_history(office, api):
    _fail(office, "ann@example.com", 5)
    assert _try(office, "ann@example.com") == 429
    history = api.get("/api/v1/audit/logins?email=ann@example.com").get_json()["logins"]
    assert [h["succeeded"] for h in history] == [False] * 6
