"""Running an import: the file streamed in batches through the :class:`BatchWriter`.

Partial imports (the default) commit each batch together with the job's progress in
one transaction, so a process killed at any moment leaves the job pointing just after
the last batch that landed and ``resume`` creates no row twice. ``all_or_none`` runs
the whole file in one transaction and rolls it back when any row fails; a dry run does
the same and always rolls back. Memory holds one batch, whatever the file's size.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from crm_platform.core import CrmError, ValidationFailed
from crm_platform.runtime.records import analyze_object, bulk_load, notices

from . import jobs
from .converting import ConvertedRow, RowConverter
from .feed import converted_batches
from .inference import SAMPLE_ROWS, Inferred, infer_mapping
from .jobs import ImportOptions, Job
from .mapping import RECORD_ID, ImportMapping, plan_columns, with_record_ids
from .reader import Source, count_rows, sheet_row
from .rejects import RejectFile
from .writer import BatchOutcome, BatchWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportState:
    """Where an import stands (given to the progress callback after every batch)."""

    job_id: str | None
    status: str
    rows_read: int
    total: int | None
    created: int
    updated: int
    rejected: int
    error_file: Path | None
    message: str | None = None
    object: str = ""
    warned: int = 0  # rows written with a notice (a duplicate rule that warns let them in)
    unchanged: int = 0  # rows whose record held their values already

    def with_rejected(self, before: int) -> ImportState:
        """The state counting also the rows a resumed job rejected before it stopped."""
        if not before:
            return self
        return dataclasses.replace(self, rejected=self.rejected + before)


Progress = Callable[[ImportState], None]


class _RollBack(Exception):
    """Ends a dry run's or a failed all-or-none import's transaction."""


def error_file_for(source: Path) -> Path:
    """Where the rejected rows of ``source`` go: beside it, ``<name>.errors.csv``."""
    return source.with_name(f"{source.stem}.errors.csv")


def infer(org: Any, source: Source, object_name: str) -> Inferred:
    """The mapping the file's headers and first rows suggest for the object."""
    with org.reading() as (_conn, model):
        obj = model.object(object_name)
        if obj is None:
            raise ValidationFailed({"object": f"no object {object_name!r}"})
        samples = [row.values for row in islice(source.rows(), SAMPLE_ROWS)]
        return infer_mapping(obj, source.headers, samples)


