"""The frame every page shares: sign-in required, the app switcher and tabs from the
``app`` kind, errors as pages, and Bootstrap served from an installed package."""

from __future__ import annotations

from dataclasses import replace
from importlib.resources import files
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user

from crm_platform.core import CrmError, NotFound
from crm_platform.dedupe import notices
from crm_platform.ui import HOME, App, ui_model

from .context import Viewer, viewer
from .present import Presenter

bp = Blueprint("pages", __name__, template_folder="templates")
BOOTSTRAP_PACKAGE = "flask_admin"  # ships Bootstrap 4's CSS: no CDN, nothing copied here
APP_KEY = "crm_app"


@bp.before_request
def _signed_in() -> Any:
    if request.endpoint == "pages.vendor":
        return None
    notices.start()  # the duplicate warnings of this request's writes
    if not current_user.is_authenticated:
        if request.path == "/":
            return redirect(url_for("web.login"))
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    return None


@bp.after_request
def _duplicate_warnings(response: Response) -> Response:
    """A write an allow-with-warning duplicate rule matched: a warning on the next page."""
    for notice in notices.current():
        rule = viewer().label(notice.labels or notice.label, notice.rule)
        if notice.names:
            text = gettext(
                "Saved, but it may duplicate %(records)s (duplicate rule: %(rule)s).",
                records=", ".join(notice.names),
                rule=rule,
            )
        else:
            text = gettext(
                "Saved, but a duplicate you cannot see may exist (duplicate rule: %(rule)s).",
                rule=rule,
            )
        flash(text, "warning")
    return response


@bp.get("/ui-vendor/bootstrap.min.css")
def vendor() -> Any:
    """Bootstrap's stylesheet from flask-admin's package (public, cached for a day)."""
    folder = files(BOOTSTRAP_PACKAGE).joinpath("static/bootstrap/bootstrap4/css")
    return send_from_directory(str(folder), "bootstrap.min.css", max_age=86400)


def error_titles() -> dict[int, str]:
    """An error page's heading by status, in the viewer's language."""
    return {
        400: gettext("Check what you entered"),
        401: gettext("Sign in first"),
        403: gettext("You may not do this"),
        404: gettext("Not found"),
        409: gettext("This conflicts with another change"),
        412: gettext("Someone else changed this record"),
        429: gettext("Too many requests"),
    }


@bp.errorhandler(CrmError)
def _crm_error(error: CrmError) -> Any:
    """A refused or missing record as a page (the API answers problem+json instead)."""
    title = error_titles().get(error.status, error.title)
    return render_page("pages/error.html", error=error, title=title), error.status


def apps_for(v: Viewer) -> list[App]:
    """The apps the user may use, their first being their home: those defined for them
    (an app naming ``profiles`` only for users holding one of those permission sets;
    administrators see every app) with at least one tab they may read, each showing only
    the tabs they may read; else one derived from every object they may read."""

    def readable(tab: str) -> bool:
        return tab == HOME or v.access.can(tab, "read")

    held = {v.principal.profile, *v.principal.permission_sets} - {None}

    def meant_for(app: App) -> bool:
        return not app.profiles or v.access.all_powerful or bool(held & set(app.profiles))

    def usable(app: App) -> bool:  # not when every object tab is hidden from them
        return all(t == HOME for t in app.tabs) or any(t != HOME for t in app.tabs if readable(t))

    defined = [
        replace(a, tabs=tuple(t for t in a.tabs if readable(t)))
        for a in ui_model(v.model).apps
        if meant_for(a) and usable(a)
    ]
    if defined:
        return defined
    tabs = (HOME, *sorted(n for n in v.model.objects if v.access.can(n, "read")))
    return [App("all", "CRM", tabs)]


def current_app_of(v: Viewer) -> tuple[App, list[App]]:
    apps = apps_for(v)
    wanted = request.args.get("app") or session.get(APP_KEY)
    chosen = next((a for a in apps if a.api_name == wanted), apps[0])
    if request.args.get("app") and session.get(APP_KEY) != chosen.api_name:
        session[APP_KEY] = chosen.api_name
    return chosen, apps


def render_page(template: str, **context: Any) -> str:
    """A page in the frame: the viewer, their apps and tabs, the presenter."""
    v = viewer()
    app, apps = current_app_of(v)
    return render_template(
        template,
        viewer=v,
        present=Presenter(v),
        current=app,
        apps=apps,
        active_tab=context.pop("active_tab", None),
        **context,
    )


class Moved(Exception):
    """A page asked by an object's old name: the same page under its current name."""

    def __init__(self, location: str) -> None:
        self.location = location


@bp.errorhandler(Moved)
def _moved(moved: Moved) -> Any:
    return redirect(moved.location, 301)


def object_or_404(name: str):
    """The object a page is about; an old name (renamed) redirects to the current one."""
    model = viewer().model
    obj = model.object(name)
    if obj is None and name in model.object_aliases:
        current = model.object_aliases[name][0]
        path = request.full_path.rstrip("?")
        raise Moved(path.replace(f"/{name}", f"/{current}", 1))
    if obj is None:
        raise NotFound(f"no object {name!r}")
    return obj
