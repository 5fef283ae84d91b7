"""The portal's pages at ``/portal``: sign-in, invitation, cases, comments, articles.

A portal session is its own: the cookie holds ``crm_portal_user`` and the session
generation, never Flask-Login's key, so it is not a session of the internal app (whose
pages and API answer a portal user as signed out), and an internal session is not one
here. Signing in to either clears the other. Every read and write goes through the
record service as the portal user, so their scope (``scope.py``) and field allow-list
apply here exactly as they would anywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session
from flask import url_for as flask_url_for
from flask_babel import gettext
from flask_wtf import FlaskForm

from crm_platform.api.auth import end_request_reading, request_reading
from crm_platform.core import CrmError, NotFound, ValidationFailed
from crm_platform.core.tables import PORTAL_USER
from crm_platform.runtime import attempt_login
from crm_platform.runtime.records import ListRequest, RecordSession
from crm_platform.runtime.security import Principal, access_for, read_principal
from crm_platform.web.login import LoginForm

from .forms import CaseForm, CommentForm, PasswordForm
from .invitations import accept_invitation, invitation_user
from .present import PortalView

bp = Blueprint(
    "portal",
    __name__,
    url_prefix="/portal",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
USER_KEY = "crm_portal_user"
GENERATION_KEY = "crm_portal_gen"
PUBLIC_ENDPOINTS = frozenset({"portal.login", "portal.invitation", "portal.static"})
_ID = re.compile(r"^[0-9A-Za-z-]{1,64}$")
PAGE = 50


def _org():
    return current_app.extensions["crm_org"]


@bp.before_request
def _portal_session() -> Any:
    """Load the portal user of the cookie (or none); public pages aside, sign in first."""
    g.crm_portal_principal = _session_principal()
    if request.endpoint in PUBLIC_ENDPOINTS or g.crm_portal_principal is not None:
        return None
    return redirect(flask_url_for("portal.login"))


def _session_principal() -> Principal | None:
    user_id = session.get(USER_KEY)
    if not user_id:
        return None
    conn, _model = request_reading()
    principal = read_principal(conn, user_id)
    if (
        principal is None
        or principal.user.user_type != PORTAL_USER
        or not principal.user.active
        or session.get(GENERATION_KEY) != principal.session_generation
    ):
        session.pop(USER_KEY, None)
        session.pop(GENERATION_KEY, None)
        return None
    return principal


def view() -> PortalView:
    """The signed-in customer, their access and language (once per request)."""
    if "crm_portal_view" not in g:
        _conn, model = request_reading()
        principal: Principal = g.crm_portal_principal
        access = access_for(principal, model, model.security)
        language = request.accept_languages.best_match(("en", "zh")) or model.default_language
        g.crm_portal_view = PortalView(principal, access, model, language)
    return g.crm_portal_view


@contextmanager
def reading() -> Iterator[RecordSession]:
    v = view()
    with _org().records.session(
        v.principal.user, write=False, access=v.access, reading=request_reading()
    ) as records:
        yield records


@contextmanager
def writing() -> Iterator[RecordSession]:
    v = view()
    end_request_reading()
    with _org().records.session(v.principal.user) as records:
        yield records


def render(template: str, status: int = 200, **context: Any) -> Any:
    v = view() if g.get("crm_portal_principal") is not None else None
    return render_template(template, v=v, **context), status


@bp.errorhandler(CrmError)
def _refused(error: CrmError) -> Any:
    """A record the customer may not reach is simply not found (never "forbidden")."""
    status = 404 if error.status == 403 else error.status
    message = gettext("Not found") if status == 404 else gettext("Something went wrong")
    return render("portal/error.html", status, message=message)


# --- signing in -----------------------------------------------------------------------------
@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        org = _org()
        end_request_reading()
        with org.db.write() as conn:
            outcome = attempt_login(
                conn,
                form.email.data,
                form.password.data,
                address=request.remote_addr,
                user_agent=request.user_agent.string,
                now=org.clock(),
                method="portal",
                user_type=PORTAL_USER,
            )
        if outcome.throttled:
            error, status = gettext("Too many failed sign-ins. Try again later."), 429
        elif outcome.user is not None:
            session.clear()  # never both an internal and a portal session
            session[USER_KEY] = outcome.user.id
            session[GENERATION_KEY] = outcome.session_generation
            return redirect(flask_url_for("portal.home"))
        else:
            error, status = gettext("Wrong email or password."), 401
    elif request.method == "POST":
        error, status = gettext("The form expired or was incomplete. Try again."), 400
    return render("portal/login.html", status, form=form, error=error)


@bp.post("/logout")
def logout() -> Any:
    if FlaskForm().validate_on_submit():
        session.pop(USER_KEY, None)
        session.pop(GENERATION_KEY, None)
    return redirect(flask_url_for("portal.login"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Any:
    """Set a password from an invitation link (then sign in)."""
    org = _org()
    if len(token) > 100:
        abort(404)
    conn, _model = request_reading()
    invited = invitation_user(conn, token, org.clock())
    if invited is None:
        return render(
            "portal/error.html",
            404,
            message=gettext("This invitation link is unknown, used or expired."),
        )
    form = PasswordForm()
    error, status = None, 200
    if form.validate_on_submit():
        end_request_reading()
        try:
            with org.db.write() as write:
                accept_invitation(write, token, form.password.data, org.clock())
        except ValidationFailed:
            error, status = gettext("Choose a longer password."), 400
        else:
            session.clear()
            return redirect(flask_url_for("portal.login", welcome=1))
    elif request.method == "POST":
        error, status = _form_error(form), 400
    return render("portal/invitation.html", status, form=form, error=error, invited=invited)


def _form_error(form: FlaskForm) -> str:
    for messages in form.errors.values():
        return str(messages[0])
    return gettext("The form expired or was incomplete. Try again.")


# --- cases ----------------------------------------------------------------------------------
@bp.get("/")
def home() -> Any:
    """The customer's cases, newest first."""
    with reading() as records:
        cases = records.list("case", ListRequest(order_by=("-created_at",), limit=PAGE)).records
    return render("portal/cases.html", cases=cases)


