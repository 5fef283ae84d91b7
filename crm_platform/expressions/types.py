"""What an expression talks about: value types, field information, the scope, the context."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_platform.core import FieldInfo, ValueType, utc_now

FieldPath = tuple[str, ...]

__all__ = ["EvalContext", "FieldInfo", "FieldPath", "MappingScope", "Scope", "ValueType"]


class Scope(Protocol):
    """Maps a field path such as ``("amount",)`` or ``("account", "industry")`` to its info."""

    def resolve(self, path: FieldPath) -> FieldInfo | None:
        """The field's info, or None when there is no such field."""
        ...


@dataclass(frozen=True)
class MappingScope:
    """A scope backed by a mapping; keys are paths or dotted names ("account.industry")."""

    fields: Mapping[FieldPath | str, FieldInfo]

    def resolve(self, path: FieldPath) -> FieldInfo | None:
        """The info stored under the path or under its dotted name."""
        info = self.fields.get(path)
        return info if info is not None else self.fields.get(".".join(path))


@dataclass(frozen=True)
class EvalContext:
    """When and where an expression runs.

    ``now`` must be aware; ``TODAY()`` is its date in ``time_zone`` (the org's
    IANA zone). ``fiscal_year_start_month`` (1-12) is the org's first month of the
    fiscal year, which THIS_FISCAL_QUARTER() and its family read. ``prior`` returns a
    field's value before the current change and ``is_new`` says the record is being
    created; PRIORVALUE, ISCHANGED and ISNEW read them. ``ancestors(path, record_id)``
    gives the ids above ``record_id`` through the self-lookup at the end of ``path``
    (its parent first, at most MAX_HIERARCHY_DEPTH of them); IS_UNDER reads it in Python.
    """

    now: datetime
    time_zone: str = "UTC"
    prior: Callable[[FieldPath], Any] | None = None
    is_new: bool = False
    ancestors: Callable[[FieldPath, str], Sequence[str]] | None = None
    fiscal_year_start_month: int = 1
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            raise ValueError("EvalContext.now must be an aware datetime")
        try:
            zone = ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.time_zone!r}") from exc
        month = self.fiscal_year_start_month
        if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
            raise ValueError(f"fiscal_year_start_month must be 1 to 12, not {month!r}")
        object.__setattr__(self, "zone", zone)

    @classmethod
    def current(
        cls,
        time_zone: str = "UTC",
        *,
        prior: Callable[[FieldPath], Any] | None = None,
        is_new: bool = False,
        ancestors: Callable[[FieldPath, str], Sequence[str]] | None = None,
        fiscal_year_start_month: int = 1,
    ) -> EvalContext:
        """A context for the current moment in the org time zone ``time_zone``."""
        return cls(
            now=utc_now(),
            time_zone=time_zone,
            prior=prior,
            is_new=is_new,
            ancestors=ancestors,
            fiscal_year_start_month=fiscal_year_start_month,
        )

    def today(self) -> date:
        """The date it is now in the org time zone."""
        return self.now.astimezone(self.zone).date()
