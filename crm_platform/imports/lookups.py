"""Lookup columns: the text of a cell (a name, a unique value, an external id) turned into
the id of the record it names, for a whole batch with one query per column.

Only records the importing user may read are found (the same visibility SQL as every
read); none or several matches are row errors, never guesses. Found keys are kept (a
bounded cache) so a file that names the same accounts again and again asks once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from crm_platform.core import ValidationFailed
from crm_platform.core.tables import users
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import SIMPLE

from .mapping import ColumnPlan

CACHE_LIMIT = 50_000
CHUNK = 500  # values per IN list


class LookupError_(ValueError):
    """A cell that names no record, or several."""


class LookupResolver:
    """Resolves the lookup columns of an import within one record session at a time."""

    def __init__(self, plans: Iterable[ColumnPlan]) -> None:
        self.plans = [p for p in plans if p.lookup is not None]
        self._cache: dict[tuple[str, str], tuple[str, ...]] = {}

    def check(self, session: Any) -> None:
        """400 when a lookup column names a way to find records its target lacks."""
        errors = {}
        for plan in self.plans:
            try:
                self._key_column(session, plan)
            except ValueError as exc:
                errors[f"columns.{plan.header}"] = str(exc)
        if errors:
            raise ValidationFailed(errors, "the mapping's lookups do not fit")

    def resolve(self, session: Any, plan: ColumnPlan, keys: set[str]) -> None:
        """Find the records of ``keys`` not known yet (one query per chunk)."""
        wanted = sorted(k for k in keys if (plan.header, k) not in self._cache)
        if not wanted:
            return
        if len(self._cache) > CACHE_LIMIT:
            self._cache.clear()  # bounded memory whatever the file holds
        column, base = self._key_column(session, plan)
        found: dict[str, list[str]] = {k: [] for k in wanted}
        fold = plan.lookup == "email"
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            values = [k.lower() for k in chunk] if fold else chunk
            compared = sa.func.lower(column) if fold else column
            for key, record_id in session.conn.execute(base.where(compared.in_(values))):
                found.setdefault(key.lower() if fold else key, []).append(record_id)
        for key in wanted:
            self._cache[(plan.header, key)] = tuple(found.get(key.lower() if fold else key, ()))

    def id_for(self, plan: ColumnPlan, key: str) -> str:
        """The one record id a resolved key names; LookupError_ says why there is none."""
        ids = self._cache.get((plan.header, key), ())
        what = plan.target or "record"
        how = "named" if plan.lookup == "name" else f"with {plan.lookup}"
        if not ids:
            raise LookupError_(f"no {what} {how} {key!r}")
        if len(ids) > 1:
            raise LookupError_(f"{len(ids)} {what} records {how} {key!r}: ambiguous")
        return ids[0]

    def _key_column(self, session: Any, plan: ColumnPlan) -> tuple[Any, Any]:
        """The column compared with the cells, and the query that finds ids by it."""
        if plan.target == "user":
            by = "email" if plan.lookup in ("email", "name") else plan.lookup
            if by not in ("email", "id"):
                raise ValueError("a lookup to users finds them by email or id")
            column = users.c[by]
            return column, sa.select(column, users.c.id).where(
                users.c.active.is_(True), users.c.is_system.is_(False)
            )
        target = session.model.object(plan.target) if plan.target else None
        if target is None:
            raise ValueError("a lookup column needs a lookup to one object")
        if not session.access.can(target.api_name, "read"):
            raise ValueError(f"you may not read {target.api_name} records")
        by = target.name_field if plan.lookup == "name" else plan.lookup
        if by == "id":
            column = target.table.c.id
        else:
            fld = target.fields.get(by)
            ftype = field_type(fld.type) if fld is not None else None
            usable = ftype is not None and (
                by == target.name_field or ftype.always_unique or fld.definition.get("unique")
            )
            if not usable or not session.access.field_readable(target.api_name, by):
                raise ValueError(
                    f"find {target.api_name} records by name, id, or a unique or external-id "
                    f"field (not {plan.lookup!r})"
                )
            if fld.type == "formula":  # a contact's full name: the formula, in SQL
                builder = session.builder(target)
                column = builder.column((by,))
                query = sa.select(column, target.table.c.id).select_from(builder.from_clause)
                return column, query.where(
                    target.table.c.deleted_at.is_(None), *session.visible(target)
                )
            column = target.table.c[fld.columns[SIMPLE].name]
        query = sa.select(column, target.table.c.id).where(
            target.table.c.deleted_at.is_(None), *session.visible(target)
        )
        return column, query
