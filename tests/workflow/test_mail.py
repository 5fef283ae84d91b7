"""send_email: the message is rendered when the change is saved, with only what its
recipients may read, and kept in the database when no SMTP server is configured."""

from __future__ import annotations

import pytest

from .mail_helpers import REP_EMAIL, WON_NOTICE, messages, on_won, prepare, win_deal


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
