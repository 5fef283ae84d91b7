"""The platform's own record-event handlers: field history, criteria shares, the search
index and roll-up summaries (DESIGN §5 steps 8 and 9). They attach like automation does,
through :class:`RecordEvents`, and each does its work for a whole batch at once."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import new_id
from crm_platform.core.crypto import PREFIX as CIPHER_PREFIX
from crm_platform.core.crypto import FieldCipher
from crm_platform.core.tables import field_history, shares
from crm_platform.expressions import ValueType
from crm_platform.fieldtypes import field_type

from ..model import OrgModel
from ..security.shares import refresh_rule_shares
from . import rollups, search
from .events import EventContext, RecordEvent, RecordEvents

E = RecordEvent


def register_platform_handlers(events: RecordEvents) -> None:
    """Attach history, shares, search and roll-ups, in the order they must run."""
    events.on(E.AFTER_UPDATE, record_field_history, name="field_history")
    events.on((E.AFTER_CREATE, E.AFTER_UPDATE), refresh_criteria_shares, name="criteria_shares")
    events.on(E.AFTER_PURGE, drop_purged_shares, name="purged_shares")
    events.on(
        (E.AFTER_CREATE, E.AFTER_UPDATE, E.AFTER_DELETE, E.AFTER_RESTORE),
        keep_search_index,
        name="search_index",
    )
    events.on(
        (E.AFTER_CREATE, E.AFTER_UPDATE, E.AFTER_DELETE, E.AFTER_RESTORE),
        refresh_rollups,
        name="rollups",
    )


def record_field_history(ctx: EventContext) -> None:
    """One history row per changed field of an object or field that tracks history.

    An encrypted field's old and new values are stored encrypted (bound to the field and
    to history), so the history table never holds its plaintext; reading history masks
    them like the field (``reads.history``).
    """
    obj = ctx.object
    whole_object = bool(obj.definition.get("track_history"))

    def stored(name: str, value: Any) -> Any:
        if value is not None and field_type(obj.fields[name].type).encrypted:
            cipher = ctx.cipher
            assert cipher is not None
            return cipher.encrypt(str(value), history_context(obj.api_name, name))
        return _jsonable(value)

    rows = [
        {
            "id": new_id(),
            "object": obj.api_name,
            "record_id": change.record_id,
            "field": name,
            "old_value": stored(name, (change.before or {}).get(name)),
            "new_value": stored(name, (change.after or {}).get(name)),
            "changed_by": ctx.user.id,
            "changed_at": ctx.now,
        }
        for change in ctx.changes
        for name in change.changed
        if name in obj.fields and (whole_object or obj.fields[name].definition.get("track_history"))
    ]
    if rows:
        ctx.connection.execute(field_history.insert(), rows)


def refresh_criteria_shares(ctx: EventContext) -> None:
    """Recompute the share rows of the object's criteria-based sharing rules, for the
    whole batch at once."""
    obj = ctx.object
    if not any(r.criteria for r in ctx.model.security.sharing_rules.get(obj.api_name, ())):
        return
    changes = {change.record_id: change for change in ctx.changes}

    def matches(record_id: str, rule) -> bool:
        what = f"sharing rule {rule.name}"
        found = ctx.evaluate(
            changes[record_id], rule.criteria, what=what, expected=ValueType.BOOLEAN
        )
        return found is True

    refresh_rule_shares(
        ctx.connection,
        ctx.model.security,
        obj,
        list(changes),
        matches,
        new=ctx.event is E.AFTER_CREATE,
    )


def drop_purged_shares(ctx: EventContext) -> None:
    """Share rows of records gone for good go with them."""
    ids = [c.record_id for c in ctx.changes]
    ctx.connection.execute(
        shares.delete().where(shares.c.object == ctx.object.api_name, shares.c.record_id.in_(ids))
    )


def keep_search_index(ctx: EventContext) -> None:
    """Index new and restored records, re-index changed text, drop deleted records."""
    obj = ctx.object
    if ctx.event is E.AFTER_DELETE:
        search.unindex_records(ctx.connection, obj, [c.record_id for c in ctx.changes])
        return
    dialect = ctx.connection.dialect.name
    searched, statements = ctx.compiled(
        ("search_statements", obj.api_name),
        lambda: (search.indexed_names(obj), search.entry_statements(ctx.model, obj, dialect)),
    )
    if ctx.event is E.AFTER_CREATE:
        ids = [c.record_id for c in ctx.changes]
        search.index_records(ctx.connection, ctx.model, obj, ids, statements, new=True)
        return
    if ctx.event is E.AFTER_UPDATE:
        ids = [c.record_id for c in ctx.changes if search.affects_index(obj, c.changed, searched)]
    else:
        ids = [c.record_id for c in ctx.changes]
    search.index_records(ctx.connection, ctx.model, obj, ids, statements)


def refresh_rollups(ctx: EventContext) -> None:
    """Recompute the parents' roll-ups that the changed children feed (old parents too)."""
    obj = ctx.object
    rollup_defs = ctx.model.rollups_over.get(obj.api_name, ())
    if not rollup_defs:
        return
    watched = {name for r in rollup_defs for name in (r.link, r.summarised)}
    filtered = any(r.filter for r in rollup_defs)
    every = ctx.event in {E.AFTER_DELETE, E.AFTER_RESTORE}
    relevant = [
        c for c in ctx.changes if every or c.cascaded or filtered or watched & set(c.changed)
    ]
    if not relevant:
        return
    links = {r.link for r in rollup_defs}
    # a new record's values are whole (a field left out is null); others may be partial
    complete = ctx.event is E.AFTER_CREATE
    known = [c for c in relevant if complete or links <= (c.after or c.before or {}).keys()]
    unknown = {c.record_id for c in relevant} - {c.record_id for c in known}
    parents = rollups.parents_of(ctx.connection, ctx.model, obj.api_name, unknown)
    for change in relevant:
        for rollup in rollup_defs:
            key = (rollup.parent, rollup.link)
            for values in (change.before, change.after):
                parent = (values or {}).get(rollup.link)
                if isinstance(parent, str):
                    parents.setdefault(key, set()).add(parent)

    def compile_filter(rollup, _child_table) -> Any:
        child = ctx.model.objects[rollup.child]
        return ctx.condition_sql(child, rollup.filter, f"{rollup.field}.filter")

    rollups.recompute(
        ctx.connection, ctx.model, obj.api_name, parents, compile_filter, ctx.compiled
    )


