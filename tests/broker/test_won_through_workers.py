"""The won-opportunity automation with a broker: the record is stamped and the kick-off
task created in the change's own transaction; the owner's email is rendered then and
sent by a real `crm worker` to a local SMTP server — once, whatever the broker does."""

from __future__ import annotations

import time

import pytest

from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.runtime import find_user
from crm_platform.runtime.records.query import ListRequest
from crm_platform.workflow import outbox
from crm_platform.yamlio import read_definitions
from tests.broker.conftest import BROKER_URL
from tests.conftest import ADMIN_EMAIL, FIXTURES
from tests.workflow.smtp_server import smtp_server

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(not BROKER_URL, reason="set CRM_TEST_BROKER_URL to a Redis or RabbitMQ"),
]

WON = """\
api_name: won
object: opportunity
events: [update]
when: "stage == 'Closed Won'"
only_when_changed_to_meet: true
timing: after_save
actions:
  - {type: update_record, values: {closed_on: "TODAY()"}}
  - {type: create_record, object: task, values: {name: "'Kick-off: ' + name", what: "id", due_date: "TODAY() + 3"}}
  - {type: send_email, template: won_notice, to: "owner.email"}
"""


def apply_won_automation(org, folder):
    (folder / "triggers").mkdir(parents=True)
    (folder / "triggers" / "opportunity.won.yaml").write_text(WON)
    (folder / "email_templates").mkdir()
    template = (FIXTURES / "mail" / "email_templates" / "won_notice.yaml").read_text()
    (folder / "email_templates" / "won_notice.yaml").write_text(template)
    objects = [(k, d) for k, d, _ in read_definitions(FIXTURES / "automation")]
    org.metadata.apply_definitions(objects, author_id=SYSTEM_USER_ID)
    more = [(k, d) for k, d, _ in read_definitions(folder)]
    org.metadata.apply_definitions(more, author_id=SYSTEM_USER_ID)


def test_a_won_deal_is_stamped_at_once_and_its_email_sent_once_by_a_worker(deployment, tmp_path):
    org = deployment.org
    apply_won_automation(org, tmp_path / "metadata")
    with smtp_server() as (handler, port):
        deployment.env["CRM_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
        deployment.start_worker()
        with org.db.read() as conn:
            admin = find_user(conn, ADMIN_EMAIL)
        with org.records.session(admin) as session:
            account = session.create("account", {"name": "Acme"})
            opp = session.create("opportunity", {"name": "Globex", "account": account["id"]})
            session.update("opportunity", opp["id"], {"stage": "Closed Won"})
        # the synchronous actions landed with the change itself
        with org.records.session(admin, write=False) as session:
            assert session.get("opportunity", opp["id"])["closed_on"] is not None
            tasks = session.list("task", ListRequest()).records
        assert [t["name"] for t in tasks] == ["Kick-off: Globex"]

        with org.db.read() as conn:
            [run] = outbox.list_runs(conn, record_id=opp["id"])
        assert run.job == "email"
        deployment.wait_until([run.id], "succeeded")
        deadline = time.monotonic() + 10
        while not handler.received and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # a second delivery, were there one, would have arrived by now
    assert [m.message["Subject"] for m in handler.received] == ["Won: Globex (Acme)"]
    assert handler.received[0].rcpt_tos == [ADMIN_EMAIL]
