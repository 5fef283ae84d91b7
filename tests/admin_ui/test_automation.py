"""Automation runs through the test client: runs listed by status, the dead-letter list
(failed runs) with their error, and a retry that queues a failed run again."""

from __future__ import annotations

from datetime import UTC, datetime

from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.workflow import outbox
from tests.admin_ui.conftest import post, text


def failed_run(sales, source: str = "trigger:welcome") -> str:
    """A run that ran out of attempts, as the worker leaves it."""
    now = datetime.now(UTC)
    with sales.org.db.write() as conn:
        run_id = outbox.enqueue(
            conn,
            job="webhook",
            source=source,
            payload={"url": "https://example.invalid"},
            user_id=SYSTEM_USER_ID,
            now=now,
            due_at=datetime(2999, 1, 1, tzinfo=UTC),
        )
        outbox.fail(conn, run_id, now, "connection refused (gave up after 5 attempts)", "post")
    return run_id


def status_of(sales, run_id: str) -> str:
    with sales.org.db.read() as conn:
        return outbox.get(conn, run_id).status


def test_the_dead_letter_list_shows_failed_runs_and_a_retry_queues_one(sales, admin):
    run_id = failed_run(sales)
    dead = text(admin.get("/setup/automation/?status=failed"))
    assert f'data-run="{run_id}"' in dead
    assert "connection refused" in dead
    assert text(admin.get("/setup/automation/?status=succeeded")).count(run_id) == 0
    page = text(admin.get(f"/setup/automation/runs/{run_id}"))
    assert "https://example.invalid" in page
    response = post(admin, f"/setup/automation/runs/{run_id}/retry")
    assert response.status_code == 302
    assert status_of(sales, run_id) != outbox.FAILED
    assert "Run queued again" in text(admin.get(response.headers["Location"]))


def test_only_a_failed_run_is_retried(sales, admin):
    run_id = failed_run(sales)
    post(admin, f"/setup/automation/runs/{run_id}/retry")
    again = post(admin, f"/setup/automation/runs/{run_id}/retry")
    assert again.status_code == 409
    assert post(admin, "/setup/automation/runs/nothing/retry").status_code == 404


def test_an_unknown_status_is_refused(admin):
    assert admin.get("/setup/automation/?status=exploded").status_code == 400


def test_a_rep_may_not_see_runs(sales, rep):
    run_id = failed_run(sales)
    assert rep.get("/setup/automation/").status_code == 403
    assert post(rep, f"/setup/automation/runs/{run_id}/retry").status_code == 403
    assert status_of(sales, run_id) == outbox.FAILED
