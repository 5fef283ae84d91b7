"""Record pages, ``/r/<object>/<id>``: the layout's sections (formulas and roll-ups
computed by the record service), lookups as links, related lists with a "new" that
pre-fills the lookup, field history when tracked; and delete with confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, request
from flask_babel import gettext
from flask_wtf import FlaskForm

from crm_platform.core import CrmError, ValidationFailed
from crm_platform.expressions import ExpressionError, ValueType, parse
from crm_platform.runtime.model import ObjectModel
from crm_platform.runtime.records import ListRequest, Page
from crm_platform.ui import Layout, RelatedList, Section, layout_for

from .approval_panel import approval_panel
from .context import Viewer, reading, viewer, writing
from .conversions import record_conversions
from .feed_panel import feed_panel
from .frame import bp, object_or_404, render_page
from .portal_invite import may_invite
from .timeline import timeline

RELATED_ROWS = 10


@dataclass(frozen=True)
class ShownRelated:
    """A related list as the page shows it."""

    spec: RelatedList
    child: ObjectModel
    columns: tuple[str, ...]
    page: Page
    can_create: bool


def readable_sections(layout: Layout, obj: ObjectModel, v: Viewer):
    """The layout's tabs and sections with only the fields the viewer may read (a
    section left empty is dropped)."""
    tabs = []
    for label, sections in layout.tabs:
        kept = []
        for section in sections:
            fields = tuple(
                f
                for f in section.fields
                if f.name in obj.fields and v.access.field_readable(obj.api_name, f.name)
            )
            if fields:
                kept.append(Section(section.label, section.columns, fields))
        if kept:
            tabs.append((label, tuple(kept)))
    return tabs


def _visible(session, obj: ObjectModel, source: str | None, record: dict[str, Any]) -> bool:
    """A ``visible_if`` on the record's values, evaluated by the server. A condition that
    reads a field the viewer may not read is not evaluated (the field shows): whether a
    field shows must not tell them what the hidden one holds."""
    if not source:
        return True
    try:
        paths = parse(source).field_paths
    except ExpressionError:
        return True
    if not all(session.access.path_readable(obj.api_name, p) for p in paths):
        return True
    try:
        return session.evaluate_on(obj, source, record, "visible_if", ValueType.BOOLEAN) is True
    except CrmError:
        return True


def related_lists(session, layout: Layout, obj: ObjectModel, record_id: str, v: Viewer):
    shown = []
    for spec in layout.related:
        child = v.model.object(spec.child)
        if child is None or not v.access.can(child.api_name, "read"):
            continue
        columns = tuple(
            c
            for c in (spec.columns or (child.name_field,))
            if v.access.path_readable(child.api_name, tuple(c.split(".")))
        ) or ("id",)
        page = session.related(
            obj.api_name,
            record_id,
            f"{spec.child}.{spec.link}",
            ListRequest(fields=columns, order_by=spec.sort, limit=RELATED_ROWS, count=True),
        )
        can_create = v.access.can(child.api_name, "create") and v.access.field_editable(
            child.api_name, spec.link
        )
        shown.append(ShownRelated(spec, child, columns, page, can_create))
    return shown


def may_change(session, obj: ObjectModel, record_id: str) -> bool:
    """Whether the viewer may change (edit or delete) this record: a record shared with
    them read-only shows no Edit or Delete."""
    try:
        session.require_edit_access(obj, record_id)
    except CrmError:
        return False
    return True


@bp.get("/r/<object_name>/<record_id>")
def record_page(object_name: str, record_id: str) -> Any:
    v = viewer()
    obj = object_or_404(object_name)
    layout = layout_for(v.model, obj)
    tracked = any(f.definition.get("track_history") for f in obj.fields.values())
    with reading() as session:
        record = session.get(obj.api_name, record_id)
        sections = readable_sections(layout, obj, v)
        hidden = {
            f.name
            for _label, tab in sections
            for section in tab
            for f in section.fields
            if not _visible(session, obj, f.visible_if, record)
        }
        related = related_lists(session, layout, obj, record_id, v)
        history = session.history(obj.api_name, record_id) if tracked else []
        changeable = may_change(session, obj, record_id)
        feed = feed_panel(session, obj, record_id, v)
        activities, log_actions = timeline(session, obj, record_id, v, feed.posts)
        approvals = approval_panel(session, obj, record_id, v, changeable)
        conversions = record_conversions(session, v, obj, record) if changeable else []
    name = record.get(obj.name_field)
    return render_page(
        "pages/record.html",
        obj=obj,
        record=record,
        tabs=sections,
        hidden=hidden,
        related=related,
        history=history,
        activities=activities,
        feed=feed,
        log_actions=log_actions,
        approvals=approvals,
        can_edit=changeable and v.access.can(obj.api_name, "edit"),
        can_delete=changeable and v.access.can(obj.api_name, "delete"),
        conversions=conversions,
        portal_invite=may_invite(v, obj.api_name, record),
        active_tab=obj.api_name,
        title=str(name or record_id),
    )


@bp.route("/r/<object_name>/<record_id>/delete", methods=["GET", "POST"])
def delete_page(object_name: str, record_id: str) -> Any:
    """GET asks to confirm; the confirmation's POST moves the record to the recycle bin."""
    v = viewer()
    obj = object_or_404(object_name)
    form = FlaskForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            raise ValidationFailed({"csrf_token": "the form expired: try again"})
        with writing() as session:
            session.delete(obj.api_name, record_id)
        label = v.label(obj.definition.get("label"), obj.api_name)
        flash(gettext("The %(object)s was deleted.", object=label))
        return redirect(f"/o/{obj.api_name}")
    with reading() as session:
        record = session.get(obj.api_name, record_id, [obj.name_field])
    return render_page(
        "pages/confirm_delete.html",
        obj=obj,
        record=record,
        active_tab=obj.api_name,
        title=gettext("Delete"),
    )
