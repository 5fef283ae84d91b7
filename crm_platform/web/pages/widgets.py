"""One form widget per field type (the type registry's ``widget``): what an input shows
and how its submitted text becomes the value the record service takes.

Values go to the record service as the API's JSON would carry them (text, numbers as
text, ISO dates, an aware ISO datetime in the viewer's time zone, lists for multi-select,
a mapping of parts for a compound): it validates them and answers with messages per field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from crm_platform.fieldtypes import USER, field_type
from crm_platform.runtime.model import FieldModel

SEARCH_SUFFIX = "__name"  # a lookup typed by name (too many targets for a select)


@dataclass
class Widget:
    """One field of a form, ready to render."""

    name: str
    field: FieldModel
    kind: str  # the registry's widget: text, textarea, number, currency, lookup...
    label: str
    required: bool
    read_only: bool
    value: Any = None  # the input's text (a list for multi-select, a dict for compounds)
    shown: Markup = field(default_factory=Markup)  # the value as read-only text
    errors: list[str] = field(default_factory=list)
    choices: list[tuple[str, str]] = field(default_factory=list)
    lookup_mode: str = "select"  # select | search | polymorphic
    target: str = ""  # a polymorphic lookup's chosen target object
    lookup_name: str = ""  # the typed (or current) name in search mode
    help: str = ""
    parts: tuple[str, ...] = ()
    hidden: bool = False  # the layout's visible_if does not hold for the values typed
    locked: bool = False  # the layout's read_only_if holds: shown, disabled, never sent
    file_name: str = ""  # a file field: the name of the file it holds
    pending: str = ""  # a file field: a file uploaded with a send that was refused

    @property
    def input_type(self) -> str:
        return {
            "email": "email",
            "phone": "tel",
            "url": "url",
            "date": "date",
            "datetime": "datetime-local",
            "time": "time",
        }.get(self.kind, "text")

    @property
    def secret(self) -> bool:
        """An encrypted field: never put in the page; left empty, it stays as it is."""
        return self.kind == "secret"

    @property
    def numeric(self) -> bool:
        return self.kind in ("number", "currency", "percent", "duration")


def widget_kind(f: FieldModel) -> str:
    kind = field_type(f.type)
    if kind.read_only:
        return "readonly"
    return kind.widget


def input_text(f: FieldModel, value: Any, zone: ZoneInfo) -> Any:
    """A stored value as its input shows it."""
    if value is None:
        return "" if not field_type(f.type).compound else {}
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict) and field_type(f.type).relation:
        return value.get("id", "")
    return value


def submitted(widget: Widget, form: MultiDict) -> Any:
    """What the form sent for a widget, as its input shows it again after an error."""
    name = widget.name
    if widget.kind == "checkbox":
        return name in form
    if widget.kind == "secret":
        return form.get(name, "")
    if widget.kind == "multiselect":
        return form.getlist(name)
    if widget.parts:
        return {part: form.get(f"{name}.{part}", "") for part in widget.parts}
    if widget.kind == "lookup" and widget.lookup_mode == "search":
        widget.lookup_name = form.get(name + SEARCH_SUFFIX, "")
        return widget.lookup_name
    return form.get(name, "")


def to_value(widget: Widget, raw: Any, zone: ZoneInfo) -> Any:
    """The value the record service takes for what a widget sent (lookups by name are
    resolved by the caller); malformed text goes through as text, for the service's
    own message."""
    if widget.kind == "checkbox":
        return bool(raw)
    if widget.kind == "multiselect":
        return list(raw)
    if widget.parts:
        parts = {k: (v.strip() or None) for k, v in raw.items()}
        return parts if any(v is not None for v in parts.values()) else None
    text = raw.strip() if isinstance(raw, str) else raw
    if text in ("", None):
        return None
    if widget.kind == "json":
        try:
            return json.loads(text)
        except ValueError:
            return text  # the service names the field and what it expected
    if widget.kind == "datetime":
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return text
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.isoformat()
    return text


def is_user_lookup(f: FieldModel) -> bool:
    return f.targets == (USER,)
