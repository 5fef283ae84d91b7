"""Imports started through the API run in the org's work runner (DESIGN §12's embedded
default): queued jobs are claimed one at a time and run batch by batch; a stopping
process leaves its job queued at the last committed batch, and the next runner resumes
it there."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm_platform.core import CrmError, ValidationFailed
from crm_platform.runtime import get_user

from . import jobs
from .mapping import ImportMapping
from .reader import Source
from .runner import Importer

log = logging.getLogger(__name__)


def importer_for(org: Any, job: jobs.Job, **kwargs: Any) -> Importer:
    """The importer that runs (or resumes) a stored job as the user who started it."""
    with org.db.read() as conn:
        user = get_user(conn, job.started_by)
    if user is None or not user.active:
        raise CrmError("the user who started the import is no longer active")
    path = Path(job.source)
    if path.is_file() and path.stat().st_size != job.source_size:
        # positions count rows of the file as it was: another file would skip other rows
        raise ValidationFailed({"file": f"{path} changed since the import started"})
    source = Source(path, encoding=job.options.encoding)
    return Importer(
        org,
        user,
        source,
        ImportMapping.from_json(job.mapping),
        job.options,
        error_file=Path(job.error_file) if job.error_file else None,
        **kwargs,
    )


@dataclass
class ImportWork:
    """The work runner's share of imports: the queued background jobs."""

    name: str = "imports"

    def run_pending(self, org: Any, should_stop: Callable[[], bool]) -> int:
        done = 0
        while not should_stop():
            with org.db.write() as conn:
                job = jobs.claim_next(conn)
            if job is None:
                return done
            try:
                importer = importer_for(org, job, should_stop=should_stop)
            except CrmError as error:  # the file or the mapping no longer fits
                with org.db.write() as conn:
                    jobs.advance(conn, job.id, status="failed", message=error.detail)
                done += 1
                continue
            try:  # a failure is marked by the importer, while it is still the job's runner
                importer.run(job)
            except jobs.JobTakenOver:  # a `crm import --resume` runs it now
                log.info("import job %s was taken over by another process", job.id)
            except Exception:
                log.exception("import job %s failed", job.id)
            done += 1
        return done


@dataclass(frozen=True)
class ImportsExtension:
    """Attaches the imports' background work to every opened org."""

    name: str = "imports"

    def register(self, registry: Any, compiler: Any) -> None:
        """Imports add no metadata kind."""

    def attach(self, org: Any) -> None:
        org.work.add(ImportWork())
