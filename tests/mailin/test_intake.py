"""Email-to-case as a customer and an agent see it: a message to the support address
opens a case in the support queue, matched to the sender's contact, with its
attachment downloadable from the case's email; a reply (by the subject's token, or by
References) lands on the same case; a message delivered twice is kept once; an address
that is not configured is refused."""

from __future__ import annotations

import pytest

from crm_platform.mailin import CREATED, DUPLICATE, THREADED, UnknownAddress, deliver, token_of

from .conftest import SUPPORT
from .helpers import CUSTOMER, add_contact, message, records

PDF = b"%PDF-1.4 the invoice\n"


def test_a_message_with_an_attachment_opens_a_case_with_the_file_downloadable(mail_org, api):
    account, contact = add_contact(mail_org)
    done = deliver(mail_org, message(attachment=("invoice.pdf", PDF)))
    assert done.outcome == CREATED and done.address == SUPPORT

    case = api.get(f"/api/v1/records/case/{done.case_id}").get_json()
    assert case["subject"] == "Printer on fire"
    assert case["description"] == "It is burning since this morning."
    assert (case["contact"], case["account"]) == (contact, account)
    assert (case["channel"], case["priority"], case["status"]) == ("Email", "High", "New")
    with mail_org.reading() as (_conn, model):
        assert case["owner_id"] == model.security.queues["tier1_support"].id

    emails = api.get(f"/api/v1/records/case/{done.case_id}/related/email_message.case").get_json()
    inbound = [e for e in emails["records"] if e["direction"] == "Inbound"]
    assert [(e["from_address"], e["to_addresses"], e["message_id"]) for e in inbound] == [
        (CUSTOMER, SUPPORT, "<m1@customer.test>")
    ]
    assert inbound[0]["attachments"] == 1
    (attachment,) = api.get(
        f"/api/v1/records/email_message/{inbound[0]['id']}/related/email_attachment.email_message"
    ).get_json()["records"]
    assert (attachment["name"], attachment["size"]) == ("invoice.pdf", len(PDF))
    download = api.get(f"/api/v1/records/email_attachment/{attachment['id']}/files/file")
    assert download.status_code == 200
    assert download.data == PDF
    assert "invoice.pdf" in download.headers["Content-Disposition"]


def test_an_html_message_is_kept_as_sanitised_text(mail_org):
    html = (
        "<html><head><style>p {color: red}</style><script>alert('x')</script></head>"
        "<body><p>Hello,</p><p>the <b>printer</b> is on fire.</p><div>Jane</div></body></html>"
    )
    done = deliver(mail_org, message(html=html))
    (case,) = records(mail_org, "case")
    assert case["id"] == done.case_id
    assert case["description"] == "Hello,\nthe printer is on fire.\nJane"
    assert "alert" not in case["description"] and "color" not in case["description"]


def test_a_reply_carrying_the_token_threads_onto_the_case(mail_org):
    first = deliver(mail_org, message())
    reply = message(
        f"RE: We received your request {token_of(first.case_id)}",
        "It is out now, thanks.",
        message_id="<m2@customer.test>",
    )
    second = deliver(mail_org, reply)
    assert (second.outcome, second.case_id) == (THREADED, first.case_id)
    assert len(records(mail_org, "case")) == 1
    inbound = records(mail_org, "email_message", "direction == 'Inbound'")
    assert [m["text_body"] for m in inbound] == [
        "It is burning since this morning.",
        "It is out now, thanks.",
    ]
    assert {m["case"] for m in inbound} == {first.case_id}


def test_a_reply_naming_a_message_of_the_case_in_references_threads_onto_it(mail_org):
    first = deliver(mail_org, message())
    other = deliver(mail_org, message("Another thing", message_id="<other@customer.test>"))
    assert other.case_id != first.case_id
    reply = message(
        "Re: Printer on fire",  # no token: a mail program that dropped it
        "Still burning.",
        message_id="<m3@customer.test>",
        headers={"References": "<unknown@elsewhere.test> <m1@customer.test>"},
    )
    assert deliver(mail_org, reply).case_id == first.case_id
    by_in_reply_to = message(
        "Re: Another", message_id="<m4@customer.test>",
        headers={"In-Reply-To": "<other@customer.test>"},
    )  # fmt: skip
    assert deliver(mail_org, by_in_reply_to).case_id == other.case_id
    assert len(records(mail_org, "case")) == 2


def test_a_long_references_header_still_finds_the_case(mail_org):
    first = deliver(mail_org, message())
    others = " ".join(f"<{'x' * 200}.{n}@elsewhere.test>" for n in range(49))
    reply = message(
        "Re: Printer on fire",
        message_id="<m5@customer.test>",
        headers={"References": f"<m1@customer.test> {others}"},
    )
    assert deliver(mail_org, reply).case_id == first.case_id


def test_a_token_of_no_case_opens_a_new_one(mail_org):
    done = deliver(mail_org, message("Help [ref:01a2395f-0000-7000-8000-000000000000]"))
    assert done.outcome == CREATED
    (case,) = records(mail_org, "case")
    assert case["subject"] == "Help"


def test_a_message_delivered_twice_is_kept_once(mail_org):
    first = deliver(mail_org, message())
    again = deliver(mail_org, message())
    assert (again.outcome, again.case_id, again.message_id) == (
        DUPLICATE,
        first.case_id,
        first.message_id,
    )
    assert len(records(mail_org, "email_message", "direction == 'Inbound'")) == 1


def test_a_message_to_an_unknown_address_is_refused_and_changes_nothing(mail_org):
    with pytest.raises(UnknownAddress, match=r"no inbound address for sales@acme\.test"):
        deliver(mail_org, message(to="sales@acme.test"))
    assert records(mail_org, "case") == []
    # the envelope's recipient decides over the headers (a Bcc, a forward)
    done = deliver(mail_org, message(to="sales@acme.test"), [SUPPORT.upper()])
    assert done.outcome == CREATED


def test_the_cases_author_is_the_email_to_case_user_with_its_permission_set(mail_org, api):
    done = deliver(mail_org, message())
    case = api.get(f"/api/v1/records/case/{done.case_id}").get_json()
    assert case["_names"]["created_by"] == "Email-to-case"
