"""List pages, ``/o/<object>``: a list view's columns, sortable headers, keyset paging
with next and previous, a quick search and a filter bar, with a row count.

Everything is in the URL (``?view=&sort=&q=&f.<field>=&cursor=&trail=``), so a list is
bookmarkable and works with JavaScript off. Keyset cursors only go forward: the cursors
of the pages before are carried in ``trail`` (at most ``MAX_TRAIL``), and "previous"
is the last of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from flask import request
from flask_babel import gettext

from crm_platform.core import ValidationFailed
from crm_platform.fieldtypes import field_type
from crm_platform.runtime.model import FieldModel, ObjectModel
from crm_platform.runtime.records import ListRequest
from crm_platform.runtime.records.reads import list_records
from crm_platform.ui import ListView, list_views_for

from .context import Viewer, reading, viewer
from .frame import bp, object_or_404, render_page

PAGE_SIZE = 25
MAX_TRAIL = 30
SEARCH_HITS = 500  # a quick search narrows the list to the best hits of the search index
TEXT_FILTERS = frozenset({"text", "email", "phone", "url", "long_text", "external_id"})
RANGE_FILTERS = frozenset({"integer", "decimal", "currency", "percent", "date"})


@dataclass(frozen=True)
class Filter:
    """One input of the filter bar."""

    field: str
    kind: str  # text | choice | yes_no | range
    values: tuple[str, ...]  # what was typed: one, or (min, max) for a range


def _quote(text: str) -> str:
    """A string literal of the expression language (Python's syntax)."""
    return repr(str(text))


def filters_of(obj: ObjectModel, view: ListView, v: Viewer) -> list[Filter]:
    """The filter bar: one input per filterable, readable direct column of the view."""
    found = []
    for column in view.columns:
        field = obj.fields.get(column)
        if field is None or not v.access.field_readable(obj.api_name, column):
            continue
        args = request.args
        key = f"f.{column}"
        if field.type in TEXT_FILTERS:
            found.append(Filter(column, "text", (args.get(key, ""),)))
        elif field.type == "picklist":
            found.append(Filter(column, "choice", (args.get(key, ""),)))
        elif field.type == "boolean":
            found.append(Filter(column, "yes_no", (args.get(key, ""),)))
        elif field.type in RANGE_FILTERS:
            found.append(
                Filter(column, "range", (args.get(f"{key}.min", ""), args.get(f"{key}.max", "")))
            )
    return found


def filter_expression(obj: ObjectModel, filters: list[Filter]) -> Iterator[str]:
    """The expression of each filled input; a malformed number or date is a 400 naming it."""
    for item in filters:
        name = item.field
        field: FieldModel = obj.fields[name]
        if item.kind == "text" and item.values[0].strip():
            yield f"CONTAINS(LOWER({name}), {_quote(item.values[0].strip().lower())})"
        elif item.kind == "choice" and item.values[0]:
            yield f"{name} == {_quote(item.values[0])}"
        elif item.kind == "yes_no" and item.values[0] in ("yes", "no"):
            yield f"{name} == {item.values[0] == 'yes'}"
        elif item.kind == "range":
            for bound, op in zip(item.values, (">=", "<="), strict=True):
                if not bound.strip():
                    continue
                yield f"{name} {op} {_literal(field, bound.strip(), name)}"


def _literal(field: FieldModel, text: str, name: str) -> str:
    if field.type == "date":
        try:
            day = date.fromisoformat(text)
            return f"DATE({day.year}, {day.month}, {day.day})"
        except ValueError as exc:
            raise ValidationFailed({f"f.{name}": gettext("give a date as YYYY-MM-DD")}) from exc
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValidationFailed({f"f.{name}": gettext("give a number")}) from exc
    if not number.is_finite():
        raise ValidationFailed({f"f.{name}": gettext("give a number")})
    return str(number)


def scope_expression(view: ListView, v: Viewer) -> str | None:
    """``mine``: owned by the viewer; ``team``: by them or someone in a role below theirs."""
    me = _quote(v.user.id)
    if view.scope == "mine":
        return f"owner_id == {me}"
    if view.scope == "team":
        roles = sorted(v.access.subordinate_roles)
        if roles:
            listed = ", ".join(_quote(r) for r in roles)
            return f"(owner_id == {me} or IN(owner.role, [{listed}]))"
        return f"owner_id == {me}"
    return None


def _sortable(obj: ObjectModel, column: str, v: Viewer) -> bool:
    field = obj.fields.get(column.split(".")[0])
    if field is None:
        return column in ("created_at", "updated_at")
    return (
        v.access.path_readable(obj.api_name, tuple(column.split(".")))
        and field.type not in ("multi_picklist", "long_text", "rich_text", "json", "file")
        and not field_type(field.type).compound
        and not field_type(field.type).encrypted
    )


@bp.get("/o/<object_name>")
def list_page(object_name: str) -> Any:
    v = viewer()
    obj = object_or_404(object_name)
    views = list_views_for(v.model, obj)
    view = next((x for x in views if x.api_name == request.args.get("view")), views[0])
    columns = [c for c in view.columns if v.access.path_readable(obj.api_name, tuple(c.split(".")))]
    sort = request.args.get("sort", "")
    sort_column = sort.lstrip("-")
    order_by = (sort,) if sort_column in columns and _sortable(obj, sort_column, v) else view.sort
    filters = filters_of(obj, view, v)
    conditions = [c for c in (view.filter, scope_expression(view, v)) if c]
    conditions += list(filter_expression(obj, filters))
    where = " and ".join(f"({c})" for c in conditions) or None
    cursor = request.args.get("cursor") or None
    trail = request.args["trail"].split(",")[-MAX_TRAIL:] if "trail" in request.args else []
    q = request.args.get("q", "").strip()
    with reading() as session:
        extra = []
        if q:
            hits = session.search(q, [obj.api_name], SEARCH_HITS)
            extra.append(obj.table.c.id.in_([h["id"] for h in hits]))
        list_request = ListRequest(
            where=where,
            order_by=tuple(order_by),
            fields=tuple(columns) or (obj.name_field,),
            limit=PAGE_SIZE,
            cursor=cursor,
            count=True,
        )
        page = list_records(session, session.object(obj.api_name), list_request, extra)
    base = {k: v2 for k, v2 in request.args.items(multi=True) if k not in ("cursor", "trail")}
    next_url = previous_url = None
    if page.next_cursor:
        next_url = _url(obj, base, page.next_cursor, [*trail, cursor or ""])
    if cursor:
        back = trail[-1] if trail else ""
        previous_url = _url(obj, base, back or None, trail[:-1])
    return render_page(
        "pages/list.html",
        obj=obj,
        views=views,
        view=view,
        columns=columns,
        sortable={c for c in columns if _sortable(obj, c, v)},
        sort=order_by[0] if order_by else "",
        page=page,
        filters=filters,
        filtering=any(k.startswith("f.") and value for k, value in request.args.items()),
        q=q,
        next_url=next_url,
        previous_url=previous_url,
        sort_url=lambda column: _sort_url(obj, base, column, order_by),
        can_create=v.access.can(obj.api_name, "create"),
        active_tab=obj.api_name,
        title=v.label(obj.definition.get("plural_label"), obj.api_name),
    )


def _url(obj: ObjectModel, base: dict[str, Any], cursor: str | None, trail: list[str]) -> str:
    params = dict(base)
    if cursor:
        params["cursor"] = cursor
        params["trail"] = ",".join(trail[-MAX_TRAIL:])
    return f"/o/{obj.api_name}?{urlencode(params)}"


def _sort_url(obj: ObjectModel, base: dict[str, Any], column: str, order_by) -> str:
    current = order_by[0] if order_by else ""
    params = {k: v for k, v in base.items() if k != "sort"}
    params["sort"] = f"-{column}" if current == column else column
    return f"/o/{obj.api_name}?{urlencode(params)}"
