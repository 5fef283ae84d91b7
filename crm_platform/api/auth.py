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
from crm_platform.runtime.records import RequestWrite
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


def writes_in_request_transaction(view: F) -> F:
    """Mark a view whose change runs in the transaction authentication opens: one
    transaction per request (the user is read inside the write, not in a read of its
    own). The view must take that transaction with :func:`take_request_writing` (its
    record session does), and must open no other write: SQLite has one writer."""
    setattr(view, _REQUEST_WRITE, True)
    return view


_REQUEST_WRITE = "crm_writes_in_request_transaction"


def _writes_in_request() -> bool:
    if request.method in SAFE_METHODS:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, _REQUEST_WRITE, False))


def request_connection() -> Connection:
    """The request's transaction: opened at most once per request (authentication and a
    read view share it) and ended at teardown. A read, unless the view was marked with
    :func:`writes_in_request_transaction` and the method changes something."""
    if "crm_reading_conn" not in g:
        stack = ExitStack()
        db = current_org().db
        g.crm_request_writes = _writes_in_request()
        g.crm_reading_conn = stack.enter_context(db.write() if g.crm_request_writes else db.read())
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
    """End the request's transaction, if one is open (the API's teardown): a write no view
    took holds only authentication's reads."""
    take_request_reading()()


def take_request_reading() -> Callable[[], None]:
    """Detach the request's read transaction from the teardown; the caller ends it by
    calling what this returns (a streamed response reads on after its view returned)."""
    stack = _detach_request_transaction()
    return stack.close if stack is not None else (lambda: None)


def take_request_writing() -> RequestWrite | None:
    """The write transaction authentication opened for this request, detached from the
    teardown (None when there is none, or it was taken): whoever takes it commits it by
    leaving its context without an error, and rolls it back with one."""
    if not g.get("crm_request_writes"):
        return None
    conn, version = g.crm_reading_conn, g.get("crm_seen_version")
    stack = _detach_request_transaction()
    assert stack is not None
    return RequestWrite(conn, version, stack)


def _detach_request_transaction() -> ExitStack | None:
    g.pop("crm_reading", None)
    g.pop("crm_reading_conn", None)
    g.pop("crm_seen_version", None)
    g.pop("crm_request_writes", None)
    return g.pop("crm_reading_stack", None)


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
    if request.method not in SAFE_METHODS and not g.get("crm_request_writes"):
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
