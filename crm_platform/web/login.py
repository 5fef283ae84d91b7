"""Sign in and out with a session cookie (HttpOnly, SameSite=Lax), CSRF on every form.

The cookie holds the user's id and the session generation they signed in with; a
session is valid only while that generation is the user's current one, checked on every
request in the same statement that loads the user's assignments (ADR 0012).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext, lazy_gettext, ngettext
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from crm_platform.api.auth import (
    SESSION_GENERATION_KEY,
    end_request_reading,
    request_connection,
    seen_version,
)
from crm_platform.core.tables import STANDARD_USER
from crm_platform.runtime import attempt_login, end_sessions
from crm_platform.runtime.security import read_principal

from .apidocs import bp as apidocs_bp

ASSET_MAX_AGE = 7 * 86400  # a week: every URL carries the files' digest (``?v=``)


def _assets_digest() -> str:
    """A digest of the static files: it changes when any of them does, so a browser
    that kept an old one asks for the new URL."""
    digest = hashlib.sha256()
    for path in sorted((Path(__file__).parent / "static").glob("*")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


class _AssetsBlueprint(Blueprint):
    """The sign-in pages' blueprint, whose static files are cached for ``ASSET_MAX_AGE``."""

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        return ASSET_MAX_AGE


bp = _AssetsBlueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/ui-static",
)
ASSETS_VERSION = _assets_digest()


@bp.app_url_defaults
def _versioned_assets(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "web.static":
        values.setdefault("v", ASSETS_VERSION)


class SessionUser(UserMixin):
    """The signed-in user as Flask-Login keeps them (only the id lives in the cookie)."""

    def __init__(self, user_id: str) -> None:
        self.id = user_id


class LoginForm(FlaskForm):
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        lazy_gettext("Password"), validators=[DataRequired(), Length(max=1024)]
    )


def _org():
    return current_app.extensions["crm_org"]


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not target:
        return url_for("pages.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    status = 200
    error = None
    retry_after = None
    if form.validate_on_submit():
        org = _org()
        with org.db.write() as conn:
            outcome = attempt_login(
                conn,
                form.email.data,
                form.password.data,
                address=request.remote_addr,
                user_agent=request.user_agent.string,
                now=org.clock(),
            )
        if outcome.throttled:
            retry_after = outcome.retry_after
            error = gettext(
                "Too many failed sign-ins. Try again in %(wait)s.", wait=_wait(retry_after)
            )
            status = 429
        elif outcome.user is not None:
            session.clear()
            login_user(SessionUser(outcome.user.id))
            session[SESSION_GENERATION_KEY] = outcome.session_generation
            return redirect(_safe_next(request.args.get("next")))
        else:
            error, status = gettext("Wrong email or password."), 401
    elif request.method == "POST":
        error, status = gettext("The form expired or was incomplete. Try again."), 400
    response = current_app.make_response(
        (render_template("login.html", form=form, error=error), status)
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _wait(seconds: int) -> str:
    if seconds < 60:
        return ngettext("%(num)d second", "%(num)d seconds", seconds)
    minutes = -(-seconds // 60)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


@bp.post("/logout")
def logout() -> Any:
    if not FlaskForm().validate_on_submit():
        return render_template(
            "login.html", form=LoginForm(), error=gettext("The form expired.")
        ), 400
    user_id = current_user.id if current_user.is_authenticated else None
    end_request_reading()  # the session check's read; the sign-out writes
    if user_id is not None:
        with _org().db.write() as conn:
            end_sessions(conn, user_id)  # every session of the user ends, not only this one
    logout_user()
    session.clear()
    return redirect(url_for("web.login"))


def load_session_user(user_id: str) -> SessionUser | None:
    """The signed-in user of a session cookie, or None when the user is unknown, inactive or
    the session has ended (an older generation). Reads in the request's read transaction,
    one statement with the user's assignments, which the API then uses (``g``)."""
    principal = read_principal(request_connection(), user_id)
    seen_version(principal)
    user = principal.user if principal is not None else None
    if (
        user is None
        or not user.active
        or user.is_system
        or user.user_type != STANDARD_USER  # a portal customer never has an internal session
        or session.get(SESSION_GENERATION_KEY) != principal.session_generation
    ):
        session.clear()  # the cookie is dead: drop it
        return None
    g.crm_session_principal = principal
    return SessionUser(user_id)


def install_login(app: Flask) -> None:
    """Sessions, CSRF protection and the sign-in pages."""
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        # Forms check their CSRF token themselves (FlaskForm); the API checks X-CSRFToken
        # for cookie sessions. No view escapes: the web views are all forms or GETs.
        WTF_CSRF_CHECK_DEFAULT=False,
    )
    manager = LoginManager(app)
    manager.login_view = "web.login"

    manager.user_loader(load_session_user)
    CSRFProtect(app)
    app.register_blueprint(bp)
    app.teardown_request(end_request_reading)  # the session check's read, on every path
    app.register_blueprint(apidocs_bp)
