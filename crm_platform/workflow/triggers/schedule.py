"""Scheduled triggers: runs of the outbox planned at an offset from a record's date field.

A create or update that leaves a record meeting a scheduled trigger plans one run of job
``scheduled_trigger``, due at the date plus the offset, in the change's transaction. Its
idempotency key names the trigger, the record and the due time, so saving the record
again plans nothing new. Changing the date cancels the planned run and plans one at the
new time; a record that stops meeting the criteria (or loses its date, or is deleted)
cancels it. A run whose time passed while no worker ran still runs when one does, and
the outbox marks it late. When it runs, the trigger's actions run in one transaction, on
the record as it is then, provided it still meets the criteria.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import CrmError, NotFound
from crm_platform.core.tables import automation_runs
from crm_platform.expressions import ValueType
from crm_platform.metadata.store import ACTIVE
from crm_platform.runtime.records.events import EventContext, RecordEvent
from crm_platform.runtime.users import get_user, system_user

from .. import outbox
from ..jobs import JobContext, JobFailed
from ..running import run_actions
from .compiled import PART, CompiledTriggers, Trigger
from .engine import compiled_triggers, meets

if TYPE_CHECKING:
    from crm_platform.runtime import Org

    from ..service import Automation

JOB = "scheduled_trigger"
T = automation_runs.c


def due_time(value: Any, offset: timedelta, time_zone: str) -> datetime | None:
    """When a run is due: a datetime plus the offset, or a date's midnight in the org's
    time zone plus the offset; None without a date."""
    if isinstance(value, datetime):
        return value + offset
    if isinstance(value, date):
        local = datetime.combine(value, time(0)) + offset
        return local.replace(tzinfo=ZoneInfo(time_zone))
    return None


def run_key(trigger: Trigger, record_id: str, due: datetime) -> str:
    """The idempotency key of one planned run: the trigger, the record, the due time."""
    return f"{trigger.source}:{record_id}@{due.isoformat()}"


def planned_runs(
    conn: Connection,
    object_name: str,
    sources: Iterable[str],
    record_ids: Iterable[str],
    job: str = JOB,
) -> dict[tuple[str, str], list[outbox.Run]]:
    """The queued runs of ``job`` (scheduled triggers, or another timer's) from these
    sources for these records of ``object_name`` (one query, on the runs' (object,
    record) index)."""
    query = sa.select(automation_runs).where(
        T.object == object_name,
        T.record_id.in_(list(record_ids)),
        T.job == job,
        T.status == outbox.QUEUED,
        T.source.in_(list(sources)),
    )
    found: dict[tuple[str, str], list[outbox.Run]] = {}
    for row in conn.execute(query).mappings():
        run = outbox.Run.from_row(row)
        found.setdefault((run.source, run.record_id or ""), []).append(run)
    return found


def cancel(conn: Connection, run_ids: list[str]) -> None:
    """Cancel queued runs, freeing their keys (the same due time may be planned again)."""
    if not run_ids:
        return
    conn.execute(
        automation_runs.update()
        .where(T.id.in_(run_ids), T.status == outbox.QUEUED)
        .values(
            status=outbox.CANCELLED,
            lease_until=None,
            idempotency_key=T.idempotency_key + "#cancelled:" + T.id,
        )
    )


class Planner:
    """The record-event handlers that plan, re-plan and cancel scheduled runs."""

    def __init__(self, automation: Automation) -> None:
        self.automation = automation

    def on_save(self, ctx: EventContext) -> None:
        """After create or update: plan, re-plan or cancel each record's runs."""
        triggers = compiled_triggers(ctx).scheduled(ctx.object.api_name)
        if not triggers:
            return
        ids = [change.record_id for change in ctx.changes]
        planned = planned_runs(
            ctx.connection, ctx.object.api_name, [t.source for t in triggers], ids
        )
        for change in ctx.changes:
            for trigger in triggers:
                pending = planned.get((trigger.source, change.record_id), [])
                self._plan(ctx, trigger, change, pending)

    def _plan(self, ctx: EventContext, trigger: Trigger, change, pending: list[outbox.Run]):
        assert trigger.schedule is not None
        values = change.after or {}
        due = None
        if meets(ctx, trigger, values, change.before):
            value = values.get(trigger.schedule.field)
            due = due_time(value, trigger.schedule.offset, ctx.model.time_zone)
        wanted = None if due is None else due.isoformat()
        stale = [run.id for run in pending if run.payload.get("due") != wanted]
        cancel(ctx.connection, stale)
        if due is None or len(stale) < len(pending):
            return  # nothing to plan, or already planned at this time
        operation = ctx.event.operation
        if operation not in trigger.events and not stale:
            return  # this event only moves runs planned earlier
        was_met = change.before is not None and meets(ctx, trigger, change.before)
        if trigger.only_when_changed_to_meet and was_met and not stale:
            return  # met before this change: planned (and perhaps run) back then
        now = self.automation.now()
        self.automation.enqueue(
            ctx.connection,
            job=JOB,
            source=trigger.source,
            payload={"trigger": trigger.name, "due": wanted},
            user_id=ctx.user.id,
            due_at=max(due, now),
            object_name=trigger.object,
            record_id=change.record_id,
            key=run_key(trigger, change.record_id, due),
        )

    def on_delete(self, ctx: EventContext) -> None:
        """A deleted record's planned runs are cancelled."""
        triggers = compiled_triggers(ctx).scheduled(ctx.object.api_name)
        if not triggers:
            return
        ids = [change.record_id for change in ctx.changes]
        planned = planned_runs(
            ctx.connection, ctx.object.api_name, [t.source for t in triggers], ids
        )
        cancel(ctx.connection, [run.id for runs in planned.values() for run in runs])


