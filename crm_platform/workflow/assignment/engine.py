"""Running an assignment rule on one record: the first entry whose ``when`` is true picks
the owner, and the record service (as the system user, in the caller's transaction)
gives the record to it; the new owner is notified.

Automation changes owners as the system user, so no transfer permission is asked of the
person whose change fired the rule (DESIGN §6: the system user holds every permission).
Round-robin turns come from a counter row moved in this same transaction (an upsert with
RETURNING that keeps the row locked until commit), so two concurrent creates never take
the same turn; least-loaded counts open records per member in one SQL statement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from crm_platform.core.tables import group_members as gm
from crm_platform.core.tables import users
from crm_platform.expressions import ValueType
from crm_platform.runtime.records.counters import next_value
from crm_platform.runtime.security import load_access
from crm_platform.runtime.users import get_user, system_user

from .. import notifications
from .rules import Entry, Rule, Target

if TYPE_CHECKING:
    from crm_platform.runtime import ObjectModel
    from crm_platform.runtime.records.events import EventServices
    from crm_platform.runtime.records.query import SelectBuilder

OWNER = "owner_id"


class AssignmentServices(Protocol):
    """The record service's tools an assignment needs (an event context's services or a
    record session: both are a ``RecordContext``)."""

    conn: Any
    model: Any
    user: Any
    now: Any

    def evaluate_on(self, obj, source: str, values, what: str, expected: Any) -> Any: ...

    def as_user(self, user: Any) -> Any: ...

    def builder(self, obj: ObjectModel, *, as_system: bool = False) -> SelectBuilder: ...


@dataclass(frozen=True)
class Assignment:
    """What a rule did to a record: the entry that matched (None: no entry did), the
    owner the record has now, and whether it moved."""

    rule: str
    entry: int | None
    owner_id: str
    changed: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "entry": self.entry,
            "owner_id": self.owner_id,
            "changed": self.changed,
        }


def assign(
    services: EventServices | AssignmentServices,
    obj: ObjectModel,
    record_id: str,
    rule: Rule,
) -> Assignment:
    """Run ``rule`` on one record in ``services``' transaction (see the module doc); the
    record is read as it stands now (earlier actions of the same change included)."""
    system = services.as_user(system_user(services.conn))
    current = system.get(obj.api_name, record_id)
    owner = current[OWNER]
    for entry in rule.entries:
        if entry.when is not None:
            what = f"{rule.source} entries[{entry.index}].when"
            if services.evaluate_on(obj, entry.when, current, what, ValueType.BOOLEAN) is not True:
                continue
        target = _owner_for(services, obj, record_id, rule, entry)
        if target is None:
            continue  # nobody to give it to (an empty group, a user who left): next entry
        if target == owner:
            return Assignment(rule.name, entry.index, owner, False)
        system.update(obj.api_name, record_id, {OWNER: target})
        if entry.notify:
            _notify_owner(services, obj, record_id, rule, current, target)
        return Assignment(rule.name, entry.index, target, True)
    return Assignment(rule.name, None, owner, False)


def _owner_for(
    services: Any, obj: ObjectModel, record_id: str, rule: Rule, entry: Entry
) -> str | None:
    target: Target = entry.target
    conn = services.conn
    if target.kind == "user":
        query = sa.select(users.c.id).where(
            users.c.email == target.name.strip().lower(),
            users.c.active.is_(True),
            users.c.is_system.is_(False),
        )
        return conn.execute(query).scalar()
    if target.kind == "queue":
        queue = services.model.security.queues.get(target.name)
        return queue.id if queue is not None and obj.api_name in queue.objects else None
    if target.kind == "round_robin":
        people = notifications.members(conn, "group", target.name)
        if not people:
            return None
        turn = next_value(conn, rule.turn_counter(entry), 1)
        return people[(turn - 1) % len(people)]
    return _least_loaded(services, obj, record_id, rule, entry)


def _least_loaded(
    services: Any, obj: ObjectModel, record_id: str, rule: Rule, entry: Entry
) -> str | None:
    """The active member of the group owning the fewest open records (ties: lowest id);
    with a skill, only members also in the skill's group (none has it: None, next entry)."""
    skilled = _skill_members(services, obj, record_id, rule, entry)
    if skilled is not None and not skilled:
        return None
    builder = services.builder(obj, as_system=True)
    what = f"{rule.source} entries[{entry.index}].assign_to.open"
    _checked, condition = builder.expression(entry.target.open, ValueType.BOOLEAN, what)
    table = obj.table
    load = (
        sa.select(table.c.owner_id.label("owner_id"), sa.func.count().label("open"))
        .select_from(builder.from_clause)
        .where(table.c.deleted_at.is_(None), table.c.id != record_id, condition)
        .group_by(table.c.owner_id)
        .subquery()
    )
    query = (
        sa.select(gm.c.user_id)
        .join(users, users.c.id == gm.c.user_id)
        .outerjoin(load, load.c.owner_id == gm.c.user_id)
        .where(
            gm.c.group_name == entry.target.name,
            users.c.active.is_(True),
            users.c.is_system.is_(False),
            *([gm.c.user_id.in_(skilled)] if skilled is not None else []),
        )
        .order_by(sa.func.coalesce(load.c.open, 0), gm.c.user_id)
        .limit(1)
    )
    return services.conn.execute(query).scalar()


def _skill_members(
    services: Any, obj: ObjectModel, record_id: str, rule: Rule, entry: Entry
) -> list[str] | None:
    """The members of the group the entry's skill expression names for this record; None
    when the entry asks no skill or the record needs none (a blank result)."""
    if entry.target.skill is None:
        return None
    current = services.as_user(system_user(services.conn)).get(obj.api_name, record_id)
    what = f"{rule.source} entries[{entry.index}].assign_to.skill"
    skill = services.evaluate_on(obj, entry.target.skill, current, what, ValueType.TEXT)
    if not skill:
        return None
    query = sa.select(gm.c.user_id).where(gm.c.group_name == str(skill))
    return list(services.conn.execute(query).scalars())


def _notify_owner(
    services: Any,
    obj: ObjectModel,
    record_id: str,
    rule: Rule,
    values: Mapping[str, Any],
    owner_id: str,
) -> None:
    """Tell the new owner (a queue's members for a queue) — not the person who did it."""
    people = notifications.recipients(services.conn, services.model.security, owner_id)
    people = [p for p in people if p != services.user.id]
    label = object_label(obj)
    name = values.get(obj.name_field)
    for person in people:
        readable = _name_readable(services, obj, person)
        what = f"{label} '{name}'" if readable and name else f"A {label} record"
        target = "your queue" if person != owner_id else "you"
        notifications.notify(
            services.conn,
            [person],
            f"{what} was assigned to {target}",
            source=rule.source,
            now=services.now,
            object_name=obj.api_name,
            record_id=record_id,
        )


def object_label(obj: ObjectModel) -> str:
    """The object's label, as a notification names it."""
    label = obj.definition.get("label", obj.api_name)
    if isinstance(label, Mapping):
        return str(label.get("en") or next(iter(label.values()), obj.api_name))
    return str(label)


def _name_readable(services: Any, obj: ObjectModel, user_id: str) -> bool:
    """Whether the recipient may read the record's name (field-level security)."""
    user = get_user(services.conn, user_id)
    if user is None:
        return False
    access = load_access(services.conn, user, services.model, services.model.security)
    return access.field_readable(obj.api_name, obj.name_field)
