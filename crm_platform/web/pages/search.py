"""Global search, ``/search?q=``: the search index's best hits across every object the
viewer may read, grouped by object — each group its label in the viewer's language,
the records' names with a few key columns of the object's first list view, and a link
to the object's list narrowed by the same words.

The hits come from the record service's search (sharing and field-level security in
SQL, before the limit); the key columns from one list read per object found, through
the same service. A page never reads an object table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from flask_babel import gettext

from crm_platform.core import ValidationFailed
from crm_platform.runtime.model import ObjectModel
from crm_platform.runtime.records import ListRequest
from crm_platform.runtime.records.search import MAX_QUERY
from crm_platform.ui import list_views_for

from .context import Viewer, reading, viewer
from .frame import bp, render_page

HITS = 100  # the best hits across objects, before grouping
PER_OBJECT = 5  # records shown per object; the rest are behind its "more" link
KEY_COLUMNS = 3  # columns shown beside a record's name


@dataclass(frozen=True)
class Group:
    """One object's hits as the page shows them."""

    obj: ObjectModel
    columns: tuple[str, ...]
    records: list[dict[str, Any]]
    found: int  # hits of this object among the best ``HITS``


def key_columns(obj: ObjectModel, v: Viewer) -> tuple[str, ...]:
    """The first few readable columns of the object's first list view, after its name."""
    view = list_views_for(v.model, obj)[0]
    readable = [
        c
        for c in view.columns
        if c != obj.name_field and v.access.path_readable(obj.api_name, tuple(c.split(".")))
    ]
    return tuple(readable[:KEY_COLUMNS])


def _quote(text: str) -> str:
    return repr(str(text))


def grouped_hits(q: str, v: Viewer) -> list[Group]:
    """The hits for ``q`` grouped by object, objects in the order of their best hit."""
    with reading() as session:
        hits = session.search(q, None, HITS)
        by_object: dict[str, list[str]] = {}
        for hit in hits:
            by_object.setdefault(hit["object"], []).append(hit["id"])
        groups = []
        for name, ids in by_object.items():
            obj = v.model.object(name)
            if obj is None:
                continue
            columns = key_columns(obj, v)
            shown = ids[:PER_OBJECT]
            named = v.access.field_readable(name, obj.name_field)
            fields = (obj.name_field, *columns) if named else columns
            page = session.list(
                name,
                ListRequest(
                    where=f"IN(id, [{', '.join(_quote(i) for i in shown)}])",
                    fields=fields or ("id",),
                    limit=PER_OBJECT,
                ),
            )
            rank = {record_id: n for n, record_id in enumerate(shown)}
            records = sorted(page.records, key=lambda r: rank.get(r["id"], PER_OBJECT))
            groups.append(Group(obj, columns, records, len(ids)))
    return groups


@bp.get("/search")
def search_page() -> Any:
    v = viewer()
    q = request.args.get("q", "").strip()
    groups: list[Group] = []
    error = None
    if len(q) > MAX_QUERY:
        error = gettext("Search for at most %(count)d characters.", count=MAX_QUERY)
    elif q:
        try:
            groups = grouped_hits(q, v)
        except ValidationFailed as failed:
            error = "; ".join(m for messages in failed.errors.values() for m in messages)
    return render_page(
        "pages/search.html",
        q=q,
        groups=groups,
        error=error,
        more_limit=PER_OBJECT,
        title=gettext("Search") if not q else gettext("Search: %(q)s", q=q),
    )
