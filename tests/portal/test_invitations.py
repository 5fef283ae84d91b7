"""An admin invites a contact (API or CLI); the contact sets a password from the link and
signs in; the link works once; refusals are clear and change nothing."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner

from crm_platform.cli import main
from crm_platform.portal.invitations import invitation_user
from tests.portal.conftest import csrf_of, sign_in


def test_an_invited_contact_sets_a_password_once_and_signs_in(portal):
    answer = portal.admin.post("/api/v1/portal/invitations", json={"contact": portal.ids["bob"]})
    assert answer.status_code == 201, answer.json
    invitation = answer.json
    assert invitation["email"] == "bob@customer.example" and invitation["new_user"] is True
    assert invitation["url"].endswith(invitation["path"])
    client = portal.app.test_client()
    page = client.get(invitation["path"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "bob@customer.example" in html
    mismatch = client.post(
        invitation["path"],
        data={"password": "Bob-pass-123", "confirm": "other", "csrf_token": csrf_of(html)},
    )
    assert mismatch.status_code == 400
    done = client.post(
        invitation["path"],
        data={"password": "Bob-pass-123", "confirm": "Bob-pass-123", "csrf_token": csrf_of(html)},
    )
    assert done.status_code == 302 and "/portal/login" in done.headers["Location"]
    assert client.get(invitation["path"]).status_code == 404  # used: it works once
    bob = sign_in(portal.app, "bob@customer.example", "Bob-pass-123")
    home = bob.get("/portal/").get_data(as_text=True)
    assert "Bob&#39;s invoice is wrong" in home and "printer" not in home


def test_inviting_again_replaces_the_link(portal):
    first = portal.admin.post(
        "/api/v1/portal/invitations", json={"contact": "carl@customer.example"}
    )
    second = portal.admin.post("/api/v1/portal/invitations", json={"contact": portal.ids["carl"]})
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json["new_user"] is False
    client = portal.app.test_client()
    assert client.get(first.json["path"]).status_code == 404
    assert client.get(second.json["path"]).status_code == 200


def test_an_invitation_expires_after_a_week(portal):
    answer = portal.admin.post("/api/v1/portal/invitations", json={"contact": portal.ids["carl"]})
    token = answer.json["token"]
    with portal.org.db.read() as conn:
        now = portal.org.clock()
        assert invitation_user(conn, token, now + timedelta(days=6)) is not None
        assert invitation_user(conn, token, now + timedelta(days=8)) is None


def test_refusals_name_the_problem(portal):
    post = portal.admin.post
    missing = post("/api/v1/portal/invitations", json={"contact": "nobody@customer.example"})
    assert missing.status_code == 404
    assert post("/api/v1/portal/invitations", json={}).json["errors"]["contact"]
    assert post("/api/v1/portal/invitations", json={"contact": 3}).status_code == 400
    extra = post("/api/v1/portal/invitations", json={"contact": "x@y.z", "role": "admin"})
    assert extra.status_code == 400 and "role" in extra.json["errors"]
    # a contact whose email is a colleague's login is not made a customer
    colleague = portal.admin.post(
        "/api/v1/records/contact", json={"last_name": "Admin", "email": "admin@example.com"}
    ).json
    clash = post("/api/v1/portal/invitations", json={"contact": colleague["id"]})
    assert clash.status_code == 409
    no_email = portal.admin.post("/api/v1/records/contact", json={"last_name": "Mute"}).json
    assert post("/api/v1/portal/invitations", json={"contact": no_email["id"]}).status_code == 400


def test_only_user_managers_invite(portal):
    from crm_platform.runtime import create_user
    from tests.conftest import ApiClient, make_token

    with portal.org.db.write() as conn:
        create_user(conn, email="agent@example.com", profile="service_agent")
    agent = ApiClient(portal.app.test_client(), make_token(portal.org, "agent@example.com"))
    answer = agent.post("/api/v1/portal/invitations", json={"contact": portal.ids["carl"]})
    assert answer.status_code == 403
    assert agent.get("/api/v1/portal/settings").status_code == 403


def test_the_setting_through_the_api(portal):
    assert portal.admin.get("/api/v1/portal/settings").json == {"sharing": "contact"}
    bad = portal.admin.put("/api/v1/portal/settings", json={"sharing": "everyone"})
    assert bad.status_code == 400 and "sharing" in bad.json["errors"]
    assert portal.admin.put("/api/v1/portal/settings", json={"sharing": "account"}).json == {
        "sharing": "account"
    }
    assert (
        portal.admin.put("/api/v1/portal/settings", json={"sharing": "contact"}).status_code == 200
    )


def test_the_cli_invites_and_sets_the_setting(portal):
    env = {
        "CRM_DATABASE_URL": portal.settings.database_url,
        "CRM_INSTANCE_PATH": str(portal.settings.instance_path),
    }
    runner = CliRunner()
    invited = runner.invoke(
        main,
        ["portal", "invite", portal.ids["carl"], "--base-url", "https://help.example"],
        env=env,
    )
    assert invited.exit_code == 0, invited.output
    assert "carl@customer.example invited" in invited.output
    assert "https://help.example/portal/invitation/" in invited.output
    unknown = runner.invoke(main, ["portal", "invite", "ghost@customer.example"], env=env)
    assert unknown.exit_code == 1 and "no contact has the email" in unknown.output
    assert runner.invoke(main, ["portal", "sharing"], env=env).output.strip() == "contact"
    assert runner.invoke(main, ["portal", "sharing", "account"], env=env).exit_code == 0
    assert runner.invoke(main, ["portal", "sharing"], env=env).output.strip() == "account"
    assert runner.invoke(main, ["portal", "sharing", "contact"], env=env).exit_code == 0
