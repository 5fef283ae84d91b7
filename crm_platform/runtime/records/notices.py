"""Notices of writes that went through with a caveat, carried to whoever answers.

A handler deep in the write path cannot answer the client (a duplicate rule that warns,
say). It queues its notice for after the commit (a rolled-back write notices nothing),
and the notice lands in the collector of the current request, if one is open. The API
opens one per request, the pages one per page, an import one around its batches;
anything else opens its own with :func:`collecting`. A notice is any object with the
``record_id`` it is about (the layer that makes it gives it its other fields).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol


class Notice(Protocol):
    """What every notice has: the record it is about."""

    @property
    def record_id(self) -> str: ...


_current: ContextVar[list[Any] | None] = ContextVar("crm_write_notices", default=None)


def start() -> list[Any]:
    """Open a fresh collector for this request (or thread) and return it."""
    found: list[Any] = []
    _current.set(found)
    return found


def current() -> list[Any]:
    """The notices collected so far (none when no collector is open)."""
    return list(_current.get() or ())


@contextmanager
def collecting() -> Iterator[list[Any]]:
    """Collect the notices of the writes made inside the block."""
    found: list[Any] = []
    token = _current.set(found)
    try:
        yield found
    finally:
        _current.reset(token)


def report(notice: Notice) -> None:
    """Hand a notice to the open collector (dropped when none is open)."""
    found = _current.get()
    if found is not None:
        found.append(notice)
