"""Writing one batch of converted source rows through the record service.

Rows converted by the transforms (:mod:`.converting`) have their lookups resolved (one
query per column) and are split into updates (``upsert_on`` found an existing record)
and creates; they go through ``RecordSession.update_many`` and ``create_many`` — the
record service's set-based paths, so defaults, validation rules, auto-numbers, duplicate
rules, triggers and permissions all apply — each in a savepoint, asking for every
refusal of the batch: the rows refused are rejected and the rest written again at once
(a file of rows that all exist already costs one check per batch, not one write per
row). When a batch fails otherwise (a before-save trigger's error, a unique index meeting
a concurrent write), its savepoint is rolled back and it is split in halves until the
rows at fault stand alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from crm_platform.core import CrmError, in_list, new_ids
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import SIMPLE
from crm_platform.runtime.records import RecordsRefused

from .converting import ConvertedRow
from .lookups import LookupError_, LookupResolver
from .mapping import RECORD_ID, ColumnPlan
from .reader import SourceRow


@dataclass
class BatchOutcome:
    """What one batch did: counts, and the rejected rows with their reasons."""

    created: int = 0
    updated: int = 0  # rows that changed their record
    unchanged: int = 0  # rows whose record held their values already
    rejected: list[tuple[SourceRow, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Pending:
    row: SourceRow
    data: dict[str, Any]
    new_id: str  # the record's id, should it be created


@dataclass(frozen=True)
class _Writing:
    """How rows are written (creates or updates), and the id of each row's record.
    ``write`` returns how many of the rows changed their record."""

    write: Callable[[list[_Pending]], int]
    record_id: Callable[[_Pending], str]


class BatchWriter:
    """Writes batches of one object's rows as one user (within the caller's session)."""

    def __init__(
        self, object_name: str, plans: Sequence[ColumnPlan], upsert_on: str | None
    ) -> None:
        self.object_name = object_name
        self.plans = tuple(plans)
        self.upsert_on = upsert_on
        self.resolver = LookupResolver(plans)
        self.labels = {p.field: p.header for p in plans}
        self._key_type: Any = None  # the upsert key's field type, known at the first batch

    def write(self, session: Any, rows: Sequence[ConvertedRow]) -> BatchOutcome:
        """Resolve the converted rows' lookups and write them; failures (a row that could
        not be converted among them) become rejected rows."""
        outcome = BatchOutcome()
        if self.upsert_on not in (None, RECORD_ID) and self._key_type is None:
            key_field = session.object(self.object_name).fields[self.upsert_on]
            self._key_type = field_type(key_field.type)
        converted: list[_Pending] = []
        for row, record_id in zip(rows, new_ids(len(rows)), strict=True):
            if row.data is None:
                outcome.rejected.append((row.row, row.problem or "cannot be converted"))
            else:
                converted.append(_Pending(row.row, row.data, record_id))
        ready = self._resolve_lookups(session, converted, outcome)
        while ready:
            wave, ready = self._wave(ready)
            existing = self._existing(session, wave)
            updates = [p for p in wave if self._key(p) in existing]
            creates = [p for p in wave if self._key(p) not in existing]
            if self.upsert_on == RECORD_ID:  # an id names a record: never a new one
                creates = self._without_ids(creates, outcome)
            self._update(session, existing, updates, outcome)
            self._create(session, creates, outcome)
        return outcome

    # --- lookups ---------------------------------------------------------------------
    def _resolve_lookups(
        self, session: Any, converted: list[_Pending], outcome: BatchOutcome
    ) -> list[_Pending]:
        for plan in self.resolver.plans:
            keys = {p.data[plan.field] for p in converted if plan.field in p.data}
            self.resolver.resolve(session, plan, keys)
        ready = []
        for pending in converted:
            try:
                for plan in self.resolver.plans:
                    if plan.field in pending.data:
                        pending.data[plan.field] = self._lookup(plan, pending.data[plan.field])
            except LookupError_ as exc:
                outcome.rejected.append((pending.row, str(exc)))
                continue
            ready.append(pending)
        return ready

    def _lookup(self, plan: ColumnPlan, key: str) -> str:
        try:
            return self.resolver.id_for(plan, key)
        except LookupError_ as exc:
            raise LookupError_(f"{plan.header}: {exc}") from exc

    # --- upserts ----------------------------------------------------------------------
    def _key(self, pending: _Pending) -> Any:
        if self.upsert_on is None:
            return None
        value = pending.data.get(self.upsert_on)
        return value.lower() if isinstance(value, str) and self._fold else value

    @property
    def _fold(self) -> bool:
        return self._key_type is not None and self._key_type.unique_ignores_case

    def _wave(self, ready: list[_Pending]) -> tuple[list[_Pending], list[_Pending]]:
        """The rows whose upsert key is not repeated among them, and the rest (a key seen
        twice in a batch is written in order: the second row updates what the first made)."""
        if self.upsert_on is None:
            return ready, []
        seen: set[Any] = set()
        wave, later = [], []
        for pending in ready:
            key = self._key(pending)
            if key is not None and key in seen:
                later.append(pending)
                continue
            seen.add(key)
            wave.append(pending)
        return wave, later

    def _without_ids(self, creates: list[_Pending], outcome: BatchOutcome) -> list[_Pending]:
        """The rows to create among those whose id found no record: the rows with no id;
        a row with one names a record that is not there (or not visible): rejected."""
        kept = []
        for pending in creates:
            given = pending.data.get(RECORD_ID)
            if given is None:
                kept.append(pending)
                continue
            header = self.labels[RECORD_ID]
            problem = f"{header}: no {self.object_name} with id {given!r} that you may see"
            outcome.rejected.append((pending.row, problem))
        return kept

    def _existing(self, session: Any, wave: list[_Pending]) -> Mapping[Any, str]:
        """Upsert key -> id of the existing (visible) records the wave's keys name."""
        if self.upsert_on is None:
            return {}
        obj = session.object(self.object_name)
        if self.upsert_on == RECORD_ID:
            ids = sorted({k for k in (self._key(p) for p in wave) if k is not None})
            query = sa.select(obj.table.c.id).where(
                in_list(session.dialect, obj.table.c.id, ids),
                obj.table.c.deleted_at.is_(None),
                *session.visible(obj),
            )
            return {i: i for i in session.conn.execute(query).scalars()}
        fld = obj.fields[self.upsert_on]
        ftype = self._key_type
        column = obj.table.c[fld.columns[SIMPLE].name]
        keys = [k for k in {self._key(p) for p in wave} if k is not None]
        found: dict[Any, str] = {}
        for start in range(0, len(keys), 500):
            query = sa.select(ftype.unique_key(column), obj.table.c.id).where(
                ftype.unique_key(column).in_(keys[start : start + 500]),
                obj.table.c.deleted_at.is_(None),
                *session.visible(obj),
            )
            found.update(dict(session.conn.execute(query).all()))
        return found

    # --- writing ----------------------------------------------------------------------
    def _update(
        self,
        session: Any,
        existing: Mapping[Any, str],
        updates: list[_Pending],
        outcome: BatchOutcome,
    ) -> None:
        def write(rows: list[_Pending]) -> int:
            items = [(existing[self._key(p)], _fields(p), None) for p in rows]
            moved = session.update_many(
                self.object_name, items, read_back=False, every_refusal=True
            )
            return len(moved)  # the records whose values moved

        def record_id(pending: _Pending) -> str:
            return existing[self._key(pending)]

        written, changed = self._written(session, updates, _Writing(write, record_id), outcome)
        outcome.updated += changed
        outcome.unchanged += written - changed

    def _create(self, session: Any, creates: list[_Pending], outcome: BatchOutcome) -> None:
        def write(rows: list[_Pending]) -> int:
            session.create_many(
                self.object_name,
                [_fields(p) for p in rows],
                record_ids=[p.new_id for p in rows],
                read_back=False,
                every_refusal=True,
            )
            return len(rows)

        writing = _Writing(write, lambda pending: pending.new_id)
        outcome.created += self._written(session, creates, writing, outcome)[0]

    def _written(
        self, session: Any, rows: list[_Pending], writing: _Writing, outcome: BatchOutcome
    ) -> tuple[int, int]:
        """Write the rows in a savepoint; the rows the record service refuses are rejected
        and the others written again without them. A batch refused otherwise is rolled
        back and each half written the same way, until the rows at fault stand alone
        (rejected). Returns how many rows were written, and how many of them changed
        their record."""
        if not rows:
            return 0, 0
        try:
            with session.conn.begin_nested():
                changed = writing.write(rows)
        except RecordsRefused as refused:
            kept = []
            for pending in rows:
                error = refused.refusals.get(writing.record_id(pending))
                if error is None:
                    kept.append(pending)
                else:
                    outcome.rejected.append((pending.row, self.describe(error)))
            if len(kept) < len(rows):
                return self._written(session, kept, writing, outcome)
            return self._halves(session, rows, writing, outcome, refused)
        except CrmError as exc:
            return self._halves(session, rows, writing, outcome, exc)
        return len(rows), changed

    def _halves(
        self,
        session: Any,
        rows: list[_Pending],
        writing: _Writing,
        outcome: BatchOutcome,
        error: CrmError,
    ) -> tuple[int, int]:
        if len(rows) == 1:
            outcome.rejected.append((rows[0].row, self.describe(error)))
            return 0, 0
        middle = len(rows) // 2
        first = self._written(session, rows[:middle], writing, outcome)
        second = self._written(session, rows[middle:], writing, outcome)
        return first[0] + second[0], first[1] + second[1]

    def describe(self, error: CrmError) -> str:
        """A refusal of the record service as one line naming the columns at fault."""
        errors = getattr(error, "errors", None) or error.extra.get("errors") or {}
        if not errors:
            return error.detail
        parts = []
        for path, messages in errors.items():
            name = str(path).split(".")[0]
            label = self.labels.get(name, path)
            text = ", ".join(messages) if isinstance(messages, list | tuple) else str(messages)
            parts.append(f"{label}: {text}")
        return "; ".join(parts)


def _fields(pending: _Pending) -> dict[str, Any]:
    """A row's field values (the id an upsert on id found its record by is none)."""
    data = pending.data
    return {k: v for k, v in data.items() if k != RECORD_ID} if RECORD_ID in data else data
