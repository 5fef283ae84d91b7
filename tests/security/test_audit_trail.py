"""The audit trail as the runtime serves it (to the API and the setup UI): setup changes
and logins, newest first, narrowed and capped as asked."""

from __future__ import annotations

import pytest

from crm_platform.core import ValidationFailed
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.runtime import attempt_login, audit
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD


def test_setup_changes_say_who_changed_what_newest_first(org):
    org.metadata.create_object({"api_name": "idea"}, author_id=SYSTEM_USER_ID)
    first = org.metadata.version()
    org.metadata.add_field(
        "idea", {"api_name": "votes", "type": "integer"}, author_id=SYSTEM_USER_ID
    )
    with org.db.read() as conn:
        fields = audit.setup_changes(conn, audit.SetupChangeQuery(kind="field"))
        earlier = audit.setup_changes(conn, audit.SetupChangeQuery(before=first + 1, limit=200))
        one = audit.setup_changes(conn, audit.SetupChangeQuery(limit=1))

    assert fields[0].name == "idea.votes" and fields[0].action == "create"
    assert fields[0].before is None and fields[0].after["type"] == "integer"
    assert fields[0].by.id == SYSTEM_USER_ID
    assert all(change.kind == "field" for change in fields)
    assert all(change.revision <= first for change in earlier)
    assert "idea.votes" not in {change.name for change in earlier}
    assert [change.revision for change in one] == [org.metadata.version()]


def test_login_history_holds_failures_too_and_narrows_by_email(org):
    with org.db.write() as conn:
        attempt_login(conn, ADMIN_EMAIL, "wrong", address="10.0.0.1", user_agent="test")
        attempt_login(conn, ADMIN_EMAIL, ADMIN_PASSWORD, address="10.0.0.1", user_agent="test")
        attempt_login(conn, "nobody@example.com", "x", address=None, user_agent=None)
    with org.db.read() as conn:
        admin = audit.login_history(conn, audit.LoginQuery(email=ADMIN_EMAIL.upper()))
        everyone = audit.login_history(conn, audit.LoginQuery())

    assert [event.succeeded for event in admin] == [True, False]
    assert admin[0].user_id is not None and admin[0].method == "password"
    assert admin[0].address == "10.0.0.1" and admin[0].user_agent == "test"
    assert len(everyone) == 3
    assert everyone[0].email == "nobody@example.com" and everyone[0].user_id is None


@pytest.mark.parametrize("limit", [0, audit.MAX_LIMIT + 1])
def test_queries_refuse_a_limit_out_of_bounds(limit):
    with pytest.raises(ValidationFailed):
        audit.LoginQuery(limit=limit)
    with pytest.raises(ValidationFailed):
        audit.SetupChangeQuery(limit=limit)
