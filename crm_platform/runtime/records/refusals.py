"""Refusals of one batch write, raised at the first or gathered for the whole batch.

A batch write is all or none. By default the first record refused raises its error (the
API's answer names that record's fields). A bulk writer — an import — asks for every
refusal instead: the checks go on past a refused record, and the batch ends, still
before anything is written, with :class:`RecordsRefused` naming each refused record and
its own error. The writer then writes the others at once; with only the first refusal it
had to split the batch down to single records, one write per row for a file whose rows
all exist already.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crm_platform.core import CrmError


class RecordsRefused(CrmError):
    """Records of a batch the write path refused, each with its own error; nothing of the
    batch was written. ``refusals`` maps a record id to its error. A record refused only
    because of other records of the batch that are refused themselves (it repeats one's
    unique value, or duplicates it) is not named: written again without them, it may
    pass."""

    status = 400
    title = "Records refused"

    def __init__(self, refusals: Mapping[str, CrmError]) -> None:
        self.refusals = dict(refusals)
        super().__init__(
            f"{len(self.refusals)} record(s) of the batch were refused",
            extra={"records": {rid: error.to_problem() for rid, error in self.refusals.items()}},
        )


@dataclass
class Refusals:
    """The refusals of one batch: raised at once, or kept when ``collecting``."""

    collecting: bool = False
    errors: dict[str, CrmError] = field(default_factory=dict)
    causes: dict[str, frozenset[str]] = field(default_factory=dict)

    def refuse(self, record_id: str, error: CrmError, because: Collection[str] = ()) -> None:
        """Refuse a record: raise ``error``, or keep it as the record's first refusal.
        ``because``: the records of the batch that the refusal is about (the earlier
        holder of a unique value, the batch's duplicates), when it is about no other."""
        if not self.collecting:
            raise error
        if record_id not in self.errors:
            self.errors[record_id] = error
            if because:
                self.causes[record_id] = frozenset(because)

    def checking(self, *record_ids: str) -> _Checking:
        """A check whose error refuses these records (raised when not collecting)."""
        return _Checking(self, record_ids)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self.errors

    def kept(self, record_ids: Iterable[str]) -> list[str]:
        """The ids not refused, in their order."""
        return [rid for rid in record_ids if rid not in self.errors]

    def raise_any(self) -> None:
        """End the batch with every refusal kept, if there is one (leaving out those whose
        causes are all refused: the writer tries them again without those)."""
        if not self.errors:
            return
        standing = {
            rid: error
            for rid, error in self.errors.items()
            if not (rid in self.causes and self.causes[rid] <= self.errors.keys())
        }
        raise RecordsRefused(standing or self.errors)


class _Checking:
    """The block of :meth:`Refusals.checking`: a class, not a generator, since each record
    of a batch passes through several (an import of 100,000 rows enters half a million)."""

    __slots__ = ("record_ids", "refusals")

    def __init__(self, refusals: Refusals, record_ids: tuple[str, ...]) -> None:
        self.refusals, self.record_ids = refusals, record_ids

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Any, _traceback: Any) -> bool:
        if error is None or not isinstance(error, CrmError) or not self.refusals.collecting:
            return False  # nothing raised, or raised on
        for record_id in self.record_ids:
            self.refusals.refuse(record_id, error)
        return True
