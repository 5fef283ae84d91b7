"""Indexes on the blocking keys of duplicate rules, kept with the rules.

Every create or update checked by a rule asks which stored records share a blocking key
(:mod:`.candidates`): ``lower(trim(email)) IN (…)``. Without an index on that expression
each check reads the whole table, so an import of 100,000 contacts read 5 billion rows
on PostgreSQL. An index per key expression turns each check into a probe per key. It
covers every row, deleted ones too: PostgreSQL's planner ignores the statistics of a
partial index's expression, so it guessed that a batch's 1,000 keys match most of the
table and read it whole (8 of an import's 100 seconds), where the full index's
statistics (one row per key) make it probe.

They are reconciled by an apply hook whenever a change set touches a duplicate rule:
each object of a changed rule gets exactly the indexes its rules' keys need (named
``ixk_<table>_<hash of the expression>``, so rules sharing a key share the index, and
one no rule needs is dropped), in the change set's transaction. :func:`index_org_rules`
does the same for all objects: ``crm restore`` (a backup holds no indexes) and ``crm
upgrade`` (rules saved before these indexes existed) run it.

SQLite indexes only expressions of its built-in functions: a key through ``crm_lower``
(``normalized`` and ``fuzzy``) would make every write to the table need the function,
which another program opening the file (the ``sqlite3`` shell) does not have.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.metadata import ACTIVE, SIMPLE, CandidateModel

from .keys import blocking_criterion, criterion_keys
from .kind import KIND, read_rule

PREFIX = "ixk_"
SCOPE = "all rows"  # not partial (see above)
OWN_FUNCTIONS = ("crm_lower",)  # registered by us: not indexed on SQLite (see above)


def keep_key_indexes(conn: Connection, changes: Sequence[Any], model: CandidateModel) -> None:
    """Apply hook: reconcile the key indexes of the objects whose rules changed."""
    objects = set()
    for change in changes:
        for comp in (change.before, change.after):
            if comp is not None and comp.kind == KIND:
                objects.add(comp.definition["object"])
    for name in sorted(objects):
        _reconcile(conn, model, name)


def index_every_rule(conn: Connection, model: CandidateModel) -> int:
    """Reconcile the key indexes of every object that has a duplicate rule; returns how
    many indexes it made."""
    objects = {comp.definition["object"] for comp in model.of_kind(KIND)}
    return sum(_reconcile(conn, model, name) for name in sorted(objects))


def index_org_rules(org: Any) -> int:
    """:func:`index_every_rule` on an org's current metadata, in a transaction of its own
    (``crm upgrade`` and ``crm restore``: an org whose rules were saved before these
    indexes existed, or restored from a backup, which holds none)."""
    with org.db.write(ddl=True) as conn:
        return index_every_rule(conn, CandidateModel(org.metadata.snapshots.read(conn)))


def _reconcile(conn: Connection, model: CandidateModel, object_name: str) -> int:
    """Make and drop indexes of one object's table; returns how many it made."""
    header = model.get("object", object_name)
    if header is None or header.status != ACTIVE:
        return 0  # the object goes with its table (and the table's indexes)
    table = header.physical["table"]
    wanted = _wanted(conn.dialect, model, object_name, table)
    present = key_indexes_on(conn, table)
    quote = conn.dialect.identifier_preparer.quote
    for name in sorted(present - set(wanted)):
        conn.exec_driver_sql(f"DROP INDEX {quote(name)}")
    made = 0
    for name, expression in sorted(wanted.items()):
        if name not in present:
            conn.exec_driver_sql(f"CREATE INDEX {quote(name)} ON {quote(table)} ({expression})")
            made += 1
    return made


def _wanted(dialect: Any, model: CandidateModel, object_name: str, table: str) -> dict[str, str]:
    columns = {
        comp.definition["api_name"]: comp.physical.get("columns", {}).get(SIMPLE)
        for comp in model.fields_of(object_name)
    }
    wanted: dict[str, str] = {}
    for comp in model.of_kind(KIND):
        if comp.status != ACTIVE or comp.definition["object"] != object_name:
            continue
        criterion = blocking_criterion(read_rule(comp.definition))
        column = columns.get(criterion.field)
        if column is None:
            continue  # checked when saved; a field being removed takes its rule with it
        for expression in _key_sql(dialect, criterion, column):
            if dialect.name == "sqlite" and any(f in expression for f in OWN_FUNCTIONS):
                continue
            # the scope in the name: the partial indexes made before are dropped, not kept
            digest = hashlib.sha1(f"{expression} {SCOPE}".encode()).hexdigest()[:10]
            wanted[f"{PREFIX}{table[:40]}_{digest}"] = expression
    return wanted


def _key_sql(dialect: Any, criterion: Any, column: str) -> Iterable[str]:
    """The key expressions as SQL text, constants inline (as queries render them)."""
    for key in criterion_keys(dialect.name, criterion, sa.column(column)):
        yield str(key.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def key_indexes_on(conn: Connection, table: str) -> set[str]:
    """The names of the key indexes on ``table``."""
    if conn.dialect.name == "sqlite":
        query = sa.text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t")
    else:
        query = sa.text(
            "SELECT indexname FROM pg_indexes "
            "WHERE tablename = :t AND schemaname = current_schema()"
        )
    return {row[0] for row in conn.execute(query, {"t": table}) if row[0].startswith(PREFIX)}