class ScheduledTriggerJob:
    """Job ``scheduled_trigger``: run a scheduled trigger's actions on its record."""

    name = JOB

    def run(self, job: JobContext) -> None:
        org = job.org
        run = job.run
        with org.db.read() as conn:
            user = get_user(conn, run.user_id)
            if user is None or not user.active:
                user = system_user(conn)
        try:
            with org.records.session(user) as session:
                compiled: CompiledTriggers = (
                    session.model.extensions.get(PART) or CompiledTriggers()
                )
                trigger = compiled.by_name.get(job.payload["trigger"])
                values = _current_values(session, trigger, run)
                if (
                    trigger is None
                    or values is None
                    or not _still_due(session, trigger, values, job)
                ):
                    return  # the trigger or the record is gone, or it no longer applies
                run_actions(
                    org,
                    session,
                    trigger.object,
                    run.record_id or "",
                    trigger.actions,
                    source=trigger.source,
                    values=values,
                )
        except CrmError as exc:
            # a refused write fails the same way when tried again: the run fails, named
            raise JobFailed(f"{exc.status} {exc.detail}", step="actions") from exc


def _current_values(session, trigger: Trigger | None, run: outbox.Run) -> Mapping[str, Any] | None:
    if trigger is None or run.record_id is None:
        return None
    try:
        return session.as_user(system_user(session.conn)).get(trigger.object, run.record_id)
    except NotFound:
        return None


def _still_due(session, trigger: Trigger, values: Mapping[str, Any], job: JobContext) -> bool:
    """The record still meets the criteria and its date still gives this run's due time."""
    assert trigger.schedule is not None
    if trigger.when is not None:
        obj = session.model.objects[trigger.object]
        what = f"{trigger.source}.when"
        if session.evaluate_on(obj, trigger.when, values, what, ValueType.BOOLEAN) is not True:
            return False
    due = due_time(
        values.get(trigger.schedule.field), trigger.schedule.offset, session.model.time_zone
    )
    return due is not None and due.isoformat() == job.payload.get("due")


def follow_definition_changes(conn: Connection, changes: Sequence[Any], model: Any) -> None:
    """Apply hook: queued runs of a scheduled trigger that was deleted, deactivated or given
    another schedule are cancelled (records are planned anew as they are next saved); a
    renamed trigger's runs follow the new name. Criteria are checked again when a run is
    due, so a change of ``when`` leaves runs be."""
    for change in changes:
        if change.after.kind != "trigger" or change.before is None:
            continue
        old, new = change.before.definition, change.after.definition
        alive = change.after.status == ACTIVE and new.get("active", True) is not False
        if not alive or old.get("schedule") != new.get("schedule"):
            cancel(conn, [run.id for run in _queued_runs(conn, f"trigger:{change.before.name}")])
        elif change.before.name != change.after.name:
            _rename_runs(conn, change.before.name, change.after.name, new["object"])


def _rename_runs(conn: Connection, old_name: str, new_name: str, object_name: str) -> None:
    """Every run of a renamed trigger takes its new name, in its source and its key (so a
    due time that already ran is not planned again under the new name)."""
    old_source, new_source = f"trigger:{old_name}", f"trigger:{new_name}"
    for run in _queued_runs(conn, old_source):
        payload = {**run.payload, "trigger": new_name}
        conn.execute(automation_runs.update().where(T.id == run.id).values(payload=payload))
    conn.execute(
        automation_runs.update()
        .where(T.job == JOB, T.source == old_source)
        .values(
            source=new_source,
            object=object_name,
            idempotency_key=sa.func.replace(T.idempotency_key, old_source + ":", new_source + ":"),
        )
    )


def _queued_runs(conn: Connection, source: str) -> list[outbox.Run]:
    query = sa.select(automation_runs).where(
        T.job == JOB, T.status == outbox.QUEUED, T.source == source
    )
    return [outbox.Run.from_row(row) for row in conn.execute(query).mappings()]


def attach_planner(org: Org, automation: Automation) -> None:
    """Plan on create and update, cancel on delete; run the job type."""
    planner = Planner(automation)
    org.records.events.on(
        (RecordEvent.AFTER_CREATE, RecordEvent.AFTER_UPDATE), planner.on_save, name="triggers.plan"
    )
    org.records.events.on(RecordEvent.AFTER_DELETE, planner.on_delete, name="triggers.cancel")
    automation.add_job(ScheduledTriggerJob())
