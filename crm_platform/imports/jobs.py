"""Import jobs: created before the first row is read, advanced with every committed batch,
read to show progress, flagged to cancel."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import Conflict, NotFound, new_id, utc_now

from .tables import import_jobs

FINISHED = frozenset({"done", "failed", "cancelled"})


@dataclass(frozen=True)
class ImportOptions:
    """How a job imports: the upsert key, all-or-none or partial, the encoding, batch size."""

    upsert_on: str | None = None
    all_or_none: bool = False
    encoding: str | None = None
    batch_size: int = 500
    background: bool = False  # run by the org's work runner (started through the API)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ImportOptions:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class Job:
    """An import job as stored."""

    id: str
    object: str
    status: str
    source: str
    source_size: int
    mapping: Mapping[str, Any]
    options: ImportOptions
    position: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    warned: int
    total: int | None
    runner: str | None  # the token of the process running it now
    error_bytes: int | None  # the error file's size after the committed batches' rows
    error_file: str | None
    message: str | None
    cancel_requested: bool
    started_by: str
    created_at: Any
    updated_at: Any

    def as_json(self) -> dict[str, Any]:
        """The job as the API shows it."""
        return {
            "id": self.id,
            "object": self.object,
            "status": self.status,
            "rows_read": self.position,
            "total_rows": self.total,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "warned": self.warned,
            "message": self.message,
            "cancel_requested": self.cancel_requested,
            "options": self.options.as_json(),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def _job(row: Mapping[str, Any]) -> Job:
    values = {k: row[k] for k in Job.__dataclass_fields__ if k != "options"}
    return Job(**values, options=ImportOptions.from_json(row["options"]))


def create_job(
    conn: Connection,
    *,
    object_name: str,
    source: Path,
    mapping: Mapping[str, Any],
    options: ImportOptions,
    user_id: str,
    total: int | None,
    error_file: Path,
    job_id: str | None = None,
) -> Job:
    """A new queued job."""
    now = utc_now()
    job_id = job_id or new_id()
    conn.execute(
        import_jobs.insert().values(
            id=job_id,
            object=object_name,
            status="queued",
            source=str(source.resolve()),  # a resume may run from another folder
            source_size=source.stat().st_size,
            mapping=dict(mapping),
            options=options.as_json(),
            position=0,
            created=0,
            updated=0,
            unchanged=0,
            rejected=0,
            warned=0,
            total=total,
            runner=None,
            error_bytes=0,
            error_file=str(error_file.resolve()),
            message=None,
            cancel_requested=False,
            started_by=user_id,
            created_at=now,
            updated_at=now,
        )
    )
    return get_job(conn, job_id)


def get_job(conn: Connection, job_id: str) -> Job:
    """The job, or 404."""
    row = conn.execute(sa.select(import_jobs).where(import_jobs.c.id == job_id)).mappings().first()
    if row is None:
        raise NotFound(f"no import job {job_id}")
    return _job(row)


def later_job_writing(conn: Connection, job: Job) -> str | None:
    """The id of a job started after ``job`` that writes the same error file (the same
    file imported again from the command line), whose rows replaced ``job``'s; or None."""
    query = (
        sa.select(import_jobs.c.id)
        .where(
            import_jobs.c.error_file == job.error_file,
            import_jobs.c.created_at > job.created_at,
        )
        .order_by(import_jobs.c.created_at)
        .limit(1)
    )
    return conn.execute(query).scalar() if job.error_file else None


def list_jobs(conn: Connection, limit: int = 50) -> list[Job]:
    """The latest jobs, newest first."""
    query = sa.select(import_jobs).order_by(import_jobs.c.created_at.desc()).limit(limit)
    return [_job(row) for row in conn.execute(query).mappings()]


class JobTakenOver(Conflict):
    """Another process claimed the job (a second ``--resume``): this one must stop, and
    the batch it was about to commit is rolled back with this error."""

    def __init__(self, job_id: str) -> None:
        super().__init__(
            f"import job {job_id} was resumed by another process: this one stopped, "
            "and the other goes on from the last batch that committed"
        )


def claim(conn: Connection, job_id: str) -> tuple[str, Job]:
    """Make this process the job's runner (a new token; any runner before it stops at its
    next batch) and read the job as the claim leaves it: its position counts every batch
    committed before the claim, the last runner's included."""
    token = new_id()
    advance(conn, job_id, status="running", runner=token, cancel_requested=False, message=None)
    return token, get_job(conn, job_id)


def advance(conn: Connection, job_id: str, *, as_runner: str | None = None, **values: Any) -> None:
    """Record progress (in the transaction of the batch it describes). ``as_runner``: only
    while that token is still the job's runner, else :class:`JobTakenOver` (the caller's
    transaction, with its batch, is rolled back)."""
    query = import_jobs.update().where(import_jobs.c.id == job_id)
    if as_runner is not None:
        query = query.where(import_jobs.c.runner == as_runner)
    done = conn.execute(query.values(**values, updated_at=utc_now()))
    if as_runner is not None and done.rowcount != 1:
        raise JobTakenOver(job_id)


def cancel_requested(conn: Connection, job_id: str) -> bool:
    """Whether someone asked the job to stop."""
    query = sa.select(import_jobs.c.cancel_requested).where(import_jobs.c.id == job_id)
    return bool(conn.execute(query).scalar())


def request_cancel(conn: Connection, job_id: str) -> Job:
    """Ask a running job to stop after its current batch (a queued one stops at once);
    a finished job answers 409."""
    job = get_job(conn, job_id)
    if job.status in FINISHED:
        raise Conflict(f"the import job is {job.status} already")
    values: dict[str, Any] = {"cancel_requested": True}
    if job.status == "queued":
        values.update(status="cancelled", message="cancelled before it started")
    advance(conn, job_id, **values)
    return get_job(conn, job_id)


def claim_next(conn: Connection) -> Job | None:
    """The oldest queued background job, marked running (None when there is none, or
    another worker took it first)."""
    query = (
        sa.select(import_jobs.c.id, import_jobs.c.options)
        .where(import_jobs.c.status == "queued")
        .order_by(import_jobs.c.created_at)
    )
    for job_id, options in conn.execute(query).all():
        if not options.get("background"):
            continue
        taken = conn.execute(
            import_jobs.update()
            .where(import_jobs.c.id == job_id, import_jobs.c.status == "queued")
            .values(status="running", updated_at=utc_now())
        )
        if taken.rowcount == 1:
            return get_job(conn, job_id)
    return None
