"""A record's feed and its followers: ``/records/<object>/<id>/feed`` (posts, comments,
@mentions) and ``/records/<object>/<id>/follow``. One transaction per request; the
record's sharing decides everything (a record the caller cannot see answers 404)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from crm_platform.collab import feed, follows
from crm_platform.core import ValidationFailed

from . import aliases
from .auth import current_access, current_org, current_user, request_reading
from .jsonio import read_json
from .params import query_params

bp = Blueprint("feeds_api", __name__, url_prefix="/records")
bp.after_request(aliases.add_deprecation_headers)


def _session(write: bool = True):
    records, user, access = current_org().records, current_user(), current_access()
    if write:
        return records.session(user, access=access)
    return records.session(user, write=False, access=access, reading=request_reading())


def _limit() -> int:
    raw = request.args.get("limit", str(feed.DEFAULT_LIMIT))
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= feed.MAX_LIMIT:
        raise ValidationFailed({"limit": f"an integer between 1 and {feed.MAX_LIMIT}"})
    return int(raw)


def _created(post: dict) -> Response:
    response = jsonify(post)
    response.status_code = 201
    base = f"/api/v1/records/{post['object']}/{post['record_id']}/feed"
    response.headers["Location"] = f"{base}/{post['id']}"
    return response


@bp.get("/<object_name>/<record_id>/feed")
@query_params("limit", "cursor")
def list_feed(object_name: str, record_id: str) -> Response:
    """The record's posts, newest first, each with its comments."""
    with _session(write=False) as session:
        name = aliases.object_name(session.model, object_name)
        page = feed.list_feed(
            session, name, record_id, limit=_limit(), cursor=request.args.get("cursor") or None
        )
    return jsonify(
        {"posts": page.posts, "next_cursor": page.next_cursor, "following": page.following}
    )


@bp.post("/<object_name>/<record_id>/feed")
@query_params()
def create_post(object_name: str, record_id: str) -> Response:
    data = read_json(request)
    with _session() as session:
        name = aliases.object_name(session.model, object_name)
        post = feed.create_post(session, name, record_id, data)
    return _created(post)


@bp.get("/<object_name>/<record_id>/feed/<post_id>")
@query_params()
def get_post(object_name: str, record_id: str, post_id: str) -> Response:
    with _session(write=False) as session:
        name = aliases.object_name(session.model, object_name)
        return jsonify(feed.get_post(session, name, record_id, post_id))


@bp.patch("/<object_name>/<record_id>/feed/<post_id>")
@query_params()
def edit_post(object_name: str, record_id: str, post_id: str) -> Response:
    data = read_json(request)
    with _session() as session:
        name = aliases.object_name(session.model, object_name)
        post = feed.edit_post(session, name, record_id, post_id, data)
    return jsonify(post)


@bp.delete("/<object_name>/<record_id>/feed/<post_id>")
@query_params()
def delete_post(object_name: str, record_id: str, post_id: str) -> Response:
    with _session() as session:
        name = aliases.object_name(session.model, object_name)
        feed.delete_post(session, name, record_id, post_id)
    return Response(status=204)


@bp.post("/<object_name>/<record_id>/feed/<post_id>/comments")
@query_params()
def create_comment(object_name: str, record_id: str, post_id: str) -> Response:
    data = read_json(request)
    with _session() as session:
        name = aliases.object_name(session.model, object_name)
        comment = feed.create_post(session, name, record_id, data, parent_id=post_id)
    return _created(comment)


@bp.post("/<object_name>/<record_id>/follow")
@query_params()
def follow(object_name: str, record_id: str) -> Response:
    """Follow the record: told of its changes (what you may read) and its posts."""
    with _session() as session:
        name = aliases.object_name(session.model, object_name)
        obj = feed.open_record(session, name, record_id)
        follows.follow(session.conn, obj.api_name, record_id, session.user.id, session.now)
    return jsonify({"object": obj.api_name, "record_id": record_id, "following": True})


@bp.delete("/<object_name>/<record_id>/follow")
@query_params()
def unfollow(object_name: str, record_id: str) -> Response:
    with _session() as session:
        name = aliases.object_name(session.model, object_name)
        obj = feed.open_record(session, name, record_id)
        follows.unfollow(session.conn, obj.api_name, record_id, session.user.id)
    return Response(status=204)
