"""Business hours: a week of opening windows and a list of holidays in a time zone, and
the arithmetic a service-level target needs — adding working minutes to an instant and
counting the working minutes between two instants.

Arithmetic runs on UTC instants: each day's windows are placed in the calendar's zone
and converted, so a daylight-saving change shortens or lengthens that day's windows as
the clock on the wall says, never the target.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3700  # ten years of looking for open hours, then give up (a calendar with none)


def parse_window(text: str) -> tuple[time, time | None]:
    """``"09:00-17:30"`` → (09:00, 17:30); an end of ``24:00`` is the next midnight (None).
    ValueError when it is not a window or it ends before it starts."""
    start_text, _, end_text = text.partition("-")
    start = time.fromisoformat(start_text.strip())
    end_text = end_text.strip()
    end = None if end_text == "24:00" else time.fromisoformat(end_text)
    if end is not None and end <= start:
        raise ValueError(f"'{text}' ends before it starts")
    return start, end


@dataclass(frozen=True)
class BusinessHours:
    """One calendar: per weekday (0 = Monday) its windows; holidays closed all day."""

    name: str
    time_zone: str
    week: Mapping[int, tuple[tuple[time, time | None], ...]]
    holidays: frozenset[date]

    @classmethod
    def from_definition(cls, definition: Mapping[str, Any], default_zone: str) -> BusinessHours:
        """The calendar a (checked) ``business_hours`` definition describes."""
        week = {
            DAYS.index(day): tuple(sorted(parse_window(w) for w in windows))
            for day, windows in (definition.get("week") or {}).items()
        }
        holidays = frozenset(date.fromisoformat(str(d)) for d in definition.get("holidays", ()))
        zone = definition.get("time_zone") or default_zone
        return cls(definition["api_name"], zone, week, holidays)

    def windows(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The day's open windows as UTC instants (none on a holiday)."""
        if day in self.holidays:
            return
        zone = ZoneInfo(self.time_zone)
        for start, end in self.week.get(day.weekday(), ()):
            begin = datetime.combine(day, start, zone)
            close = (
                datetime.combine(day + timedelta(days=1), time(0), zone)
                if end is None
                else datetime.combine(day, end, zone)
            )
            yield begin.astimezone(UTC), close.astimezone(UTC)

    def _local_day(self, instant: datetime) -> date:
        return instant.astimezone(ZoneInfo(self.time_zone)).date()

    def add(self, start: datetime, minutes: float) -> datetime:
        """The instant ``minutes`` working minutes after ``start``; ValueError when the
        calendar has no open hours within ten years."""
        remaining = timedelta(minutes=minutes)
        current = start.astimezone(UTC)
        day = self._local_day(current)
        for _ in range(MAX_DAYS):
            for begin, close in self.windows(day):
                begin = max(begin, current)
                if begin >= close:
                    continue
                if remaining <= close - begin:
                    return begin + remaining
                remaining -= close - begin
            day += timedelta(days=1)
        raise ValueError(f"business hours '{self.name}' have no open hours")

    def minutes_between(self, start: datetime, end: datetime) -> float:
        """The working minutes from ``start`` to ``end`` (0 when end is not later)."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        total = timedelta()
        day = self._local_day(start)
        last = self._local_day(end)
        while day <= last:
            for begin, close in self.windows(day):
                begin, close = max(begin, start), min(close, end)
                if close > begin:
                    total += close - begin
            day += timedelta(days=1)
        return total.total_seconds() / 60


def add_minutes(start: datetime, minutes: float, hours: BusinessHours | None) -> datetime:
    """``minutes`` after ``start``: working minutes of ``hours``, or on the clock (24×7)."""
    if hours is None:
        return start + timedelta(minutes=minutes)
    return hours.add(start, minutes)
