"""Create and edit forms, ``/o/<object>/new`` and ``/r/<object>/<id>/edit``: the
layout's sections, one widget per field type, CSRF-protected, the record service's
messages next to their fields with everything typed kept; a field the viewer may not
read is absent, one they may not edit read-only; an edit carries the record's version
(a change by someone else in between is refused, not overwritten)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request
from flask_babel import gettext
from flask_wtf import FlaskForm

from crm_platform.api.auth import request_reading
from crm_platform.core import CrmError, Forbidden, PreconditionFailed, ValidationFailed
from crm_platform.fieldtypes import field_type
from crm_platform.runtime.directory import list_users
from crm_platform.runtime.model import FieldModel, ObjectModel
from crm_platform.runtime.records import ListRequest
from crm_platform.ui import layout_for
from crm_platform.ui.file_storage import file_name_of

from . import lookups
from .context import Viewer, reading, viewer, writing
from .files import UNSET, uploaded_value
from .form_rules import apply_states, narrow_dependent, states_for, typed_values
from .frame import bp, object_or_404, render_page
from .messages import for_viewer
from .present import Presenter
from .records import readable_sections
from .widgets import (
    SEARCH_SUFFIX,
    Widget,
    input_text,
    is_user_lookup,
    submitted,
    to_value,
    widget_kind,
)

LOOKUP_OPTIONS = 100  # more visible targets than this: the lookup is typed by name
COMPUTED = frozenset({"formula", "rollup_summary", "auto_number"})


def build_widgets(obj: ObjectModel, v: Viewer, record: dict[str, Any] | None):
    """(tabs of sections of widgets, widgets by name) for the viewer: only readable
    fields; on a new record, computed fields are left out."""
    present = Presenter(v)
    layout = layout_for(v.model, obj)
    tabs, by_name = [], {}
    for label, sections in readable_sections(layout, obj, v):
        shown_sections = []
        for section in sections:
            widgets = []
            for placed in section.fields:
                f = obj.fields[placed.name]
                if record is None and f.type in COMPUTED:
                    continue
                kind = widget_kind(f)
                editable = kind != "readonly" and v.access.field_editable(obj.api_name, f.api_name)
                widget = Widget(
                    f.api_name,
                    f,
                    kind,
                    present.field_label(obj, f.api_name),
                    bool(f.definition.get("required")),
                    not editable,
                    help=present.help_text(f),
                    parts=tuple(field_type(f.type).sub_columns(f.definition))
                    if field_type(f.type).compound
                    else (),
                )
                if kind == "secret":
                    widget.value = ""  # neither the plaintext nor its mask goes in a form
                    if record is not None:
                        widget.shown = present.value(obj, f.api_name, record)
                elif kind == "file":
                    widget.value = ""  # a file input starts empty; the current file is a link
                    if record is not None:
                        widget.file_name = file_name_of(record.get(f.api_name))
                        widget.shown = present.value(obj, f.api_name, record)
                elif record is not None:
                    widget.value = input_text(f, record.get(f.api_name), v.time_zone)
                    widget.shown = present.value(obj, f.api_name, record)
                    widget.lookup_name = record.get("_names", {}).get(f.api_name) or ""
                elif widget.parts:
                    widget.value = {}
                else:
                    widget.value = _default(f, kind)
                if kind in ("select", "multiselect"):
                    widget.choices = present.choices(f, widget.value)
                widgets.append(widget)
                by_name[f.api_name] = widget
            if widgets:
                shown_sections.append((section, widgets))
        if shown_sections:
            tabs.append((label, shown_sections))
    return tabs, by_name


def _default(f: FieldModel, kind: str) -> Any:
    """What a new record's input starts with: the field's literal default, or the
    picklist value marked default (an expression default is the service's to compute)."""
    default = f.definition.get("default")
    if default is None:
        default = field_type(f.type).implied_default(f.definition)
    if kind == "multiselect":
        return list(default) if isinstance(default, list) else []
    if kind == "checkbox":
        return bool(default)
    return "" if default is None else str(default)


def fill_lookups(session, widgets: dict[str, Widget], v: Viewer) -> None:
    """Options of each editable lookup: the target's records the viewer may see, as a
    select, or typed by name when there are too many."""
    for widget in widgets.values():
        if widget.kind != "lookup" or widget.read_only:
            continue
        f = widget.field
        if is_user_lookup(f):
            conn, _model = request_reading()
            widget.choices = [(u["id"], u["name"]) for u in list_users(conn) if u["active"]]
            continue
        if len(f.targets) != 1:
            lookups.make_polymorphic(session, widget, v)  # its target picked first
            continue
        if v.model.object(f.targets[0]) is None:
            widget.read_only = True
            continue
        target = v.model.object(f.targets[0])
        if not v.access.can(target.api_name, "read"):
            widget.lookup_mode = "search"
            continue
        page = session.list(
            target.api_name,
            ListRequest(
                fields=(target.name_field,), order_by=(target.name_field,), limit=LOOKUP_OPTIONS
            ),
        )
        if page.next_cursor:
            widget.lookup_mode = "search"
            continue
        widget.choices = [(r["id"], str(r.get(target.name_field) or r["id"])) for r in page.records]
        if widget.value and widget.value not in {c[0] for c in widget.choices}:
            widget.choices.insert(0, (widget.value, widget.lookup_name or widget.value))


def resolve_lookup_name(session, widget: Widget, text: str) -> str | None:
    """The id of the one visible target whose name is ``text`` (a 400 naming the field
    when none or several are)."""
    target = widget.field.targets[0]
    hits = session.search(text, [target], 20) if text.strip() else []
    exact = [h for h in hits if (h["name"] or "").strip().lower() == text.strip().lower()]
    if len(exact) == 1:
        return exact[0]["id"]
    if not exact and len(hits) == 1:
        return hits[0]["id"]
    if not hits:
        raise ValidationFailed({widget.name: f"no record named “{text}”"})
    names = ", ".join(sorted({h["name"] or "" for h in hits})[:5])
    raise ValidationFailed({widget.name: f"several records match: {names} — type the full name"})


def collect(session, widgets: dict[str, Widget], v: Viewer, obj: ObjectModel) -> dict[str, Any]:
    """The values of the editable widgets from the submitted form (each widget keeps what
    was typed, to show it again after an error)."""
    data: dict[str, Any] = {}
    for widget in widgets.values():
        if widget.read_only:
            continue
        if widget.kind == "file":
            value = uploaded_value(obj, widget, v)
            if value is not UNSET:
                data[widget.name] = value
            continue
        if widget.lookup_mode == lookups.POLYMORPHIC:
            data[widget.name] = lookups.collect_polymorphic(session, widget, request.form)
            continue
        raw = submitted(widget, request.form)
        if widget.secret:
            if raw.strip():
                data[widget.name] = raw.strip()
            continue  # left empty: unchanged (a new record: none); never typed back
        widget.value = raw
        if widget.kind == "lookup" and widget.lookup_mode == "search":
            picked = lookups.picked(session, widget.field.targets[0], raw, widget, request.form)
            named = (
                resolve_lookup_name(session, widget, raw) if raw.strip() and not picked else None
            )
            data[widget.name] = picked or named
            continue
        data[widget.name] = to_value(widget, raw, v.time_zone)
    return data


def place_errors(error: CrmError, widgets: dict[str, Widget]) -> list[str]:
    """Each message next to its field, in the viewer's language; the rest for the top
    of the form."""
    loose = []
    errors = getattr(error, "errors", None) or error.extra.get("errors") or {}
    choose = viewer().choose
    for path, said in errors.items():
        messages = [for_viewer(m, choose) for m in said]
        name = path.split(".")[0].split("[")[0]
        if name in widgets and not widgets[name].read_only:
            widgets[name].errors.extend(messages)
        else:
            loose.extend(f"{path}: {m}" for m in messages)
    if not errors:
        loose.append(error.detail)
    return loose


def apply_rules(
    session, obj: ObjectModel, widgets: dict[str, Widget], v: Viewer, record, data=None
) -> None:
    """Evaluate the layout's conditions on the record as typed (``data``: what the form
    sent, else what its inputs start with) and mark the widgets; a field hidden or locked
    by its condition is not sent to the service (a locked one shows its stored value)."""
    sent = data
    if sent is None:
        sent = {
            w.name: to_value(w, w.value, v.time_zone)
            for w in widgets.values()
            if not w.read_only and not w.secret and w.kind != "lookup"
        }
    elif request.method == "POST":
        for widget in widgets.values():  # a disabled input is not sent: it changes nothing
            if widget.kind in ("checkbox", "multiselect", "file") or widget.parts:
                continue
            # lookups typed by name (one target, or polymorphic) send ``<name>__name``
            searched = widget.kind == "lookup" and widget.lookup_mode in (
                "search",
                lookups.POLYMORPHIC,
            )
            if widget.name + (SEARCH_SUFFIX if searched else "") not in request.form:
                sent.pop(widget.name, None)
    values = {**(record or {}), **typed_values(session, obj, sent)}
    apply_states(widgets, states_for(session, obj, v, values))
    narrow_dependent(obj, widgets, v, values)
    for widget in widgets.values():
        if widget.hidden or widget.locked:
            sent.pop(widget.name, None)
        if widget.locked and record is not None:
            widget.value = input_text(widget.field, record.get(widget.name), v.time_zone)


def _render(obj, tabs, widgets, *, record=None, errors=(), status=200):
    v = viewer()
    title = (
        gettext("Edit %(name)s", name=record.get(obj.name_field) or "").strip()
        if record is not None
        else gettext("New %(object)s", object=Presenter(v).object_label(obj))
    )
    return (
        render_page(
            "pages/form.html",
            obj=obj,
            tabs=tabs,
            record=record,
            form_errors=list(errors),
            active_tab=obj.api_name,
            title=title,
            search_suffix=SEARCH_SUFFIX,
        ),
        status,
    )


@bp.route("/o/<object_name>/new", methods=["GET", "POST"])
def new_record(object_name: str) -> Any:
    v = viewer()
    obj = object_or_404(object_name)
    if not v.access.can(obj.api_name, "create"):
        raise Forbidden(f"you may not create {obj.api_name} records")
    tabs, widgets = build_widgets(obj, v, None)
    with reading() as session:
        fill_lookups(session, widgets, v)
    if request.method == "GET":
        for name, widget in widgets.items():  # ?account=<id>: a related list's "new"
            if (
                name in request.args
                and not widget.read_only
                and widget.kind not in ("multiselect", "checkbox")
            ):
                widget.value = request.args[name]
                if widget.kind == "lookup":
                    with reading() as session:
                        lookups.prefill(session, widget)
        with reading() as session:
            apply_rules(session, obj, widgets, v, None)
        return _render(obj, tabs, widgets)
    if not FlaskForm().validate_on_submit():
        for widget in widgets.values():
            if not widget.read_only:
                widget.value = submitted(widget, request.form)
        return _render(
            obj, tabs, widgets, errors=[gettext("The form expired: send it again.")], status=400
        )
    try:
        with reading() as session:
            data = collect(session, widgets, v, obj)
            apply_rules(session, obj, widgets, v, None, data)
        with writing() as session:
            created = session.create(obj.api_name, data)
    except CrmError as error:
        if error.status not in (400, 403, 409, 412):
            raise
        return _render(obj, tabs, widgets, errors=place_errors(error, widgets), status=error.status)
    flash(
        gettext(
            "%(object)s “%(name)s” was created.",
            object=Presenter(v).object_label(obj),
            name=created.get(obj.name_field) or "",
        )
    )
    return redirect(f"/r/{obj.api_name}/{created['id']}")


@bp.route("/r/<object_name>/<record_id>/edit", methods=["GET", "POST"])
def edit_record(object_name: str, record_id: str) -> Any:
    v = viewer()
    obj = object_or_404(object_name)
    with reading() as session:
        record = session.get(obj.api_name, record_id)
        session.require_edit_access(obj, record_id)  # 403 for a record shared read-only
        tabs, widgets = build_widgets(obj, v, record)
        fill_lookups(session, widgets, v)
    if request.method == "GET":
        with reading() as session:
            apply_rules(session, obj, widgets, v, record, {})
        return _render(obj, tabs, widgets, record=record)
    if not FlaskForm().validate_on_submit():
        for widget in widgets.values():
            if not widget.read_only:
                widget.value = submitted(widget, request.form)
        return _render(
            obj,
            tabs,
            widgets,
            record=record,
            errors=[gettext("The form expired: send it again.")],
            status=400,
        )
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = None
    try:
        with reading() as session:
            data = collect(session, widgets, v, obj)
            apply_rules(session, obj, widgets, v, record, data)
        with writing() as session:
            session.update(obj.api_name, record_id, data, if_match=version)
    except PreconditionFailed:
        message = gettext(
            "Someone else changed this record since you opened it: your changes are not "
            "saved. Open the record again to see theirs."
        )
        return _render(obj, tabs, widgets, record=record, errors=[message], status=412)
    except CrmError as error:
        if error.status not in (400, 403, 409):
            raise
        return _render(
            obj,
            tabs,
            widgets,
            record=record,
            errors=place_errors(error, widgets),
            status=error.status,
        )
    flash(gettext("Your changes were saved."))
    return redirect(f"/r/{obj.api_name}/{record_id}")
