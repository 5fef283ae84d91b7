"""No lock-out: no change may leave the org without an active user who holds both
customize_application and manage_users (issue 9 item 10, issue 10 item 7)."""

from __future__ import annotations

import threading
import time

import pytest
from click.testing import CliRunner

from crm_platform.cli import main
from crm_platform.core.tables import SYSTEM_USER_ID
from tests.conftest import ADMIN_EMAIL, ON_POSTGRES

SYSADMIN = "system_administrator"
IT_ADMIN = {
    "api_name": "it_admin",
    "system": ["api_enabled", "customize_application", "manage_users"],
}


def _me(client) -> dict:
    users = client.get("/api/v1/users").get_json()["users"]
    return next(u for u in users if u["email"] == ADMIN_EMAIL)


def _refused(response) -> None:
    assert response.status_code == 409, response.get_json()
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert "customize_application and manage_users" in problem["detail"]
    assert problem["required_permissions"] == ["customize_application", "manage_users"]


def _admins(api) -> list[str]:
    """Emails of the active users who can still administer the org, as the API shows them."""
    sets = {
        s["api_name"]: set(s.get("system", []))
        for s in api.get("/api/v1/metadata/permission_sets").get_json()["permission_sets"]
    }
    found = []
    for user in api.get("/api/v1/users").get_json()["users"]:
        held = set()
        for name in [user["profile"], *user["permission_sets"]]:
            held |= sets.get(name, set())
        if user["active"] and {"customize_application", "manage_users"} <= held:
            found.append(user["email"])
    return found


def test_the_only_admin_cannot_drop_their_own_profile(api):
    me = _me(api)
    _refused(api.patch(f"/api/v1/users/{me['id']}", json={"profile": None}))
    assert _me(api)["profile"] == SYSADMIN
    assert api.get("/api/v1/metadata/objects").status_code == 200  # still administers


def test_the_only_admin_cannot_be_deactivated(api):
    me = _me(api)
    _refused(api.patch(f"/api/v1/users/{me['id']}", json={"active": False}))
    assert _me(api)["active"] is True


def test_a_profile_change_to_a_set_without_administration_is_refused(api, put_metadata):
    put_metadata("permission_set", {"api_name": "reader", "system": ["api_enabled"]})
    me = _me(api)
    _refused(api.patch(f"/api/v1/users/{me['id']}", json={"profile": "reader", "role": None}))
    assert _me(api)["profile"] == SYSADMIN


def test_removing_the_last_administrating_assignment_is_refused(api, put_metadata):
    put_metadata("permission_set", IT_ADMIN)
    me = _me(api)
    # moving administration from the profile to an extra set is fine: someone still holds it
    moved = api.patch(
        f"/api/v1/users/{me['id']}", json={"profile": None, "permission_sets": ["it_admin"]}
    )
    assert moved.status_code == 200, moved.get_json()
    _refused(api.patch(f"/api/v1/users/{me['id']}", json={"permission_sets": []}))
    assert _me(api)["permission_sets"] == ["it_admin"]


def test_administration_split_across_two_sets_counts(api, put_metadata):
    put_metadata(
        "permission_set", {"api_name": "setup", "system": ["api_enabled", "customize_application"]}
    )
    put_metadata("permission_set", {"api_name": "people", "system": ["manage_users"]})
    me = _me(api)
    response = api.patch(
        f"/api/v1/users/{me['id']}", json={"profile": "setup", "permission_sets": ["people"]}
    )
    assert response.status_code == 200, response.get_json()
    _refused(api.patch(f"/api/v1/users/{me['id']}", json={"permission_sets": []}))


def test_with_a_second_admin_the_first_may_step_down(api, make_user):
    second = make_user("second@example.com", profile=SYSADMIN)
    me = _me(api)
    response = api.patch(f"/api/v1/users/{me['id']}", json={"profile": None})
    assert response.status_code == 200
    assert _admins(second) == ["second@example.com"]


def test_a_self_service_change_of_the_only_admin_is_not_held_up(api):
    me = _me(api)
    response = api.patch(f"/api/v1/users/{me['id']}", json={"name": "Root", "time_zone": "UTC"})
    assert response.status_code == 200


def test_stripping_the_system_administrator_set_is_refused(api):
    current = api.get(f"/api/v1/metadata/permission_sets/{SYSADMIN}").get_json()
    stripped = {**current, "system": ["api_enabled", "customize_application"]}
    _refused(api.put(f"/api/v1/metadata/permission_sets/{SYSADMIN}", json=stripped))
    after = api.get(f"/api/v1/metadata/permission_sets/{SYSADMIN}").get_json()
    assert "manage_users" in after["system"]


def test_deleting_the_set_every_admin_holds_is_refused(api):
    _refused(api.delete(f"/api/v1/metadata/permission_sets/{SYSADMIN}"))
    assert api.get(f"/api/v1/metadata/permission_sets/{SYSADMIN}").status_code == 200


def test_editing_another_set_that_drops_the_last_holder_is_refused(api, put_metadata, make_user):
    put_metadata("permission_set", IT_ADMIN)
    helper = make_user("it@example.com", sets=("it_admin",))
    me = _me(api)
    assert api.patch(f"/api/v1/users/{me['id']}", json={"profile": None}).status_code == 200
    narrowed = {**IT_ADMIN, "system": ["api_enabled", "manage_users"]}
    _refused(helper.put("/api/v1/metadata/permission_sets/it_admin", json=narrowed))
    _refused(helper.delete("/api/v1/metadata/permission_sets/it_admin"))
    assert _admins(helper) == ["it@example.com"]
    # adding permissions to a set is never held up
    widened = {**IT_ADMIN, "system": [*IT_ADMIN["system"], "view_setup"]}
    assert helper.put("/api/v1/metadata/permission_sets/it_admin", json=widened).status_code == 200


