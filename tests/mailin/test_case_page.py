"""What an agent sees on the case page: the email that opened it in the Emails related
list, beside the auto-reply; the message's page lists its attachment, which downloads."""

from __future__ import annotations

from crm_platform.mailin import deliver
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.web.test_pages import sign_in, text

from .helpers import message, records

PDF = b"%PDF-1.4 the invoice\n"


def test_the_case_page_lists_its_emails_and_the_message_page_its_attachment(mail_org, app):
    done = deliver(mail_org, message(attachment=("invoice.pdf", PDF)))
    admin = sign_in(app, ADMIN_EMAIL, ADMIN_PASSWORD)
    page = text(admin.get(f"/r/case/{done.case_id}"))
    assert "Emails" in page
    assert f"/r/email_message/{done.message_id}" in page
    assert "We received your request" in page  # the auto-reply, on the case too
    email_page = text(admin.get(f"/r/email_message/{done.message_id}"))
    assert "It is burning since this morning." in email_page
    (attachment,) = records(mail_org, "email_attachment")
    assert "invoice.pdf" in email_page and f"/r/email_attachment/{attachment['id']}" in email_page
    attachment_page = text(admin.get(f"/r/email_attachment/{attachment['id']}"))
    link = f"/r/email_attachment/{attachment['id']}/files/file"
    assert link in attachment_page, attachment_page
    assert admin.get(link).data == PDF