def _record_id(value: str) -> str:
    if not _ID.match(value):
        raise NotFound("no such record")
    return value


@bp.get("/cases/<case_id>")
def case(case_id: str) -> Any:
    with reading() as records:
        found = records.get("case", _record_id(case_id))
        comments = _comments(records, found["id"])
    return render("portal/case.html", case=found, comments=comments, form=CommentForm())


def _comments(records: RecordSession, case_id: str) -> list[dict[str, Any]]:
    if records.model.object("case_comment") is None:
        return []
    request_ = ListRequest(where=f"case == '{case_id}'", order_by=("created_at",), limit=200)
    return records.list("case_comment", request_).records


@bp.post("/cases/<case_id>/comments")
def comment(case_id: str) -> Any:
    form = CommentForm()
    if not form.validate_on_submit():
        with reading() as records:
            found = records.get("case", _record_id(case_id))
            comments = _comments(records, found["id"])
        return render(
            "portal/case.html",
            400,
            case=found,
            comments=comments,
            form=form,
            error=_form_error(form),
        )
    with writing() as records:
        found = records.get("case", _record_id(case_id))  # 404 for a case not hers
        records.create("case_comment", {"case": found["id"], "body": form.body.data})
    return redirect(flask_url_for("portal.case", case_id=case_id) + "#comments")


@bp.route("/cases/new", methods=["GET", "POST"])
def new_case() -> Any:
    form = CaseForm()
    if request.method == "POST" and not form.validate_on_submit():
        return render("portal/new_case.html", 400, form=form, error=_form_error(form))
    if request.method == "GET":
        return render("portal/new_case.html", form=form)
    v = view()
    with writing() as records:
        me = records.get("contact", v.principal.contact_id or "")
        values: dict[str, Any] = {
            "subject": form.subject.data,
            "description": form.description.data or None,
            "contact": me["id"],
        }
        if me.get("account"):
            values["account"] = me["account"]
        if "channel" in records.object("case").fields:
            values["channel"] = "Web"
        created = records.create("case", values)
    return redirect(flask_url_for("portal.case", case_id=created["id"]))


# --- knowledge --------------------------------------------------------------------------------
@bp.get("/articles")
def articles() -> Any:
    """Published articles (the scope keeps the others out), by title."""
    with reading() as records:
        if records.model.object("knowledge_article") is None:
            found = []
        else:
            request_ = ListRequest(order_by=("title",), limit=PAGE)
            found = records.list("knowledge_article", request_).records
    return render("portal/articles.html", articles=found)


@bp.get("/articles/<article_id>")
def article(article_id: str) -> Any:
    with reading() as records:
        found = records.get("knowledge_article", _record_id(article_id))
    return render("portal/article.html", article=found)