def history_context(object_name: str, field_name: str) -> str:
    """The associated data of an encrypted field's history values: a history ciphertext
    cannot be passed off as the field's own column value, or the other way round."""
    return f"{object_name}.{field_name}#history"


def seal_plaintext_history(conn: Connection, model: OrgModel, cipher: FieldCipher) -> int:
    """Encrypt the history values of encrypted fields still held in plaintext (rows
    written before history was encrypted); returns how many rows changed. Run by
    ``crm upgrade``; a row already sealed is left alone, so running it again is a no-op."""
    sealed = 0
    for obj in model.objects.values():
        names = [n for n, f in obj.fields.items() if field_type(f.type).encrypted]
        if not names:
            continue
        rows = conn.execute(
            sa.select(
                field_history.c.id,
                field_history.c.field,
                field_history.c.old_value,
                field_history.c.new_value,
            ).where(field_history.c.object == obj.api_name, field_history.c.field.in_(names))
        ).all()
        for row_id, name, old, new in rows:
            context = history_context(obj.api_name, name)
            values = {
                column: cipher.encrypt(str(value), context)
                for column, value in (("old_value", old), ("new_value", new))
                if value is not None and not str(value).startswith(CIPHER_PREFIX)
            }
            if values:
                conn.execute(
                    field_history.update().where(field_history.c.id == row_id).values(values)
                )
                sealed += 1
    return sealed


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value
