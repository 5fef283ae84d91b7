"""Who may be told about a record: every notice of a feed (a mention, a post, a change)
goes only to someone who can see the record now, and says only what they may read.

The check is the record service's own read, as that person, in the same transaction
(``as_user``): sharing and field-level security are applied in SQL exactly as when they
open the record, so a notice can never tell more than the record page would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crm_platform.core import Forbidden, NotFound
from crm_platform.runtime.model import ObjectModel
from crm_platform.runtime.security import UserAccess
from crm_platform.runtime.users import get_user


@dataclass(frozen=True)
class Seen:
    """The record as one recipient sees it: their access, and the fields they read."""

    access: UserAccess
    record: Mapping[str, Any]

    def name(self, obj: ObjectModel) -> str | None:
        """The record's name, when the recipient may read it."""
        value = self.record.get(obj.name_field)
        return None if value in (None, "") else str(value)


def seen_by(
    services: Any, obj: ObjectModel, record_id: str, user_id: str, fields=()
) -> Seen | None:
    """The record as ``user_id`` would read it (their readable ones among its name field
    and ``fields``), or None when they cannot see it (or are no active person).

    ``services``: a record session or an event's services (anything with ``conn`` and
    ``as_user``)."""
    user = get_user(services.conn, user_id)
    if user is None or not user.active or user.is_system:
        return None
    reader = services.as_user(user)
    access: UserAccess = reader.access
    readable = set(access.readable_fields(obj.api_name))
    wanted = [f for f in dict.fromkeys((obj.name_field, *fields)) if f in readable] or ["id"]
    try:
        record = reader.get(obj.api_name, record_id, wanted)
    except (NotFound, Forbidden):
        return None
    return Seen(access, record)


def object_label(obj: ObjectModel) -> str:
    """The object's label, as a notice names it (English: notices are stored text)."""
    label = obj.definition.get("label", obj.api_name)
    if isinstance(label, Mapping):
        return str(label.get("en") or next(iter(label.values()), obj.api_name))
    return str(label)


def field_label(obj: ObjectModel, name: str) -> str:
    fld = obj.fields.get(name)
    label = fld.definition.get("label") if fld is not None else None
    if isinstance(label, Mapping):
        return str(label.get("en") or next(iter(label.values()), name))
    return str(label or name)


def record_phrase(obj: ObjectModel, seen: Seen) -> str:
    """``Opportunity “Big deal”`` (or just the object when the name is hidden from them)."""
    name = seen.name(obj)
    label = object_label(obj)
    if name:
        return f"{label} “{name}”"
    return f"{'an' if label[:1].lower() in 'aeiou' else 'a'} {label}"
