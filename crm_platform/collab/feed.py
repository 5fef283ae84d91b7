"""A record's feed: posts and their comments, with @mentions that notify.

Every function takes the caller's record session (one transaction) and first reads the
record through it: someone who cannot see the record gets the record's own 404, for
its feed as for the record. A mention notifies only someone who can see the record;
the others are not told (nor is the record named to them), and the post records that
the mention was not delivered, which only its author is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from crm_platform.core import Forbidden, NotFound, ValidationFailed, new_id
from crm_platform.core.tables import users
from crm_platform.runtime.model import ObjectModel
from crm_platform.workflow import notifications as inbox

from . import follows
from .audience import record_phrase, seen_by
from .mentions import CANONICAL, Mention, Parsed, clean_body, parse, render_html, render_text
from .tables import feed_posts

T = feed_posts
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
EXCERPT = 200  # characters of a body a notice quotes
SOURCE = "feed"


@dataclass(frozen=True)
class FeedPage:
    """Posts newest first, each with its comments oldest first."""

    posts: list[dict[str, Any]]
    next_cursor: str | None
    following: bool


def open_record(session, object_name: str, record_id: str) -> ObjectModel:
    """The record's object, once the caller is known to see the record (404 otherwise)."""
    obj = session.object(object_name)
    seen = getattr(session, "seen_visible", None)
    if seen is None or (obj.api_name, record_id) not in seen:  # a page read it already
        session.get(obj.api_name, record_id, ["id"])
    return obj


# --- reading -------------------------------------------------------------------------
def _people(conn, rows) -> dict[str, tuple[str, str]]:
    """(name, email) of the authors and of every user the rows mention; one query."""
    return people_in(conn, [r.author_id for r in rows], [r.body for r in rows])


def people_in(conn, author_ids, bodies) -> dict[str, tuple[str, str]]:
    """(name, email) of these authors and of every user the bodies mention; one query."""
    ids = set(author_ids)
    ids |= {m.group(2) for b in bodies for m in CANONICAL.finditer(b) if m.group(1) == "user"}
    if not ids:
        return {}
    query = sa.select(users.c.id, users.c.name, users.c.email).where(users.c.id.in_(sorted(ids)))
    return {row.id: (row.name, row.email) for row in conn.execute(query)}


def _mentions(row, people, viewer_id: str) -> list[dict[str, Any]]:
    out = []
    for m in row.mentions:
        shown: dict[str, Any] = {"kind": m["kind"], "id": m["id"]}
        shown["name"] = people.get(m["id"], ("", ""))[0] if m["kind"] == "user" else m["id"]
        if row.author_id == viewer_id:  # whether it reached them: the author's to know
            shown["delivered"] = m["missed"] == 0
            shown["not_delivered"] = m["missed"]
        out.append(shown)
    return out


def view(row, people, viewer_id: str) -> dict[str, Any]:
    """A post or comment as its reader gets it."""
    return {
        "id": row.id,
        "object": row.object,
        "record_id": row.record_id,
        "parent_id": row.parent_id,
        "author": {"id": row.author_id, "name": people.get(row.author_id, ("", ""))[0]},
        "body": row.body,
        "html": str(render_html(row.body, people)),
        "mentions": _mentions(row, people, viewer_id),
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "edited": row.updated_at != row.created_at,
        "mine": row.author_id == viewer_id,
    }


def _cursor(cursor: str | None) -> str | None:
    if cursor is not None and (not cursor.isascii() or not cursor.isalnum()):
        raise ValidationFailed({"cursor": "give the next_cursor of the previous page"})
    return cursor


def list_feed(
    session, object_name: str, record_id: str, *, limit: int = DEFAULT_LIMIT, cursor=None
) -> FeedPage:
    """The record's posts, newest first (keyset-paged by id), each with its comments."""
    obj = open_record(session, object_name, record_id)
    on_record = sa.and_(T.c.object == obj.api_name, T.c.record_id == record_id)
    query = sa.select(T).where(on_record, T.c.parent_id.is_(None))
    if (after := _cursor(cursor)) is not None:
        query = query.where(T.c.id < after)
    rows = session.conn.execute(query.order_by(T.c.id.desc()).limit(limit + 1)).all()
    more, rows = len(rows) > limit, rows[:limit]
    comments = []
    if rows:
        query = sa.select(T).where(on_record, T.c.parent_id.in_([r.id for r in rows]))
        comments = session.conn.execute(query.order_by(T.c.id)).all()
    people = _people(session.conn, [*rows, *comments])
    me = session.user.id
    posts = []
    for row in rows:
        post = view(row, people, me)
        post["comments"] = [view(c, people, me) for c in comments if c.parent_id == row.id]
        posts.append(post)
    following = follows.is_following(session.conn, obj.api_name, record_id, me)
    return FeedPage(posts, rows[-1].id if more else None, following)


def _row(session, obj: ObjectModel, record_id: str, post_id: str):
    query = sa.select(T).where(
        T.c.id == post_id, T.c.object == obj.api_name, T.c.record_id == record_id
    )
    row = session.conn.execute(query).first()
    if row is None:
        raise NotFound(f"no post '{post_id}' on this record")
    return row


def get_post(session, object_name: str, record_id: str, post_id: str) -> dict[str, Any]:
    """One post or comment of the record's feed."""
    obj = open_record(session, object_name, record_id)
    row = _row(session, obj, record_id, post_id)
    return view(row, _people(session.conn, [row]), session.user.id)


