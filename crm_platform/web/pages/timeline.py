"""The record page's activity timeline: tasks, events, notes, calls and emails logged
against the record, newest first, only what the viewer may see (ADR 0037).

Which objects are activities is read from metadata, not named here: the objects the
activities pack installed (``ACTIVITY_PACK``), found through each of their lookups —
simple or polymorphic — that points at the record's object. Each is read through the
record service's related-list read (sharing and field-level security in SQL): one read
per activity relation, whatever the number of objects in the org.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from crm_platform.api.auth import request_reading
from crm_platform.packs.state import read_components
from crm_platform.runtime.model import ObjectModel
from crm_platform.runtime.records import ListRequest

from .context import Viewer

ACTIVITY_PACK = "core_activities"
PER_RELATION = 10  # entries read per activity relation
SHOWN = 20  # entries the timeline shows
WHEN_TYPES = ("datetime", "date")  # an activity's own moment: its first such field


@dataclass(frozen=True)
class Entry:
    """One activity as the timeline shows it."""

    object: ObjectModel
    record: dict[str, Any]
    when_field: str | None  # the field giving its moment (created_at when None)
    moment: datetime  # for ordering: the entry's creation


@dataclass(frozen=True)
class LogAction:
    """A "log a …" button: a new activity with its link to this record filled in."""

    object: ObjectModel
    link: str


def activity_objects() -> list[str]:
    """The activity objects of the org (installed by the activities pack)."""
    conn, _model = request_reading()
    installed = read_components(conn, ACTIVITY_PACK)
    return sorted(name for kind, name in installed if kind == "object")


def _when_field(obj: ObjectModel, v: Viewer) -> str | None:
    for name, f in obj.fields.items():
        if f.type in WHEN_TYPES and v.access.field_readable(obj.api_name, name):
            return name
    return None


def _epoch(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    return datetime.min


def timeline(session, obj: ObjectModel, record_id: str, v: Viewer):
    """(entries newest first, "log a …" actions) for the record."""
    names = set(activity_objects())
    entries: list[Entry] = []
    actions: list[LogAction] = []
    for relation in v.model.relations_to.get(obj.api_name, ()):
        child = v.model.object(relation.child)
        if child is None or relation.child not in names:
            continue
        if not v.access.can(child.api_name, "read") or not v.access.field_readable(
            child.api_name, relation.field
        ):
            continue
        when = _when_field(child, v)
        fields = tuple(dict.fromkeys(f for f in (child.name_field, when, "created_at") if f))
        page = session.related(
            obj.api_name,
            record_id,
            f"{child.api_name}.{relation.field}",
            ListRequest(fields=fields, order_by=("-created_at",), limit=PER_RELATION),
        )
        entries.extend(
            Entry(child, r, when, _epoch(r.get("created_at")).replace(tzinfo=None))
            for r in page.records
        )
        polymorphic = len(child.fields[relation.field].targets) != 1
        if (
            not polymorphic
            and v.access.can(child.api_name, "create")
            and v.access.field_editable(child.api_name, relation.field)
        ):
            actions.append(LogAction(child, relation.field))
    entries.sort(key=lambda e: e.moment, reverse=True)
    return entries[:SHOWN], actions
