"""Full-text search across objects, kept current by the record service (DESIGN §3 "Storage").

SQLite uses an FTS5 table with the trigram tokenizer (case-insensitive substrings,
CJK included); PostgreSQL a pg_trgm GIN index of the entries' text, ranked by
``word_similarity`` (ADR 0055). On both a query matches as a substring, or, when its
words all have three characters or more, with each word found in any order. Never a
``LIKE '%q%'`` scan of the object tables.

A record's text is one entry per *visibility group* of its indexed fields (ADR 0052,
:mod:`.search_groups`); ``sys_search_group`` says which columns an entry's key holds, and
a search matches an entry only when the user reads every one of its fields.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import ValidationFailed, dialect_insert, in_list, list_param, list_value
from crm_platform.core.aftercommit import after_commit
from crm_platform.fieldtypes import field_type, joined_text

from ..model import ObjectModel, OrgModel
from .search_groups import IndexedField, SearchGroup, visibility_groups

search_table = sa.table(
    "sys_search",
    sa.column("object"),
    sa.column("record_id"),
    sa.column("field"),  # the entry's visibility group (search_groups): who may match it
    sa.column("title"),  # the record's name, shown with the hit
    sa.column("body"),
    sa.column("id"),  # SQLite only: the rowid its FTS5 index refers to
)
ENTRY_COLUMNS = ("object", "record_id", "field", "title", "body")
# what each entry key stands for: the columns whose text its entries hold
group_table = sa.table(
    "sys_search_group", sa.column("object"), sa.column("key"), sa.column("columns")
)
RECORDED = "search_groups_recorded"  # runtime cache: objects whose groups are recorded
fts_table = sa.table(  # SQLite
    "sys_search_fts", sa.column("rowid"), sa.column("body"), sa.column("rank")
)

MAX_QUERY = 200
FIELD_SEPARATOR = "\n"  # between the fields of one entry
# text fields per INSERT of entries (one SELECT each, joined by UNION ALL): SQLite allows
# at most 500 in a compound SELECT, and a wide object may have more text fields
MAX_ARMS = 100
WORD = re.compile(r"\w+", re.UNICODE)
MIN_WORD = 3  # the words of a query matched apart from its phrase are this long at least


def searchable(obj: ObjectModel) -> bool:
    return obj.definition.get("searchable", True) is not False


def indexes(definition: Mapping[str, Any]) -> bool:
    """Whether a field's text is indexed; never an encrypted one's (its plaintext would
    sit in the index, readable by anyone with the database)."""
    kind = field_type(definition["type"])
    return kind.searched and not kind.encrypted and definition.get("searchable", True) is not False


def _text_fields(obj: ObjectModel):
    """The fields whose text is indexed, in field order."""
    return tuple(f for f in obj.fields.values() if indexes(f.definition))


def indexed_names(obj: ObjectModel) -> frozenset[str]:
    """The names of the fields whose text is indexed, with the name field's (what a
    change must touch to change the entries); callers keep it per metadata version."""
    return frozenset(f.api_name for f in _text_fields(obj)) | {obj.name_field}


def affects_index(obj: ObjectModel, changed, searched: frozenset[str] | None = None) -> bool:
    """Whether changing these fields changes the record's search entries (``searched``:
    :func:`indexed_names`, when the caller holds them)."""
    if searched is None:
        searched = indexed_names(obj)
    return any(name in searched for name in changed)


def indexed_fields(obj: ObjectModel) -> tuple[IndexedField, ...]:
    """The object's indexed text fields with their columns' names, in field order."""
    return tuple(
        IndexedField(f.api_name, tuple(c.name for c in f.columns.values()))
        for f in _text_fields(obj)
    )


def groups_of(model: OrgModel, obj: ObjectModel) -> tuple[SearchGroup, ...]:
    """The object's search entries per record: its indexed fields grouped by who may
    read them (:mod:`.search_groups`), kept per metadata version; none for an object
    left out of search."""
    if not searchable(obj):
        return ()
    cache = model.runtime_cache.setdefault("search_groups", {})
    found = cache.get(obj.api_name)
    if found is None:
        permission_sets = model.security.permission_sets
        found = cache[obj.api_name] = visibility_groups(
            obj.api_name, indexed_fields(obj), permission_sets
        )
    return found


@dataclass(frozen=True)
class EntryStatements:
    """The statements that write the entries of a batch of records, given their ids as
    one ``ids`` parameter (:func:`list_value`); built once per object and metadata
    version (:func:`entry_statements`)."""

    entries: tuple[sa.Insert, ...]  # empty: nothing of the object is indexed
    fts: sa.Insert | None  # SQLite: the FTS5 rows of the entries just written


def entry_statements(model: OrgModel, obj: ObjectModel, dialect: str) -> EntryStatements:
    """The database builds the entries from the stored rows: one row per visibility
    group (:func:`groups_of`) whose text is not empty — its fields' texts joined by
    line breaks, empty ones left out —, its title the record's name: one INSERT …
    SELECT per batch, with no value passing through Python (the field type's
    :meth:`~FieldType.search_expression` says what text a field's columns give)."""
    groups = groups_of(model, obj)
    if not groups:
        return EntryStatements((), None)
    ids = list_param(dialect, "ids")
    table = obj.table
    name_field = obj.fields.get(obj.name_field)
    title = joined_text(list(name_field.columns.values())) if name_field else sa.literal("")
    arms = []
    for group in groups:
        texts = []
        for name in group.fields:
            field = obj.fields[name]
            text = field_type(field.type).search_expression(list(field.columns.values()))
            texts.append(sa.func.nullif(text, ""))
        # a line break between fields: a phrase typed in a search box never spans two
        body = joined_text(texts, separator=FIELD_SEPARATOR)
        arms.append(
            sa.select(
                sa.literal(obj.api_name, sa.Text), table.c.id, sa.literal(group.key, sa.Text),
                title, body,
            ).where(in_list(dialect, table.c.id, ids), table.c.deleted_at.is_(None), body != "")
        )  # fmt: skip
    entries = tuple(
        search_table.insert().from_select(
            ENTRY_COLUMNS, sa.union_all(*arms[start : start + MAX_ARMS])
        )
        for start in range(0, len(arms), MAX_ARMS)
    )
    fts = None
    if dialect == "sqlite":
        # no trigger does it (migration 0021): a row trigger cost 6× this statement. In
        # rowid order: FTS5 takes ascending rowids several times faster than the
        # record-by-record order the index gives (entries are written group by group)
        fts = sa.insert(fts_table).from_select(
            ["rowid", "body"],
            sa.select(search_table.c.id, search_table.c.body)
            .where(
                search_table.c.object == obj.api_name,
                in_list(dialect, search_table.c.record_id, ids),
            )
            .order_by(search_table.c.id),
        )
    return EntryStatements(entries, fts)


def index_records(
    conn: Connection,
    model: OrgModel,
    obj: ObjectModel,
    ids: Iterable[str],
    statements: EntryStatements | None = None,
    new: bool = False,
) -> None:
    """(Re)write the search entries of live records ``ids``: one row per visibility
    group. ``new``: records just created, which have no entries to delete;
    ``statements``: those of :func:`entry_statements`, when the caller keeps them."""
    ids = list(ids)
    if not ids or not searchable(obj):
        return
    if not new:
        unindex_records(conn, obj, ids)
    if statements is None:
        statements = entry_statements(model, obj, conn.dialect.name)
    if not statements.entries:
        return
    record_groups(conn, model, obj)
    given = {"ids": list_value(conn.dialect.name, ids)}
    for entries in statements.entries:
        conn.execute(entries, given)
    if statements.fts is not None:
        conn.execute(statements.fts, given)


def record_groups(conn: Connection, model: OrgModel, obj: ObjectModel) -> None:
    """Record which columns the object's entry keys stand for (``sys_search_group``), in
    the transaction that writes entries under them: once per metadata version and
    process after it commits (a key's columns never change: it is their digest)."""
    recorded = model.runtime_cache.setdefault(RECORDED, set())
    if obj.api_name in recorded:
        return
    rows = [
        {"object": obj.api_name, "key": g.key, "columns": ",".join(g.columns)}
        for g in groups_of(model, obj)
    ]
    if rows:
        conn.execute(dialect_insert(conn, group_table).values(rows).on_conflict_do_nothing())
    # remembered once committed (a rolled-back transaction took the rows with it); with
    # no write transaction of the platform's to wait for, recorded again each time
    with contextlib.suppress(RuntimeError):
        after_commit(conn, lambda: recorded.add(obj.api_name))


def readable_keys(
    conn: Connection, model: OrgModel, readable: Mapping[str, set[str]]
) -> dict[str, list[str]]:
    """Per object, the entry keys a user may match: those whose every column belongs to
    a field that is indexed now and that the user may read (``readable``: the fields
    they read, per object). An entry of a field taken out of the index, or hidden from
    them since it was written, is matched by no one, or only by those who read all of
    it, until the backfill rewrites it."""
    query = sa.select(group_table.c.object, group_table.c.key, group_table.c.columns).where(
        group_table.c.object.in_(list(readable))
    )
    keys: dict[str, list[str]] = {name: [] for name in readable}
    for row in conn.execute(query):
        owners = _column_owners(model, model.objects[row.object])
        fields = [owners.get(column) for column in row.columns.split(",")]
        if all(f is not None and f in readable[row.object] for f in fields):
            keys[row.object].append(row.key)
    return keys


def _column_owners(model: OrgModel, obj: ObjectModel) -> Mapping[str, str]:
    """Column -> the indexed field holding it, kept per metadata version."""
    cache = model.runtime_cache.setdefault("search_column_owners", {})
    found = cache.get(obj.api_name)
    if found is None:
        fields = _text_fields(obj)
        found = cache[obj.api_name] = {
            c.name: f.api_name for f in fields for c in f.columns.values()
        }
    return found


def unindex_records(conn: Connection, obj: ObjectModel, ids: Iterable[str]) -> None:
    """Delete the search entries of records ``ids`` (one statement, the ids as one
    parameter)."""
    ids = list(ids)
    if not ids:
        return
    conn.execute(
        search_table.delete().where(
            search_table.c.object == obj.api_name,
            in_list(conn.dialect.name, search_table.c.record_id, ids),
        )
    )


def reindex_object(conn: Connection, model: OrgModel, obj: ObjectModel, batch: int = 1000) -> int:
    """Rebuild an object's entries (after fields were added or removed); returns the count."""
    conn.execute(search_table.delete().where(search_table.c.object == obj.api_name))
    statements = entry_statements(model, obj, conn.dialect.name)
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
        index_records(conn, model, obj, ids, statements, new=True)  # none left to delete
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
    grants = {}
    name_visible = {}
    for name in names:
        grant = allowed(model.objects[name])
        if grant is not None and searchable(model.objects[name]):
            grants[name] = grant
            name_visible[name] = grant[2]
    keys = readable_keys(conn, model, {name: set(g[1]) for name, g in grants.items()})
    scopes = [
        sa.and_(
            search_table.c.object == name,
            search_table.c.field.in_(keys[name]),
            search_table.c.record_id.in_(ids),
        )
        for name, (ids, _fields, _name_readable) in grants.items()
        if keys[name]
    ]
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
        phrase = _fts_phrase(q)
        if words := _separate_words(q):
            phrase = f"{phrase} OR ({' AND '.join(_fts_phrase(word) for word in words)})"
        match = sa.text("sys_search_fts MATCH :phrase").bindparams(phrase=phrase)
        return match, fts_table.c.rank
    # Trigrams need three characters: a shorter query (two CJK characters make a word)
    # scans the search table's text, never the object tables.
    pattern = "%" + _escape_like(q) + "%"
    return search_table.c.body.like(pattern, escape="\\"), sa.literal(0)


def _separate_words(q: str) -> list[str]:
    """The words of ``q`` a search also finds apart, in any order: all of them when it
    has several and each has :data:`MIN_WORD` characters or more, else none (``Deal 0``
    is matched as a phrase only)."""
    words = WORD.findall(q)
    return words if len(words) > 1 and min(map(len, words)) >= MIN_WORD else []


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _postgres_match(q: str):
    """``q`` as a substring of the entry; or, for words of three characters or more,
    every word of ``q`` starting a word of the entry in any order (``renewal acme``
    finds *Acme renewal*) — both through the trigram index, which answers ``ILIKE`` and
    regular expressions. A shorter word is matched in the phrase only: ``Deal 0`` means
    *Deal 0…*, not every deal whose number holds a 0. Ranked by how closely some run of
    the entry's text matches ``q``."""
    body = search_table.c.body
    match = body.ilike("%" + _escape_like(q) + "%", escape="\\")
    if words := _separate_words(q):  # \w characters mean nothing special in a regex
        match = sa.or_(match, sa.and_(*(body.op("~*")(rf"\m{word}") for word in words)))
    rank = sa.func.word_similarity(sa.literal(q, sa.Text), body)
    return match, rank


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
