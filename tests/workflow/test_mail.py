"""send_email: the message is rendered when the change is saved, with only what its
recipients may read, and kept in the database when no SMTP server is configured."""

from __future__ import annotations

import pytest

from crm_platform.workflow import outbox

from ..conftest import ADMIN_EMAIL
from .mail_helpers import REP_EMAIL, WON_NOTICE, messages, on_won, prepare, user, win_deal


@pytest.fixture
def mail_org(org, load_fixture):
    prepare(org, load_fixture)
    return org


def test_won_notice_is_kept_for_the_admin_with_what_the_owner_may_read(mail_org):
    org = mail_org
    on_won(org, [WON_NOTICE])
    deal_id = win_deal(org)
    org.work.run_pending()
    (message,) = messages(org)
    assert message.status == "kept"
    assert message.to == [REP_EMAIL]
    assert (message.object, message.record_id) == ("opportunity", deal_id)
    assert message.source == "trigger:opportunity.won"
    # the rep may read neither accounts nor amounts: they print empty, never the value
    assert message.subject == "Won: Big deal ()"
    assert "Hello Rita Rep," in message.body_text
    assert "is won at (not shown)." in message.body_text
    assert "125000" not in message.body_text and "Acme" not in message.body_text
    assert "Discount: 12.5" in message.body_text
    # HTML is escaped and sanitised
    assert message.body_html == "<p>Big deal for <b></b> is won.</p>"


def runs(org):
    with org.db.read() as conn:
        return outbox.list_runs(conn)


def test_an_admin_recipient_gets_every_field(mail_org):
    org = mail_org
    on_won(org, [{**WON_NOTICE, "to": f"'{ADMIN_EMAIL}'"}])
    win_deal(org)
    org.work.run_pending()
    (message,) = messages(org)
    assert message.to == [ADMIN_EMAIL]
    assert message.subject == "Won: Big deal (Acme)"
    assert "is won at 125000.50." in message.body_text
    assert message.body_html == "<p>Big deal for <b>Acme</b> is won.</p>"


def test_a_message_to_several_shows_only_what_every_one_may_read(mail_org):
    org = mail_org
    on_won(org, [{**WON_NOTICE, "to": f"'{ADMIN_EMAIL}'", "cc": ["owner", "owner.email"]}])
    win_deal(org)
    org.work.run_pending()
    (message,) = messages(org)
    assert (message.to, message.cc) == ([ADMIN_EMAIL], [REP_EMAIL])
    assert message.subject == "Won: Big deal ()"
    assert "(not shown)" in message.body_text and "125000" not in message.body_text


def test_an_outside_address_is_rendered_as_the_user_whose_change_sent_it(mail_org):
    org = mail_org
    on_won(org, [{**WON_NOTICE, "to": "'partner@elsewhere.test'"}])
    # the rep wins their own deal: the partner gets what the rep may read
    rep = user(org, REP_EMAIL)
    with org.records.session(user(org)) as session:
        account = session.create("account", {"name": "Acme", "owner_id": rep.id})
        deal = session.create(
            "opportunity",
            {"name": "Own deal", "account": account["id"], "amount": "900", "owner_id": rep.id},
        )
    with org.records.session(rep) as session:
        session.update("opportunity", deal["id"], {"stage": "Closed Won"})
    org.work.run_pending()
    (message,) = messages(org)
    assert message.to == ["partner@elsewhere.test"]
    assert message.subject == "Won: Own deal (Acme)"  # the rep owns the account: shared
    assert "(not shown)" in message.body_text and "900" not in message.body_text


def test_the_message_shows_the_record_as_it_was_when_the_change_was_saved(mail_org):
    org = mail_org
    on_won(org, [{**WON_NOTICE, "to": f"'{ADMIN_EMAIL}'"}])
    deal_id = win_deal(org)
    with org.records.session(user(org)) as session:
        session.update("opportunity", deal_id, {"name": "Renamed", "amount": "1"})
    org.work.run_pending()
    (message,) = messages(org)
    assert message.subject == "Won: Big deal (Acme)"
    assert "125000.50" in message.body_text


def test_a_change_that_rolls_back_sends_nothing(mail_org):
    org = mail_org
    on_won(org, [WON_NOTICE])
    with pytest.raises(RuntimeError), org.records.session(user(org)) as session:
        deal = session.create("opportunity", {"name": "Doomed", "stage": "Prospecting"})
        session.update("opportunity", deal["id"], {"stage": "Closed Won"})
        raise RuntimeError("the request fails after the trigger ran")
    org.work.run_pending()
    assert messages(org) == [] and runs(org) == []


