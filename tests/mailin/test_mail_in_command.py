"""``crm mail-in`` as a mail server runs it: a message piped in opens a case (exit 0),
a message for an address that is not configured exits 67 (EX_NOUSER: the server
bounces it), one that is not a message exits 65, an org not set up exits 78; and
``--listen``'s SMTP server (aiosmtpd) takes mail for the inbound addresses only."""

from __future__ import annotations

import smtplib

import pytest
from click.testing import CliRunner

from crm_platform.cli import main
from crm_platform.mailin.listen import listener

from ..workflow.smtp_server import free_port
from .conftest import SUPPORT
from .helpers import message, records


@pytest.fixture
def crm(mail_org, database_url, tmp_path):
    """Run ``crm`` on the org's database, standard input given."""
    env = {"CRM_DATABASE_URL": database_url, "CRM_INSTANCE_PATH": str(tmp_path / "instance")}

    def run(*args: str, stdin: bytes = b""):
        return CliRunner().invoke(main, list(args), input=stdin, env=env)

    return run


def test_a_piped_message_opens_a_case(crm, mail_org):
    result = crm("mail-in", stdin=message())
    assert result.exit_code == 0, result.output
    (case,) = records(mail_org, "case")
    assert result.output.startswith(f"created case {case['id']} (message ")
    assert "; auto-reply " in result.output
    reply = message(f"Re: [ref:{case['id']}]", "More.", message_id="<m2@customer.test>")
    again = crm("mail-in", "--to", SUPPORT, stdin=reply)
    assert again.output.startswith(f"threaded case {case['id']}")


def test_an_unknown_address_exits_67_and_an_unreadable_message_65(crm, mail_org):
    unknown = crm("mail-in", stdin=message(to="nobody@acme.test"))
    assert unknown.exit_code == 67
    assert "no inbound address for nobody@acme.test" in unknown.output
    assert crm("mail-in", "--to", "nobody@acme.test", stdin=message()).exit_code == 67
    assert crm("mail-in", stdin=b"").exit_code == 65
    assert crm("mail-in", stdin=b"Subject: no sender\n\nhello\n").exit_code == 65
    assert records(mail_org, "case") == []


def test_without_an_org_it_exits_78(tmp_path):
    env = {
        "CRM_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}",
        "CRM_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    result = CliRunner().invoke(main, ["mail-in"], input=message(), env=env)
    assert result.exit_code == 78


def test_the_smtp_listener_takes_mail_for_inbound_addresses_only(mail_org):
    port = free_port()
    controller, handler = listener(mail_org, "127.0.0.1", port)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                client.sendmail("jane@customer.test", ["nobody@acme.test"], message())
            assert refused.value.recipients["nobody@acme.test"][0] == 550
            client.sendmail("jane@customer.test", [SUPPORT], message())
    finally:
        controller.stop()
    (case,) = records(mail_org, "case")
    assert case["subject"] == "Printer on fire"
    assert [d.case_id for d in handler.delivered] == [case["id"]]
