"""Warnings of an allow-with-warning rule, carried to whoever answers the request.

A rule's handler cannot answer the client: it runs deep in the write path. It queues
the warning for after the commit (a rolled-back write warns of nothing), and the warning
lands in the collector of the current request, if one is open. The API opens one per
request and sends each warning as a ``Warning: 299 crm "..."`` header; the pages open
one and flash each warning on the next page. Anything else (the CLI, an import) opens
its own with :func:`collecting`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

_current: ContextVar[list[DuplicateNotice] | None] = ContextVar(
    "crm_duplicate_notices", default=None
)


@dataclass(frozen=True)
class DuplicateNotice:
    """A record written although it may duplicate others (a ``warn`` rule matched)."""

    rule: str
    object: str
    record_id: str
    message: str
    label: str = ""  # the rule's label (English, or its first language)
    labels: object = None  # the rule's label as defined (a string or a map per language)
    duplicates: tuple[str, ...] = ()  # the ids the writer may see
    names: tuple[str, ...] = ()  # their names (empty when the writer may not read it)
    hidden: int = 0  # how many more exist that the writer may not see


def start() -> list[DuplicateNotice]:
    """Open a fresh collector for this request (or thread) and return it."""
    found: list[DuplicateNotice] = []
    _current.set(found)
    return found


def current() -> list[DuplicateNotice]:
    """The notices collected so far (none when no collector is open)."""
    return list(_current.get() or ())


@contextmanager
def collecting() -> Iterator[list[DuplicateNotice]]:
    """Collect the notices of the writes made inside the block."""
    found: list[DuplicateNotice] = []
    token = _current.set(found)
    try:
        yield found
    finally:
        _current.reset(token)


def report(notice: DuplicateNotice) -> None:
    """Hand a notice to the open collector (dropped when none is open)."""
    found = _current.get()
    if found is not None:
        found.append(notice)