def test_no_recipient_fails_the_run_and_says_why(mail_org):
    org = mail_org
    # no account manager is set: 'to' gives nothing
    on_won(org, [{**WON_NOTICE, "to": "account.account_manager"}])
    deal_id = win_deal(org)
    org.work.run_pending()
    (run,) = runs(org)
    assert (run.status, run.failed_step, run.record_id) == ("failed", "actions[0]", deal_id)
    assert run.error == "no recipient: 'to' gave no email address or active user"
    (message,) = messages(org)
    assert (message.status, message.error) == ("failed", run.error)


def test_a_user_lookup_names_the_recipient(mail_org):
    org = mail_org
    rep = user(org, REP_EMAIL)
    on_won(org, [{**WON_NOTICE, "to": "account.account_manager"}])
    with org.records.session(user(org)) as session:
        account = session.create("account", {"name": "Acme", "account_manager": rep.id})
        deal = session.create("opportunity", {"name": "Managed", "account": account["id"]})
        session.update("opportunity", deal["id"], {"stage": "Closed Won"})
    org.work.run_pending()
    assert [m.to for m in messages(org)] == [[REP_EMAIL]]


def add_template(org, name: str, body: str) -> None:
    org.metadata.put_component(
        "email_template",
        {"api_name": name, "object": "opportunity", "subject": "{{ name }}", "body": body},
        author_id=user(org).id,
    )


def test_the_sandbox_keeps_python_out_of_reach(mail_org):
    org = mail_org
    add_template(
        org,
        "probe",
        "[{{ ''.__class__.__mro__ }}][{{ cycler.__init__.__globals__ }}][{{ range.__self__ }}]",
    )
    on_won(org, [{**WON_NOTICE, "template": "probe", "to": f"'{ADMIN_EMAIL}'"}])
    win_deal(org)
    org.work.run_pending()
    (message,) = messages(org)
    # what the sandbox refuses is undefined: it prints empty
    assert (message.status, message.body_text) == ("kept", "[][][]")


def test_a_template_that_fails_to_render_fails_its_run_not_the_change(mail_org):
    org = mail_org
    add_template(org, "huge", "{{ name * 2000000 }}")
    on_won(org, [{**WON_NOTICE, "template": "huge", "to": f"'{ADMIN_EMAIL}'"}])
    deal_id = win_deal(org)
    org.work.run_pending()
    with org.records.session(user(org), write=False) as session:
        assert session.get("opportunity", deal_id)["stage"] == "Closed Won"
    (run,) = runs(org)
    assert run.status == "failed"
    assert run.error == "template 'huge' failed to render: the repeated text is too long"
    assert messages(org)[0].body_text == ""


def test_a_hidden_field_behaves_as_null_in_comparisons_and_arithmetic(mail_org):
    org = mail_org
    body = "{% if amount > 100000 %}Big{% else %}Other{% endif %} [{{ amount * 2 }}]"
    add_template(org, "sized", body)
    on_won(
        org,
        [
            {**WON_NOTICE, "template": "sized"},
            {**WON_NOTICE, "template": "sized", "to": f"'{ADMIN_EMAIL}'"},
        ],
    )
    win_deal(org)
    org.work.run_pending()
    by_recipient = {m.to[0]: m.body_text for m in messages(org)}
    assert by_recipient == {REP_EMAIL: "Other []", ADMIN_EMAIL: "Big [250001.00]"}


def test_an_outside_address_of_a_system_change_gets_what_the_owner_may_read(mail_org):
    from crm_platform.runtime import system_user

    org = mail_org
    on_won(org, [{**WON_NOTICE, "to": "'partner@elsewhere.test'"}])
    rep = user(org, REP_EMAIL)
    with org.records.session(user(org)) as session:
        deal = session.create(
            "opportunity", {"name": "Imported", "amount": "700", "owner_id": rep.id}
        )
    with org.db.read() as conn:
        system = system_user(conn)
    with org.records.session(system) as session:  # an import, a pack, a scheduled run
        session.update("opportunity", deal["id"], {"stage": "Closed Won"})
    org.work.run_pending()
    (message,) = messages(org)
    assert "Hello Rita Rep," in message.body_text
    assert "(not shown)" in message.body_text and "700" not in message.body_text
