"""Webhooks end to end: an action on a won opportunity writes an outbox run in the
change's transaction; the run POSTs a signed JSON body over HTTPS to a local receiver
(its own CA, trusted through CRM_WEBHOOK_CA_FILE) that checks the signature and fails on
purpose — retried with backoff on 5xx, dead-lettered at once on 4xx, retried by an
admin once the receiver is fixed — and destinations inside the network are refused."""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from crm_platform.core import load_settings
from crm_platform.core.webhook_settings import WebhookSettings
from crm_platform.runtime import find_user
from crm_platform.runtime.records.codec import SYSTEM_FIELDS
from crm_platform.runtime.records.events import RecordEvent
from crm_platform.workflow import automation_of, outbox
from crm_platform.workflow.running import run_actions
from crm_platform.workflow.webhooks import WebhookJob, signature
from tests.clock import START, Clock

from ..conftest import ADMIN_EMAIL
from .webhook_receiver import HANG, HOST, Receiver, ReceiverServer, make_certificates

README = Path(__file__).resolve().parents[2] / "README.md"
SECRET = "whsec-test-0123456789"
DNS = {
    HOST: ["127.0.0.1"],
    "v6.hooks.test": ["::1"],
    "wrong-name.test": ["127.0.0.1"],  # the receiver's certificate does not name it
    "internal.example.com": ["10.0.0.5"],
    "metadata.example.com": ["169.254.169.254"],
    "mixed.example.com": ["93.184.216.34", "192.168.1.10"],
}


def resolve(host: str, port: int) -> list[str]:
    """The test's DNS: names that no real resolver knows, so a delivery that reaches the
    receiver went to the address the guard judged (httpx never resolved the name)."""
    return DNS[host]


@pytest.fixture
def certificates(tmp_path):
    return make_certificates(tmp_path)