def test_a_yaml_apply_that_strips_the_set_is_refused(org, api):
    from crm_platform.runtime.lockout import WouldLockOut

    current = api.get(f"/api/v1/metadata/permission_sets/{SYSADMIN}").get_json()
    with pytest.raises(WouldLockOut):
        org.metadata.apply_definitions(
            [("permission_set", {**current, "system": ["api_enabled"]})],
            author_id=SYSTEM_USER_ID,
        )


def test_racing_admins_who_each_step_down_leave_one(api, make_user):
    """Four admins each drop their own administration at the same moment: three may,
    the last one is refused, whoever that is."""
    clients = [api] + [make_user(f"admin{i}@example.com", profile=SYSADMIN) for i in range(3)]
    ids = [_me(api)["id"]] + [c.user_id for c in clients[1:]]
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def step_down(client, user_id):
        start.wait()
        statuses.append(
            client.patch(f"/api/v1/users/{user_id}", json={"profile": None}).status_code
        )

    threads = [
        threading.Thread(target=step_down, args=pair) for pair in zip(clients, ids, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses) == [200, 200, 200, 409]
    survivor = next(c for c in clients if c.get("/api/v1/users").status_code == 200)
    assert len(_admins(survivor)) == 1


def _wait_until_blocked(org, thread: threading.Thread) -> None:
    """Until the other transaction waits for the guard's lock (PostgreSQL), or a moment
    (SQLite, where it waits to begin at all)."""
    if not ON_POSTGRES:
        time.sleep(0.3)
        return
    import sqlalchemy as sa

    for _ in range(600):
        with org.db.engine.connect() as conn:
            waiting = conn.execute(
                sa.text(
                    "select count(*) from pg_stat_activity "
                    "where wait_event_type = 'Lock' and datname = current_database()"
                )
            ).scalar_one()
        if waiting or not thread.is_alive():
            return
        time.sleep(0.05)


def test_a_change_that_checked_while_another_was_uncommitted_is_rechecked(org, api, make_user):
    """Admin A steps down and has passed the check but not committed; admin B steps down
    meanwhile. B's check must see A's change once A commits, and refuse."""
    from crm_platform.runtime.directory import update_user_record
    from crm_platform.runtime.lockout import WouldLockOut

    second = make_user("second@example.com", profile=SYSADMIN)
    first_id = _me(api)["id"]
    outcome: list[object] = []

    def second_steps_down():
        try:
            with org.db.write() as conn:
                model = org.models.model_for(conn)
                update_user_record(conn, model, second.user_id, {"profile": None}, may_manage=True)
            outcome.append("passed")
        except WouldLockOut as refused:
            outcome.append(refused)

    with org.db.write() as conn:
        model = org.models.model_for(conn)
        update_user_record(conn, model, first_id, {"profile": None}, may_manage=True)
        other = threading.Thread(target=second_steps_down)
        other.start()
        _wait_until_blocked(org, other)
    other.join(timeout=60)
    assert len(outcome) == 1 and isinstance(outcome[0], WouldLockOut)
    assert _admins(second) == ["second@example.com"]


def test_grant_admin_recovers_a_locked_out_org(org, api, database_url, tmp_path):
    """An org locked out before the guard existed (written straight to the database):
    the operator's documented command makes someone an administrator again."""
    import sqlalchemy as sa

    from crm_platform.core.tables import metadata_components, user_permission_sets, users

    with org.db.write() as conn:  # what a pre-guard PATCH and set edit could leave
        conn.execute(users.update().where(users.c.email == ADMIN_EMAIL).values(profile=None))
        conn.execute(user_permission_sets.delete())
        row = conn.execute(
            sa.select(metadata_components.c.id, metadata_components.c.definition).where(
                metadata_components.c.name == SYSADMIN
            )
        ).one()
        conn.execute(
            metadata_components.update()
            .where(metadata_components.c.id == row.id)
            .values(definition={**row.definition, "system": ["api_enabled"]})
        )
    assert api.get("/api/v1/users").status_code == 403

    env = {"CRM_DATABASE_URL": database_url, "CRM_INSTANCE_PATH": str(tmp_path / "instance")}
    result = CliRunner().invoke(
        main, ["user", "grant-admin", "--email", ADMIN_EMAIL], env=env, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert f"{ADMIN_EMAIL} is active and holds {SYSADMIN}" in result.output
    assert api.get("/api/v1/users").status_code == 200
    assert _admins(api) == [ADMIN_EMAIL]


def test_grant_admin_reactivates_a_deactivated_user(org, api, make_user, database_url, tmp_path):
    rep = make_user("rep@example.com")
    assert api.patch(f"/api/v1/users/{rep.user_id}", json={"active": False}).status_code == 200
    env = {"CRM_DATABASE_URL": database_url, "CRM_INSTANCE_PATH": str(tmp_path / "instance")}
    result = CliRunner().invoke(
        main, ["user", "grant-admin", "--email", "rep@example.com"], env=env
    )
    assert result.exit_code == 0, result.output
    view = api.get(f"/api/v1/users/{rep.user_id}").get_json()
    assert view["active"] is True and SYSADMIN in view["permission_sets"]
    unknown = CliRunner().invoke(main, ["user", "grant-admin", "--email", "x@example.com"], env=env)
    assert unknown.exit_code == 1 and "no user 'x@example.com'" in unknown.output
