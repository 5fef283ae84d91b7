"""Type changes that convert values: text <-> picklist, number <-> text, date <-> datetime,
and a lookup retargeted through a mapping of ids (DESIGN §0, ADR 0016).

Each value is converted once per distinct value, in Python, by the one function
that also answers the preview: so the preview and the change agree on what
converts. The change itself is set-based SQL: a new column is added, the
converted values copied with one ``UPDATE … CASE`` per batch of distinct values,
and the field is pointed at it; the old column is kept (retired) until the field
is purged. Values that do not convert are refused (409, listing them) unless the
change says ``on_unconvertible: clear``: then they are left empty, after their
old values are written to the field's history (``sys_field_history``), whether
the object tracks history or not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import Conflict, ValidationFailed, new_id, utc_now
from crm_platform.core.tables import field_history, org
from crm_platform.fieldtypes import SIMPLE, field_type, storage_of

REFUSE, CLEAR = "refuse", "clear"
CONVERSION_KEYS = ("on_unconvertible", "mapping")  # what a field change may add to a definition
LISTED = 50  # unconvertible records listed in a preview or a refusal
BATCH = 500  # distinct values per UPDATE
INT64 = 2**63


@dataclass(frozen=True)
class ConversionOptions:
    """What a type change was told: what to do with values that do not convert, the id
    mapping of a retargeted lookup, and who makes the change (for the field history)."""

    on_unconvertible: str = REFUSE
    mapping: Mapping[str, str] = field(default_factory=dict)
    author_id: str = ""

    @classmethod
    def from_request(cls, raw: Mapping[str, Any], author_id: str) -> ConversionOptions:
        """Read ``on_unconvertible`` and ``mapping``; bad values are a 400."""
        policy = raw.get("on_unconvertible", REFUSE)
        if policy not in (REFUSE, CLEAR):
            raise ValidationFailed({"on_unconvertible": "must be 'refuse' or 'clear'"})
        mapping = raw.get("mapping", {})
        if not isinstance(mapping, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise ValidationFailed({"mapping": "give {old record id: new record id}"})
        return cls(policy, dict(mapping), author_id)


Convert = Callable[[Any], tuple[bool, Any]]  # stored value -> (converts?, new value)


@dataclass(frozen=True)
class Conversion:
    """How a field's values convert from one definition to another."""

    name: str
    convert: Convert
    new_column: bool  # the values change: copy them into a new column


@dataclass
class Report:
    """What converting the existing values finds: the preview's answer."""

    conversion: str
    with_value: int = 0
    unconvertible: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)
    converted: dict[Any, Any] = field(default_factory=dict)  # distinct value -> new value
    bad_values: list[Any] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "conversion": self.conversion,
            "records_with_a_value": self.with_value,
            "convertible": self.with_value - self.unconvertible,
            "unconvertible": {
                "count": self.unconvertible,
                "records": self.examples,
                "truncated": self.unconvertible > len(self.examples),
            },
        }


def _kind(definition: Mapping[str, Any]) -> str:
    ftype = field_type(definition["type"])
    if ftype.text_kind == "choice" and definition["type"] == "picklist":
        return "picklist"
    if ftype.text_kind == "free":
        return "text"
    if ftype.storage in {"integer", "decimal"} and not ftype.read_only:
        return "number"
    if ftype.storage in {"date", "datetime"}:
        return ftype.storage
    if definition["type"] == "lookup" and "target" in definition:
        return "lookup"
    return ""


def find(
    conn: Connection,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    options: ConversionOptions,
) -> Conversion | None:
    """The conversion from ``before`` to ``after``, or None when this module has none."""
    old, new = _kind(before), _kind(after)
    label = f"{before['type']} to {after['type']}"
    if old == "text" and new == "picklist":
        values = {v if isinstance(v, str) else v["value"] for v in after["values"]}
        return Conversion(label, lambda v: (v in values, v), new_column=False)
    if old == "number" and new == "text":
        limit = after.get("max_length")
        return Conversion(label, lambda v: _fits(_number_text(v), limit), new_column=True)
    if old == "text" and new == "number":
        return Conversion(label, lambda v: _parse_number(v, after), new_column=True)
    if {old, new} == {"date", "datetime"}:
        zone = ZoneInfo(conn.execute(sa.select(org.c.time_zone)).scalar_one())
        to_datetime = old == "date"
        return Conversion(
            f"{label} (in the org's time zone, {zone.key})",
            (lambda v: (True, _midnight(v, zone)))
            if to_datetime
            else (lambda v: (True, _day(v, zone))),
            new_column=True,
        )
    if old == new == "lookup" and before["target"] != after["target"]:
        mapping = options.mapping
        return Conversion(
            f"lookup from {before['target']} to {after['target']} through the id mapping",
            lambda v: (v in mapping, mapping.get(v)),
            new_column=True,
        )
    return None


def _fits(text: str, limit: int | None) -> tuple[bool, str]:
    return (limit is None or len(text) <= limit), text


def _number_text(value: Any) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _parse_number(value: Any, after: Mapping[str, Any]) -> tuple[bool, Any]:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return False, None
    if not number.is_finite():
        return False, None
    if field_type(after["type"]).storage == "integer":
        whole = number == number.to_integral_value() and abs(number) < INT64
        return whole, int(number) if whole else None
    scale, precision = after["scale"], after["precision"]
    if abs(number) >= Decimal(10) ** (precision - scale):
        return False, None
    exact = number.quantize(Decimal(1).scaleb(-scale))
    fits = exact == number
    return fits, exact if fits else None


