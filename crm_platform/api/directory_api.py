"""Users, group and queue members, and API tokens: platform data with its own API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request, session

from crm_platform.core import Forbidden, TooManyRequests, ValidationFailed
from crm_platform.runtime import (
    User,
    attempt_login,
    create_token,
    directory,
    end_sessions,
    list_tokens,
    revoke_token,
    session_generation,
)

from .auth import (
    SESSION_GENERATION_KEY,
    current_access,
    current_org,
    current_user,
    require_permission,
)
from .jsonio import read_json

bp = Blueprint("directory_api", __name__)


def _may_see_users() -> bool:
    access = current_access()
    return access.has("manage_users") or access.has("view_setup")


@bp.get("/users")
def list_users() -> Response:
    if not _may_see_users():
        raise Forbidden("listing users needs manage_users or view_setup")
    with current_org().db.read() as conn:
        return jsonify({"users": directory.list_users(conn)})


@bp.post("/users")
@require_permission("manage_users")
def create_user() -> Response:
    data = read_json(request)
    org = current_org()
    with org.db.write() as conn:
        user = directory.create_user_record(conn, org.models.model_for(conn), data)
    response = jsonify(user)
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/users/{user['id']}"
    return response


@bp.get("/users/<user_id>")
def get_user(user_id: str) -> Response:
    if user_id != current_user().id and not _may_see_users():
        raise Forbidden("reading other users needs manage_users or view_setup")
    with current_org().db.read() as conn:
        return jsonify(directory.user_view(conn, user_id))


@bp.patch("/users/<user_id>")
def update_user(user_id: str) -> Response:
    may_manage = current_access().has("manage_users")
    me = current_user()
    if user_id != me.id and not may_manage:
        raise Forbidden("changing other users needs the manage_users permission")
    data = read_json(request)
    current_password = data.pop("current_password", None) if isinstance(data, dict) else None
    if isinstance(data, dict) and "password" in data and (user_id == me.id or not may_manage):
        # your own password: prove you know the current one (an administrator resetting
        # someone else's is exempt), checked and throttled like a sign-in
        _confirm_password(me, current_password)
    org = current_org()
    with org.db.write() as conn:
        user = directory.update_user_record(
            conn, org.models.model_for(conn), user_id, data, may_manage=may_manage
        )
        if user_id == me.id and g.get("crm_session") and "password" in data:
            # the change ended every session of the user; this one goes on
            session[SESSION_GENERATION_KEY] = session_generation(conn, user_id)
    return jsonify(user)


def _confirm_password(me: User, current_password: Any) -> None:
    if not isinstance(current_password, str) or not current_password:
        raise ValidationFailed({"current_password": "required to change your own password"})
    org = current_org()
    with org.db.write() as conn:  # committed even when wrong: failures count
        outcome = attempt_login(
            conn,
            me.email,
            current_password,
            address=request.remote_addr,
            user_agent=request.user_agent.string,
            now=org.clock(),
            method="password_change",
        )
    if outcome.throttled:
        raise TooManyRequests(
            "too many wrong passwords: try again later", retry_after=outcome.retry_after or 1
        )
    if outcome.user is None or outcome.user.id != me.id:
        raise Forbidden(
            "the current password is wrong",
            extra={"errors": {"current_password": ["does not match"]}},
        )


@bp.post("/users/<user_id>/sessions/revoke")
def sign_out_everywhere(user_id: str) -> Response:
    """End every UI session of a user (yourself, or anyone with manage_users)."""
    if user_id != current_user().id and not current_access().has("manage_users"):
        raise Forbidden("signing other users out needs the manage_users permission")
    with current_org().db.write() as conn:
        directory.user_view(conn, user_id)  # 404 for an unknown or system user
        end_sessions(conn, user_id)
    return Response(status=204)


@bp.get("/<any(groups, queues):kind>/<name>/members")
def list_members(kind: str, name: str) -> Response:
    if not _may_see_users():
        raise Forbidden("listing members needs manage_users or view_setup")
    org = current_org()
    with org.db.read() as conn:
        members = directory.list_members(conn, org.models.model_for(conn), kind, name)
    return jsonify({"members": members})


@bp.post("/<any(groups, queues):kind>/<name>/members")
@require_permission("manage_users")
def add_member(kind: str, name: str) -> Response:
    data = read_json(request)
    org = current_org()
    with org.db.write() as conn:
        user_id = data.get("user_id") if isinstance(data, dict) else None
        directory.add_member(conn, org.models.model_for(conn), kind, name, user_id)
        members = directory.list_members(conn, org.models.model_for(conn), kind, name)
    return jsonify({"members": members})


@bp.delete("/<any(groups, queues):kind>/<name>/members/<user_id>")
@require_permission("manage_users")
def remove_member(kind: str, name: str, user_id: str) -> Response:
    org = current_org()
    with org.db.write() as conn:
        directory.remove_member(conn, org.models.model_for(conn), kind, name, user_id)
    return Response(status=204)


@bp.get("/tokens")
def my_tokens() -> Response:
    with current_org().db.read() as conn:
        tokens = list_tokens(conn, current_user().id)
    return jsonify(
        {
            "tokens": [
                {"id": t.id, "name": t.name, "created_at": t.created_at, "revoked_at": t.revoked_at}
                for t in tokens
            ]
        }
    )


@bp.post("/tokens")
def new_token() -> Response:
    data = read_json(request)
    name = data.get("name", "API token") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        raise ValidationFailed({"name": "give the token a name (at most 120 characters)"})
    with current_org().db.write() as conn:
        token = create_token(conn, current_user().id, name.strip())
    response = jsonify({"id": token.split("_")[1], "name": name.strip(), "token": token})
    response.status_code = 201
    return response


@bp.delete("/tokens/<token_id>")
def revoke(token_id: str) -> Response:
    owner = None if current_access().has("manage_users") else current_user().id
    with current_org().db.write() as conn:
        revoke_token(conn, token_id, owner)
    return Response(status=204)
