"""Work that may only run once a write transaction has committed (DESIGN §5, step 11).

Sending the outbox, notifying people or re-indexing in the background must never
happen for data that was rolled back. A write transaction carries an
:class:`AfterCommitQueue`: work added to it runs after the commit, in the order it
was added, and is dropped on rollback. Work added inside a savepoint that is
rolled back is dropped with the savepoint, so a failed operation of a partial
composite batch leaves nothing queued behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, event

log = logging.getLogger(__name__)

AfterCommitWork = Callable[[], None]
_INFO_KEY = "crm_after_commit"


class AfterCommitQueue:
    """The work queued by one write transaction, with a mark per open savepoint."""

    def __init__(self) -> None:
        self._work: list[AfterCommitWork] = []
        self._marks: list[int] = []

    def add(self, work: AfterCommitWork) -> None:
        self._work.append(work)

    def __len__(self) -> int:
        return len(self._work)

    def savepoint(self) -> None:
        self._marks.append(len(self._work))

    def release_savepoint(self) -> None:
        if self._marks:
            self._marks.pop()

    def rollback_savepoint(self) -> None:
        if self._marks:
            del self._work[self._marks.pop() :]

    def run(self) -> None:
        """Run every entry once; one failing entry is logged and does not stop the rest
        (the data is committed: retries belong to the work itself, e.g. the outbox)."""
        work, self._work = self._work, []
        for entry in work:
            try:
                entry()
            except Exception:
                log.exception("after-commit work failed: %r", entry)


def after_commit(conn: Connection, work: AfterCommitWork) -> None:
    """Queue ``work`` to run once the write transaction of ``conn`` commits.

    Raises ``RuntimeError`` outside a write transaction: a read has nothing to commit.
    """
    queue = conn.info.get(_INFO_KEY)
    if queue is None:
        raise RuntimeError("after-commit work needs a write transaction (Database.write)")
    queue.add(work)


def open_queue(conn: Connection) -> AfterCommitQueue:
    """Attach a fresh queue to a connection that starts a write transaction."""
    queue = AfterCommitQueue()
    conn.info[_INFO_KEY] = queue
    return queue


def close_queue(conn: Connection) -> None:
    """Detach the queue: ``conn.info`` belongs to the DBAPI connection and outlives us."""
    conn.info.pop(_INFO_KEY, None)


def track_savepoints(engine: Engine) -> None:
    """Keep each queue's marks in step with the connection's savepoints."""

    def _queue(conn: Connection) -> AfterCommitQueue | None:
        if conn.invalidated:  # interrupted mid-statement (Ctrl-C): it all rolls back
            return None
        return conn.info.get(_INFO_KEY)

    @event.listens_for(engine, "savepoint")
    def _on_savepoint(conn: Connection, _name: Any) -> None:
        if (queue := _queue(conn)) is not None:
            queue.savepoint()

    @event.listens_for(engine, "release_savepoint")
    def _on_release(conn: Connection, _name: Any, _xid: Any) -> None:
        if (queue := _queue(conn)) is not None:
            queue.release_savepoint()

    @event.listens_for(engine, "rollback_savepoint")
    def _on_rollback(conn: Connection, _name: Any, _xid: Any) -> None:
        if (queue := _queue(conn)) is not None:
            queue.rollback_savepoint()
