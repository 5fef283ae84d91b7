"""The maintenance a bulk load's writes leave to the database, kept off the load's path.

Both engines defer part of the cost of a write and make a later writer pay it:

- SQLite copies its write-ahead log into the database file (a checkpoint, with an
  fsync) when a commit leaves the log past 1,000 pages. A batch of an import writes
  more than that, so every commit checkpointed — copying again the index pages the next
  batch changes again. :func:`defer_checkpoints` lets the log of a load's transactions
  grow to :data:`LOAD_CHECKPOINT_PAGES` first (40 MB with 4 kB pages: a bound, not a
  file that grows with the import); each page is then copied once per many batches.
- PostgreSQL moves a GIN index's pending list into the index proper when an insert
  leaves the list past ``gin_pending_list_limit``: in an import, a third of the search
  index's cost. :func:`maintenance_beside` gives that work to a thread with a connection
  of its own while the load runs — on a machine with two cores, the other one. An
  insert that finds another backend cleaning the list leaves it to it, and inserts go
  on while it is cleaned.

Nothing a reader sees changes: the log and the pending list are read with the file and
the index.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

CHECKPOINT_PAGES = 1000  # SQLite's default
LOAD_CHECKPOINT_PAGES = 10_000
DEFERRED = "crm_deferred_checkpoints"  # a connection's mark: its default to put back
INTERVAL = 0.05  # seconds between two cleanings: a batch of 1,000 rows takes 0.1 s or more


def defer_checkpoints(conn: Connection) -> None:
    """On SQLite, this connection's commits checkpoint the log only past
    :data:`LOAD_CHECKPOINT_PAGES` until it goes back to the pool (after its commit:
    :func:`restore_checkpoints`). Nothing on PostgreSQL."""
    if conn.dialect.name == "sqlite" and not conn.info.get(DEFERRED):
        conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={LOAD_CHECKPOINT_PAGES}")
        conn.info[DEFERRED] = True


def restore_checkpoints(dbapi_connection: Any, record: Any) -> None:
    """The pool's check-in hook on SQLite: a connection a load deferred checkpoints on
    checkpoints as usual again."""
    if record.info.pop(DEFERRED, False) and dbapi_connection is not None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")


@contextmanager
def maintenance_beside(engine: Engine) -> Iterator[None]:
    """While the block runs, a second connection cleans the pending lists of the GIN
    indexes of the org's schema on PostgreSQL (the search index's; one whose list is
    empty costs a lookup). A failure of the cleaning (an index this user does not own,
    say) stops it, never the load: the load's inserts then clean the lists, as they
    would without it. Nothing on SQLite (:func:`defer_checkpoints` is its part)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    stop = threading.Event()
    worker = threading.Thread(
        target=_clean_pending_lists, args=(engine, stop), name="gin-cleaner", daemon=True
    )
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join()


def _clean_pending_lists(engine: Engine, stop: threading.Event) -> None:
    try:
        raw = engine.raw_connection()
    except Exception:  # the pool is exhausted or the database gone: the load will say
        log.debug("GIN cleaning: no connection", exc_info=True)
        return
    driver: Any = raw.driver_connection
    raw.detach()  # in autocommit from here: closed at the end, never back in the pool
    try:
        driver.autocommit = True
        found = driver.execute(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_am a ON a.oid = c.relam"
            " WHERE a.amname = 'gin' AND c.relnamespace = current_schema()::regnamespace"
        ).fetchall()
        indexes = [row[0] for row in found]
        while indexes and not stop.wait(INTERVAL):
            for index in indexes:
                driver.execute("SELECT gin_clean_pending_list(%s::regclass)", (index,))
    except Exception:
        log.debug("GIN cleaning stopped", exc_info=True)
    finally:
        raw.close()
