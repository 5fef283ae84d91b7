"""The data-quality report of an object, computed in SQL over what the reader may see.

Figures a data steward watches: completeness per field, uniqueness of the fields that
should be unique (unique and external-id fields, and the fields exact duplicate rules
compare), invalid values (malformed emails and phones, inactive or unknown picklist
values, lookups to records in the recycle bin or gone), duplicate clusters per rule and
stale records (not modified in N days). Every figure is one aggregate query over the
records the reader may see (sharing applied in SQL), and a field the reader may not
read is not reported at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from crm_platform.dedupe.clusters import cluster_ids, readable_rules
from crm_platform.dedupe.keys import PHONE_SEPARATORS, criterion_keys
from crm_platform.fieldtypes import USER, active_values, field_type, value_entry
from crm_platform.metadata import SIMPLE
from crm_platform.runtime.model import FieldModel, ObjectModel
from crm_platform.runtime.records import RecordSession

DEFAULT_STALE_DAYS = 365
COMPUTED = frozenset({"formula", "rollup_summary"})
TEXTUAL = frozenset({"text", "long_text", "rich_text", "email", "phone", "url", "picklist"})


@dataclass(frozen=True)
class FieldFigures:
    field: str
    filled: int
    completeness: float  # percent of the records, one decimal


@dataclass(frozen=True)
class Uniqueness:
    field: str
    filled: int
    distinct: int
    duplicate_values: int  # values held by two records or more
    records_in_duplicates: int


@dataclass(frozen=True)
class Invalid:
    field: str
    kind: str  # malformed_email | malformed_phone | inactive_value | unknown_value | deleted_lookup
    count: int


@dataclass(frozen=True)
class QualityReport:
    object: str
    total: int
    stale_days: int
    stale: int
    fields: list[FieldFigures]
    uniqueness: list[Uniqueness]
    invalid: list[Invalid]
    duplicate_clusters: dict[str, int]
    skipped_rules: list[str] = field(default_factory=list)


def _column(fld: FieldModel) -> sa.Column[Any]:
    found = fld.columns.get(SIMPLE)
    return found if found is not None else next(iter(fld.columns.values()))


def _filled(fld: FieldModel, col: Any) -> Any:
    if fld.type in TEXTUAL:
        return sa.and_(col.is_not(None), sa.func.trim(col) != "")
    return col.is_not(None)


def _percent(part: int, whole: int) -> float:
    """One decimal, never 100.0 while a record lacks the value (nor 0.0 while one has
    it): 25,866 of 25,868 is 99.9, not a complete field."""
    if not whole:
        return 0.0
    value = round(part * 100 / whole, 1)
    if value == 100.0 and part < whole:
        return 99.9
    if value == 0.0 and part > 0:
        return 0.1
    return value


def data_quality(
    session: RecordSession, object_name: str, *, stale_days: int = DEFAULT_STALE_DAYS
) -> QualityReport:
    """The report of ``object_name`` for the session's user."""
    obj = session.object(object_name)
    session.require(obj, "read")
    table = obj.table
    live = [table.c.deleted_at.is_(None), *session.visible(obj)]
    readable = [
        f
        for name, f in obj.fields.items()
        if session.access.field_readable(obj.api_name, name)
        and f.type not in COMPUTED
        and f.columns
    ]
    since = session.now - timedelta(days=stale_days)
    counts = [
        sa.func.count().label("_total"),
        sa.func.sum(sa.case((table.c.updated_at < since, 1), else_=0)).label("_stale"),
    ]
    counts += [
        sa.func.sum(sa.case((_filled(f, _column(f)), 1), else_=0)).label(f.api_name)
        for f in readable
    ]
    row = session.conn.execute(sa.select(*counts).where(*live)).mappings().one()
    total = int(row["_total"] or 0)
    fields = [
        FieldFigures(
            f.api_name, int(row[f.api_name] or 0), _percent(int(row[f.api_name] or 0), total)
        )
        for f in readable
    ]
    rules, skipped = readable_rules(session, obj.api_name)
    clusters = {rule.name: len(cluster_ids(session, rule)[0]) for rule in rules}
    return QualityReport(
        object=obj.api_name,
        total=total,
        stale_days=stale_days,
        stale=int(row["_stale"] or 0),
        fields=fields,
        uniqueness=_uniqueness(session, obj, readable, rules, live),
        invalid=_invalid(session, obj, readable, live),
        duplicate_clusters=clusters,
        skipped_rules=skipped,
    )


