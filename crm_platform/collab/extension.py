"""The collaboration extension: follows kept and followers told, through record events.

- After a create, whoever created the record and its owner follow it.
- After an update, a new owner follows it, and each follower who can still see the
  record is told what changed — only the fields they may read (``readable_fields``),
  with the values they read as themselves. A change of nothing they may read tells them
  nothing; a follower who lost access is told nothing.
- After a purge, the record's feed and follows go too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crm_platform.metadata import KindRegistry
from crm_platform.runtime.model import ModelCompiler, ObjectModel
from crm_platform.runtime.records import EventContext, RecordChange, RecordEvent
from crm_platform.workflow import notifications as inbox

from . import follows
from .audience import field_label, record_phrase, seen_by
from .tables import feed_posts, record_follows

if TYPE_CHECKING:
    from crm_platform.runtime import Org

OWNER = "owner_id"
MAX_VALUE = 80  # characters of one value a change notice quotes
SOURCE = "follow"


def _follow_created(ctx: EventContext) -> None:
    """The creator and the owner of each new record follow it (people only), unless the
    records are a data load (an import: ``EventContext.bulk_load``)."""
    if ctx.bulk_load:
        return
    changes = [c for c in ctx.changes if c.after is not None]
    owners = {c.record_id: (c.after or {}).get(OWNER) for c in changes}
    # the writer is known to be a person or not; only other owners need a look-up (none
    # when people create records they own, the common case)
    people = follows.people(ctx.connection, {o for o in owners.values() if o and o != ctx.user.id})
    if not ctx.user.is_system:
        people.add(ctx.user.id)
    pairs = [
        (c.record_id, who)
        for c in changes
        for who in (ctx.user.id, owners[c.record_id])
        if who in people
    ]
    follows.follow_many(ctx.connection, ctx.object.api_name, pairs, ctx.now)


def _text(value: Any, names: Any, field: str) -> str:
    if isinstance(names, dict) and names.get(field):
        value = names[field]
    if value is None or value == "":
        return "—"
    text = str(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _tell(ctx: EventContext, obj: ObjectModel, change: RecordChange, user_id: str) -> None:
    changed = [f for f in change.changed if f in obj.fields or f == OWNER]
    seen = seen_by(ctx.services, obj, change.record_id, user_id, changed)
    if seen is None:
        return
    readable = set(seen.access.readable_fields(obj.api_name)) | {OWNER}
    shown = [f for f in changed if f in readable and f in seen.record]
    if not shown:
        return
    names = seen.record.get("_names")
    parts = "; ".join(
        f"{field_label(obj, f) if f != OWNER else 'Owner'}: {_text(seen.record[f], names, f)}"
        for f in shown
    )
    inbox.notify(
        ctx.connection,
        [user_id],
        f"{ctx.user.name} changed {record_phrase(obj, seen)}: {parts}",
        source=SOURCE,
        now=ctx.now,
        object_name=obj.api_name,
        record_id=change.record_id,
    )


def _tell_followers(ctx: EventContext) -> None:
    """Tell each record's followers what changed that they may read; a new owner follows
    the record from now on (told of its ownership by whatever gave it to them)."""
    if ctx.quiet:  # derived data (a prediction's scores) tells no follower
        return
    changes = [c for c in ctx.changes if c.changed and c.after is not None and not c.cascaded]
    if not changes:
        return
    ids = [c.record_id for c in changes]
    by_record = follows.followers(ctx.connection, ctx.object.api_name, ids)
    for change in changes:
        for user_id in by_record.get(change.record_id, ()):
            if user_id != ctx.user.id:
                _tell(ctx, ctx.object, change, user_id)
    new_owners = [(c.record_id, (c.after or {}).get(OWNER)) for c in changes if OWNER in c.changed]
    people = follows.people(ctx.connection, [o for _r, o in new_owners if o])
    follows.follow_many(
        ctx.connection, ctx.object.api_name, [p for p in new_owners if p[1] in people], ctx.now
    )


def _forget_purged(ctx: EventContext) -> None:
    """A record purged for good takes its feed and its follows with it (a record in the
    recycle bin keeps them, for its restore)."""
    ids = [c.record_id for c in ctx.changes]
    for table in (feed_posts, record_follows):
        ctx.connection.execute(
            table.delete().where(table.c.object == ctx.object.api_name, table.c.record_id.in_(ids))
        )


@dataclass(frozen=True)
class CollabExtension:
    """Feeds, mentions and follows: no kinds; record-event handlers on every object."""

    name: str = "collab"

    def register(self, registry: KindRegistry, compiler: ModelCompiler) -> None:
        del registry, compiler  # collaboration adds no metadata kind

    def attach(self, org: Org) -> None:
        events = org.records.events
        events.on(RecordEvent.AFTER_CREATE, _follow_created, name="collab.follow_created")
        events.on(RecordEvent.AFTER_UPDATE, _tell_followers, name="collab.tell_followers")
        events.on(RecordEvent.AFTER_PURGE, _forget_purged, name="collab.forget_purged")
