"""The org's in-process work runner: background work that needs no broker (DESIGN §12).

Today it runs search backfills (:mod:`crm_platform.runtime.records.backfill`). Work
is recorded in platform tables in the transaction that asks for it, and the runner
is kicked from that transaction's after-commit queue; it works in a daemon thread,
one short transaction per batch, so a request never waits for it. Whatever a
stopped process left unfinished is resumed by the next runner that is kicked (the
app kicks its runner at its first request). Tests and the CLI call
:meth:`WorkRunner.run_pending` to do all pending work in the calling thread.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from .records import backfill

if TYPE_CHECKING:
    from .org import Org

log = logging.getLogger(__name__)


class WorkRunner:
    """Runs an org's pending background work, one batch per transaction."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self._lock = threading.Lock()  # one runner at a time in this process
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def kick(self) -> None:
        """Start working in the background, unless a worker thread already is."""
        if self._stopping.is_set():
            return
        thread = self._thread
        if thread is not None and thread.is_alive():
            return
        thread = threading.Thread(target=self._work, name="crm-work-runner", daemon=True)
        self._thread = thread
        thread.start()

    def _work(self) -> None:
        try:
            self.run_pending()
        except Exception:  # logged, and resumed at the next kick: the progress is stored
            log.exception("background work failed")

    def run_pending(self, *, max_batches: int | None = None) -> int:
        """Do the pending work now, in this thread (after any running batch); returns the
        number of batches run. ``max_batches`` stops early (as a crash would)."""
        batches = 0
        with self._lock:
            while not self._stopping.is_set():
                with self.org.db.read() as conn:
                    names = backfill.pending(conn)
                if not names:
                    return batches
                for name in names:
                    with self.org.db.write() as conn:
                        if not backfill.claim(conn, name):
                            continue
                    more = True
                    while more:
                        if self._stopping.is_set() or batches == max_batches:
                            with self.org.db.write() as conn:
                                backfill.release(conn, name)
                            return batches
                        with self.org.db.write() as conn:
                            model = self.org.models.model_for(conn, for_write=True)
                            more = backfill.run_batch(conn, model, name)
                        batches += 1
        return batches

    def close(self, timeout: float = 10) -> None:
        """Stop after the running batch (an unfinished backfill resumes next time)."""
        self._stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
