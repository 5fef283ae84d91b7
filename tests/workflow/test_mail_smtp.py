"""Delivery through SMTP (a local aiosmtpd server): the stored message goes out as
rendered, with its Message-ID; a 4xx or an unreachable server is tried again later, a
5xx fails the run at once, naming the action."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from crm_platform.core import load_settings
from crm_platform.workflow import automation_of, outbox
from tests.clock import START, Clock

from ..conftest import ADMIN_EMAIL
from .mail_helpers import REP_EMAIL, WON_NOTICE, messages, on_won, prepare, win_deal
from .smtp_server import free_port, smtp_server, tls_smtp_server


@pytest.fixture
def server():
    with smtp_server() as running:
        yield running


@pytest.fixture
def smtp_url(server) -> str:
    return f"smtp://127.0.0.1:{server[1]}?timeout=5"


@pytest.fixture
def settings(database_url, tmp_path, smtp_url):
    base = load_settings(database_url, instance_path=tmp_path / "instance")
    return dataclasses.replace(base, smtp_url=smtp_url, mail_from="CRM <crm@acme.test>")


@pytest.fixture
def mail_org(org, load_fixture):
    prepare(org, load_fixture)
    org.clock = Clock()
    return org


def runs(org):
    with org.db.read() as conn:
        return outbox.list_runs(conn)


def test_the_message_is_delivered_as_rendered(mail_org, server):
    handler, _port = server
    org = mail_org
    on_won(org, [{**WON_NOTICE, "cc": ["'finance@acme.test'"]}])
    win_deal(org)
    org.work.run_pending()
    (stored,) = messages(org)
    assert (stored.status, stored.sender, stored.error) == ("sent", "CRM <crm@acme.test>", None)
    (received,) = handler.received
    assert received.mail_from == "crm@acme.test"
    assert received.rcpt_tos == [REP_EMAIL, "finance@acme.test"]
    mail = received.message
    assert mail["Subject"] == "Won: Big deal ()"
    assert mail["To"] == REP_EMAIL and mail["Cc"] == "finance@acme.test"
    assert mail["Message-ID"] == stored.message_id
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text == stored.body_text
    assert mail.get_body(("html",)).get_content().strip() == stored.body_html
    assert [r.status for r in runs(org)] == ["succeeded"]


def test_a_temporary_refusal_is_tried_again_later(mail_org, server):
    handler, _port = server
    org = mail_org
    handler.data_replies.append("451 4.3.0 try again later")
    on_won(org, [WON_NOTICE])
    win_deal(org)
    org.work.run_pending()
    (run,) = runs(org)
    assert (run.status, run.failed_step) == ("queued", "actions[0]")
    assert "451" in run.error
    (stored,) = messages(org)
    assert stored.status == "queued" and "451" in stored.error
    assert handler.received == []
    org.clock.now += timedelta(minutes=1)
    org.work.run_pending()
    assert [r.status for r in runs(org)] == ["succeeded"]
    assert [m.status for m in messages(org)] == ["sent"]
    assert len(handler.received) == 1


def test_a_permanent_refusal_fails_the_run_naming_the_action(mail_org, server):
    handler, _port = server
    org = mail_org
    handler.rcpt_replies[REP_EMAIL] = "550 5.1.1 no such mailbox"
    on_won(org, [WON_NOTICE])
    win_deal(org)
    org.work.run_pending()
    (run,) = runs(org)
    assert (run.status, run.failed_step, run.attempts) == ("failed", "actions[0]", 1)
    assert "550 5.1.1 no such mailbox" in run.error
    (stored,) = messages(org)
    assert stored.status == "failed" and "550" in stored.error


def test_a_recipient_refused_among_others_is_noted(mail_org, server):
    handler, _port = server
    org = mail_org
    handler.rcpt_replies["gone@acme.test"] = "550 5.1.1 no such mailbox"
    on_won(org, [{**WON_NOTICE, "cc": "'gone@acme.test'"}])
    win_deal(org)
    org.work.run_pending()
    (stored,) = messages(org)
    assert stored.status == "sent"
    assert stored.error == "refused: gone@acme.test: 550 5.1.1 no such mailbox"
    assert handler.received[0].rcpt_tos == [REP_EMAIL]


class TestLogin:
    @pytest.fixture
    def smtp_url(self, server) -> str:
        return f"smtp://mailer:s3cret@127.0.0.1:{server[1]}"

    def test_the_server_is_logged_in_to_with_the_url_s_credentials(self, mail_org, server):
        handler, _port = server
        on_won(mail_org, [{**WON_NOTICE, "to": f"'{ADMIN_EMAIL}'"}])
        win_deal(mail_org)
        mail_org.work.run_pending()
        assert handler.logins == [("mailer", "s3cret")]
        assert [m.status for m in messages(mail_org)] == ["sent"]


class TestUnreachable:
    @pytest.fixture
    def smtp_url(self) -> str:
        return f"smtp://127.0.0.1:{free_port()}?timeout=2"

    def test_an_unreachable_server_is_tried_again_later(self, mail_org):
        on_won(mail_org, [WON_NOTICE])
        win_deal(mail_org)
        mail_org.work.run_pending()
        (run,) = runs(mail_org)
        assert run.status == "queued" and "SMTP server unreachable" in run.error
        assert run.due_at > START
        assert [m.status for m in messages(mail_org)] == ["queued"]


def test_the_email_job_is_attached_with_the_workflow_extension(mail_org):
    assert "email" in automation_of(mail_org).jobs


class TestStartTls:
    """smtp://…?starttls=true: the connection is upgraded and the certificate verified."""

    @pytest.fixture
    def server(self, tmp_path, monkeypatch):
        with tls_smtp_server(tmp_path, implicit=False) as running:
            monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))
            yield running

    @pytest.fixture
    def smtp_url(self, server) -> str:
        return f"smtp://127.0.0.1:{server[1]}?starttls=true&timeout=5"

    def test_mail_goes_out_over_starttls(self, mail_org, server):
        on_won(mail_org, [WON_NOTICE])
        win_deal(mail_org)
        mail_org.work.run_pending()
        assert [m.status for m in messages(mail_org)] == ["sent"]
        assert [r.rcpt_tos for r in server[0].received] == [[REP_EMAIL]]


class TestImplicitTls(TestStartTls):
    """smtps://: TLS from the first byte."""

    @pytest.fixture
    def server(self, tmp_path, monkeypatch):
        with tls_smtp_server(tmp_path, implicit=True) as running:
            monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))
            yield running

    @pytest.fixture
    def smtp_url(self, server) -> str:
        return f"smtps://127.0.0.1:{server[1]}?timeout=5"


class TestUntrustedCertificate:
    """A certificate the client does not trust: nothing is sent in the clear; the run
    waits for another attempt (an admin fixes the certificate or the trust store)."""

    @pytest.fixture
    def server(self, tmp_path):
        with tls_smtp_server(tmp_path, implicit=False) as running:
            yield running

    @pytest.fixture
    def smtp_url(self, server) -> str:
        return f"smtp://127.0.0.1:{server[1]}?starttls=true&timeout=5"

    def test_an_untrusted_server_gets_nothing(self, mail_org, server):
        on_won(mail_org, [WON_NOTICE])
        win_deal(mail_org)
        mail_org.work.run_pending()
        (run,) = runs(mail_org)
        assert run.status == "queued" and "CERTIFICATE_VERIFY_FAILED" in run.error
        assert server[0].received == []
