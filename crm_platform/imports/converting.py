"""Source rows turned into field values by the mapping's transforms (before lookups,
which need the database, and before the record service, which checks the values)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .mapping import ColumnPlan
from .reader import SourceRow
from .transforms import TransformError


@dataclass(frozen=True, slots=True)
class ConvertedRow:
    """A source row and its field values, or what was wrong with its cells."""

    row: SourceRow
    data: dict[str, Any] | None  # None: the row could not be converted
    problem: str | None = None

    def __reduce__(self) -> tuple[type[ConvertedRow], tuple[Any, ...]]:
        # rows travel pickled from the converting process; a slotted frozen dataclass's
        # own unpickling looks its fields up for every row, six times slower than this
        return (ConvertedRow, (self.row, self.data, self.problem))


class RowConverter:
    """Converts the rows of a file with these headers by the columns' plans. Pickled
    (the plans, not the functions built from them) for a converting process."""

    def __init__(self, headers: Sequence[str], plans: Sequence[ColumnPlan]) -> None:
        self.width = len(headers)
        self.plans = tuple(plans)
        self._columns = self._compile()

    def _compile(self) -> tuple[tuple[ColumnPlan, Callable[[Any], Any]], ...]:
        return tuple((plan, plan.conversion.function()) for plan in self.plans)

    def __getstate__(self) -> dict[str, Any]:
        return {"width": self.width, "plans": self.plans}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.width, self.plans = state["width"], state["plans"]
        self._columns = self._compile()

    def convert_all(self, rows: Iterable[SourceRow]) -> list[ConvertedRow]:
        """Each row converted, in order."""
        return [self.convert(row) for row in rows]

    def convert(self, row: SourceRow) -> ConvertedRow:
        """The row's field values (a blank cell gives none: the field keeps its default or
        its value), or every problem of its cells in one line naming their columns."""
        values = row.values
        extra = values[self.width :]
        if any(v not in (None, "") for v in extra):
            surplus = ", ".join(repr(v) for v in extra if v not in (None, ""))
            problem = f"{len(values)} values but {self.width} columns (extra: {surplus})"
            return ConvertedRow(row, None, problem)
        data: dict[str, Any] = {}
        problems = []
        for plan, convert in self._columns:
            cell = values[plan.index] if plan.index < len(values) else None
            try:
                value = convert(cell)
            except TransformError as exc:
                problems.append(f"{plan.header}: {exc}")
                continue
            if value is None:
                continue
            if plan.part:
                data.setdefault(plan.field, {})[plan.part] = value
            else:
                data[plan.field] = value
        if problems:
            return ConvertedRow(row, None, "; ".join(problems))
        return ConvertedRow(row, data)
