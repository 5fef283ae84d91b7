"""Records the viewer opened lately, kept in their session cookie (signed; nothing is
written to the database on a page view): the last ``KEEP`` record pages they read, newest
first. Home reads them back through the record service, so a record no longer shared
with them, deleted or of an object they may no longer read simply drops out."""

from __future__ import annotations

from typing import Any

from flask import Response, request, session

from crm_platform.runtime.records import ListRequest

from .context import Viewer
from .frame import bp

KEY = "crm_viewed"
KEEP = 8


@bp.after_app_request
def _remember_viewed(response: Response) -> Response:
    """After a record page is shown, put it first in the viewer's list."""
    if request.endpoint == "pages.record_page" and response.status_code == 200:
        args = request.view_args or {}
        entry = [args.get("object_name"), args.get("record_id")]
        kept = [e for e in session.get(KEY, []) if e != entry]
        session[KEY] = [entry, *kept][:KEEP]
    return response


def recently_viewed(reading_session, v: Viewer) -> list[tuple[Any, dict[str, Any]]]:
    """(object, record) of the records viewed lately that the viewer may still read,
    newest first: one list read per object among them."""
    viewed = [tuple(e) for e in session.get(KEY, []) if isinstance(e, list) and len(e) == 2]
    by_object: dict[str, list[str]] = {}
    for name, record_id in viewed:
        by_object.setdefault(name, []).append(record_id)
    found: dict[tuple[str, str], tuple[Any, dict[str, Any]]] = {}
    for name, ids in by_object.items():
        obj = v.model.object(name)
        if obj is None or not v.access.can(name, "read"):
            continue
        listed = ", ".join(repr(str(i)) for i in ids)
        page = reading_session.list(
            name,
            ListRequest(where=f"IN(id, [{listed}])", fields=(obj.name_field,), limit=KEEP),
        )
        for record in page.records:
            found[(name, record["id"])] = (obj, record)
    return [found[key] for key in viewed if key in found]
