"""Sign in and out with a session cookie (HttpOnly, SameSite=Lax), CSRF on every form."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from crm_platform.runtime import THROTTLED, attempt_login, get_user

from .apidocs import bp as apidocs_bp

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/ui-static",
)


class SessionUser(UserMixin):
    """The signed-in user as Flask-Login keeps them (only the id lives in the cookie)."""

    def __init__(self, user_id: str) -> None:
        self.id = user_id


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def _org():
    return current_app.extensions["crm_org"]


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not target:
        return url_for("web.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("web.home")
    return target


@bp.get("/")
def home() -> Any:
    if not current_user.is_authenticated:
        return redirect(url_for("web.login"))
    with _org().db.read() as conn:
        user = get_user(conn, current_user.id)
    return render_template("home.html", user=user)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    status = 200
    error = None
    if form.validate_on_submit():
        with _org().db.write() as conn:
            outcome = attempt_login(
                conn,
                form.email.data,
                form.password.data,
                address=request.remote_addr,
                user_agent=request.user_agent.string,
            )
        if outcome == THROTTLED:
            error, status = "Too many failed sign-ins. Wait 15 minutes and try again.", 429
        elif outcome is not None:
            login_user(SessionUser(outcome.id))
            return redirect(_safe_next(request.args.get("next")))
        else:
            error, status = "Wrong email or password.", 401
    elif request.method == "POST":
        error, status = "The form expired or was incomplete. Try again.", 400
    return render_template("login.html", form=form, error=error), status


@bp.post("/logout")
def logout() -> Any:
    if not FlaskForm().validate_on_submit():
        return render_template("login.html", form=LoginForm(), error="The form expired."), 400
    logout_user()
    return redirect(url_for("web.login"))


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

    @manager.user_loader
    def _load(user_id: str) -> SessionUser | None:
        with _org().db.read() as conn:
            user = get_user(conn, user_id)
        return SessionUser(user.id) if user is not None and user.active else None

    CSRFProtect(app)
    app.register_blueprint(bp)
    app.register_blueprint(apidocs_bp)
