"""A clock tests move by hand: set as an org's ``clock``, it makes time-dependent
behaviour (retries, throttles, escalations) testable without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


class Clock:
    """The org's time, moved by the test: ``advance(5)`` is five seconds,
    ``advance(hours=2)`` takes ``timedelta``'s keywords."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0, **delta: float) -> None:
        self.now += timedelta(seconds=seconds, **delta)
