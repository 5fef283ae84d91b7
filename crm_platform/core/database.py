"""The database handle of an org and its one transaction helper (DESIGN §0).

On SQLite, pysqlite's own transaction handling is switched off and every
transaction is opened explicitly: ``BEGIN IMMEDIATE`` for writes, so DDL is
transactional and concurrent writers wait (busy timeout) instead of failing
with "database is locked"; plain ``BEGIN`` for reads, so a read sees one
snapshot. On PostgreSQL, DDL transactions set ``lock_timeout`` so an ALTER never
queues behind a long report while blocking every later query.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import simplejson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite

from .aftercommit import close_queue, open_queue, track_savepoints
from .errors import CrmError
from .maintenance import defer_checkpoints, maintenance_beside, restore_checkpoints

SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_DDL_LOCK_TIMEOUT = "5s"


@dataclass(frozen=True)
class SqliteFunction:
    """A Python function registered on every SQLite connection (for Unicode-aware text etc.)."""

    name: str
    arity: int
    func: Callable[..., Any]
    deterministic: bool = True


# sqlite3 reports any exception of a registered function as "user-defined function raised
# exception" and drops it; the function's CrmError is kept here (per thread, as a query
# runs on the thread that executes it) and raised instead by the engine's error hook.
_FUNCTION_FAILURE = threading.local()
SQLITE_FUNCTION_FAILED = "user-defined function raised exception"


def _guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` as SQLite calls it: a CrmError it raises is kept for the error hook."""

    def call(*args: Any) -> Any:
        try:
            return func(*args)
        except CrmError as error:
            _FUNCTION_FAILURE.error = error
            raise
        except Exception:
            _FUNCTION_FAILURE.error = None  # a bug stays a 500, never an earlier 400
            raise

    return call


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs that name no driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _json_dumps(value: Any) -> str:
    return simplejson.dumps(value, use_decimal=True, ensure_ascii=False)


def _json_loads(text: str) -> Any:
    return simplejson.loads(text, use_decimal=True)


class Database:
    """An org's engine plus the transaction helper every read and write uses."""

    def __init__(self, url: str, sqlite_functions: Sequence[SqliteFunction] = ()) -> None:
        self.url = normalise_url(url)
        self._sqlite_functions = tuple(sqlite_functions)
        self.engine = self._create_engine()
        # Engines must not be shared across fork (gunicorn, Celery prefork).
        os.register_at_fork(after_in_child=lambda: self.engine.dispose(close=False))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def _create_engine(self) -> Engine:
        kwargs: dict[str, Any] = {
            "json_serializer": _json_dumps,
            "json_deserializer": _json_loads,
            "query_cache_size": 2000,
        }
        if self.url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            engine = create_engine(self.url, **kwargs)
            self._install_sqlite_hooks(engine)
        else:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
            engine = create_engine(self.url, **kwargs)
        track_savepoints(engine)
        return engine

    def _install_sqlite_hooks(self, engine: Engine) -> None:
        functions = self._sqlite_functions
        in_memory = ":memory:" in self.url or self.url.rstrip("/") == "sqlite:"

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            for fn in functions:
                dbapi_connection.create_function(
                    fn.name, fn.arity, _guarded(fn.func), deterministic=fn.deterministic
                )

        event.listen(engine, "checkin", restore_checkpoints)

        @event.listens_for(engine, "handle_error")
        def _on_error(context: Any) -> None:
            # A query failed because a registered function refused a value (a number out
            # of range): the caller gets that 400, not an OperationalError and a 500.
            error = getattr(_FUNCTION_FAILURE, "error", None)
            _FUNCTION_FAILURE.error = None
            if error is not None and SQLITE_FUNCTION_FAILED in str(context.original_exception):
                raise error

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            mode = conn.get_execution_options().get("crm_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

    @contextmanager
    def write(self, *, ddl: bool = False) -> Iterator[Connection]:
        """One write transaction: commits when the block ends, rolls back on any error.

        Work queued with :func:`~crm_platform.core.aftercommit.after_commit` runs once
        the commit is done, after the connection went back to the pool; a rollback
        drops it.
        """
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn = conn.execution_options(crm_begin="IMMEDIATE")
            queue = open_queue(conn)
            try:
                with conn.begin():
                    if ddl and not self.is_sqlite:
                        conn.exec_driver_sql(
                            f"SET LOCAL lock_timeout = '{POSTGRES_DDL_LOCK_TIMEOUT}'"
                        )
                    yield conn
            finally:
                close_queue(conn)
        queue.run()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read-only transaction: a single consistent snapshot, always rolled back."""
        with self.engine.connect() as conn:
            trans = conn.begin()
            try:
                if not self.is_sqlite:
                    # One snapshot for the whole read, as SQLite's WAL read gives.
                    conn.exec_driver_sql(
                        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"
                    )
                yield conn
            finally:
                trans.rollback()

    def maintained_beside(self) -> AbstractContextManager[None]:
        """A bulk load's block: the maintenance its writes defer is done beside it, on a
        second connection (:mod:`.maintenance`)."""
        return maintenance_beside(self.engine)

    def defer_checkpoints(self, conn: Connection) -> None:
        """A bulk load's transaction on ``conn``: its commit leaves the log to grow
        further before copying it (:mod:`.maintenance`; SQLite only)."""
        defer_checkpoints(conn)

    def dispose(self) -> None:
        self.engine.dispose()


def dialect_insert(conn: Connection, table: Any) -> Any:
    """An INSERT into ``table`` in the connection's dialect: both engines know ``ON
    CONFLICT`` (``.on_conflict_do_nothing()``, ``.on_conflict_do_update()``), which
    SQLAlchemy spells per dialect."""
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)
