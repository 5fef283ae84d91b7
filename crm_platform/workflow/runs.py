"""What an admin sees of the outbox: runs listed by status, one run, a retry.

The API (``/api/v1/automation/runs``) and the CLI (``crm automation runs``) both
read through here. ``late`` is listed like a status (``?status=failed,late``) though
it is a mark on a run of any status: a run that started long after it was due.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection

from crm_platform.core import ValidationFailed

from . import outbox
from .outbox import Run

LATE = "late"
STATUS_WORDS = (*outbox.STATUSES, LATE)
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class RunQuery:
    """Which runs to list: statuses (any of), late ones only, a source or record, a page."""

    statuses: tuple[str, ...] = ()
    late: bool | None = None
    source: str | None = None
    record_id: str | None = None
    limit: int = DEFAULT_LIMIT
    before: str | None = None

    @classmethod
    def parse(
        cls,
        words: Iterable[str],
        *,
        limit: int = DEFAULT_LIMIT,
        source: str | None = None,
        record_id: str | None = None,
        before: str | None = None,
    ) -> RunQuery:
        """From status words (``failed``, ``late``...; comma-separated ones split); a 400
        naming ``status`` or ``limit`` when one is not known."""
        wanted = [w.strip() for word in words for w in word.split(",") if w.strip()]
        unknown = [w for w in wanted if w not in STATUS_WORDS]
        if unknown:
            raise ValidationFailed(
                {"status": f"unknown status '{unknown[0]}': one of {', '.join(STATUS_WORDS)}"}
            )
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationFailed({"limit": f"must be between 1 and {MAX_LIMIT}"})
        statuses = tuple(dict.fromkeys(w for w in wanted if w != LATE))
        return cls(
            statuses=statuses,
            late=True if LATE in wanted else None,
            source=source,
            record_id=record_id,
            limit=limit,
            before=before,
        )

    def run(self, conn: Connection) -> list[Run]:
        return outbox.list_runs(
            conn,
            statuses=self.statuses,
            late=self.late,
            source=self.source,
            record_id=self.record_id,
            limit=self.limit,
            before=self.before,
        )
