"""Full-text search across objects, kept current by the record service (DESIGN §3 "Storage").

SQLite uses an FTS5 table with the trigram tokenizer (case-insensitive substrings,
CJK included); PostgreSQL a generated ``tsvector`` with a GIN index plus pg_trgm
indexes for partial names. Never a ``LIKE '%q%'`` scan of the object tables.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import ValidationFailed

from ..model import ObjectModel, OrgModel

search_table = sa.table(
    "sys_search",
    sa.column("object"),
    sa.column("record_id"),
    sa.column("title"),
    sa.column("body"),
    sa.column("tsv"),  # PostgreSQL only: generated from title and body
)

INDEXED_TYPES = frozenset(
    {"text", "long_text", "email", "phone", "url", "picklist", "external_id", "auto_number"}
)
COMPOUND_INDEXED = frozenset({"address", "person_name"})
MAX_QUERY = 200
WORD = re.compile(r"\w+", re.UNICODE)


def searchable(obj: ObjectModel) -> bool:
    return obj.definition.get("searchable", True) is not False


def _text_columns(obj: ObjectModel) -> list[sa.Column]:
    columns = []
    for field in obj.fields.values():
        if field.type in INDEXED_TYPES or field.type in COMPOUND_INDEXED:
            columns.extend(field.columns.values())
    return columns


def index_records(conn: Connection, obj: ObjectModel, ids: Iterable[str]) -> None:
    """(Re)write the search entries of live records ``ids``."""
    ids = list(ids)
    if not ids or not searchable(obj):
        return
    unindex_records(conn, obj, ids)
    name_field = obj.fields.get(obj.name_field)
    name_columns = list(name_field.columns.values()) if name_field else []
    text_columns = _text_columns(obj)
    rows = conn.execute(
        sa.select(obj.table.c.id, *[obj.table.c[c.name] for c in text_columns]).where(
            obj.table.c.id.in_(ids), obj.table.c.deleted_at.is_(None)
        )
    ).mappings()
    entries = []
    for row in rows:
        title = " ".join(str(row[c.name]) for c in name_columns if row[c.name] is not None)
        body = " ".join(str(row[c.name]) for c in text_columns if row[c.name] is not None)
        entries.append(
            {"object": obj.api_name, "record_id": row["id"], "title": title, "body": body}
        )
    if entries:
        conn.execute(search_table.insert(), entries)


def unindex_records(conn: Connection, obj: ObjectModel, ids: Iterable[str]) -> None:
    ids = list(ids)
    for start in range(0, len(ids), 500):
        conn.execute(
            search_table.delete().where(
                search_table.c.object == obj.api_name,
                search_table.c.record_id.in_(ids[start : start + 500]),
            )
        )


def reindex_object(conn: Connection, obj: ObjectModel, batch: int = 1000) -> int:
    """Rebuild an object's entries (after fields were added or removed); returns the count."""
    conn.execute(search_table.delete().where(search_table.c.object == obj.api_name))
    count = 0
    last = ""
    while True:
        ids = [
            r[0]
            for r in conn.execute(
                sa.select(obj.table.c.id)
                .where(obj.table.c.deleted_at.is_(None), obj.table.c.id > last)
                .order_by(obj.table.c.id)
                .limit(batch)
            )
        ]
        if not ids:
            return count
        index_records(conn, obj, ids)
        count += len(ids)
        last = ids[-1]


def search(
    conn: Connection,
    model: OrgModel,
    q: str,
    objects: list[str] | None,
    limit: int,
    visible: Callable[[ObjectModel], Any],
) -> list[dict[str, Any]]:
    """Hits for ``q`` across searchable objects, best first: object, id and name.

    ``visible(obj)`` gives the ids the user may see (a SELECT), or None for an object
    they may not read; sharing applies in SQL, before the limit.
    """
    q = q.strip()
    if not q:
        raise ValidationFailed({"q": "give something to search for"})
    if len(q) > MAX_QUERY:
        raise ValidationFailed({"q": f"at most {MAX_QUERY} characters"})
    names = objects or [name for name, obj in model.objects.items() if searchable(obj)]
    for name in names:
        if model.object(name) is None:
            raise ValidationFailed({"objects": f"no object '{name}'"})
    query = _sqlite_query(q) if conn.dialect.name == "sqlite" else _postgres_query(q)
    allowed = []
    for name in names:
        ids = visible(model.objects[name])
        if ids is not None:
            allowed.append(
                sa.and_(search_table.c.object == name, search_table.c.record_id.in_(ids))
            )
    if not allowed:
        return []
    query = query.where(sa.or_(*allowed)).limit(limit)
    return [
        {"object": row.object, "id": row.record_id, "name": row.title}
        for row in conn.execute(query)
    ]


def _sqlite_query(q: str):
    columns = [search_table.c.object, search_table.c.record_id, search_table.c.title]
    if len(q) >= 3:
        phrase = '"' + q.replace('"', '""') + '"'
        return (
            sa.select(*columns)
            .where(sa.text("sys_search MATCH :phrase").bindparams(phrase="{title body}: " + phrase))
            .order_by(sa.text("rank"))
        )
    # Trigrams need three characters: a shorter query (two CJK characters make a word)
    # scans the names in the search table only, never the object tables.
    pattern = "%" + _escape_like(q) + "%"
    return (
        sa.select(*columns)
        .where(search_table.c.title.like(pattern, escape="\\"))
        .order_by(search_table.c.title)
    )


def _postgres_query(q: str):
    words = WORD.findall(q.lower())
    tsquery = " & ".join(f"{w}:*" for w in words) if words else None
    tsv = search_table.c.tsv
    pattern = "%" + _escape_like(q) + "%"
    matches = [
        search_table.c.title.ilike(pattern, escape="\\"),
        search_table.c.body.ilike(pattern, escape="\\"),
    ]
    rank = sa.literal(0)
    if tsquery:
        query_expr = sa.func.to_tsquery("simple", tsquery)
        matches.append(tsv.op("@@")(query_expr))
        rank = sa.func.ts_rank(tsv, query_expr)
    return (
        sa.select(search_table.c.object, search_table.c.record_id, search_table.c.title)
        .where(sa.or_(*matches))
        .order_by(rank.desc(), search_table.c.title)
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