def _should_be_unique(readable: list[FieldModel], rules) -> list[tuple[FieldModel, Any]]:
    """The fields that should be unique, each with the criterion that compares it (a
    rule's exact, email, phone or normalised criterion), or None."""
    compared = {c.field: c for r in rules for c in r.criteria if c.method != "fuzzy"}
    return [
        (f, compared.get(f.api_name))
        for f in readable
        if f.definition.get("unique") or field_type(f.type).always_unique or f.api_name in compared
    ]


def _uniqueness(session, obj, readable, rules, live) -> list[Uniqueness]:
    """Values compared as the rule compares them (a phone by its digits), else as the
    unique index does (an email in any case)."""
    found = []
    for fld, criterion in _should_be_unique(readable, rules):
        col = _column(fld)
        if criterion is not None:
            key = criterion_keys(session.dialect, criterion, col)[0]
        else:
            key = field_type(fld.type).unique_key(col)
        groups = (
            sa.select(key.label("k"), sa.func.count().label("n"))
            .where(*live, _filled(fld, col))
            .group_by(key)
            .subquery()
        )
        row = session.conn.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(groups.c.n), 0),
                sa.func.count(),
                sa.func.sum(sa.case((groups.c.n > 1, 1), else_=0)),
                sa.func.sum(sa.case((groups.c.n > 1, groups.c.n), else_=0)),
            )
        ).one()
        found.append(
            Uniqueness(
                fld.api_name, int(row[0] or 0), int(row[1] or 0), int(row[2] or 0), int(row[3] or 0)
            )
        )
    return found


def _malformed_email(col: Any) -> Any:
    return sa.or_(sa.not_(col.like("%_@_%._%")), col.like("% %"), col.like("%@%@%"))


def _malformed_phone(dialect: str, col: Any) -> Any:
    digits = col
    for char in PHONE_SEPARATORS:
        digits = sa.func.replace(digits, char, "")
    has_other = digits.op("GLOB")("*[^0-9]*") if dialect == "sqlite" else digits.op("~")("[^0-9]")
    length = sa.func.length(digits)
    return sa.or_(has_other, length < 7, length > 15)


def _invalid(session, obj: ObjectModel, readable: list[FieldModel], live) -> list[Invalid]:
    checks: list[tuple[str, str, Any]] = []
    for fld in readable:
        col = _column(fld)
        filled = _filled(fld, col)
        if fld.type == "email":
            checks.append((fld.api_name, "malformed_email", sa.and_(filled, _malformed_email(col))))
        elif fld.type == "phone":
            checks.append(
                (
                    fld.api_name,
                    "malformed_phone",
                    sa.and_(filled, _malformed_phone(session.dialect, col)),
                )
            )
        elif fld.type == "picklist":
            every = [value_entry(v)["value"] for v in fld.definition["values"]]
            active = active_values(fld.definition)
            inactive = [v for v in every if v not in active]
            if inactive:
                checks.append((fld.api_name, "inactive_value", col.in_(inactive)))
            checks.append((fld.api_name, "unknown_value", sa.and_(filled, col.not_in(every))))
        elif (
            field_type(fld.type).relation and SIMPLE in fld.columns and "object" not in fld.columns
        ):
            target = session.model.object(fld.definition.get("target", ""))
            if fld.definition.get("target") == USER or target is None:
                continue
            alive = sa.select(target.table.c.id).where(
                target.table.c.id == col, target.table.c.deleted_at.is_(None)
            )
            checks.append(
                (fld.api_name, "deleted_lookup", sa.and_(col.is_not(None), ~alive.exists()))
            )
    if not checks:
        return []
    sums = [
        sa.func.sum(sa.case((condition, 1), else_=0)).label(f"c{i}")
        for i, (_f, _k, condition) in enumerate(checks)
    ]
    row = session.conn.execute(sa.select(*sums).where(*live)).one()
    return [Invalid(name, kind, int(row[i] or 0)) for i, (name, kind, _c) in enumerate(checks)]
