"""Mass edit and mass delete of the records checked on a list page.

Both go through the record service, all in one transaction per request, and are
**all or none**: every selected record is tried, and when any is refused (a validation
rule, a required field, no access, a record gone) nothing is changed and the page lists
each refused record with its reason, the value chosen kept. Mass edit sets one editable
field, entered through the same widget as the forms; mass delete asks to confirm first.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request
from flask_babel import gettext, ngettext
from flask_wtf import FlaskForm

from crm_platform.core import CrmError, Forbidden, ValidationFailed
from crm_platform.runtime.model import ObjectModel
from crm_platform.runtime.records import ListRequest
from crm_platform.runtime.records.reads import list_records

from .context import Viewer, reading, viewer, writing
from .forms import build_widgets, collect, fill_lookups, place_errors
from .frame import bp, object_or_404, render_page
from .kanban import safe_back
from .present import Presenter
from .widgets import SEARCH_SUFFIX, Widget

MAX_SELECTED = 200  # a request changes at most this many records
REFUSALS = (400, 403, 404, 409, 412)  # a record refused: reported, and nothing changes


class Refused(Exception):
    """Some records were refused: the transaction rolls back (all or none)."""

    def __init__(self, failures: list[tuple[str, str]]) -> None:
        super().__init__(f"{len(failures)} records refused")
        self.failures = failures


def _check_form() -> None:
    if not FlaskForm().validate_on_submit():
        raise ValidationFailed({"csrf_token": gettext("The form expired: send it again.")})


def selected(obj: ObjectModel) -> dict[str, str]:
    """The checked records the viewer may see, id -> name, in the order checked (the
    rest are left out: a record not shared with them is not there)."""
    ids = list(dict.fromkeys(i for i in request.form.getlist("ids") if i))
    if len(ids) > MAX_SELECTED:
        raise ValidationFailed({"ids": f"select at most {MAX_SELECTED} records at a time"})
    if not ids:
        return {}
    with reading() as session:
        page = list_records(
            session,
            session.object(obj.api_name),
            ListRequest(fields=(obj.name_field,), limit=MAX_SELECTED),
            [obj.table.c.id.in_(ids)],
        )
    found = {r["id"]: str(r.get(obj.name_field) or r["id"]) for r in page.records}
    return {i: found[i] for i in ids if i in found}


def editable_widgets(obj: ObjectModel, v: Viewer) -> dict[str, Widget]:
    """The fields a mass edit may set: the form's editable widgets (the layout's fields
    the viewer may edit), secrets and read-only ones left out, and files: an uploaded file
    belongs to one record."""
    _tabs, by_name = build_widgets(obj, v, None)
    out = {}
    for name, widget in by_name.items():
        if widget.read_only or widget.secret or widget.kind == "file":
            continue
        widget.value = [] if widget.kind == "multiselect" else {} if widget.parts else ""
        if widget.kind == "checkbox":
            widget.value = False
        out[name] = widget
    return out


def apply_all(obj: ObjectModel, ids: list[str], change) -> None:
    """``change(session, id)`` for every record in one transaction; any refused: none."""
    failures: list[tuple[str, str]] = []
    with writing() as session:
        for record_id in ids:
            try:
                change(session, record_id)
            except CrmError as error:
                if error.status not in REFUSALS:
                    raise
                failures.append((record_id, reasons(obj, error)))
                if error.status == 409:
                    break  # the database refused (a unique value): its transaction is spent
        if failures:
            raise Refused(failures)


def reasons(obj: ObjectModel, error: CrmError) -> str:
    """A refusal in words, each message after the label of its field."""
    present = Presenter(viewer())
    errors = getattr(error, "errors", None) or error.extra.get("errors") or {}
    parts = []
    for path, messages in errors.items():
        name = path.split(".")[0].split("[")[0]
        label = present.field_label(obj, name) if name in obj.fields else None
        parts.extend(f"{label}: {m}" if label else m for m in messages)
    return "; ".join(parts) or error.detail


def _nothing_selected(obj: ObjectModel) -> Any:
    flash(gettext("Select at least one record first."), "warning")
    return redirect(safe_back(obj, request.form.get("back")))


@bp.post("/o/<object_name>/mass/edit")
def mass_edit(object_name: str) -> Any:
    """Step one chooses the field, step two its value (``apply`` sends it)."""
    v = viewer()
    obj = object_or_404(object_name)
    _check_form()
    if not v.access.can(obj.api_name, "edit"):
        raise Forbidden(f"you may not edit {obj.api_name} records")
    records = selected(obj)
    if not records:
        return _nothing_selected(obj)
    widgets = editable_widgets(obj, v)
    chosen = widgets.get(request.form.get("field", ""))
    context = {"records": records, "widgets": widgets, "chosen": chosen}
    if chosen is None or "apply" not in request.form:
        if chosen is not None:
            with reading() as session:
                fill_lookups(session, {chosen.name: chosen}, v)
        return _edit_page(obj, **context)
    try:
        with reading() as session:
            fill_lookups(session, {chosen.name: chosen}, v)
            data = collect(session, {chosen.name: chosen}, v, obj)
        apply_all(obj, list(records), lambda session, rid: session.update(obj.api_name, rid, data))
    except Refused as refused:
        return _edit_page(obj, failures=refused.failures, status=400, **context)
    except ValidationFailed as error:  # the value itself (a lookup typed by name)
        loose = place_errors(error, {chosen.name: chosen})
        return _edit_page(obj, loose=loose, status=400, **context)
    flash(
        ngettext(
            "%(num)d record changed: %(field)s set.",
            "%(num)d records changed: %(field)s set.",
            len(records),
            field=chosen.label,
        )
    )
    return redirect(safe_back(obj, request.form.get("back")))


def _edit_page(obj, *, records, widgets, chosen, failures=(), loose=(), status=200):
    return (
        render_page(
            "pages/mass_edit.html",
            obj=obj,
            records=records,
            widgets=widgets,
            chosen=chosen,
            failures=list(failures),
            form_errors=list(loose),
            back=safe_back(obj, request.form.get("back")),
            record=None,
            search_suffix=SEARCH_SUFFIX,
            active_tab=obj.api_name,
            title=gettext("Edit %(num)d records", num=len(records)),
        ),
        status,
    )


@bp.post("/o/<object_name>/mass/delete")
def mass_delete(object_name: str) -> Any:
    """Without ``confirm``: the page that asks; with it, every record to the recycle bin."""
    v = viewer()
    obj = object_or_404(object_name)
    _check_form()
    if not v.access.can(obj.api_name, "delete"):
        raise Forbidden(f"you may not delete {obj.api_name} records")
    records = selected(obj)
    if not records:
        return _nothing_selected(obj)
    failures: list[tuple[str, str]] = []
    if "confirm" in request.form:
        try:
            apply_all(obj, list(records), lambda session, rid: session.delete(obj.api_name, rid))
        except Refused as refused:
            failures = refused.failures
        else:
            flash(
                ngettext(
                    "%(num)d record moved to the recycle bin.",
                    "%(num)d records moved to the recycle bin.",
                    len(records),
                )
            )
            return redirect(safe_back(obj, request.form.get("back")))
    page = render_page(
        "pages/mass_delete.html",
        obj=obj,
        records=records,
        failures=failures,
        back=safe_back(obj, request.form.get("back")),
        active_tab=obj.api_name,
        title=gettext("Delete %(num)d records?", num=len(records)),
    )
    return page, 400 if failures else 200
