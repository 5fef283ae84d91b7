"""The record page's feed: posts with their comments, a post box, a comment box under
each post, delete on one's own, and Follow/Unfollow. Form posts (they work without
JavaScript), each one transaction through ``crm_platform.collab`` — the same functions
as the API, so the record's sharing decides the same way (404 for a hidden record)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import flash, redirect, request
from flask_babel import gettext
from flask_wtf import FlaskForm
from markupsafe import Markup

from crm_platform.collab import MAX_BODY, feed, follows
from crm_platform.core import CrmError, ValidationFailed
from crm_platform.runtime.model import ObjectModel

from .context import Viewer, viewer, writing
from .frame import bp, object_or_404

SHOWN_POSTS = 20


@dataclass(frozen=True)
class FeedPanel:
    """What the page shows of the record's feed."""

    posts: list[dict[str, Any]]
    following: bool
    max_body: int = MAX_BODY


def feed_panel(session, obj: ObjectModel, record_id: str, v: Viewer) -> FeedPanel:
    """The newest posts of the record (the viewer sees the record: the page read it)."""
    del v
    page = feed.list_feed(session, obj.api_name, record_id, limit=SHOWN_POSTS)
    for post in page.posts:  # the page shows moments in the viewer's zone
        for entry in (post, *post["comments"]):
            entry["at"] = datetime.fromisoformat(entry["created_at"])
            # escaped text and mention links, cleaned by nh3 (collab.mentions.render_html)
            entry["html"] = Markup(entry["html"])
    return FeedPanel(page.posts, page.following)


def _checked_form() -> None:
    if not FlaskForm().validate_on_submit():
        raise ValidationFailed({"csrf_token": "the form expired: try again"})


def _refused(error: CrmError) -> None:
    """A refusal shown as a message on the page, naming the field (404s go up as 404s)."""
    if error.status not in (400, 403, 409):
        raise error
    flash(error.detail, "danger")  # a 400's detail names the field: "body: write some text"


def _back(obj: ObjectModel, record_id: str, anchor: str = "feed") -> Any:
    return redirect(f"/r/{obj.api_name}/{record_id}#{anchor}")


@bp.post("/r/<object_name>/<record_id>/feed")
def post_to_feed(object_name: str, record_id: str) -> Any:
    """A new post from the page's post box."""
    viewer()
    obj = object_or_404(object_name)
    _checked_form()
    try:
        with writing() as session:
            feed.create_post(session, obj.api_name, record_id, {"body": request.form.get("body")})
    except CrmError as error:
        _refused(error)
    else:
        flash(gettext("Posted."))
    return _back(obj, record_id)


@bp.post("/r/<object_name>/<record_id>/feed/<post_id>/comments")
def comment_on_post(object_name: str, record_id: str, post_id: str) -> Any:
    viewer()
    obj = object_or_404(object_name)
    _checked_form()
    try:
        with writing() as session:
            body = {"body": request.form.get("body")}
            feed.create_post(session, obj.api_name, record_id, body, parent_id=post_id)
    except CrmError as error:
        _refused(error)
    return _back(obj, record_id, f"post-{post_id}")


@bp.post("/r/<object_name>/<record_id>/feed/<post_id>/delete")
def delete_from_feed(object_name: str, record_id: str, post_id: str) -> Any:
    viewer()
    obj = object_or_404(object_name)
    _checked_form()
    try:
        with writing() as session:
            feed.delete_post(session, obj.api_name, record_id, post_id)
    except CrmError as error:
        _refused(error)
    else:
        flash(gettext("Deleted."))
    return _back(obj, record_id)


@bp.post("/r/<object_name>/<record_id>/follow")
def follow_record(object_name: str, record_id: str) -> Any:
    """Follow (``follow=1``) or unfollow (``follow=0``) the record."""
    v = viewer()
    obj = object_or_404(object_name)
    _checked_form()
    wanted = request.form.get("follow") == "1"
    with writing() as session:
        feed.open_record(session, obj.api_name, record_id)
        if wanted:
            follows.follow(session.conn, obj.api_name, record_id, v.user.id, session.now)
        else:
            follows.unfollow(session.conn, obj.api_name, record_id, v.user.id)
    flash(
        gettext("You follow this record.")
        if wanted
        else gettext("You no longer follow this record.")
    )
    return redirect(f"/r/{obj.api_name}/{record_id}")
