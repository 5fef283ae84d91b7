"""How the portal shows metadata and values to a customer: labels in their language,
picklist values by their labels, dates in the org's time zone. Only fields the customer
may read are ever shown (``UserAccess.field_readable``, the one decision)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_platform.metadata.labels import resolve_label
from crm_platform.runtime import OrgModel
from crm_platform.runtime.security import Principal, UserAccess


@dataclass
class PortalView:
    """The signed-in customer as the pages see them."""

    principal: Principal
    access: UserAccess
    model: OrgModel
    language: str

    def _choose(self, offered: list[str]) -> str | None:
        if self.language in offered:
            return self.language
        prefix = self.language.split("_")[0]
        return next((o for o in offered if o.split("_")[0] == prefix), None)

    def label(self, label: Any, fallback: str = "") -> str:
        return fallback if not label else resolve_label(label, self._choose)

    def shows(self, object_name: str, field_name: str) -> bool:
        """Whether the customer may read the field (and so whether a page shows it)."""
        obj = self.model.object(object_name)
        return (
            obj is not None
            and field_name in obj.fields
            and self.access.field_readable(object_name, field_name)
        )

    def field_label(self, object_name: str, field_name: str) -> str:
        obj = self.model.object(object_name)
        fld = obj.fields.get(field_name) if obj is not None else None
        return self.label(fld.definition.get("label") if fld else None, field_name)

    def value(self, object_name: str, field_name: str, record: dict[str, Any]) -> str:
        """A readable field's value as text ("" when blank or not readable)."""
        if not self.shows(object_name, field_name):
            return ""
        value = record.get(field_name)
        if value is None or value == "":
            return ""
        fld = self.model.objects[object_name].fields[field_name]
        if fld.type == "picklist":
            for option in fld.definition.get("values", ()):
                if option.get("value") == value:
                    return self.label(option.get("label"), str(value))
        if fld.type in {"lookup", "master_detail"}:
            return str((record.get("_names") or {}).get(field_name) or "")
        return self.when(value) if isinstance(value, date) else str(value)

    def when(self, value: Any) -> str:
        """A date or datetime for people: in the org's time zone, to the minute."""
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return value
        if isinstance(value, datetime):
            try:
                zone = ZoneInfo(self.model.time_zone)
            except (ZoneInfoNotFoundError, ValueError):
                zone = ZoneInfo("UTC")
            return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        return value.isoformat() if isinstance(value, date) else str(value)

    def author(self, comment: dict[str, Any]) -> str:
        names = comment.get("_names") or {}
        return str(names.get("author") or names.get("created_by") or "")
