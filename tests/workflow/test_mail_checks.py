"""Email templates and send_email actions are checked when saved: a syntax error or an
unknown merge field is refused, naming the part and the field's path; so is an action
whose template does not exist or belongs to another object."""

from __future__ import annotations

import pytest

from crm_platform.metadata import CandidateModel, read_snapshot
from crm_platform.workflow.checks import WorkflowChecks

from .mail_helpers import shared_org, user

TEMPLATE = {
    "api_name": "quote_sent",
    "object": "opportunity",
    "subject": "Quote for {{ name }}",
    "body": "Dear {{ owner.name }}, {{ account.name }} gets {{ amount }}.",
}


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    yield from shared_org(tmp_path_factory)


@pytest.fixture
def mail_api(shared):
    return shared.admin


def post(api, **changes):
    return api.post("/api/v1/metadata/email_templates", json={**TEMPLATE, **changes})


def test_a_template_is_saved_and_read_back_through_the_metadata_api(mail_api):
    created = post(mail_api, label={"en": "Quote sent", "zh": "报价已发送"})
    assert created.status_code == 201, created.get_json()
    assert created.headers["Location"] == "/api/v1/metadata/email_templates/quote_sent"
    got = mail_api.get("/api/v1/metadata/email_templates/quote_sent").get_json()
    assert got["body"] == TEMPLATE["body"]
    assert got["label"] == {"en": "Quote sent", "zh": "报价已发送"}
    listed = mail_api.get("/api/v1/metadata/email_templates").get_json()
    assert {"won_notice", "quote_sent"} <= {t["api_name"] for t in listed["email_templates"]}


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"body": "{{ acount.name }}"}, "body", "unknown merge field 'acount.name' on opportunity"),
        ({"subject": "{{ account.nmae }}"}, "subject", "unknown merge field 'account.nmae'"),
        ({"body": "{{ name.__class__ }}"}, "body", "unknown merge field 'name.__class__'"),
        ({"body": "{{ owner.password_hash }}"}, "body", "merge field 'owner.password_hash'"),
        ({"body": "Hi {{ name }"}, "body", "line 1: unexpected '}'"),
        ({"html_body": "{% if name %}<p>open"}, "html_body", "line 1: Unexpected end of template"),
        ({"object": "invoice"}, "object", "no object 'invoice'"),
        ({"cc": "owner.email"}, "cc", "'cc' is not an option"),
    ],
)
def test_a_bad_template_is_refused_naming_the_path(mail_api, changes, path, message):
    response = post(mail_api, api_name="refused", **changes)
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    errors = response.get_json()["errors"]
    # a definition's problems are named by its component and the path inside it
    named = errors.get(f"refused.{path}") or errors.get(path) or []
    assert any(message in m for m in named), errors
    assert mail_api.get("/api/v1/metadata/email_templates/refused").status_code == 404


def test_names_a_template_binds_itself_are_not_merge_fields(mail_api):
    body = "{% set who = owner.name %}{% for i in range(2) %}{{ who }} {{ i }}{% endfor %}"
    assert post(mail_api, api_name="bound_names", body=body).status_code == 201


def action_problems(org, action):
    with org.db.read() as conn:
        model = CandidateModel(read_snapshot(conn))
    checks = WorkflowChecks(org.models.compiler, org.settings)
    return list(checks.actions(model, "opportunity", [action], "actions"))


@pytest.mark.parametrize(
    ("action", "problems"),
    [
        ({"template": "won_notice", "to": "owner.email"}, []),
        ({"template": "won_notice", "to": ["owner", "'ops@example.com'"], "cc": "owner_id"}, []),
        ({"template": "won_notice", "to": "account.account_manager"}, []),
        (
            {"template": "lost_notice", "to": "owner.email"},
            [("actions[0].template", "no email template 'lost_notice'")],
        ),
        (
            {"template": "won_notice", "to": ["owner.email", "acount.name"]},
            [("actions[0].to[1]", "unknown field 'acount.name'")],
        ),
        (
            {"template": "won_notice", "to": "owner.name"},
            [("actions[0].to", "a recipient is an address or a user: owner or owner.email")],
        ),
    ],
)
def test_send_email_actions_are_checked(shared, action, problems):
    found = action_problems(shared.org, {"type": "send_email", **action})
    assert len(found) == len(problems), found
    for (path, message), (want_path, want_message) in zip(found, problems, strict=True):
        assert (path, message[: len(want_message)]) == (want_path, want_message)


def test_a_template_of_another_object_is_refused(shared):
    org = shared.org
    org.metadata.put_component(
        "email_template",
        {**TEMPLATE, "api_name": "case_opened", "object": "case", "body": "{{ subject }}"},
        author_id=user(org).id,
    )
    found = action_problems(org, {"type": "send_email", "template": "case_opened", "to": "owner"})
    assert found == [
        ("actions[0].template", "'case_opened' is a template of case, not opportunity")
    ]


def test_an_action_list_names_the_templates_it_sends():
    from crm_platform.workflow.mail import template_references

    actions = [
        {"type": "update_record", "values": {"closed_on": "TODAY()"}},
        {"type": "send_email", "template": "won_notice", "to": "owner"},
    ]
    assert template_references(actions) == [("email_template", "won_notice")]
