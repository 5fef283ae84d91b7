"""A webhook action is checked when its definition is saved, each problem named by its
path: an https URL on the allow-list, a secret the deployment provides, fields that
exist and are not encrypted."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest
from jsonschema import Draft202012Validator

from crm_platform.core import load_settings
from crm_platform.core.webhook_settings import WebhookSettings
from crm_platform.metadata import CandidateModel, read_snapshot
from crm_platform.workflow import automation_of
from crm_platform.workflow.checks import WorkflowChecks
from crm_platform.workflow.webhooks import WebhookAction, WebhookJob

NOT_LISTED = "is not on the webhook allow-list (CRM_WEBHOOK_ALLOWED_HOSTS): an admin adds it there"


@pytest.fixture
def settings(database_url, tmp_path):
    base = load_settings(database_url, instance_path=tmp_path / "instance")
    return replace(
        base,
        webhooks=WebhookSettings(
            hosts=("erp.example.com", "*.partner.org"),
            networks=(ipaddress.ip_network("10.20.0.0/16"),),
            secrets=(("erp", "s3cret"),),
        ),
    )


@pytest.fixture
def model(org, load_fixture):
    load_fixture("automation")
    load_fixture("webhooks")
    with org.db.read() as conn:
        return CandidateModel(read_snapshot(conn))


def problems(org, model, *actions, object_name="opportunity"):
    checks = WorkflowChecks(org.models.compiler, org.settings)
    return list(checks.actions(model, object_name, list(actions), "actions"))


def webhook(url="https://erp.example.com/hooks/won", **options):
    return {"type": "webhook", "url": url, "secret_ref": "erp", **options}


def test_a_webhook_to_an_allowed_host_with_a_known_secret_is_accepted(org, model):
    assert problems(org, model, webhook()) == []
    assert problems(org, model, webhook("https://a.partner.org:8443/x?y=1")) == []
    assert problems(org, model, webhook("https://10.20.1.2/hooks")) == []
    fields = ["name", "amount", "stage", "account.name", "id", "owner_id", "updated_at"]
    assert problems(org, model, webhook(fields=fields)) == []


def test_bad_webhooks_are_refused_naming_the_path(org, model):
    found = problems(
        org,
        model,
        webhook("http://erp.example.com/hooks/won"),
        webhook("https://erp.evil.test/hooks"),
        webhook("https://169.254.169.254/latest/meta-data"),
        webhook("https://127.0.0.1/hooks"),
        {**webhook(), "secret_ref": "billing"},
        webhook(fields=["name", "nope", "account.nope", "owner.name"]),
    )
    assert found == [
        ("actions[0].url", "webhooks are sent over https only: use an https:// URL"),
        ("actions[1].url", f"erp.evil.test {NOT_LISTED}"),
        ("actions[2].url", f"169.254.169.254 {NOT_LISTED}"),
        ("actions[3].url", f"127.0.0.1 {NOT_LISTED}"),
        (
            "actions[4].secret_ref",
            "no webhook secret 'billing': the deployment sets CRM_WEBHOOK_SECRET_BILLING",
        ),
        ("actions[5].fields[1]", "opportunity has no field 'nope'"),
        ("actions[5].fields[2]", "account has no field 'nope'"),
        ("actions[5].fields[3]", "opportunity has no lookup field 'owner'"),
    ]


def test_an_allowed_network_does_not_open_its_neighbours_inside_the_network(org, model):
    org.settings = replace(org.settings, webhooks=replace(org.settings.webhooks, hosts=("*",)))
    checks = WorkflowChecks(org.models.compiler, org.settings)
    found = list(
        checks.actions(
            model, "opportunity", [webhook("https://10.21.0.1/"), webhook("https://[::1]/")], "a"
        )
    )
    assert found == [
        ("a[0].url", "10.21.0.1 is a private address: webhooks cannot reach inside the network"),
        ("a[1].url", "::1 is a loopback address: webhooks cannot reach inside the network"),
    ]


def test_an_encrypted_field_is_never_sent(org, model):
    found = problems(org, model, webhook(fields=["name", "iban"]), object_name="contract")
    assert found == [
        ("actions[0].fields[1]", "contract.iban is encrypted: webhooks never send encrypted fields")
    ]


def test_a_webhook_cannot_run_before_save(org, model):
    checks = WorkflowChecks(org.models.compiler, org.settings)
    found = list(checks.actions(model, "opportunity", [webhook()], "actions", before_save=True))
    assert found == [("actions[0].type", "'webhook' cannot run before save: use timing after_save")]


def test_every_org_can_deliver_webhooks(org):
    assert isinstance(automation_of(org).jobs.get("webhook"), WebhookJob)


@pytest.mark.parametrize(
    ("action", "where"),
    [
        ({"type": "webhook", "url": "https://erp.example.com/"}, "secret_ref"),
        ({**webhook(), "secret": "inline"}, "secret"),
        ({**webhook(), "secret_ref": "ERP-Key"}, "ERP-Key"),
        (webhook(fields=[]), "fields"),
        (webhook(fields=["name", "name"]), "fields"),
    ],
)
def test_the_schema_refuses_malformed_webhook_actions(action, where):
    errors = list(Draft202012Validator(WebhookAction().schema).iter_errors(action))
    assert errors and where in " ".join(e.message + str(list(e.path)) for e in errors)
