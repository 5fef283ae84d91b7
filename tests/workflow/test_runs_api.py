"""What an admin sees of automation runs through the API and the CLI: runs by status
(the dead-letter list), one run, a retry from the action that failed, a delivery ping;
refused to non-admins, with problem+json naming what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from crm_platform.cli import main
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.workflow import JobFailed, RetryLater, automation_of, outbox
from tests.workflow.test_outbox import Clock, Recorder

START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock(org) -> Clock:
    clock = Clock()
    org.clock = clock
    return clock


@pytest.fixture
def recorder(org) -> Recorder:
    recorder = Recorder()
    automation_of(org).add_job(recorder)
    return recorder


def enqueue(org, what: str, **options) -> str:
    with org.db.write() as conn:
        run_id = automation_of(org).enqueue(
            conn,
            job="record",
            source="trigger:opportunity.won",
            payload={"what": what, "steps": options.pop("steps", 1)},
            user_id=SYSTEM_USER_ID,
            **options,
        )
    assert run_id is not None
    return run_id


def test_an_admin_lists_failed_runs_sees_why_and_retries_from_the_failed_action(
    org, api, clock, recorder
):
    recorder.failures = [JobFailed("template 'won_notice' is gone", step="actions[2] send_email")]
    failing = enqueue(org, "mail", steps=3)
    fine = enqueue(org, "fine")
    org.work.run_pending()

    failed = api.get("/api/v1/automation/runs?status=failed")
    assert failed.status_code == 200
    assert [r["id"] for r in failed.json["runs"]] == [failing]
    run = failed.json["runs"][0]
    assert run["status"] == "failed"
    assert run["failed_step"] == "actions[2] send_email"
    assert run["error"] == "template 'won_notice' is gone"
    assert run["source"] == "trigger:opportunity.won"
    everything = api.get("/api/v1/automation/runs").json["runs"]
    assert {r["id"]: r["status"] for r in everything} == {failing: "failed", fine: "succeeded"}

    retried = api.post(f"/api/v1/automation/runs/{failing}/retry")
    assert retried.status_code == 200
    assert (retried.json["status"], retried.json["attempts"]) == ("queued", 0)
    org.work.run_pending()
    assert api.get(f"/api/v1/automation/runs/{failing}").json["status"] == "succeeded"
    assert recorder.effects.count(("mail", 0)) == 1  # done once, before the failure
    assert api.get("/api/v1/automation/runs?status=failed").json["runs"] == []

    again = api.post(f"/api/v1/automation/runs/{failing}/retry")
    assert again.status_code == 409
    assert again.mimetype == "application/problem+json"
    assert "succeeded" in again.json["detail"]


def test_queued_running_and_late_runs_are_listed_by_status(org, api, clock, recorder):
    late = enqueue(org, "late", due_at=START + timedelta(hours=1))
    waiting = enqueue(org, "later", due_at=START + timedelta(days=2))
    clock.advance(hours=6)  # the workers were down
    recorder.failures = [RetryLater("receiver answered 503", step="actions[0] webhook")]
    org.work.run_pending()

    def listed(query: str) -> dict[str, str]:
        response = api.get(f"/api/v1/automation/runs?{query}")
        assert response.status_code == 200, response.json
        return {r["id"]: r["status"] for r in response.json["runs"]}

    assert listed("status=queued") == {late: "queued", waiting: "queued"}
    assert listed("status=late") == {late: "queued"}
    assert listed("status=late&status=succeeded") == {}
    retrying = api.get(f"/api/v1/automation/runs/{late}").json
    assert retrying["late"] is True and retrying["error"] == "receiver answered 503"
    assert retrying["failed_step"] == "actions[0] webhook"


def test_pages_of_runs_follow_one_another(org, api, clock, recorder):
    ids = [enqueue(org, f"r{i}", due_at=START + timedelta(days=1)) for i in range(5)]
    first = api.get("/api/v1/automation/runs?limit=2").json
    second = api.get(f"/api/v1/automation/runs?limit=2&before={first['next']}").json
    third = api.get(f"/api/v1/automation/runs?limit=2&before={second['next']}").json
    pages = [r["id"] for page in (first, second, third) for r in page["runs"]]
    assert pages == list(reversed(ids))
    assert third["next"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=broken", "status"),
        ("status=failed,nope", "status"),
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("limit=100000", "limit"),
    ],
)
def test_bad_queries_are_refused_naming_the_parameter(api, query, field):
    response = api.get(f"/api/v1/automation/runs?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]


def test_unknown_runs_are_404_and_only_admins_see_runs(org, api, make_user, clock, recorder):
    run_id = enqueue(org, "secret")
    missing = api.get("/api/v1/automation/runs/01a00000-0000-7000-8000-000000000000")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert api.post("/api/v1/automation/runs/nope/retry").status_code == 404

    rep = make_user("rep@example.com", profile="standard_user")
    for response in (
        rep.get("/api/v1/automation/runs"),
        rep.get(f"/api/v1/automation/runs/{run_id}"),
        rep.post(f"/api/v1/automation/runs/{run_id}/retry"),
        rep.post("/api/v1/automation/ping", json={}),
    ):
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"


def test_a_ping_is_delivered_once_and_says_by_whom(org, api):
    response = api.post("/api/v1/automation/ping", json={})
    assert response.status_code == 202
    run_id = response.json["id"]
    assert (response.json["job"], response.json["status"]) == ("ping", "queued")
    org.work.run_pending()
    delivered = api.get(f"/api/v1/automation/runs/{run_id}").json
    assert delivered["status"] == "succeeded"
    assert ":" in delivered["delivered_by"]  # host:pid of the worker
    assert api.post("/api/v1/automation/ping").status_code == 202  # a body is optional


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"hold": 1}, "hold"),  # no broker: there is no worker to hold
        ({"hold": 100000}, "hold"),
        ({"hold": -1}, "hold"),
        ({"hold": "5"}, "hold"),
        ({"hold": True}, "hold"),
        ({"wait": 1}, "wait"),
        ([1], "(body)"),
    ],
)
def test_a_bad_ping_is_refused_naming_the_field_and_queues_nothing(org, api, body, field):
    response = api.post("/api/v1/automation/ping", json=body)
    assert response.status_code == 400
    assert field in response.json["errors"]
    with org.db.read() as conn:
        assert outbox.list_runs(conn) == []


# --- the CLI -----------------------------------------------------------------------------


@pytest.fixture
def crm(org, database_url, tmp_path):
    env = {"CRM_DATABASE_URL": database_url, "CRM_INSTANCE_PATH": str(tmp_path / "instance")}

    def run(*args: str, code: int = 0):
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    return run


def test_the_cli_lists_failed_runs_and_retries_them(org, crm):
    with org.db.write() as conn:
        run_id = automation_of(org).enqueue(
            conn, job="ping", source="ping", payload={}, user_id=SYSTEM_USER_ID
        )
        outbox.claim(conn, run_id, org.clock())
        outbox.fail(conn, run_id, org.clock(), "worker lost", "ping")

    listed = crm("automation", "runs", "--failed")
    assert run_id in listed and "failed" in listed and "failed at ping: worker lost" in listed
    assert "No runs." in crm("automation", "runs", "--status", "queued")
    retried = crm("automation", "retry", run_id)
    assert f"Queued run {run_id} again" in retried and "succeeded" in retried
    assert "No runs." in crm("automation", "runs", "--failed")
    assert "no failed run" in crm("automation", "retry", run_id, code=1)


def test_the_cli_ping_is_delivered_in_process_without_a_broker(crm):
    assert "delivered by" in crm("automation", "ping", "--wait", "5")


def test_crm_worker_needs_a_broker(crm):
    assert "CRM_BROKER_URL is not set" in crm("worker", code=1)


def test_an_admin_token_is_needed(anonymous):
    assert anonymous.get("/api/v1/automation/runs").status_code == 401
