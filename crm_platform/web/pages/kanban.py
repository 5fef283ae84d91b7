"""The Kanban board, ``/o/<object>?kanban=<picklist>`` (a list view's ``kanban_by``
offers it): a column per active value of the picklist, in its order, labelled in the
viewer's language and marked with the value's colour; each column's count, and the sum
of the view's first currency column; cards showing the name and the view's columns.

The board lists what the list would (the view's filter and scope, the filter bar, the
quick search). Moving a card is an update through the record service with the card's
version (a change by someone else in between is refused, 412): the small script
``static/kanban.js`` sends it to the records API when a card is dropped and puts the
card back with the message when refused; with JavaScript off each card has a form
(select and button) posting to ``/o/<object>/kanban/move``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from flask import flash, redirect, request
from flask_babel import gettext
from flask_wtf import FlaskForm

from crm_platform.core import CrmError, PreconditionFailed, ValidationFailed
from crm_platform.fieldtypes import value_entry
from crm_platform.runtime.model import FieldModel, ObjectModel
from crm_platform.runtime.records import ListRequest
from crm_platform.runtime.records.reads import list_records

from .context import Viewer, reading, viewer, writing
from .frame import bp, object_or_404, render_page
from .listing import ListState, quote
from .present import Presenter

CARDS = 50  # per column: a board is for working a pipeline, the list for reading all of it
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
NO_VALUE = ""  # the column of records with no value


@dataclass
class Column:
    """One column of the board."""

    value: str  # NO_VALUE for records without one
    label: str
    colour: str | None
    droppable: bool  # an active value (or "none" on an optional field): a card may move here
    count: int = 0
    total: Decimal | None = None
    cards: list[dict[str, Any]] = field(default_factory=list)


def board_fields(obj: ObjectModel, state: ListState, v: Viewer) -> list[str]:
    """The picklists a board can group this list by: the view's ``kanban_by`` first,
    then the view's other picklist columns (those the viewer may read)."""
    names = [state.view.kanban_by] if state.view.kanban_by else []
    names += [c for c in state.columns if c not in names]
    return [n for n in names if _groupable(obj, n, v)]


def _groupable(obj: ObjectModel, name: str, v: Viewer) -> bool:
    f = obj.fields.get(name)
    return f is not None and f.type == "picklist" and v.access.field_readable(obj.api_name, name)


def board_field(obj: ObjectModel, name: str, v: Viewer) -> FieldModel:
    """The picklist a board groups by (400 naming ``kanban`` when it is not one the
    viewer may read)."""
    if not _groupable(obj, name, v):
        raise ValidationFailed({"kanban": gettext("Choose a picklist field to group by.")})
    return obj.fields[name]


def columns_of(f: FieldModel, v: Viewer) -> list[Column]:
    """A column per active value, in the picklist's order, then "no value"."""
    out = []
    for entry in map(value_entry, f.definition.get("values", ())):
        if not entry.get("active", True):
            continue
        colour = entry.get("color")
        out.append(
            Column(
                entry["value"],
                v.label(entry.get("label"), entry["value"]),
                colour if isinstance(colour, str) and COLOUR.match(colour) else None,
                True,
            )
        )
    required = bool(f.definition.get("required"))
    out.append(Column(NO_VALUE, gettext("No value"), None, not required))
    return out


def currency_column(obj: ObjectModel, state: ListState) -> str | None:
    """The view's first currency column (a field of the object itself), summed per column."""
    for name in state.columns:
        f = obj.fields.get(name)
        if f is not None and f.type == "currency":
            return name
    return None


def _searched(session, state: ListState) -> tuple[str | None, list[Any]]:
    """The board's expression and extra conditions: the quick search's hits narrow both
    the figures (as ``IN(id, [...])``) and the cards."""
    if not state.q:
        return state.where, []
    ids = state.search_hits(session)
    extra = state.search_ids(session, ids)
    listed = ", ".join(quote(i) for i in ids) or "''"
    parts = [p for p in (state.where, f"IN(id, [{listed}])") if p]
    return " and ".join(f"({p})" for p in parts), extra