def _midnight(value: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(value, time(0), tzinfo=zone).astimezone(UTC)


def _day(value: datetime, zone: ZoneInfo) -> date:
    return value.astimezone(zone).date()


# --- reading what is there, and converting it ----------------------------------------------


def _column(definition: Mapping[str, Any], name: str, storage: Any = None) -> sa.Column:
    return sa.column(name, storage_of(definition, SIMPLE, storage))


def examine(
    conn: Connection,
    table: str,
    before: Mapping[str, Any],
    physical: Mapping[str, Any],
    conversion: Conversion,
    after: Mapping[str, Any],
) -> Report:
    """Convert every distinct stored value (none is written): counts, and the records
    whose values do not convert (the first :data:`LISTED`)."""
    column = _column(before, physical["columns"][SIMPLE])
    t = sa.table(table, sa.column("id"), column)
    report = Report(conversion.name)
    rows = conn.execute(
        sa.select(column, sa.func.count()).where(column.is_not(None)).group_by(column)
    ).all()
    counts = dict(rows)
    for value in counts:
        ok, new = conversion.convert(value)
        if ok:
            report.converted[value] = new
        else:
            report.bad_values.append(value)
    if after["type"] == "lookup" and report.converted:
        for value in _without_target(conn, after, report.converted):
            del report.converted[value]
            report.bad_values.append(value)
    report.with_value = sum(counts.values())
    report.unconvertible = sum(counts[v] for v in report.bad_values)
    if report.bad_values:
        listed = conn.execute(
            sa.select(t.c.id, column)
            .where(column.in_(report.bad_values))
            .order_by(t.c.id)
            .limit(LISTED)
        ).all()
        report.examples = [{"id": rid, "value": _jsonable(value)} for rid, value in listed]
    return report


def _without_target(conn: Connection, after: Mapping[str, Any], converted: Mapping) -> list:
    """Values mapped to an id that is no record of the new target (live or deleted)."""
    from .store import read_snapshot

    target = read_snapshot(conn).get("object", after["target"])
    if target is None:
        return list(converted)
    t = sa.table(target.physical["table"], sa.column("id"))
    wanted = list(set(converted.values()))
    found: set[str] = set()
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start : start + BATCH]
        found.update(r[0] for r in conn.execute(sa.select(t.c.id).where(t.c.id.in_(chunk))))
    return [value for value, new in converted.items() if new not in found]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def refuse_unconvertible(field_name: str, report: Report) -> None:
    """409 naming the records whose values do not convert."""
    raise Conflict(
        f"{report.unconvertible} values of '{field_name}' do not convert ({report.conversion}): "
        "fix them, or repeat the change with on_unconvertible: clear",
        extra={"unconvertible": report.as_dict()["unconvertible"]},
    )


def clear_into_history(
    conn: Connection,
    table: str,
    object_name: str,
    before: Mapping[str, Any],
    physical: Mapping[str, Any],
    report: Report,
    author_id: str,
) -> None:
    """Keep the old values that will be left empty in the field's history."""
    column = _column(before, physical["columns"][SIMPLE])
    t = sa.table(table, sa.column("id"), column)
    now = utc_now()
    for start in range(0, len(report.bad_values), BATCH):
        chunk = report.bad_values[start : start + BATCH]
        rows = conn.execute(sa.select(t.c.id, column).where(column.in_(chunk))).all()
        if rows:
            conn.execute(
                field_history.insert(),
                [
                    {
                        "id": new_id(),
                        "object": object_name,
                        "record_id": rid,
                        "field": before["api_name"],
                        "old_value": _jsonable(value),
                        "new_value": None,
                        "changed_by": author_id,
                        "changed_at": now,
                    }
                    for rid, value in rows
                ],
            )


def copy_converted(
    conn: Connection,
    table: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    old_column: str,
    new_column: str | None,
    report: Report,
) -> None:
    """Write the converted values: into ``new_column``, or (same storage, values kept)
    empty the unconvertible ones of ``old_column`` in place."""
    source = _column(before, old_column)
    if new_column is None:
        t = sa.table(table, source)
        for start in range(0, len(report.bad_values), BATCH):
            chunk = report.bad_values[start : start + BATCH]
            conn.execute(t.update().where(source.in_(chunk)).values({old_column: None}))
        return
    target = _column(after, new_column)
    t = sa.table(table, source, target)
    items = list(report.converted.items())
    for start in range(0, len(items), BATCH):
        chunk = dict(items[start : start + BATCH])
        new_value = sa.case(
            *[(source == old, sa.literal(new, target.type)) for old, new in chunk.items()]
        )
        conn.execute(t.update().where(source.in_(list(chunk))).values({new_column: new_value}))


def describe(
    conn: Connection,
    table: str,
    before: Any,
    after: Any,
    physical: Mapping[str, Any],
    report: Report | None,
) -> dict[str, Any]:
    """The preview of a field change: counts, unconvertible records and its effect."""
    old_column = before.physical["columns"].get(SIMPLE)
    new_column = physical.get("columns", {}).get(SIMPLE)
    if report is None:
        with_value = 0
        if old_column is not None:
            column = sa.column(old_column)
            query = sa.select(sa.func.count()).select_from(sa.table(table, column))
            with_value = conn.execute(query.where(column.is_not(None))).scalar_one()
        report = Report("no conversion: the values stay as they are", with_value=with_value)
    effect = []
    if new_column and old_column and new_column != old_column:
        effect.append(
            f"adds the column {new_column}, copies the converted values into it and points the "
            f"field at it; the column {old_column} keeps the old values until the field is purged"
        )
    else:
        effect.append("the values stay in their column")
    if report.unconvertible:
        effect.append(
            f"{report.unconvertible} values do not convert: the change is refused unless it "
            "says on_unconvertible: clear, which empties them after keeping their old values "
            "in the field's history"
        )
    return {**report.as_dict(), "effect": effect}
