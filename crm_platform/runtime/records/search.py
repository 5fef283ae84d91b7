"""Full-text search across objects, kept current by the record service (DESIGN §3 "Storage").

SQLite uses an FTS5 table with the trigram tokenizer (case-insensitive substrings,
CJK included); PostgreSQL a generated ``tsvector`` with a GIN index plus pg_trgm
indexes for partial names. Never a ``LIKE '%q%'`` scan of the object tables.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import ARRAY

from crm_platform.core import ValidationFailed
from crm_platform.fieldtypes import field_type

from ..model import FieldModel, ObjectModel, OrgModel

search_table = sa.table(
    "sys_search",
    sa.column("object"),
    sa.column("record_id"),
    sa.column("field"),  # one row per searchable field, so hidden fields can be left out
    sa.column("title"),  # the record's name, shown with the hit
    sa.column("body"),
    sa.column("tsv"),  # PostgreSQL only: generated from body
    sa.column("id"),  # SQLite only: the rowid its FTS5 index refers to
)
ENTRY_COLUMNS = ("object", "record_id", "field", "title", "body")
# SQLite: a batch's entries from one JSON array of [object, record_id, field, title, body]
SQLITE_ENTRIES_INSERT = sa.text(
    "INSERT INTO sys_search (object, record_id, field, title, body) "
    "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]') "
    "FROM json_each(:entries)"
)
fts_table = sa.table(  # SQLite
    "sys_search_fts", sa.column("rowid"), sa.column("body"), sa.column("rank")
)

MAX_QUERY = 200
WORD = re.compile(r"\w+", re.UNICODE)


def searchable(obj: ObjectModel) -> bool:
    return obj.definition.get("searchable", True) is not False


def _text_fields(obj: ObjectModel):
    """The fields whose text is indexed; never an encrypted one (its plaintext would sit
    in the index, readable by anyone with the database)."""
    return tuple(
        f
        for f in obj.fields.values()
        if field_type(f.type).searched
        and not field_type(f.type).encrypted
        and f.definition.get("searchable", True) is not False
    )


def indexed_fields(obj: ObjectModel) -> tuple[tuple[FieldModel, ...], frozenset[str]]:
    """The fields whose text is indexed, and their names with the name field's (what a
    change must touch to change the entries); callers keep it per metadata version."""
    fields = _text_fields(obj)
    return fields, frozenset(f.api_name for f in fields) | {obj.name_field}


def affects_index(obj: ObjectModel, changed, searched: frozenset[str] | None = None) -> bool:
    """Whether changing these fields changes the record's search entries (``searched``:
    the names of :func:`indexed_fields`, when the caller holds them)."""
    if searched is None:
        searched = indexed_fields(obj)[1]
    return any(name in searched for name in changed)


def index_records(conn: Connection, obj: ObjectModel, ids: Iterable[str]) -> None:
    """(Re)write the search entries of live records ``ids``: one row per text field."""
    ids = list(ids)
    if not ids or not searchable(obj):
        return
    unindex_records(conn, obj, ids)
    fields = _text_fields(obj)
    name_field = obj.fields.get(obj.name_field)
    name_columns = list(name_field.columns.values()) if name_field else []
    columns = {c.name for f in fields for c in f.columns.values()} | {c.name for c in name_columns}
    rows = conn.execute(
        sa.select(obj.table.c.id, *[obj.table.c[name] for name in sorted(columns)]).where(
            obj.table.c.id.in_(ids), obj.table.c.deleted_at.is_(None)
        )
    ).mappings()
    entries = []
    for row in rows:
        title = " ".join(str(row[c.name]) for c in name_columns if row[c.name] is not None)
        for field in fields:
            body = field_type(field.type).search_text(row[c.name] for c in field.columns.values())
            if body:
                entries.append((obj.api_name, row["id"], field.api_name, title, body))
    _write_entries(conn, obj, entries, ids)


def index_new_records(
    conn: Connection,
    obj: ObjectModel,
    records: Iterable[tuple[str, Mapping[str, Any]]],
    fields: Sequence[FieldModel] | None = None,
) -> None:
    """Write the search entries of records just created, from their values: nothing to
    delete and nothing to read back. ``records`` are (id, field values) pairs;
    ``fields``: those of :func:`indexed_fields`, when the caller holds them."""
    if not searchable(obj):
        return
    fields = _text_fields(obj) if fields is None else fields
    name_field = obj.fields.get(obj.name_field)
    entries = []
    ids = []
    for record_id, values in records:
        ids.append(record_id)
        title = _text(name_field, values.get(obj.name_field)) if name_field else ""
        for field in fields:
            body = _text(field, values.get(field.api_name))
            if body:
                entries.append((obj.api_name, record_id, field.api_name, title, body))
    _write_entries(conn, obj, entries, ids)


def _write_entries(
    conn: Connection, obj: ObjectModel, entries: list[tuple[str, ...]], ids: Sequence[str]
) -> None:
    """Insert the entries (tuples in ``ENTRY_COLUMNS`` order) of records ``ids`` (which
    have no others: new, or unindexed just before).

    The entries travel as one parameter the database unpacks, in one INSERT … SELECT: on
    PostgreSQL five text arrays (``unnest``), on SQLite one JSON array (``json_each``) —
    a row per protocol message, or per bound parameter set, cost more than the inserts.
    On SQLite their FTS5 rows follow in one INSERT … SELECT per 500 records — no trigger
    does it (migration 0021): a row trigger cost 6× this.
    """
    if not entries:
        return
    if conn.dialect.name != "sqlite":
        columns = zip(*entries, strict=True)
        arrays = [sa.literal(list(values), ARRAY(sa.Text)) for values in columns]
        rows = sa.func.unnest(*arrays).table_valued(*ENTRY_COLUMNS).render_derived()
        conn.execute(search_table.insert().from_select(ENTRY_COLUMNS, sa.select(rows)))
        return
    conn.execute(SQLITE_ENTRIES_INSERT, {"entries": json.dumps(entries, ensure_ascii=False)})
    for start in range(0, len(ids), 500):
        conn.execute(
            sa.insert(fts_table).from_select(
                ["rowid", "body"],
                sa.select(search_table.c.id, search_table.c.body).where(
                    search_table.c.object == obj.api_name,
                    search_table.c.record_id.in_(list(ids[start : start + 500])),
                ),
            )
        )


def _text(field, value: Any) -> str:
    """A field value as indexed text, as :func:`index_records` makes it from the columns."""
    if value is None:
        return ""
    parts = [value.get(sub) for sub in field.columns] if isinstance(value, Mapping) else [value]
    return field_type(field.type).search_text(parts) or ""


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
    allowed: Callable[[ObjectModel], tuple[Any, list[str], bool] | None],
) -> list[dict[str, Any]]:
    """Hits for ``q`` across searchable objects, best first: object, id and name.

    ``allowed(obj)`` gives, for the user, (a SELECT of the ids they may see, the
    fields they may read, whether they may read the name), or None for an object they
    may not read: sharing and field-level security apply in SQL, before the limit.
    """
    q = q.strip()
    if not q:
        raise ValidationFailed({"q": "give something to search for"})
    if len(q) > MAX_QUERY:
        raise ValidationFailed({"q": f"at most {MAX_QUERY} characters"})
    if "\x00" in q:
        raise ValidationFailed({"q": "must not contain NUL characters"})
    names = objects or [name for name, obj in model.objects.items() if searchable(obj)]
    for name in names:
        if model.object(name) is None:
            raise ValidationFailed({"objects": f"no object '{name}'"})
    scopes = []
    name_visible = {}
    for name in names:
        grant = allowed(model.objects[name])
        if grant is None:
            continue
        ids, fields, name_readable = grant
        name_visible[name] = name_readable
        scopes.append(
            sa.and_(
                search_table.c.object == name,
                search_table.c.field.in_(fields),
                search_table.c.record_id.in_(ids),
            )
        )
    if not scopes:
        return []
    sqlite = conn.dialect.name == "sqlite"
    match, rank = _sqlite_match(q) if sqlite else _postgres_match(q)
    best = sa.func.min(rank) if sqlite else sa.func.max(rank)
    query = sa.select(search_table.c.object, search_table.c.record_id, search_table.c.title)
    if sqlite and len(q) >= 3:
        query = query.select_from(
            fts_table.join(search_table, search_table.c.id == fts_table.c.rowid)
        )
    query = (
        query.where(match, sa.or_(*scopes))
        .group_by(search_table.c.object, search_table.c.record_id, search_table.c.title)
        .order_by(best if sqlite else best.desc(), search_table.c.title)
        .limit(limit)
    )
    return [
        {
            "object": row.object,
            "id": row.record_id,
            "name": row.title if name_visible.get(row.object) else None,
        }
        for row in conn.execute(query)
    ]


def _sqlite_match(q: str):
    if len(q) >= 3:
        phrase = '"' + q.replace('"', '""') + '"'
        match = sa.text("sys_search_fts MATCH :phrase").bindparams(phrase=phrase)
        return match, fts_table.c.rank
    # Trigrams need three characters: a shorter query (two CJK characters make a word)
    # scans the search table's text, never the object tables.
    pattern = "%" + _escape_like(q) + "%"
    return search_table.c.body.like(pattern, escape="\\"), sa.literal(0)


def _postgres_match(q: str):
    words = WORD.findall(q.lower())
    pattern = "%" + _escape_like(q) + "%"
    matches = [search_table.c.body.ilike(pattern, escape="\\")]
    rank: Any = sa.literal(0.0)
    if words:
        query_expr = sa.func.to_tsquery("simple", " & ".join(f"{w}:*" for w in words))
        matches.append(search_table.c.tsv.op("@@")(query_expr))
        rank = sa.func.ts_rank(search_table.c.tsv, query_expr)
    return sa.or_(*matches), rank


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
