"""The in-process scheduler of the embedded default (no broker, DESIGN §12).

Runs due now are run right after their transaction commits (the work runner is kicked
from its after-commit queue). Runs planned for later — a scheduled trigger's run, a
retry after backoff, an escalation — and runs whose worker died need something that
wakes up when they fall due: this thread sleeps until the next queued run is due (at
most ``max_wait``, so a run of a dead process is found too) and kicks the runner, which
claims and runs what is due. ``crm serve`` starts one per serving process, after fork;
several serving processes are harmless, as a claim is one conditional UPDATE.

Tests do not start it: they drive ``org.clock`` and call ``org.work.run_pending()``.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from . import outbox

if TYPE_CHECKING:
    from crm_platform.runtime import Org

log = logging.getLogger(__name__)

MAX_WAIT = 30.0  # seconds: how often it looks even when nothing is planned
MIN_WAIT = 0.5  # seconds: a run due now is the runner's already; do not spin on it


class Scheduler:
    """A daemon thread that kicks the org's work runner when queued runs fall due."""

    def __init__(self, org: Org, max_wait: float = MAX_WAIT) -> None:
        self.org = org
        self.max_wait = max_wait
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="crm-scheduler", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look again now (a run was planned that may fall due before the next look)."""
        self._wake.set()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _stopped(self) -> bool:
        return self._stop.is_set() or self.org.work.closing

    def _loop(self) -> None:
        while not self._stopped():
            try:
                self.org.work.kick()
                wait = self._seconds_to_next_run()
            except Exception:  # the database is away: look again later
                log.exception("automation scheduler could not read the outbox")
                wait = self.max_wait
            self._wake.wait(wait)
            self._wake.clear()

    def _seconds_to_next_run(self) -> float:
        with self.org.db.read() as conn:
            next_at = outbox.next_due_at(conn)
        if next_at is None:
            return self.max_wait
        seconds = (next_at - self.org.clock()).total_seconds()
        return min(max(seconds, MIN_WAIT), self.max_wait)
