"""Authentication of API requests: a bearer token names the user (DESIGN §0 "Serving")."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_login import current_user as session_user
from flask_wtf.csrf import validate_csrf
from sqlalchemy import Connection
from wtforms.validators import ValidationError as CSRFValidationError

from crm_platform.core import Forbidden, Unauthorized
from crm_platform.runtime import Org, OrgModel, User
from crm_platform.runtime.security import (
    Principal,
    UserAccess,
    access_for,
    load_access,
    principal_for_token,
)

F = TypeVar("F", bound=Callable[..., Any])


def current_org() -> Org:
    """The org this app serves (one per deployment today; found per host later)."""
    return current_app.extensions["crm_org"]


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The session generation a UI session cookie was issued in (runtime/sessions.py).
SESSION_GENERATION_KEY = "crm_gen"


def request_connection() -> Connection:
    """The request's read transaction: opened at most once per request (authentication
    and a read view share it) and ended at teardown."""
    if "crm_reading_conn" not in g:
        stack = ExitStack()
        g.crm_reading_conn = stack.enter_context(current_org().db.read())
        g.crm_reading_stack = stack
    return g.crm_reading_conn


def request_reading() -> tuple[Connection, OrgModel]:
    """The request's read transaction and the model it sees (for the metadata version
    authentication read with the user, when it did: no statement of its own)."""
    if "crm_reading" not in g:
        conn = request_connection()
        version = g.get("crm_seen_version")
        g.crm_reading = (conn, current_org().models.model_for(conn, version=version))
    return g.crm_reading


def end_request_reading(_exc: BaseException | None = None) -> None:
    """End the request's read transaction, if one is open (the API's teardown)."""
    take_request_reading()()


def take_request_reading() -> Callable[[], None]:
    """Detach the request's read transaction from the teardown; the caller ends it by
    calling what this returns (a streamed response reads on after its view returned)."""
    g.pop("crm_reading", None)
    g.pop("crm_reading_conn", None)
    g.pop("crm_seen_version", None)
    stack = g.pop("crm_reading_stack", None)
    return stack.close if stack is not None else (lambda: None)


def seen_version(principal: Principal | None) -> None:
    """Remember the metadata version read with the request's user (see request_reading)."""
    if principal is not None and "crm_reading" not in g:
        g.crm_seen_version = principal.metadata_version


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
    # One statement reads the token, the user and their assignments, in the request's
    # read transaction (which a read view goes on using).
    principal = principal_for_token(request_connection(), token.strip())
    if principal is None or not principal.user.active:
        raise Unauthorized("the API token is invalid, revoked or expired")
    seen_version(principal)
    return _signed_in(principal, request_reading()[1])


def _session_user() -> User:
    if request.method not in SAFE_METHODS:
        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except CSRFValidationError as exc:
            raise Forbidden("send the CSRF token of the page in X-CSRFToken") from exc
    _conn, model = request_reading()
    # the session loader (web/login.py) read the principal and checked the cookie's
    # session generation against it, in this read transaction
    principal: Principal | None = g.get("crm_session_principal")
    if principal is None or not principal.user.active:
        raise Unauthorized("the session has ended: sign in again")
    g.crm_session = True
    return _signed_in(principal, model)


def _signed_in(principal: Principal, model: OrgModel) -> User:
    g.crm_access = access_for(principal, model, model.security)
    if request.method not in SAFE_METHODS:
        # a change opens its own write transaction: hold no read snapshot across it
        end_request_reading()
    return principal.user


def current_user() -> User:
    return g.crm_user


def current_access() -> UserAccess:
    """The request user's permissions (computed once per request)."""
    if "crm_access" not in g:
        conn, model = request_reading()
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
