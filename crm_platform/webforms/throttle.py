"""The per-address rate limit of web forms: a fixed window per form and address, counted
in a platform table by one upsert, so every worker and every server sharing the database
counts the same posts (a counter in a worker's memory would let N workers take N times
the limit).

The count is taken in a transaction of its own before the submission's, so refused and
failed posts count too: a bot that sends invalid data is slowed down as much as one that
sends valid data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from crm_platform.core.types import UTCDateTime

from .tables import web_form_hits

MAX_KEY = 300  # an address is at most 45 characters; a form name 40


@dataclass(frozen=True)
class Verdict:
    """Whether a post may go on, and when the sender may post again if not."""

    allowed: bool
    hits: int
    retry_after: int  # seconds (0 when allowed)


def count_post(
    conn: Connection, form: str, address: str, now: datetime, limit: int, window: timedelta
) -> Verdict:
    """Count one post of ``address`` to ``form`` and say whether it is within the limit:
    at most ``limit`` posts per ``window`` (a window starts with the first post after the
    previous one ended)."""
    key = f"{form}|{address}"[:MAX_KEY]
    expired = web_form_hits.c.window_start <= now - window
    start = sa.literal(now, UTCDateTime())
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
        web_form_hits
    )
    statement = (
        insert.values(key=key, window_start=now, hits=1)
        .on_conflict_do_update(
            index_elements=[web_form_hits.c.key],
            set_={
                "window_start": sa.case((expired, start), else_=web_form_hits.c.window_start),
                "hits": sa.case((expired, 1), else_=web_form_hits.c.hits + 1),
            },
        )
        .returning(web_form_hits.c.hits, web_form_hits.c.window_start)
    )
    hits, started = conn.execute(statement).one()
    if hits <= limit:
        return Verdict(True, hits, 0)
    wait = (started + window - now).total_seconds()
    return Verdict(False, hits, max(1, int(wait) + 1))


MAX_WINDOW = timedelta(days=1)  # the longest window a form may set (its schema's maximum)


def forget_old_posts(conn: Connection, now: datetime) -> int:
    """Drop the rows of windows that ended a while ago (the table stays small)."""
    old = web_form_hits.c.window_start <= now - MAX_WINDOW
    return conn.execute(sa.delete(web_form_hits).where(old)).rowcount or 0