@pytest.fixture
def settings(database_url, tmp_path, certificates):
    ca, _, _ = certificates
    base = load_settings(database_url, instance_path=tmp_path / "instance")
    return replace(
        base,
        webhooks=WebhookSettings(
            hosts=(HOST, "v6.hooks.test", "wrong-name.test", "*.example.com"),
            # the receiver, explicitly
            networks=(ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128")),
            ca_file=str(ca),
            read_timeout=1.0,
            secrets=(("erp", SECRET),),
        ),
    )


@pytest.fixture
def clock(org) -> Clock:
    clock = Clock()
    org.clock = clock
    return clock


@pytest.fixture
def automation_org(org, load_fixture, clock):
    load_fixture("automation")
    automation_of(org).add_job(WebhookJob(resolve=resolve))
    return org


@pytest.fixture
def receiver(certificates):
    _, cert, key = certificates
    with ReceiverServer(Receiver(secret=SECRET), cert, key) as receiver:
        yield receiver


def on_won(org, action):
    """Run ``action`` when an opportunity's stage changes to Closed Won."""

    def handler(ctx):
        for change in ctx.changes:
            if "stage" in change.changed and (change.after or {}).get("stage") == "Closed Won":
                run_actions(
                    org,
                    ctx.services,
                    "opportunity",
                    change.record_id,
                    [action],
                    source="trigger:opportunity.won",
                    event="update",
                )

    org.records.events.on(RecordEvent.AFTER_UPDATE, handler, objects=["opportunity"])


def webhook(url: str, **options):
    return {"type": "webhook", "url": url, "secret_ref": "erp", **options}


def admin(org):
    with org.db.read() as conn:
        return find_user(conn, ADMIN_EMAIL)


def win(org, name="Big deal", amount="250000.00") -> str:
    """Create an opportunity and close it as won; its id."""
    with org.records.session(admin(org)) as session:
        account = session.create("account", {"name": "Acme"})
        opp = session.create(
            "opportunity", {"name": name, "amount": amount, "account": account["id"]}
        )
        session.update("opportunity", opp["id"], {"stage": "Closed Won"})
    return opp["id"]


def only_run(org) -> outbox.Run:
    with org.db.read() as conn:
        runs = outbox.list_runs(conn)
    assert len(runs) == 1
    return runs[0]


def test_a_won_deal_is_delivered_once_signed_with_its_values(automation_org, receiver):
    org = automation_org
    on_won(org, webhook(f"https://{HOST}:{receiver.port}/hooks/won"))
    opp_id = win(org)
    org.work.run_pending()

    run = only_run(org)
    assert (run.status, run.attempts) == ("succeeded", 1)
    [delivery] = receiver.deliveries
    assert delivery.signature_ok and delivery.path == "/hooks/won"
    assert delivery.headers["host"] == f"{HOST}:{receiver.port}"
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["idempotency-key"] == f"{run.idempotency_key}#0"
    assert delivery.headers["x-crm-timestamp"] == str(int(START.timestamp()))
    body = delivery.json
    assert {k: body[k] for k in ("event", "source", "object", "record_id")} == {
        "event": "update",
        "source": "trigger:opportunity.won",
        "object": "opportunity",
        "record_id": opp_id,
    }
    record = body["record"]
    assert body["occurred_at"] == record["updated_at"]  # the time of the change
    assert (record["id"], record["name"], record["stage"]) == (opp_id, "Big deal", "Closed Won")
    assert Decimal(str(record["amount"])) == Decimal("250000.00")
    assert "owner_id" in record and "created_at" in record


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_a_name_resolving_to_an_ipv6_address_is_delivered_there(automation_org, tmp_path):
    org = automation_org
    folder = tmp_path / "v6"
    folder.mkdir()
    ca, cert, key = make_certificates(folder, names=("v6.hooks.test",))
    org.settings = replace(org.settings, webhooks=replace(org.settings.webhooks, ca_file=str(ca)))
    with ReceiverServer(Receiver(secret=SECRET), cert, key, address="::1") as v6:
        on_won(org, webhook(f"https://v6.hooks.test:{v6.port}/hooks/won"))
        win(org)
        org.work.run_pending()
    assert only_run(org).status == "succeeded"
    [delivery] = v6.delivered
    assert delivery.signature_ok
    assert delivery.headers["host"] == f"v6.hooks.test:{v6.port}"


def test_fields_choose_what_the_body_holds(automation_org, receiver):
    org = automation_org
    url = f"https://{HOST}:{receiver.port}/hooks/won"
    on_won(org, webhook(url, fields=["name", "amount", "account.name"]))
    win(org, name="Chosen")
    org.work.run_pending()
    [delivery] = receiver.delivered
    record = delivery.json["record"]
    # the record's system fields and the names of its lookups (as the API shows a record)
    # always come along
    chosen = set(record) - {*SYSTEM_FIELDS, "_names"}
    assert chosen == {"name", "amount", "account.name"}  # paths keyed as `fields=` shows them
    assert (record["name"], record["account.name"]) == ("Chosen", "Acme")


def test_a_listed_field_that_no_longer_exists_is_left_out_without_failing_the_change(
    automation_org, receiver
):
    org = automation_org
    url = f"https://{HOST}:{receiver.port}/hooks/won"
    on_won(org, webhook(url, fields=["name", "gone", "account.gone", "stage.x"]))
    opp_id = win(org, name="Still sent")
    org.work.run_pending()
    [delivery] = receiver.delivered
    assert set(delivery.json["record"]) - {*SYSTEM_FIELDS, "_names"} == {"name"}
    assert delivery.json["record"]["id"] == opp_id


def test_an_encrypted_field_stays_out_of_the_body_and_the_outbox(
    automation_org, load_fixture, receiver
):
    org = automation_org
    load_fixture("webhooks")
    url = f"https://{HOST}:{receiver.port}/hooks/contracts"

    def handler(ctx):
        for change in ctx.changes:
            run_actions(
                org,
                ctx.services,
                "contract",
                change.record_id,
                # listed or not (a definition saved before the field became encrypted)
                [webhook(url), webhook(url, fields=["name", "iban"])],
                source="trigger:contract.created",
                event="create",
            )

    org.records.events.on(RecordEvent.AFTER_CREATE, handler, objects=["contract"])
    with org.records.session(admin(org)) as session:
        session.create("contract", {"name": "Lease", "iban": "DE89370400440532013000"})
    org.work.run_pending()
    assert len(receiver.delivered) == 2
    for delivery in receiver.delivered:
        assert delivery.json["event"] == "create"
        assert delivery.json["record"]["name"] == "Lease"
        assert "iban" not in delivery.json["record"]
        assert b"DE89370400440532013000" not in delivery.body
    with org.db.read() as conn:
        payloads = [run.payload for run in outbox.list_runs(conn)]
    assert len(payloads) == 2 and "DE89370400440532013000" not in str(payloads)


def test_a_deleted_record_is_described_as_it_was(automation_org, receiver):
    org = automation_org
    url = f"https://{HOST}:{receiver.port}/hooks/gone"

    def handler(ctx):
        for change in ctx.changes:
            run_actions(
                org,
                ctx.services,
                "opportunity",
                change.record_id,
                [webhook(url, fields=["name", "close_date"])],
                source="trigger:opportunity.gone",
                values=change.before,
                event="delete",
            )

    org.records.events.on(RecordEvent.AFTER_DELETE, handler, objects=["opportunity"])
    with org.records.session(admin(org)) as session:
        opp = session.create("opportunity", {"name": "Dropped", "close_date": "2026-12-24"})
        session.delete("opportunity", opp["id"])
    org.work.run_pending()
    [delivery] = receiver.delivered
    assert delivery.json["event"] == "delete"
    assert delivery.json["record"]["name"] == "Dropped"
    assert delivery.json["record"]["close_date"] == "2026-12-24"


def test_a_rolled_back_change_sends_nothing(automation_org, receiver):
    org = automation_org
    on_won(org, webhook(f"https://{HOST}:{receiver.port}/hooks/won"))

    class Abort(Exception):
        pass

    with pytest.raises(Abort), org.records.session(admin(org)) as session:
        opp = session.create("opportunity", {"name": "Never"})
        session.update("opportunity", opp["id"], {"stage": "Closed Won"})
        raise Abort
    org.work.run_pending()
    with org.db.read() as conn:
        assert outbox.list_runs(conn) == []
    assert receiver.deliveries == []


def test_503_twice_then_200_is_delivered_once_on_the_third_attempt(automation_org, receiver, clock):
    org = automation_org
    receiver.answers.extend([503, 503])
    on_won(org, webhook(f"https://{HOST}:{receiver.port}/hooks/won"))
    win(org)
    org.work.run_pending()
    run = only_run(org)
    assert (run.status, run.attempts) == ("queued", 1)
    assert run.error.startswith(f"{HOST} answered 503 Service Unavailable")
    assert run.failed_step == "actions[0]"
    assert run.due_at == START + outbox.FIRST_BACKOFF

    org.work.run_pending()  # not due yet: nothing is sent
    assert len(receiver.deliveries) == 1
    clock.advance(seconds=outbox.FIRST_BACKOFF.total_seconds())
    org.work.run_pending()
    assert only_run(org).status == "queued"
    assert only_run(org).due_at == clock() + 2 * outbox.FIRST_BACKOFF  # backoff doubled
    clock.advance(seconds=2 * outbox.FIRST_BACKOFF.total_seconds())
    org.work.run_pending()

    run = only_run(org)
    assert (run.status, run.attempts) == ("succeeded", 3)
    assert [d.status for d in receiver.deliveries] == [503, 503, 200]
    assert len(receiver.delivered) == 1
    # every attempt: the same body and idempotency key, a fresh timestamp and signature
    assert len({d.body for d in receiver.deliveries}) == 1
    assert {d.headers["idempotency-key"] for d in receiver.deliveries} == {
        f"{run.idempotency_key}#0"
    }
    assert len({d.headers["x-crm-timestamp"] for d in receiver.deliveries}) == 3
    assert all(d.signature_ok for d in receiver.deliveries)


def test_a_400_fails_at_once_and_an_admin_retries_it_once_the_receiver_is_fixed(
    automation_org, receiver
):
    org = automation_org
    receiver.answers.append(400)
    on_won(org, webhook(f"https://{HOST}:{receiver.port}/hooks/won"))
    win(org)
    org.work.run_pending()
    run = only_run(org)
    assert (run.status, run.attempts, run.failed_step) == ("failed", 1, "actions[0]")
    assert run.error == f"{HOST} answered 400 Bad Request: missing field: erp_id"
    with org.db.read() as conn:
        assert [r.id for r in outbox.list_runs(conn, statuses=["failed"])] == [run.id]

    # the receiver is fixed (it answers 200 from now on); the admin retries the run
    assert automation_of(org).retry(run.id) is not None
    org.work.run_pending()
    assert only_run(org).status == "succeeded"
    assert [d.status for d in receiver.deliveries] == [400, 200]
    assert receiver.deliveries[0].body == receiver.deliveries[1].body


def test_a_redirect_is_not_followed(automation_org, receiver):
    org = automation_org
    receiver.answers.append(302)
    on_won(org, webhook(f"https://{HOST}:{receiver.port}/hooks/won"))
    win(org)
    org.work.run_pending()
    run = only_run(org)
    assert run.status == "failed"
    assert "redirects are not followed" in run.error
    assert "https://elsewhere.test/" in run.error
    assert len(receiver.deliveries) == 1


def test_a_certificate_for_another_name_is_refused_and_tried_again(automation_org, receiver):
    org = automation_org
    # wrong-name.test resolves to the receiver, whose certificate names hooks.test only:
    # TLS checks the URL's host name, not the address it connects to
    on_won(org, webhook(f"https://wrong-name.test:{receiver.port}/hooks/won"))
    win(org)
    org.work.run_pending()
    run = only_run(org)
    assert (run.status, run.attempts) == ("queued", 1)
    assert run.error.startswith("wrong-name.test unreachable:")
    assert "certificate" in run.error.lower()
    assert receiver.deliveries == []


def test_an_unreachable_receiver_is_tried_again(automation_org):
    org = automation_org
    with socket.socket() as sock:  # a port that nothing listens on once it is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    on_won(org, webhook(f"https://{HOST}:{port}/hooks/won"))
    win(org)
    org.work.run_pending()
    run = only_run(org)
    assert (run.status, run.attempts) == ("queued", 1)
    assert run.error.startswith(f"{HOST} unreachable:")


def test_a_receiver_slower_than_the_read_timeout_is_tried_again(automation_org, receiver, clock):
    org = automation_org
    receiver.answers.append(HANG)  # answers only after the read timeout passed
    on_won(org, webhook(f"https://{HOST}:{receiver.port}/hooks/won"))
    win(org)
    org.work.run_pending()
    run = only_run(org)
    assert (run.status, run.attempts) == ("queued", 1)
    assert run.error == f"{HOST} timed out (ReadTimeout)"
    clock.advance(seconds=outbox.FIRST_BACKOFF.total_seconds())
    org.work.run_pending()
    assert only_run(org).status == "succeeded"


@pytest.mark.parametrize(
    ("host", "why"),
    [
        ("internal.example.com", "internal.example.com resolves to 10.0.0.5, a private address"),
        (
            "metadata.example.com",
            "metadata.example.com resolves to 169.254.169.254, a link-local address",
        ),
        ("mixed.example.com", "mixed.example.com resolves to 192.168.1.10, a private address"),
    ],
)
def test_a_host_resolving_inside_the_network_is_refused_at_delivery(
    automation_org, receiver, host, why
):
    org = automation_org
    on_won(org, webhook(f"https://{host}/hooks/won"))
    win(org)
    org.work.run_pending()
    run = only_run(org)
    assert (run.status, run.attempts) == ("failed", 1)
    assert run.error == f"{why}: webhooks cannot reach inside the network"
    assert receiver.deliveries == []


def test_a_secret_missing_at_delivery_fails_the_run(automation_org, receiver):
    org = automation_org
    on_won(org, webhook(f"https://{HOST}:{receiver.port}/hooks/won"))
    win(org)
    org.settings = replace(org.settings, webhooks=replace(org.settings.webhooks, secrets=()))
    org.work.run_pending()
    run = only_run(org)
    assert run.status == "failed"
    assert run.error == "no webhook secret 'erp' (CRM_WEBHOOK_SECRET_ERP)"
    assert receiver.deliveries == []


def readme_verify():
    """The receiver's check as the README's "Webhooks" section prints it."""
    text = README.read_text()
    section = text[text.index("## Webhooks") :]
    section = section[: section.index("\n## ", 5)]
    [code] = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    return scope["verify"]


def test_the_readme_check_accepts_a_delivery_and_refuses_a_forgery(automation_org, receiver, clock):
    org = automation_org
    clock.now = datetime.now(UTC)  # the README's check refuses timestamps far from now
    on_won(org, webhook(f"https://{HOST}:{receiver.port}/hooks/won"))
    win(org)
    org.work.run_pending()
    [delivery] = receiver.delivered
    verify = readme_verify()
    headers = {
        "X-CRM-Timestamp": delivery.headers["x-crm-timestamp"],
        "X-CRM-Signature": delivery.headers["x-crm-signature"],
    }
    assert verify(SECRET, headers, delivery.body)
    assert not verify("another secret", headers, delivery.body)
    assert not verify(SECRET, headers, delivery.body.replace(b"Big deal", b"Big steal"))
    # an hour-old delivery, correctly signed, is a replay
    stamp = str(int(headers["X-CRM-Timestamp"]) - 3600)
    replayed = {
        "X-CRM-Timestamp": stamp,
        "X-CRM-Signature": signature(SECRET, stamp, delivery.body),
    }
    assert not verify(SECRET, replayed, delivery.body)
    assert verify(SECRET, replayed, delivery.body, tolerance=7200)
