"""Values and labels as people read them: in the viewer's language and time zone, a
lookup as a link showing its target's name, a picklist value by its label."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from flask_babel import format_date, format_decimal, format_time, gettext, lazy_gettext
from markupsafe import Markup, escape

from crm_platform.fieldtypes import USER, field_type, value_entry
from crm_platform.runtime.model import FieldModel, ObjectModel

from .context import Viewer

SYSTEM_LABELS = {
    "id": lazy_gettext("Id"),
    "owner_id": lazy_gettext("Owner"),
    "created_at": lazy_gettext("Created"),
    "created_by": lazy_gettext("Created by"),
    "updated_at": lazy_gettext("Last modified"),
    "updated_by": lazy_gettext("Modified by"),
    "version": lazy_gettext("Version"),
}
SAFE_SCHEMES = ("http://", "https://")


def humanise(api_name: str) -> str:
    return api_name.replace("_", " ").capitalize()


ANY_VALUE = object()  # a dependent picklist shown without its controlling value


class Presenter:
    """Labels and shown values for one viewer (templates call it as ``present``)."""

    def __init__(self, viewer: Viewer) -> None:
        self.v = viewer

    # --- labels ------------------------------------------------------------------------

    def object_label(self, obj: ObjectModel) -> str:
        return self.v.label(obj.definition.get("label"), humanise(obj.api_name))

    def plural_label(self, obj: ObjectModel) -> str:
        plural = obj.definition.get("plural_label")
        return self.v.label(plural, self.object_label(obj) + "s")

    def field_label(self, obj: ObjectModel, path: str) -> str:
        """A field's label; a dotted path reads "Account › Industry", and a lookup's
        name (``account.name``, ``owner.name``) just "Account" (``OrgModel.labelled_steps``)."""
        return " › ".join(
            self.v.label(fld.definition.get("label"), humanise(step))
            if fld is not None
            else str(SYSTEM_LABELS.get(step, humanise(step)))
            for step, fld in self.v.model.labelled_steps(obj, path.split("."))
        )

    def help_text(self, field: FieldModel) -> str:
        return self.v.label(field.definition.get("help_text"), "")

    def choice_label(self, field: FieldModel, value: str) -> str:
        for entry in map(value_entry, field.definition.get("values", ())):
            if entry["value"] == value:
                return self.v.label(entry.get("label"), value)
        return value

    def choices(
        self, field: FieldModel, current: Any = None, controlled_by: Any = ANY_VALUE
    ) -> list[tuple[str, str]]:
        """(value, label) of a picklist's active values, and the current one if inactive;
        given its controlling field's value (``controlled_by``), a dependent picklist's
        values valid for it."""
        held = set(current if isinstance(current, list) else [current] if current else [])
        out = []
        for entry in map(value_entry, field.definition.get("values", ())):
            if entry["value"] not in held:
                if not entry.get("active", True):
                    continue
                if controlled_by is not ANY_VALUE and controlled_by not in entry.get(
                    "valid_for", (controlled_by,)
                ):
                    continue
            out.append((entry["value"], self.v.label(entry.get("label"), entry["value"])))
        return out

    # --- values ------------------------------------------------------------------------

    def field_at(self, obj: ObjectModel, path: str) -> FieldModel | None:
        """The field a dotted path ends at (None for system fields and users' columns)."""
        current: ObjectModel | None = obj
        field = None
        for step in path.split("."):
            if current is None:
                return None
            field = current.fields.get(step)
            if field is None:
                return None
            targets = field.targets
            current = self.v.model.object(targets[0]) if len(targets) == 1 else None
        return field

    def value(self, obj: ObjectModel, path: str, record: dict[str, Any]) -> Markup:
        """The value of ``path`` in ``record`` as HTML (escaped, links where they help)."""
        value = record.get(path)
        field = self.field_at(obj, path)
        if path in ("owner_id", "created_by", "updated_by"):
            return escape(record.get("_names", {}).get(path) or "")
        if field is None:
            return self.plain(value)
        if field.type == "file" and "." not in path:
            return self.file_link(obj, path, record)
        if field_type(field.type).relation and "." not in path:
            return self.reference(field, value, record.get("_names", {}).get(path))
        return self.typed(field.definition, field.type, value)

    def file_link(self, obj: ObjectModel, path: str, record: dict[str, Any]) -> Markup:
        """A file field's value: its name, linked to the download."""
        value = record.get(path)
        if not isinstance(value, str) or "/" not in value or not record.get("id"):
            return Markup("")
        return Markup('<a href="/r/{}/{}/files/{}" download>{}</a>').format(
            obj.api_name, record["id"], path, value.split("/", 1)[1]
        )

    def reference(self, field: FieldModel, value: Any, name: str | None) -> Markup:
        if value is None:
            return Markup("")
        if isinstance(value, dict):  # polymorphic: {object, id}
            target, record_id = value.get("object"), value.get("id")
        else:
            target, record_id = (field.targets[0] if field.targets else None), value
        if name is None:
            return Markup("")  # a record this viewer cannot see: neither name nor link
        if target is None or target == USER:
            return escape(name)
        return Markup('<a href="/r/{}/{}">{}</a>').format(target, record_id, name)

    def typed(self, definition: Any, type_name: str, value: Any) -> Markup:
        if value is None or value == "" or value == []:
            return Markup("")
        if type_name == "formula":
            return self.typed(definition, definition.get("return_type", "text"), value)
        if type_name == "rollup_summary":
            summarised = self._summarised(definition)
            if summarised is not None and definition.get("function") != "count":
                return self.typed(summarised.definition, summarised.type, value)
        if type_name in ("picklist",):
            field = _Choices(definition)
            return escape(self.choice_label(field, value))  # type: ignore[arg-type]
        if type_name == "multi_picklist":
            field = _Choices(definition)
            return escape(", ".join(self.choice_label(field, v) for v in value))  # type: ignore[arg-type]
        if type_name == "boolean":
            return escape(gettext("Yes") if value else gettext("No"))
        if type_name == "currency" and isinstance(value, Decimal | int):
            return escape(self.number(value, definition.get("scale", 2)))
        if type_name == "percent" and isinstance(value, Decimal | int):
            return escape(f"{self.number(value)}%")
        if type_name in ("integer", "decimal") and isinstance(value, Decimal | int):
            return escape(self.number(value, definition.get("scale")))
        if type_name == "url" and isinstance(value, str) and value.startswith(SAFE_SCHEMES):
            return Markup('<a href="{}" rel="noopener noreferrer">{}</a>').format(value, value)
        if type_name == "email" and isinstance(value, str):
            return Markup('<a href="mailto:{}">{}</a>').format(value, value)
        if type_name == "duration" and isinstance(value, int):
            return escape(f"{value // 3600}h {value % 3600 // 60:02d}m")
        return self.plain(value)

    def _summarised(self, definition: Any) -> FieldModel | None:
        """The child field a roll-up sums (or takes the least or greatest of)."""
        child, _link = definition["relation"].split(".", 1)
        obj = self.v.model.object(child)
        return obj.fields.get(definition.get("field", "")) if obj is not None else None

    def number(self, value: Decimal | int, scale: int | None = None) -> str:
        """A number in the viewer's locale, with ``scale`` decimals when given."""
        if scale is None:
            return format_decimal(value)
        pattern = "#,##0." + "0" * scale if scale > 0 else "#,##0"
        return format_decimal(value, format=pattern)

    def plain(self, value: Any) -> Markup:
        if value is None:
            return Markup("")
        if isinstance(value, datetime):
            local = value.astimezone(self.v.time_zone)
            day, moment = format_date(local.date(), "medium"), format_time(local.time(), "short")
            return escape(f"{day} {moment}")
        if isinstance(value, date):
            return escape(format_date(value, "medium"))
        if isinstance(value, time):
            return escape(format_time(value, "short"))
        if isinstance(value, bool):
            return escape(gettext("Yes") if value else gettext("No"))
        if isinstance(value, Decimal | int | float):
            return escape(format_decimal(value))
        if isinstance(value, dict):
            return escape(", ".join(str(v) for v in value.values() if v not in (None, "")))
        if isinstance(value, list):
            return escape(", ".join(map(str, value)))
        return escape(str(value))


class _Choices:
    """A picklist definition as ``choice_label`` reads it."""

    def __init__(self, definition: Any) -> None:
        self.definition = definition