class Importer:
    """One import of one file into one object, as one user."""

    def __init__(
        self,
        org: Any,
        user: Any,
        source: Source,
        mapping: ImportMapping,
        options: ImportOptions,
        *,
        error_file: Path | None = None,
        progress: Progress | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.org, self.user, self.source = org, user, source
        self.should_stop = should_stop
        self.mapping, self.options = mapping, options
        self.error_file = error_file or error_file_for(source.path)
        self.progress = progress or (lambda state: None)
        self.writer = self._writer()
        self.converter = RowConverter(self.source.headers, self.writer.plans)

    def _writer(self) -> BatchWriter:
        with self.org.records.session(self.user, write=False) as session:
            obj = session.object(self.mapping.object)
            session.require(obj, "create")  # refused at once, not once per row
            upsert_on = self.options.upsert_on
            mapping = self.mapping
            if upsert_on == RECORD_ID:
                mapping = with_record_ids(mapping, self.source.headers)
            plans = plan_columns(mapping, obj, self.source.headers, session.model)
            if upsert_on is not None:
                _check_upsert_key(obj, plans, upsert_on)
            writer = BatchWriter(obj.api_name, plans, upsert_on)
            writer.resolver.check(session)
            self._access = session.access
        return writer

    def _batches(
        self, start: int = 0, total: int | None = None
    ) -> AbstractContextManager[Iterator[list[ConvertedRow]]]:
        """The file's converted batches after row ``start`` (``total``: its rows, when
        counted), read and converted in a second process for a large or XLSX file."""
        rows_left = None if total is None else total - start
        return converted_batches(
            self.source,
            self.converter,
            size=self.options.batch_size,
            start=start,
            rows_left=rows_left,
        )

    # --- a dry run ----------------------------------------------------------------------
    def dry_run(self) -> ImportState:
        """Everything an import does, rolled back: how many rows would be created,
        updated and rejected (the rejected ones go to the error file)."""
        total = BatchOutcome()
        rejects = RejectFile(self.error_file, self.source.headers, committed=None)
        read, rows = 0, count_rows(self.source)
        try:
            with self.org.records.session(self.user) as session, self._batches(0, rows) as feed:
                for batch in feed:
                    outcome = self.writer.write(session, batch)
                    _add(total, outcome, rejects)
                    read = batch[-1].row.number
                    self.progress(self._state(None, "dry run", read, rows, total, rejects))
                read = max(read, rows or 0)  # trailing blank rows were read too
                raise _RollBack
        except _RollBack:
            pass
        finally:
            rejects.close()
        return self._state(None, "dry run", read, rows, total, rejects)

    # --- a job ----------------------------------------------------------------------------
    def start(self, job_id: str | None = None) -> Job:
        """A queued job for this import (its progress and resumption live there)."""
        with self.org.db.write() as conn:
            return jobs.create_job(
                conn,
                job_id=job_id,
                object_name=self.mapping.object,
                source=self.source.path,
                mapping=self.mapping.as_json(),
                options=self.options,
                user_id=self.user.id,
                total=count_rows(self.source),
                error_file=self.error_file,
            )

    def run(self, job: Job) -> ImportState:
        """Import the file from where the job stands; returns how it ended. This process
        becomes the job's runner: one that ran it before (a second ``--resume``) stops at
        its next batch with :class:`~.jobs.JobTakenOver`, and this one goes on from the
        last batch committed, so no row is imported twice."""
        with self.org.db.write() as conn:
            runner, job = jobs.claim(conn, job.id)
        if self.options.all_or_none:
            return self._run_at_once(job, runner)
        return self._run_in_batches(job, runner)

    def _committed_errors(self, job: Job) -> int | None:
        """The size of the error file's committed rows, for a resumed job (None: a job
        starting from its first row writes a new file)."""
        if job.position == 0:
            return None
        if job.error_bytes is None:  # a job of a version before 0023: the file as it is
            return self.error_file.stat().st_size if self.error_file.exists() else None
        return job.error_bytes

    def _run_in_batches(self, job: Job, runner: str) -> ImportState:
        total = BatchOutcome(created=job.created, updated=job.updated, unchanged=job.unchanged)
        committed = self._committed_errors(job)
        rejects = RejectFile(self.error_file, self.source.headers, committed=committed)
        warned = WarnedRows(job.warned)
        try:
            with (
                warned.collecting(),
                self.org.db.maintained_beside(),
                self._batches(job.position, job.total) as feed,
            ):
                status, read = self._commit_each(job, runner, feed, total, rejects, warned)
        except jobs.JobTakenOver:
            raise  # the job is the other process's now: nothing of it to mark
        except Exception as exc:
            self._finish(job.id, runner, "failed", _message(exc), warned=warned.count)
            raise
        finally:
            rejects.close()
        message = "cancelled: resume it to go on" if status == "cancelled" else None
        self._finish(job.id, runner, status, message, position=read, warned=warned.count)
        state = self._state(job.id, status, read, job.total, total, rejects, message, warned)
        return state.with_rejected(job.rejected)

    def _commit_each(
        self,
        job: Job,
        runner: str,
        feed: Iterator[Any],
        total: BatchOutcome,
        rejects: RejectFile,
        warned: WarnedRows,
    ) -> tuple[str, int]:
        """Write and commit each batch with the job's new position; how the run ended
        (done, cancelled, or queued: the process is stopping) and the rows it read.

        A batch's rejected rows are written to the error file before it commits, and the
        file's new size commits with the batch: a process killed in between leaves rows
        the job does not count, which a resume cuts off before reading the batch again.
        The rows a batch warned of are known once it commits: the next batch's
        transaction (or the job's end) stores them."""
        read = job.position
        statistics = PlannerStatistics(self.org, self.mapping.object)
        for batch in feed:
            if self.should_stop():  # the process is stopping: the next one resumes it
                return "queued", read
            session_ = self.org.records.session(self.user, access=self._access)
            with session_ as session, bulk_load(session.conn):
                self.org.db.defer_checkpoints(session.conn)
                if jobs.cancel_requested(session.conn, job.id):
                    return "cancelled", read
                outcome = self.writer.write(session, batch)
                read = batch[-1].row.number
                before = rejects.size()
                _reject(outcome, rejects)
                end = rejects.size()
                try:
                    jobs.advance(
                        session.conn,
                        job.id,
                        as_runner=runner,
                        position=read,
                        created=total.created + outcome.created,
                        updated=total.updated + outcome.updated,
                        unchanged=total.unchanged + outcome.unchanged,
                        rejected=job.rejected + rejects.count,
                        error_bytes=end,
                        warned=warned.count,
                    )
                except jobs.JobTakenOver:
                    rejects.cut_back(before, end, len(outcome.rejected))
                    raise
            # committed: its notices arrive
            warned.take()
            total.created += outcome.created
            total.updated += outcome.updated
            total.unchanged += outcome.unchanged
            statistics.changed(outcome.created + outcome.updated)
            state = self._state(job.id, "running", read, job.total, total, rejects, None, warned)
            self.progress(state.with_rejected(job.rejected))
        # blank rows after the last batch were read too: the job reads the whole file
        return "done", max(read, job.total or 0)

    def _run_at_once(self, job: Job, runner: str) -> ImportState:
        total = BatchOutcome()
        rejects = RejectFile(self.error_file, self.source.headers, committed=None)
        warned = WarnedRows()
        read = 0
        try:
            session_ = self.org.records.session(self.user, access=self._access)
            with (
                warned.collecting(),
                self.org.db.maintained_beside(),
                session_ as session,
                bulk_load(session.conn),
                self._batches(0, job.total) as feed,
            ):
                self.org.db.defer_checkpoints(session.conn)
                for batch in feed:
                    outcome = self.writer.write(session, batch)
                    _add(total, outcome, rejects)
                    read = batch[-1].row.number
                    self.progress(self._state(job.id, "running", read, job.total, total, rejects))
                read = max(read, job.total or 0)  # trailing blank rows were read too
                if rejects.count:
                    raise _RollBack
                jobs.advance(  # only while still the runner, or nothing of it commits
                    session.conn,
                    job.id,
                    as_runner=runner,
                    status="done",
                    position=read,
                    created=total.created,
                    updated=total.updated,
                    unchanged=total.unchanged,
                    rejected=0,
                )
        except _RollBack:
            message = f"{rejects.count} row(s) rejected: nothing was written (all or none)"
            # every row was read (an all-or-none job always runs again from its first row)
            self._finish(job.id, runner, "failed", message, position=read, rejected=rejects.count)
            state = self._state(job.id, "failed", read, job.total, BatchOutcome(), rejects)
            return dataclasses.replace(state, message=message)
        except jobs.JobTakenOver:
            raise
        except Exception as exc:
            self._finish(job.id, runner, "failed", _message(exc))
            raise
        finally:
            rejects.close()
        if warned.count:  # known once the transaction committed
            self._finish(job.id, runner, "done", None, warned=warned.count)
        return self._state(job.id, "done", read, job.total, total, rejects, None, warned)

    def _finish(
        self, job_id: str, runner: str, status: str, message: str | None, **values: Any
    ) -> None:
        """Mark how the job ended, while this process is still its runner."""
        try:
            with self.org.db.write() as conn:
                jobs.advance(
                    conn, job_id, as_runner=runner, status=status, message=message, **values
                )
        except Exception:
            if status != "failed":
                raise
            # the database is gone (a lost connection): the job stays as its last batch
            # left it, and --resume goes on from there; the first error is the one to show
            log.warning("could not mark import job %s failed", job_id, exc_info=True)

    def _state(self, job_id, status, read, total_rows, total, rejects, message=None, warned=None):
        return ImportState(
            job_id,
            status,
            read,
            total_rows,
            total.created,
            total.updated,
            rejects.count,
            self.error_file if rejects.count else None,
            message,
            self.mapping.object,
            warned.count if warned is not None else 0,
            total.unchanged,
        )


class WarnedRows:
    """The rows written with a notice (``runtime.records.notices``: a duplicate rule that
    warns), counted batch by batch: notices arrive after each commit, and the collector
    is emptied each time, so memory stays flat however many rows warn."""

    def __init__(self, before: int = 0) -> None:
        self.count = before
        self._found: list[Any] = []

    @contextmanager
    def collecting(self) -> Iterator[WarnedRows]:
        with notices.collecting() as found:
            self._found = found
            yield self
        self.take()

    def take(self) -> int:
        """Count the rows of the notices arrived since the last call; the count so far."""
        self.count += len({notice.record_id for notice in self._found})
        self._found.clear()
        return self.count


def _add(total: BatchOutcome, outcome: BatchOutcome, rejects: RejectFile) -> None:
    total.created += outcome.created
    total.updated += outcome.updated
    total.unchanged += outcome.unchanged
    _reject(outcome, rejects)


def _reject(outcome: BatchOutcome, rejects: RejectFile) -> None:
    """The batch's rejected rows into the error file, in the file's order, flushed."""
    for row, reason in sorted(outcome.rejected, key=lambda r: r[0].number):
        rejects.write(row.values, f"row {sheet_row(row.number)}: {reason}")
    rejects.flush()


def _message(exc: Exception) -> str:
    return exc.detail if isinstance(exc, CrmError) else f"{type(exc).__name__}: {exc}"


def _check_upsert_key(obj: Any, plans: Sequence[Any], upsert_on: str) -> None:
    from crm_platform.fieldtypes import field_type

    if upsert_on == RECORD_ID:
        if not any(p.field == RECORD_ID for p in plans):
            problem = "no column holds the records' ids (an `id` column, or one mapped to id)"
            raise ValidationFailed({"upsert_on": problem})
        return
    fld = obj.fields.get(upsert_on)
    ftype = field_type(fld.type) if fld is not None else None
    if ftype is None or not (ftype.always_unique or fld.definition.get("unique")):
        problem = "upserts need id, an external_id or a unique field"
        raise ValidationFailed({"upsert_on": problem})
    if not any(p.field == upsert_on and p.part is None for p in plans):
        raise ValidationFailed({"upsert_on": f"no column is mapped to {upsert_on}"})


class PlannerStatistics:
    """Keeps PostgreSQL's statistics of the object's table and of the search entries
    current while an import changes them. Autovacuum refreshes them a minute or more after
    a table changed: until then a table that grew from nothing to 30,000 rows is planned
    as if it were empty, and each batch's duplicate-rule and unique checks read it whole
    instead of probing their indexes (an import of 100,000 rows spent 4 of its 5 minutes
    so); a re-import right after a large import deleted each batch's old search entries
    by scanning every entry of the object (0.4–9 s per 500 records). ANALYZE (a sample of
    30,000 rows: tens to hundreds of milliseconds) runs once 2,000 rows were created or
    updated and again each time that count quadrupled (statistics a quarter of the
    table's size still plan index probes; doubling analysed a 100,000-row import six
    times, a twentieth of its time on PostgreSQL). SQLite's planner needs no statistics
    for these probes."""

    FIRST = 2000

    def __init__(self, org: Any, object_name: str) -> None:
        self.org = org
        self.object_name = object_name
        self.added = 0
        self.due = self.FIRST

    def changed(self, count: int) -> None:
        """Count rows just committed (created or updated); ANALYZE when it is due."""
        self.added += count
        if self.added < self.due or self.org.db.is_sqlite:
            return
        self.due = self.added * 4
        with self.org.db.write() as conn:
            analyze_object(conn, self.org.models.model_for(conn).objects[self.object_name])
