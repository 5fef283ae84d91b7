"""One process at a time runs an import job: a second `crm import --resume` of a job that
still runs takes it over, the first stops at its next batch, and no row lands twice. The
error file holds exactly the rejected rows of the batches that committed, even when a
process stopped between writing a batch's rejected rows and its commit."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_EMAIL

from .helpers import read_errors, records, write_csv

HEADER = ["Account name", "Employees"]


def _rows(count: int) -> list[list[str]]:
    # every tenth row is refused: its employees are no number
    return [[f"Account {i:04}", "n/a" if i % 10 == 9 else str(i)] for i in range(count)]


def _importer(org, path, progress=None):
    from crm_platform.imports import Importer, ImportOptions, Source, infer
    from crm_platform.runtime import find_user

    with org.db.read() as conn:
        admin = find_user(conn, ADMIN_EMAIL)
    source = Source(path)
    mapping = infer(org, source, "account").mapping
    return Importer(org, admin, source, mapping, ImportOptions(batch_size=100), progress=progress)


def _job(org, job_id):
    from crm_platform.imports import get_job

    with org.db.read() as conn:
        return get_job(conn, job_id)


def test_a_second_resume_takes_the_job_over_and_no_row_lands_twice(crm, org, tmp_path):
    from crm_platform.imports.jobs import JobTakenOver, claim

    path = write_csv(tmp_path / "accounts.csv", [HEADER, *_rows(1000)])
    taken = []

    def another_process_resumes(state):
        if state.rows_read >= 300 and not taken:
            with org.db.write() as conn:
                taken.append(claim(conn, state.job_id))

    first = _importer(org, path, another_process_resumes)
    job = first.start()
    with pytest.raises(JobTakenOver, match="resumed by another process"):
        first.run(job)
    # the first stopped at the batch after the claim, which rolled back with its rows
    assert len(records(org, "account")) == 270
    stopped = _job(org, job.id)
    assert (stopped.status, stopped.position, stopped.created) == ("running", 300, 270)

    result = crm("import", "--resume", job.id)
    assert "was left running" in result.output
    assert "1000 rows read: 900 created, 0 updated, 100 rejected" in result.output
    names = [name for (name,) in records(org, "account", "name")]
    assert len(names) == len(set(names)) == 900
    errors = read_errors(tmp_path / "accounts.errors.csv")
    assert [e["Account name"] for e in errors] == [f"Account {i:04}" for i in range(9, 1000, 10)]
    assert _job(org, job.id).status == "done"


class Killed(BaseException):
    """The process ends here: no handler of the importer runs (as with SIGKILL)."""


def test_a_resume_cuts_off_rejected_rows_of_a_batch_that_never_committed(
    crm, org, tmp_path, monkeypatch
):
    from crm_platform.imports import jobs

    path = write_csv(tmp_path / "accounts.csv", [HEADER, *_rows(500)])
    importer = _importer(org, path)
    job = importer.start()
    advance = jobs.advance

    def killed_before_the_third_commit(conn, job_id, **values):
        if values.get("position") == 300:
            raise Killed
        advance(conn, job_id, **values)

    monkeypatch.setattr(jobs, "advance", killed_before_the_third_commit)
    with pytest.raises(Killed):
        importer.run(job)
    monkeypatch.undo()
    # the third batch's rejected rows are in the file; the job counts two batches
    assert len(read_errors(tmp_path / "accounts.errors.csv")) == 30
    stopped = _job(org, job.id)
    assert (stopped.position, stopped.created, stopped.rejected) == (200, 180, 20)
    assert len(records(org, "account")) == 180

    result = crm("import", "--resume", job.id)
    assert "500 rows read: 450 created, 0 updated, 50 rejected" in result.output
    errors = read_errors(tmp_path / "accounts.errors.csv")
    assert [e["Account name"] for e in errors] == [f"Account {i:04}" for i in range(9, 500, 10)]
    assert len(records(org, "account")) == 450
