"""The record page's activity timeline: tasks, events, notes, calls and emails logged
against the record, and its feed posts, newest first, only what the viewer may see
(ADRs 0037 and 0047).

Which objects are activities is read from metadata: the objects the activities pack
installed (``ACTIVITY_PACK``), and any other object whose name says it is one
(``ACTIVITY_NAMES``: an ``email_message`` a service pack brings, a ``call``), found
through each of their lookups — simple or polymorphic — that points at the record's
object. Each is read through the record service's related-list read (sharing and
field-level security in SQL): one read per activity relation, whatever the number of
objects in the org. Feed posts come from the feed the page already read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
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
# objects that are activities wherever they come from (by name, as the timeline reads them)
ACTIVITY_NAMES = frozenset(
    {"task", "event", "call", "note", "email", "email_message", "meeting", "activity"}
)


@dataclass(frozen=True)
class Entry:
    """One activity (or, with ``post``, one feed post) as the timeline shows it."""

    object: ObjectModel | None
    record: dict[str, Any]
    when_field: str | None  # the field giving its moment (created_at when None)
    moment: datetime  # for ordering: the entry's creation
    post: dict[str, Any] | None = None


@dataclass(frozen=True)
class LogAction:
    """A "log a …" button: a new activity with its link to this record filled in."""

    object: ObjectModel
    link: str


def activity_objects() -> list[str]:
    """The activity objects of the org: installed by the activities pack, or named as one."""
    conn, model = request_reading()
    installed = read_components(conn, ACTIVITY_PACK)
    named = {name for name in model.objects if name in ACTIVITY_NAMES}
    return sorted(named | {name for kind, name in installed if kind == "object"})


def _when_field(obj: ObjectModel, v: Viewer) -> str | None:
    for name, f in obj.fields.items():
        if f.type in WHEN_TYPES and v.access.field_readable(obj.api_name, name):
            return name
    return None


def _naive_utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime.combine(value, time())
    return datetime.min


def _post_entries(posts) -> list[Entry]:
    return [Entry(None, {"id": p["id"]}, None, _moment(p["created_at"]), post=p) for p in posts]


def _moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC).replace(tzinfo=None)


def timeline(session, obj: ObjectModel, record_id: str, v: Viewer, posts=()):
    """(entries newest first, "log a …" actions) for the record; ``posts``: its feed
    posts (newest first), merged in."""
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
        entries.extend(Entry(child, r, when, _naive_utc(r.get("created_at"))) for r in page.records)
        polymorphic = len(child.fields[relation.field].targets) != 1
        if (
            not polymorphic
            and v.access.can(child.api_name, "create")
            and v.access.field_editable(child.api_name, relation.field)
        ):
            actions.append(LogAction(child, relation.field))
    entries.extend(_post_entries(posts))
    entries.sort(key=lambda e: e.moment, reverse=True)
    return entries[:SHOWN], actions
