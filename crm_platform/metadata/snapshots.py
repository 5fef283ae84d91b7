"""The newest metadata snapshot a process has read, so the next read fetches only what moved."""

from __future__ import annotations

import threading

from sqlalchemy import Connection

from .store import Snapshot, read_snapshot


class SnapshotCache:
    """Holds the newest snapshot read; :meth:`read` brings it up to the connection's version.

    Snapshots are immutable and a newer one is built from the older by reading the
    components stored since (DESIGN §2: the version says when anything moved), so a
    change set or a model rebuild reads a few rows, not the whole org. One per org,
    shared by the metadata service and the compiled-model cache.
    """

    def __init__(self) -> None:
        self._latest: Snapshot | None = None
        self._lock = threading.Lock()

    def read(self, conn: Connection) -> Snapshot:
        """The snapshot of the version visible to ``conn``.

        A reader still on an older version (a transaction begun before a change set)
        reads it whole; the cache only ever moves forward.
        """
        snapshot = read_snapshot(conn, since=self._latest)
        with self._lock:
            if self._latest is None or snapshot.version > self._latest.version:
                self._latest = snapshot
        return snapshot
