"""Home, ``/``: the user's dashboard (the app's, else the first they may read), what
waits for their decision (approvals), the records they changed last in the current
app's objects and those they opened lately (``recent.py``)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext

from crm_platform.api.auth import request_reading
from crm_platform.runtime.records import ListRequest
from crm_platform.runtime.records.names import resolve as resolve_names
from crm_platform.ui import HOME
from crm_platform.workflow.approvals import store as approvals
from crm_platform.workflow.approvals.views import pending_view

from .context import reading, viewer
from .dashboard import home_dashboard
from .frame import bp, current_app_of, render_page
from .recent import recently_viewed

RECENT = 5  # records per object
MAX_OBJECTS = 8  # objects of the app looked at, in tab order (a fixed few queries)


@bp.get("/")
def home() -> Any:
    v = viewer()
    app, _apps = current_app_of(v)
    objects = [t for t in app.tabs if t != HOME][:MAX_OBJECTS]
    recent = []
    with reading() as session:
        for name in objects:
            obj = v.model.object(name)
            if obj is None or not v.access.can(name, "read"):
                continue
            page = session.list(
                name,
                ListRequest(
                    where=f"updated_by == {v.user.id!r}",
                    order_by=("-updated_at",),
                    fields=(obj.name_field, "updated_at"),
                    limit=RECENT,
                ),
            )
            recent += [(obj, record) for record in page.records]
        dashboard = home_dashboard(session, v, app)
        viewed = recently_viewed(session, v)
    conn, _model = request_reading()
    rows = approvals.pending_for(conn, v.user.id)
    names = approvals.user_names(conn, [r["submitted_by"] for r in rows])
    with reading() as session:  # each record's name as the viewer may see it
        record_names = resolve_names(session, [(r["object"], r["record_id"]) for r in rows])
    pending = [
        {**pending_view(r, names), "record_name": record_names.get((r["object"], r["record_id"]))}
        for r in rows
    ]
    return render_page(
        "pages/home.html",
        # newest first across objects
        recent=sorted(recent, key=lambda pair: pair[1]["updated_at"], reverse=True),
        dashboard=dashboard,
        viewed=viewed,
        pending=pending,
        # a new org has nothing to work in yet: say how to get started, not an empty page
        no_objects=not objects,
        may_customise=v.access.has("customize_application"),
        active_tab=HOME,
        title=gettext("Home"),
    )
