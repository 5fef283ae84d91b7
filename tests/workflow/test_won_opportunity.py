"""Issue 11's won-opportunity automation, applied exactly as the issue writes it, firing
end to end on the embedded runner: the record is stamped, the kick-off task created, the
owner's email rendered and kept (no SMTP configured), and the signed webhook queued and
retried when the ERP does not answer."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from crm_platform.core import load_settings
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.core.webhook_settings import WebhookSettings
from crm_platform.runtime import find_user
from crm_platform.runtime.records.query import ListRequest
from crm_platform.workflow import automation_of, outbox
from crm_platform.workflow.mail.store import list_messages
from crm_platform.workflow.webhooks import WebhookJob
from crm_platform.yamlio import read_definitions

from ..conftest import ADMIN_EMAIL, FIXTURES
from .test_triggers import ISSUE_EXAMPLE

NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(database_url, tmp_path):
    base = load_settings(database_url, instance_path=tmp_path / "instance")
    return replace(
        base,
        webhooks=WebhookSettings(
            hosts=("erp.example.com",),
            networks=(ipaddress.ip_network("127.0.0.1/32"),),
            secrets=(("erp", "whsec-erp-0123456789"),),
            connect_timeout=1.0,
            read_timeout=1.0,
        ),
    )


@pytest.fixture
def won_org(org, load_fixture, tmp_path):
    load_fixture("automation")
    folder = tmp_path / "metadata"
    (folder / "triggers").mkdir(parents=True)
    (folder / "triggers" / "opportunity.won.yaml").write_text(ISSUE_EXAMPLE)
    (folder / "email_templates").mkdir()
    template = (FIXTURES / "mail" / "email_templates" / "won_notice.yaml").read_text()
    (folder / "email_templates" / "won_notice.yaml").write_text(template)
    definitions = [(kind, d) for kind, d, _ in read_definitions(folder)]
    org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)
    # the ERP's name resolves to a port where nothing listens: the delivery is retried
    automation_of(org).add_job(WebhookJob(resolve=lambda host, port: ["127.0.0.1"]))
    org.clock = lambda: NOON
    return org


def test_a_won_opportunity_runs_every_action_of_the_issue_example(won_org):
    org = won_org
    with org.db.read() as conn:
        admin = find_user(conn, ADMIN_EMAIL)
    with org.records.session(admin) as session:
        account = session.create("account", {"name": "Acme"})
        opp = session.create(
            "opportunity", {"name": "Globex", "account": account["id"], "amount": "5000"}
        )
        session.update("opportunity", opp["id"], {"stage": "Closed Won"})
    org.work.run_pending()

    with org.records.session(admin, write=False) as session:
        stamped = session.get("opportunity", opp["id"])
        tasks = session.list("task", ListRequest()).records
    today = stamped["closed_on"]
    assert isinstance(today, date)
    assert [(t["name"], t["what"]["id"], t["due_date"], t["owner_id"]) for t in tasks] == [
        ("Kick-off: Globex", opp["id"], today + timedelta(days=3), admin.id)
    ]
    with org.db.read() as conn:
        [mail] = list_messages(conn, record_id=opp["id"])
        [hook] = outbox.list_runs(conn, record_id=opp["id"], statuses=["queued", "failed"])
    assert (mail.status, mail.to, mail.subject) == ("kept", [ADMIN_EMAIL], "Won: Globex (Acme)")
    assert hook.job == "webhook" and hook.source == "trigger:opportunity.won"
    assert hook.status == "queued" and hook.attempts == 1 and hook.error  # retried later
    assert hook.payload["body"]["event"] == "update"

    # saving the won deal again does not fire again: it fires on the change into Won
    with org.records.session(admin) as session:
        session.update("opportunity", opp["id"], {"amount": "6000"})
    with org.db.read() as conn:
        assert len(list_messages(conn, record_id=opp["id"])) == 1


def test_an_email_template_a_trigger_sends_cannot_be_deleted(won_org):
    from crm_platform.core import CrmError

    with pytest.raises(CrmError) as refused:
        won_org.metadata.remove_component("email_template", "won_notice", author_id=SYSTEM_USER_ID)
    # refused naming the trigger's action that still sends it
    assert refused.value.status == 400
    assert refused.value.extra["errors"] == {
        "opportunity.won.actions[2].template": ["no email template 'won_notice'"]
    }
    assert won_org.metadata.get_component("email_template", "won_notice") is not None