def fill_board(session, state: ListState, f: FieldModel, columns: list[Column]) -> None:
    """Each column's figures (one grouped query) and first ``CARDS`` cards (one query per
    column). Records holding an inactive value get a column of their own (not droppable)."""
    obj = state.obj
    where, extra = _searched(session, state)
    summed = currency_column(obj, state)
    metrics = ["count", *([f"sum({summed})"] if summed else [])]
    figures = session.aggregate(obj.api_name, [f.api_name], metrics, where)
    known = {c.value for c in columns}
    for row in figures:
        value = row[f.api_name] or NO_VALUE
        if value not in known:
            label = Presenter(viewer()).choice_label(f, value)
            columns.insert(len(columns) - 1, Column(value, label, None, False))
            known.add(value)
    by_value = {c.value: c for c in columns}
    for row in figures:
        column = by_value[row[f.api_name] or NO_VALUE]
        column.count += row["count"]
        if summed:
            column.total = (column.total or Decimal(0)) + (row[f"sum({summed})"] or Decimal(0))
    fields = tuple(dict.fromkeys((obj.name_field, *state.columns, f.api_name, "version")))
    for column in columns:
        if not column.count:
            if summed:
                column.total = column.total or Decimal(0)
            continue
        test = f"ISBLANK({f.api_name})" if column.value == NO_VALUE else None
        test = test or f"{f.api_name} == {quote(column.value)}"
        request_ = ListRequest(
            where=" and ".join(f"({p})" for p in (where, test) if p),
            order_by=state.order_by,
            fields=fields,
            limit=CARDS,
        )
        column.cards = list_records(session, session.object(obj.api_name), request_, extra).records


def board_page(state: ListState, field_name: str) -> Any:
    """The board of the list ``state`` describes, grouped by ``field_name``."""
    v = viewer()
    obj = state.obj
    f = board_field(obj, field_name, v)
    columns = columns_of(f, v)
    with reading() as session:
        fill_board(session, state, f, columns)
    shown = [c for c in columns if c.value != NO_VALUE or c.count]
    args = {k: x for k, x in request.args.items(multi=True) if k not in ("kanban", "selected")}
    return render_page(
        "pages/kanban.html",
        obj=obj,
        state=state,
        field=f,
        board=shown,
        targets=[c for c in columns if c.droppable],
        card_columns=[c for c in state.columns if c not in (obj.name_field, f.api_name)],
        summed=currency_column(obj, state),
        movable=movable(obj, f, v),
        table_url=f"/o/{obj.api_name}?{urlencode(args)}",
        here=request.full_path.rstrip("?"),
        can_create=v.access.can(obj.api_name, "create"),
        active_tab=obj.api_name,
        title=Presenter(v).plural_label(obj),
    )


def movable(obj: ObjectModel, f: FieldModel, v: Viewer) -> bool:
    """Whether the viewer may move cards (edit the object and the grouping field); a
    record shared with them read-only is refused by the service when moved."""
    return v.access.can(obj.api_name, "edit") and v.access.field_editable(obj.api_name, f.api_name)


def safe_back(obj: ObjectModel, back: str | None) -> str:
    """Where to return after a form: this object's list (never another site)."""
    prefix = f"/o/{obj.api_name}"
    if back and (back == prefix or back.startswith(prefix + "?")):
        return back
    return prefix


@bp.post("/o/<object_name>/kanban/move")
def move_card(object_name: str) -> Any:
    """A card moved with JavaScript off: the record's picklist set to the chosen column,
    at the version the board showed; refused, the board says why and nothing changed."""
    v = viewer()
    obj = object_or_404(object_name)
    back = safe_back(obj, request.form.get("back"))
    if not FlaskForm().validate_on_submit():
        raise ValidationFailed({"csrf_token": gettext("The form expired: send it again.")})
    f = board_field(obj, request.form.get("field", ""), v)
    record_id = request.form.get("id", "")
    try:
        version = int(request.form.get("version", ""))
    except ValueError as exc:
        raise ValidationFailed({"version": "give the record's version"}) from exc
    value = request.form.get("value") or None
    try:
        with writing() as session:
            record = session.update(obj.api_name, record_id, {f.api_name: value}, if_match=version)
    except PreconditionFailed:
        flash(gettext("Someone else changed this record since the board was shown."), "danger")
        return redirect(back)
    except CrmError as error:
        if error.status not in (400, 403, 409):
            raise
        flash(gettext("Not moved: %(reason)s", reason=refusal(error)), "danger")
        return redirect(back)
    name = record.get(obj.name_field) or record_id
    label = Presenter(v).choice_label(f, value) if value else gettext("No value")
    flash(gettext("“%(name)s” moved to %(column)s.", name=name, column=label))
    return redirect(back)


def refusal(error: CrmError) -> str:
    """The record service's messages as one sentence."""
    errors = getattr(error, "errors", None) or error.extra.get("errors") or {}
    messages = [m for msgs in errors.values() for m in msgs]
    return "; ".join(messages) or error.detail
