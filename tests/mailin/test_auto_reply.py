"""The auto-reply: the customer gets the template once, with the case's token in its
subject and headers that mark it automatic; a reply threads and gets none; messages sent
by machines (auto-responders, bulk and list mail, bounces) get none, so two
auto-responders cannot ping-pong; and one sender gets at most the address's daily cap."""

from __future__ import annotations

import dataclasses

import pytest

from crm_platform.mailin import THREADED, deliver, token_of

from ..workflow.smtp_server import smtp_server
from .helpers import CUSTOMER, message, records


@pytest.fixture
def server():
    with smtp_server() as running:
        yield running


@pytest.fixture
def settings(settings, server):
    return dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{server[1]}?timeout=5")


def sent(server) -> list:
    return server[0].received


def test_the_sender_gets_one_auto_reply_with_the_token_and_a_reply_threads(mail_org, server):
    done = deliver(mail_org, message())
    mail_org.work.run_pending()
    (reply,) = sent(server)
    assert reply.rcpt_tos == [CUSTOMER]
    email = reply.message
    case = records(mail_org, "case")[0]
    assert email["Subject"] == (
        f"We received your request: Printer on fire ({case['case_number']}) "
        f"{token_of(done.case_id)}"
    )
    assert case["case_number"] in email.get_content()
    assert email["Auto-Submitted"] == "auto-replied"
    assert email["In-Reply-To"] == "<m1@customer.test>"
    assert email["Reply-To"] == "support@acme.test"
    # the auto-reply is on the case too
    outbound = records(mail_org, "email_message", "direction == 'Outbound'")
    assert [(m["to_addresses"], m["automatic"], m["case"]) for m in outbound] == [
        (CUSTOMER, True, done.case_id)
    ]

    # the customer answers the auto-reply: their text joins the case, no second auto-reply
    answer = message(
        f"Re: {email['Subject']}", "Here is more detail.", message_id="<m2@customer.test>"
    )
    assert deliver(mail_org, answer).outcome == THREADED
    mail_org.work.run_pending()
    assert len(sent(server)) == 1


MACHINES = [
    ("Jane <jane@customer.test>", {"Auto-Submitted": "auto-replied"}),
    ("Jane <jane@customer.test>", {"Auto-Submitted": "auto-generated"}),
    ("Jane <jane@customer.test>", {"X-Autoreply": "yes"}),
    ("Jane <jane@customer.test>", {"Precedence": "bulk"}),
    ("Jane <jane@customer.test>", {"Precedence": "junk"}),
    ("Jane <jane@customer.test>", {"Precedence": "list"}),
    ("Jane <jane@customer.test>", {"List-Id": "<users.lists.customer.test>"}),
    ("Mail Delivery System <MAILER-DAEMON@customer.test>", {}),
]


def test_a_message_sent_by_a_machine_opens_a_case_and_gets_no_auto_reply(mail_org, server):
    for number, (sender, headers) in enumerate(MACHINES):
        raw = message(sender=sender, headers=headers, message_id=f"<auto{number}@customer.test>")
        done = deliver(mail_org, raw)
        assert done.outcome == "created" and done.auto_reply is None, headers
        assert done.no_reply_because.startswith("sent automatically"), done.no_reply_because
    mail_org.work.run_pending()
    assert sent(server) == []
    inbound = records(mail_org, "email_message")
    assert len(inbound) == len(MACHINES) and all(m["automatic"] for m in inbound)


def test_our_own_address_gets_no_auto_reply(mail_org, server):
    done = deliver(mail_org, message(sender="Acme Support <support@acme.test>"))
    mail_org.work.run_pending()
    assert done.no_reply_because == "sent by one of our own addresses"
    assert sent(server) == []


def test_auto_submitted_no_is_a_person_writing(mail_org, server):
    deliver(mail_org, message(headers={"Auto-Submitted": "no"}))
    mail_org.work.run_pending()
    assert len(sent(server)) == 1


def test_two_auto_responders_do_not_loop(mail_org, server):
    """The other side's auto-responder answers our auto-reply (keeping our token): its
    answer threads onto the case and is not answered."""
    first = deliver(mail_org, message())
    mail_org.work.run_pending()
    (ours,) = sent(server)
    theirs = message(
        f"Out of office: {ours.message['Subject']}",
        "I am away until Monday.",
        message_id="<ooo@customer.test>",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": ours.message["Message-ID"]},
    )
    done = deliver(mail_org, theirs)
    mail_org.work.run_pending()
    assert (done.outcome, done.case_id) == (THREADED, first.case_id)
    assert len(sent(server)) == 1


def test_one_sender_gets_at_most_the_daily_cap(mail_org, server):
    """The address's auto_reply_limit is 2: new cases from one sender beyond it get no
    auto-reply until a day has passed."""
    for number in range(4):
        deliver(mail_org, message(f"Problem {number}", message_id=f"<p{number}@customer.test>"))
    mail_org.work.run_pending()
    assert len(sent(server)) == 2
    assert len(records(mail_org, "case")) == 4
    other = message("Mine too", sender="bob@other.test", message_id="<bob@other.test>")
    deliver(mail_org, other)
    mail_org.clock.advance(hours=25)
    deliver(mail_org, message("A day later", message_id="<later@customer.test>"))
    mail_org.work.run_pending()
    assert [r.rcpt_tos for r in sent(server)[2:]] == [["bob@other.test"], [CUSTOMER]]
