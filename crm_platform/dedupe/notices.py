"""Warnings of an allow-with-warning rule, carried to whoever answers the request.

The rule's handler queues a :class:`DuplicateNotice` for after the commit; the record
runtime's notice collector (``runtime.records.notices``) carries it to the request: the
API sends each as a ``Warning: 299 crm "..."`` header, the pages flash it on the next
page, an import counts the rows it warned of. Anything else (the CLI) opens its own
collector with :func:`collecting`.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm_platform.runtime.records.notices import collecting, current, report, start


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


__all__ = ["DuplicateNotice", "collecting", "current", "report", "start"]