# --- writing -------------------------------------------------------------------------
def _excerpt(body: str, people) -> str:
    text = " ".join(render_text(body, people).split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def _targets(conn, security, mention: Mention) -> list[str]:
    """The people a mention stands for: the user, or the group's active members."""
    if mention.kind == "user":
        return [mention.id]
    return inbox.members(conn, "group", mention.id) if mention.id in security.groups else []


def _deliver(
    session, obj, record_id, parsed: Parsed, new: set[Mention], what: str
) -> tuple[list[dict[str, Any]], set[str]]:
    """Notify the mentioned (``new`` of them) who can see the record; the stored mention
    list with how many were missed; and who was told (so followers are not told twice)."""
    conn, security = session.conn, session.model.security
    people = people_in(conn, [], [parsed.body])
    excerpt = _excerpt(parsed.body, people)
    stored, told = [], set()
    for mention in parsed.mentions:
        targets = _targets(conn, security, mention)
        missed = 0
        for user_id in targets:
            if user_id == session.user.id or mention not in new or user_id in told:
                continue
            seen = seen_by(session, obj, record_id, user_id)
            if seen is None:
                missed += 1
                continue
            phrase = record_phrase(obj, seen)
            message = f"{session.user.name} mentioned you {what} {phrase}: {excerpt}"
            inbox.notify(
                conn,
                [user_id],
                message,
                source=SOURCE,
                now=session.now,
                object_name=obj.api_name,
                record_id=record_id,
            )
            told.add(user_id)
        stored.append({"kind": mention.kind, "id": mention.id, "missed": missed})
    return stored, told


def _tell_followers(session, obj, record_id: str, body: str, skip: set[str], what: str):
    """Tell the record's followers (who can see it) of a new post or comment."""
    people = people_in(session.conn, [], [body])
    excerpt = _excerpt(body, people)
    ids = follows.followers(session.conn, obj.api_name, [record_id]).get(record_id, [])
    for user_id in ids:
        if user_id == session.user.id or user_id in skip:
            continue
        seen = seen_by(session, obj, record_id, user_id)
        if seen is None:  # a follower who lost access is told nothing
            continue
        message = f"{session.user.name} {what} {record_phrase(obj, seen)}: {excerpt}"
        inbox.notify(
            session.conn,
            [user_id],
            message,
            source=SOURCE,
            now=session.now,
            object_name=obj.api_name,
            record_id=record_id,
        )


def create_post(
    session, object_name: str, record_id: str, data: Any, *, parent_id: str | None = None
) -> dict[str, Any]:
    """A new post (or, with ``parent_id``, a comment on one) by the session's user."""
    obj = open_record(session, object_name, record_id)
    if parent_id is not None:
        parent = _row(session, obj, record_id, parent_id)
        if parent.parent_id is not None:
            raise NotFound(f"no post '{parent_id}' on this record (comments take no comments)")
    body = _body_of(data)
    parsed = parse(session.conn, session.model.security.groups, body)
    where = "in a comment on" if parent_id else "on"
    stored, told = _deliver(session, obj, record_id, parsed, set(parsed.mentions), where)
    row = {
        "id": new_id(),
        "object": obj.api_name,
        "record_id": record_id,
        "parent_id": parent_id,
        "author_id": session.user.id,
        "body": parsed.body,
        "mentions": stored,
        "created_at": session.now,
        "updated_at": session.now,
    }
    session.conn.execute(T.insert().values(**row))
    verb = "commented on" if parent_id else "posted on"
    _tell_followers(session, obj, record_id, parsed.body, told, verb)
    if not session.user.is_system:  # who posts follows what they discuss
        follows.follow(session.conn, obj.api_name, record_id, session.user.id, session.now)
    return get_post(session, obj.api_name, record_id, row["id"])


def _body_of(data: Any) -> str:
    if not isinstance(data, dict):
        raise ValidationFailed({"body": "send a JSON object with the text in 'body'"})
    unknown = sorted(set(data) - {"body"})
    if unknown:
        raise ValidationFailed({name: "unknown field" for name in unknown})
    return clean_body(data.get("body"))


def _own(session, row) -> None:
    """Only a post's author changes it (an administrator may delete any)."""
    if row.author_id != session.user.id:
        raise Forbidden("only its author may change a post")


def edit_post(session, object_name: str, record_id: str, post_id: str, data: Any) -> dict:
    """Change the text of one's own post or comment; only new mentions are notified."""
    obj = open_record(session, object_name, record_id)
    row = _row(session, obj, record_id, post_id)
    _own(session, row)
    parsed = parse(session.conn, session.model.security.groups, _body_of(data))
    before = {Mention(m["kind"], m["id"]): m for m in row.mentions}
    new = {m for m in parsed.mentions if m not in before}
    where = "in a comment on" if row.parent_id else "in a post on"
    stored, _told = _deliver(session, obj, record_id, parsed, new, where)
    for entry in stored:  # a mention kept from before keeps what it was
        old = before.get(Mention(entry["kind"], entry["id"]))
        if old is not None:
            entry["missed"] = old["missed"]
    session.conn.execute(
        T.update()
        .where(T.c.id == post_id)
        .values(body=parsed.body, mentions=stored, updated_at=session.now)
    )
    return get_post(session, obj.api_name, record_id, post_id)


def delete_post(session, object_name: str, record_id: str, post_id: str) -> None:
    """Delete one's own post (with its comments) or comment; an administrator, any."""
    obj = open_record(session, object_name, record_id)
    row = _row(session, obj, record_id, post_id)
    if not session.access.has("modify_all_data"):
        _own(session, row)
    session.conn.execute(T.delete().where(sa.or_(T.c.id == post_id, T.c.parent_id == post_id)))
