"""@mentions in feed bodies: written as ``@[user:ID]``, ``@[user:EMAIL]``, ``@EMAIL`` or
``@[group:NAME]``, resolved by the server and stored in their canonical form
(``@[user:ID]``, ``@[group:NAME]``), so a renamed user is still named rightly.

A body is plain text: it is never interpreted as HTML. It is shown escaped, with its
mentions as links (:func:`render_html`) or as ``@Name`` (:func:`render_text`, for
notifications).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import nh3
import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy import Connection

from crm_platform.core import ValidationFailed
from crm_platform.core.tables import users

MAX_BODY = 10_000  # characters of a post or a comment
MAX_MENTIONS = 25
_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
CANONICAL = re.compile(r"@\[(user|group):([^\]\s]{1,254})\]")
_ALLOWED = {
    "tags": {"a", "br", "span"},
    "attributes": {"a": {"class", "href", "data-user"}, "span": {"class", "data-group"}},
    "url_schemes": {"mailto"},
}
SHORT = re.compile(rf"(?<![\w@\[])@({_EMAIL})")


@dataclass(frozen=True)
class Mention:
    """One mention as written in a body: a user (by id) or a group (by api_name)."""

    kind: str  # "user" or "group"
    id: str


@dataclass(frozen=True)
class Parsed:
    """A body in canonical form and the mentions it makes, in order, each once."""

    body: str
    mentions: tuple[Mention, ...]


def _user_id(conn: Connection, key: str) -> str | None:
    """An active person's id, by id or by email (never the system user)."""
    column = users.c.email if "@" in key else users.c.id
    query = sa.select(users.c.id).where(
        column == (key.lower() if "@" in key else key),
        users.c.active.is_(True),
        users.c.is_system.is_(False),
    )
    return conn.execute(query).scalar_one_or_none()


def clean_body(raw: object, field: str = "body") -> str:
    """The body as given, checked: text, not blank, at most :data:`MAX_BODY` characters."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationFailed({field: "write some text"})
    text = raw.replace("\r\n", "\n").strip()
    if len(text) > MAX_BODY:
        raise ValidationFailed({field: f"text of at most {MAX_BODY} characters"})
    return text


def parse(conn: Connection, groups: Mapping[str, str], text: str, field: str = "body") -> Parsed:
    """Resolve the mentions of ``text``; an unknown user or group is a 400 naming ``field``.

    ``groups``: the org's groups (api_name -> principal id)."""
    found: dict[Mention, None] = {}

    def user(match: re.Match[str], key: str) -> str:
        user_id = _user_id(conn, key)
        if user_id is None:
            raise ValidationFailed({field: f"no active user '{key}' to mention"})
        found[Mention("user", user_id)] = None
        return f"@[user:{user_id}]"

    def canonical(match: re.Match[str]) -> str:
        kind, key = match.group(1), match.group(2)
        if kind == "user":
            return user(match, key)
        if key not in groups:
            raise ValidationFailed({field: f"no group '{key}' to mention"})
        found[Mention("group", key)] = None
        return f"@[group:{key}]"

    body = CANONICAL.sub(canonical, text)
    body = SHORT.sub(lambda m: user(m, m.group(1)), body)
    if len(found) > MAX_MENTIONS:
        raise ValidationFailed({field: f"at most {MAX_MENTIONS} mentions in one text"})
    return Parsed(body, tuple(found))


def names_of(conn: Connection, bodies: list[str]) -> dict[str, tuple[str, str]]:
    """The (name, email) of every user the bodies mention, by id (one query)."""
    ids = {m.group(2) for b in bodies for m in CANONICAL.finditer(b) if m.group(1) == "user"}
    if not ids:
        return {}
    query = sa.select(users.c.id, users.c.name, users.c.email).where(users.c.id.in_(sorted(ids)))
    return {row.id: (row.name, row.email) for row in conn.execute(query)}


def render_text(body: str, names: Mapping[str, tuple[str, str]]) -> str:
    """The body as plain text, each mention as ``@Name``."""

    def one(match: re.Match[str]) -> str:
        kind, key = match.group(1), match.group(2)
        if kind == "user":
            return "@" + names.get(key, ("a former user", ""))[0]
        return f"@{key}"

    return CANONICAL.sub(one, body)


def render_html(body: str, names: Mapping[str, tuple[str, str]]) -> Markup:
    """The body as safe HTML: text escaped, line breaks kept, mentions as links."""
    out: list[str] = []
    position = 0
    for match in CANONICAL.finditer(body):
        out.append(str(escape(body[position : match.start()])))
        kind, key = match.group(1), match.group(2)
        if kind == "user" and key in names:
            name, email = names[key]
            out.append(
                f'<a class="mention" data-user="{escape(key)}" '
                f'href="mailto:{escape(email)}">@{escape(name)}</a>'
            )
        elif kind == "user":
            out.append('<span class="mention">@?</span>')
        else:
            out.append(f'<span class="mention" data-group="{escape(key)}">@{escape(key)}</span>')
        position = match.end()
    out.append(str(escape(body[position:])))
    # built escaped already; nh3 keeps it to these few tags whatever a name holds
    html = nh3.clean("".join(out).replace("\n", "<br>\n"), **_ALLOWED)
    return Markup(html)
