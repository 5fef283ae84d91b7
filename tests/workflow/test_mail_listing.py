"""An admin lists the mail automation sent or kept: GET /api/v1/automation/mail and
`crm mail list`; others may not."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from crm_platform.cli import main

from ..conftest import ApiClient, make_token
from .mail_helpers import REP_EMAIL, WON_NOTICE, messages, on_won, prepare, win_deal


@pytest.fixture
def kept(org, load_fixture):
    """Two won deals, each with a kept notice to its owner (no SMTP configured)."""
    prepare(org, load_fixture)
    on_won(org, [WON_NOTICE])
    first, second = win_deal(org), win_deal(org, amount="10")
    org.work.run_pending()
    return first, second


def test_an_admin_lists_kept_mail_newest_first(api, org, kept):
    first, second = kept
    body = api.get("/api/v1/automation/mail?status=kept").get_json()
    assert [m["record_id"] for m in body["messages"]] == [second, first]
    newest = body["messages"][0]
    assert newest["status"] == "kept" and newest["to"] == [REP_EMAIL]
    assert newest["subject"] == "Won: Big deal ()"
    assert newest["template"] == "won_notice" and newest["source"] == "trigger:opportunity.won"
    assert body["next"] is None
    assert api.get("/api/v1/automation/mail?status=sent").get_json()["messages"] == []
    only = api.get(f"/api/v1/automation/mail?record_id={first}").get_json()["messages"]
    assert [m["record_id"] for m in only] == [first]


def test_the_list_pages_by_id(api, kept):
    first, second = kept
    page = api.get("/api/v1/automation/mail?limit=1").get_json()
    assert [m["record_id"] for m in page["messages"]] == [second]
    following = api.get(f"/api/v1/automation/mail?limit=1&before={page['next']}").get_json()
    assert [m["record_id"] for m in following["messages"]] == [first]


@pytest.mark.parametrize(
    ("query", "field"), [("status=lost", "status"), ("limit=0", "limit"), ("limit=x", "limit")]
)
def test_bad_parameters_are_refused_naming_them(api, kept, query, field):
    response = api.get(f"/api/v1/automation/mail?{query}")
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_someone_who_may_not_see_all_data_may_not_list_mail(app, org, kept):
    rep = ApiClient(app.test_client(), make_token(org, REP_EMAIL))
    response = rep.get("/api/v1/automation/mail")
    assert response.status_code == 403
    assert "view_all_data" in response.get_json()["detail"]


def test_crm_mail_list_prints_the_kept_mail(org, kept, database_url, tmp_path):
    env = {"CRM_DATABASE_URL": database_url, "CRM_INSTANCE_PATH": str(tmp_path / "instance")}
    result = CliRunner().invoke(main, ["mail", "list", "--status", "kept", "--body"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    stored = messages(org)
    assert [line.split()[1:4] for line in lines if not line.startswith(" ")] == [
        ["kept", m.id, REP_EMAIL] for m in stored
    ]
    assert "    | Hello Rita Rep," in lines
    empty = CliRunner().invoke(main, ["mail", "list", "--status", "failed"], env=env)
    assert empty.output.strip() == "No mail."


def test_templates_apply_and_dump_as_yaml(database_url, tmp_path):
    import yaml

    from ..conftest import FIXTURES

    env = {"CRM_DATABASE_URL": database_url, "CRM_INSTANCE_PATH": str(tmp_path / "instance")}

    def crm(*args: str) -> str:
        result = CliRunner().invoke(main, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    crm("init", "--admin-password", "S3cure-pass!")
    crm("metadata", "apply", str(FIXTURES / "automation"))
    crm("metadata", "apply", str(FIXTURES / "mail"))
    crm("metadata", "dump", str(tmp_path / "out"))
    (dumped,) = (tmp_path / "out" / "email_templates").iterdir()
    source = FIXTURES / "mail" / "email_templates" / "won_notice.yaml"
    assert yaml.safe_load(dumped.read_text()) == yaml.safe_load(source.read_text())
