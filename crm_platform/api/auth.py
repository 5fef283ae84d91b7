"""Authentication of API requests: a bearer token names the user (DESIGN §0 "Serving")."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_login import current_user as session_user
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError as CSRFValidationError

from crm_platform.core import Forbidden, Unauthorized
from crm_platform.runtime import Org, User, get_user, resolve_token
from crm_platform.runtime.security import UserAccess, load_access

F = TypeVar("F", bound=Callable[..., Any])


def current_org() -> Org:
    """The org this app serves (one per deployment today; found per host later)."""
    return current_app.extensions["crm_org"]


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def authenticate_request() -> User:
    """The active user behind the request's bearer token, or the UI's session cookie
    (then unsafe methods need the CSRF token in ``X-CSRFToken``); 401 otherwise."""
    header = request.headers.get("Authorization", "")
    if not header and session_user.is_authenticated:
        return _session_user()
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "send an API token: Authorization: Bearer <token>",
            extra={"hint": "create one with `crm token create --user EMAIL`"},
        )
    # One read transaction finds the user and loads their access (reused by the
    # record session when the metadata version has not moved).
    with current_org().reading() as (conn, model):
        user_id = resolve_token(conn, token.strip())
        user = get_user(conn, user_id) if user_id else None
        if user is not None and user.active:
            g.crm_access = load_access(conn, user, model, model.security)
    if user is None or not user.active:
        raise Unauthorized("the API token is invalid, revoked or expired")
    return user


def _session_user() -> User:
    if request.method not in SAFE_METHODS:
        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except CSRFValidationError as exc:
            raise Forbidden("send the CSRF token of the page in X-CSRFToken") from exc
    with current_org().reading() as (conn, model):
        user = get_user(conn, session_user.id)
        if user is not None and user.active:
            g.crm_access = load_access(conn, user, model, model.security)
    if user is None or not user.active:
        raise Unauthorized("the session has ended: sign in again")
    g.crm_session = True
    return user


def current_user() -> User:
    return g.crm_user


def current_access() -> UserAccess:
    """The request user's permissions (computed once per request)."""
    if "crm_access" not in g:
        with current_org().reading() as (conn, model):
            g.crm_access = load_access(conn, current_user(), model, model.security)
    return g.crm_access


def require_api_access() -> None:
    """Token access to the API needs the api_enabled system permission (the UI's session
    does not: it is how people use the product, not an integration)."""
    if g.get("crm_session"):
        return
    if not current_access().has("api_enabled"):
        raise Forbidden("API access is not enabled for this user (api_enabled)")


def require_permission(permission: str) -> Callable[[F], F]:
    """Refuse the view unless the user holds a system permission."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_access().has(permission):
                raise Forbidden(f"this needs the {permission} permission")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


require_admin = require_permission("customize_application")
