"""Authentication of API requests: a bearer token names the user (DESIGN §0 "Serving")."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request

from crm_platform.core import Forbidden, Unauthorized
from crm_platform.runtime import Org, User, get_user, resolve_token

F = TypeVar("F", bound=Callable[..., Any])


def current_org() -> Org:
    """The org this app serves (one per deployment today; found per host later)."""
    return current_app.extensions["crm_org"]


def authenticate_request() -> User:
    """The active user behind the request's bearer token; 401 otherwise."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "send an API token: Authorization: Bearer <token>",
            extra={"hint": "create one with `crm token create --user EMAIL`"},
        )
    with current_org().db.read() as conn:
        user_id = resolve_token(conn, token.strip())
        user = get_user(conn, user_id) if user_id else None
    if user is None or not user.active:
        raise Unauthorized("the API token is invalid, revoked or expired")
    return user


def current_user() -> User:
    return g.crm_user


def require_admin(view: F) -> F:
    """Refuse the view to anyone but an administrator."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user().is_admin:
            raise Forbidden("only an administrator may change metadata")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
