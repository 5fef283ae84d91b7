"""List pages, ``/o/<object>``: a list view's columns, sortable headers, keyset paging
with next and previous, a quick search and a filter bar, with a row count; a check box
per row for the mass actions (``mass.py``); ``?kanban=<picklist>`` shows the same
records as a board (``kanban.py``).

Everything is in the URL (``?view=&sort=&q=&f.<field>=&cursor=&trail=``), so a list is
bookmarkable and works with JavaScript off. Keyset cursors only go forward: the cursors
of the pages before are carried in ``trail`` (at most ``MAX_TRAIL``), and "previous"
is the last of them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import request

from crm_platform.runtime.model import ObjectModel
from crm_platform.runtime.records import ListRequest
from crm_platform.runtime.records.reads import list_records

from . import kanban
from .context import reading, viewer
from .frame import bp, current_app_of, object_or_404, render_page
from .listing import list_state, sortable

PAGE_SIZE = 25
MAX_TRAIL = 30


@bp.get("/o/<object_name>")
def list_page(object_name: str) -> Any:
    v = viewer()
    obj = object_or_404(object_name)
    app, _apps = current_app_of(v)
    state = list_state(obj, v, default_view=app.views.get(obj.api_name))
    if request.args.get("kanban"):
        return kanban.board_page(state, request.args["kanban"])
    columns = state.columns
    order_by = state.order_by
    cursor = request.args.get("cursor") or None
    trail = request.args["trail"].split(",")[-MAX_TRAIL:] if "trail" in request.args else []
    with reading() as session:
        list_request = ListRequest(
            where=state.where,
            order_by=order_by,
            fields=columns or (obj.name_field,),
            limit=PAGE_SIZE,
            cursor=cursor,
            count=True,
        )
        page = list_records(
            session, session.object(obj.api_name), list_request, state.search_ids(session)
        )
    base = {k: v2 for k, v2 in request.args.items(multi=True) if k not in ("cursor", "trail")}
    next_url = previous_url = None
    if page.next_cursor:
        next_url = _url(obj, base, page.next_cursor, [*trail, cursor or ""])
    if cursor:
        back = trail[-1] if trail else ""
        previous_url = _url(obj, base, back or None, trail[:-1])
    can_edit = v.access.can(obj.api_name, "edit")
    can_delete = v.access.can(obj.api_name, "delete")
    return render_page(
        "pages/list.html",
        obj=obj,
        views=state.views,
        view=state.view,
        columns=columns,
        sortable={c for c in columns if sortable(obj, c, v)},
        sort=order_by[0] if order_by else "",
        page=page,
        filters=state.filters,
        filtering=any(k.startswith("f.") and value for k, value in request.args.items()),
        q=state.q,
        next_url=next_url,
        previous_url=previous_url,
        sort_url=lambda column: _sort_url(obj, base, column, order_by),
        can_create=v.access.can(obj.api_name, "create"),
        can_mass=can_edit or can_delete,
        can_edit=can_edit,
        can_delete=can_delete,
        all_selected=request.args.get("selected") == "all",
        boards=kanban.board_fields(obj, state, v),
        here=request.full_path.rstrip("?"),
        select_all_url=_with(obj, request.args, selected="all"),
        board_url=lambda field: _with(obj, request.args, kanban=field, cursor=None, trail=None),
        active_tab=obj.api_name,
        title=v.label(obj.definition.get("plural_label"), obj.api_name),
    )


def _with(obj: ObjectModel, args: Any, **changes: str | None) -> str:
    """This list's URL with some parameters changed (None: left out)."""
    params = {k: v for k, v in args.items(multi=True) if k not in changes}
    params.update({k: v for k, v in changes.items() if v is not None})
    return f"/o/{obj.api_name}?{urlencode(params)}"


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
