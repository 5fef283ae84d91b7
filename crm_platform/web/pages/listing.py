"""What a list page lists, from its URL: the list view (``?view=``), the readable
columns, the sort, the filter bar's inputs (``f.<field>=``), the view's filter and
scope, and the quick search (``?q=``) — shared by the list, the Kanban board and the
mass actions, so all three act on exactly the records the list shows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import request
from flask_babel import gettext

from crm_platform.core import ValidationFailed
from crm_platform.fieldtypes import field_type
from crm_platform.runtime.model import FieldModel, ObjectModel
from crm_platform.ui import ListView, list_views_for

from .context import Viewer

SEARCH_HITS = 500  # a quick search narrows the list to the best hits of the search index
TEXT_FILTERS = frozenset({"text", "email", "phone", "url", "long_text", "external_id"})
RANGE_FILTERS = frozenset({"integer", "decimal", "currency", "percent", "date"})


@dataclass(frozen=True)
class Filter:
    """One input of the filter bar."""

    field: str
    kind: str  # text | choice | yes_no | range
    values: tuple[str, ...]  # what was typed: one, or (min, max) for a range


def quote(text: str) -> str:
    """A string literal of the expression language (Python's syntax)."""
    return repr(str(text))


def filters_of(obj: ObjectModel, view: ListView, v: Viewer, args: Any) -> list[Filter]:
    """The filter bar: one input per filterable, readable direct column of the view."""
    found = []
    for column in view.columns:
        field = obj.fields.get(column)
        if field is None or not v.access.field_readable(obj.api_name, column):
            continue
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
            yield f"CONTAINS(LOWER({name}), {quote(item.values[0].strip().lower())})"
        elif item.kind == "choice" and item.values[0]:
            yield f"{name} == {quote(item.values[0])}"
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
    me = quote(v.user.id)
    if view.scope == "mine":
        return f"owner_id == {me}"
    if view.scope == "team":
        roles = sorted(v.access.subordinate_roles)
        if roles:
            listed = ", ".join(quote(r) for r in roles)
            return f"(owner_id == {me} or IN(owner.role, [{listed}]))"
        return f"owner_id == {me}"
    return None


def sortable(obj: ObjectModel, column: str, v: Viewer) -> bool:
    field = obj.fields.get(column.split(".")[0])
    if field is None:
        return column in ("created_at", "updated_at")
    return (
        v.access.path_readable(obj.api_name, tuple(column.split(".")))
        and field.type not in ("multi_picklist", "long_text", "rich_text", "json", "file")
        and not field_type(field.type).compound
        and not field_type(field.type).encrypted
    )


@dataclass(frozen=True)
class ListState:
    """One list as its URL asks for it, for one viewer."""

    obj: ObjectModel
    views: tuple[ListView, ...]
    view: ListView
    columns: tuple[str, ...]  # the view's columns the viewer may read
    order_by: tuple[str, ...]
    filters: tuple[Filter, ...]
    where: str | None  # the view's filter, its scope and the filter bar, as one expression
    q: str

    def search_hits(self, session) -> list[str]:
        """The ids of the search index's best hits for the quick search."""
        return [h["id"] for h in session.search(self.q, [self.obj.api_name], SEARCH_HITS)]

    def search_ids(self, session, hits: list[str] | None = None) -> list[Any]:
        """The quick search as extra conditions of a list (none without a search)."""
        if not self.q:
            return []
        ids = self.search_hits(session) if hits is None else hits
        return [self.obj.table.c.id.in_(ids)]


def list_state(
    obj: ObjectModel, v: Viewer, args: Any = None, default_view: str | None = None
) -> ListState:
    """The list ``args`` (the request's query string) asks for; a malformed filter is a
    400 naming its input. Without ``?view=``, ``default_view`` (the one the current
    app's tab opens), else the object's first."""
    args = request.args if args is None else args
    views = tuple(list_views_for(v.model, obj))
    wanted = args.get("view") or default_view
    view = next((x for x in views if x.api_name == wanted), views[0])
    columns = tuple(
        c for c in view.columns if v.access.path_readable(obj.api_name, tuple(c.split(".")))
    )
    sort = args.get("sort", "")
    sort_column = sort.lstrip("-")
    order_by = (sort,) if sort_column in columns and sortable(obj, sort_column, v) else view.sort
    filters = filters_of(obj, view, v, args)
    conditions = [c for c in (view.filter, scope_expression(view, v)) if c]
    conditions += list(filter_expression(obj, filters))
    where = " and ".join(f"({c})" for c in conditions) or None
    q = args.get("q", "").strip()
    return ListState(obj, views, view, columns, tuple(order_by), tuple(filters), where, q)
