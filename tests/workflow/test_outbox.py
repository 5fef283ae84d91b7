"""The outbox: work written in the change's transaction, run after commit, retried with
backoff, dead-lettered, retried by an admin from the step that failed, claimed again
when its worker died — on the embedded runner (no broker)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.workflow import JobContext, JobFailed, RetryLater, automation_of, outbox
from tests.clock import START, Clock


@dataclass
class Recorder:
    """A job type that records its effects and fails as told."""

    name: str = "record"
    effects: list[tuple[str, int]] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)

    def run(self, job: JobContext) -> None:
        for step in range(job.first_step, job.payload.get("steps", 1)):
            if self.failures:
                raise self.failures.pop(0)
            with job.write() as conn:
                self.effects.append((job.payload["what"], step))
                job.step_done(conn, step)


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


def enqueue(org, what: str, **options) -> str | None:
    steps = options.pop("steps", 1)
    with org.db.write() as conn:
        return automation_of(org).enqueue(
            conn,
            job="record",
            source="test",
            payload={"what": what, "steps": steps},
            user_id=SYSTEM_USER_ID,
            **options,
        )


def run_of(org, run_id: str) -> outbox.Run:
    with org.db.read() as conn:
        found = outbox.get(conn, run_id)
    assert found is not None
    return found


def test_a_rolled_back_change_sends_nothing(org, clock, recorder):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), org.db.write() as conn:
        automation_of(org).enqueue(
            conn, job="record", source="test", payload={"what": "x"}, user_id=SYSTEM_USER_ID
        )
        raise Abort
    org.work.run_pending()
    assert recorder.effects == []
    with org.db.read() as conn:
        assert outbox.list_runs(conn) == []


def test_a_committed_run_is_delivered_after_commit_by_the_background_runner(org, recorder):
    run_id = enqueue(org, "hello")
    deadline = time.monotonic() + 15
    while run_of(org, run_id).status != outbox.SUCCEEDED and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run_of(org, run_id).status == outbox.SUCCEEDED
    assert recorder.effects == [("hello", 0)]


def test_the_same_idempotency_key_is_one_run(org, clock, recorder):
    first = enqueue(org, "once", key="order-1")
    assert enqueue(org, "once", key="order-1") is None
    org.work.run_pending()
    assert recorder.effects == [("once", 0)]
    assert run_of(org, first).status == outbox.SUCCEEDED


def test_a_transient_failure_is_retried_with_backoff(org, clock, recorder):
    recorder.failures = [RetryLater("receiver answered 503", step="webhook")]
    run_id = enqueue(org, "retry")
    org.work.run_pending()
    run = run_of(org, run_id)
    assert (run.status, run.attempts, run.error) == ("queued", 1, "receiver answered 503")
    assert run.due_at == START + outbox.FIRST_BACKOFF
    org.work.run_pending()  # not due yet
    assert recorder.effects == []
    clock.advance(seconds=31)
    org.work.run_pending()
    assert run_of(org, run_id).status == outbox.SUCCEEDED
    assert recorder.effects == [("retry", 0)]


def test_runs_that_keep_failing_end_in_the_dead_letter_list_and_an_admin_retries_them(
    org, clock, recorder
):
    recorder.failures = [
        RetryLater("timed out", step="actions[1] webhook") for _ in range(outbox.MAX_ATTEMPTS)
    ]
    run_id = enqueue(org, "steps", steps=3)
    for _ in range(outbox.MAX_ATTEMPTS):
        org.work.run_pending()
        clock.advance(hours=2)
    run = run_of(org, run_id)
    assert run.status == outbox.FAILED
    assert run.failed_step == "actions[1] webhook"
    assert "gave up after 6 attempts" in run.error
    with org.db.read() as conn:
        assert [r.id for r in outbox.list_runs(conn, statuses=["failed"])] == [run_id]

    retried = automation_of(org).retry(run_id)
    assert retried is not None and retried.status == outbox.QUEUED
    org.work.run_pending()
    assert run_of(org, run_id).status == outbox.SUCCEEDED
    assert recorder.effects == [("steps", 0), ("steps", 1), ("steps", 2)]
    assert automation_of(org).retry(run_id) is None  # only failed runs are retried


def test_a_retry_starts_at_the_step_that_failed(org, clock, recorder):
    run_id = enqueue(org, "steps", steps=3)

    calls = []
    original = recorder.run

    def run(job):
        calls.append(job.first_step)
        if len(calls) == 1:
            with job.write() as conn:
                recorder.effects.append(("steps", 0))
                job.step_done(conn, 0)
            raise JobFailed("template missing", step="actions[1] send_email")
        original(job)

    recorder.run = run
    org.work.run_pending()
    assert run_of(org, run_id).status == outbox.FAILED
    automation_of(org).retry(run_id)
    org.work.run_pending()
    assert calls == [0, 1]
    assert recorder.effects == [("steps", 0), ("steps", 1), ("steps", 2)]


def test_a_run_whose_worker_died_is_claimed_again_after_its_lease(org, clock, recorder):
    # due a moment later, so the background runner does not take it at commit
    run_id = enqueue(org, "orphan", due_at=START + timedelta(seconds=1))
    clock.advance(seconds=1)
    with org.db.write() as conn:  # a worker claims it, then is killed
        assert outbox.claim(conn, run_id, clock()) is not None
    org.work.run_pending()
    assert recorder.effects == []  # its lease still holds
    clock.advance(seconds=outbox.LEASE.total_seconds() + 1)
    org.work.run_pending()
    assert recorder.effects == [("orphan", 0)]
    assert run_of(org, run_id).attempts == 2


def test_a_run_started_long_after_it_was_due_says_it_ran_late(org, clock, recorder):
    on_time = enqueue(org, "on time", due_at=START + timedelta(hours=1))
    clock.advance(hours=1)
    org.work.run_pending()
    late = enqueue(org, "late", due_at=START + timedelta(hours=2))
    clock.advance(hours=5)  # the workers were down
    org.work.run_pending()
    assert run_of(org, on_time).late is False
    assert run_of(org, late).late is True
    assert run_of(org, late).status == outbox.SUCCEEDED
