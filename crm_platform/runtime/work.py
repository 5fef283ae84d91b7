"""The org's in-process work runner: background work that needs no broker (DESIGN §12).

It runs search backfills (:mod:`crm_platform.runtime.records.backfill`) and the
:class:`BackgroundWork` that extensions add (automation's outbox with no broker). Work
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
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from .records import backfill

if TYPE_CHECKING:
    from .org import Org

log = logging.getLogger(__name__)


class BackgroundWork(Protocol):
    """Work an extension lets the runner do: ``run_pending`` does what is due now, in
    short transactions of its own, checks ``should_stop`` between them, and returns how
    many units it did."""

    name: str

    def run_pending(self, org: Org, should_stop: Callable[[], bool]) -> int: ...


class WorkRunner:
    """Runs an org's pending background work, one batch per transaction."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self._lock = threading.Lock()  # one runner at a time in this process
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._again = threading.Event()  # kicked while working: look for work once more
        self._thread_lock = threading.Lock()
        self._sources: list[BackgroundWork] = []

    def add(self, work: BackgroundWork) -> None:
        """Run ``work`` too whenever the runner runs (after the search backfills)."""
        self._sources.append(work)

    @property
    def closing(self) -> bool:
        """Whether :meth:`close` was called (helpers that kick the runner stop too)."""
        return self._stopping.is_set()

    def kick(self) -> None:
        """Start working in the background, unless a worker thread already is."""
        if self._stopping.is_set():
            return
        with self._thread_lock:
            self._again.set()
            thread = self._thread
            if thread is not None and thread.is_alive():
                return
            thread = threading.Thread(target=self._work, name="crm-work-runner", daemon=True)
            self._thread = thread
            thread.start()

    def _work(self) -> None:
        while True:
            with self._thread_lock:  # a kick after this check starts a new thread
                if not self._again.is_set() or self._stopping.is_set():
                    self._thread = None
                    return
                self._again.clear()
            try:
                self.run_pending()
            except Exception:  # logged, and resumed at the next kick: the progress is stored
                log.exception("background work failed")

    def run_pending(self, *, max_batches: int | None = None) -> int:
        """Do the pending work now, in this thread (after any running batch); returns the
        number of batches run. ``max_batches`` stops early (as a crash would)."""
        with self._lock:
            batches = self._run_backfills(max_batches)
            if max_batches is not None and batches >= max_batches:
                return batches
            for source in self._sources:
                if self._stopping.is_set():
                    break
                batches += source.run_pending(self.org, self._stopping.is_set)
        return batches

    def run_search_backfills(self) -> int:
        """Do the pending search backfills now, in this thread, and nothing else (what
        ``crm upgrade`` does after a migration asked for them); returns the batches run."""
        with self._lock:
            return self._run_backfills(None)

    def _run_backfills(self, max_batches: int | None) -> int:
        batches = 0
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
