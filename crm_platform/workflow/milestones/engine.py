"""Milestones at run time: record-event handlers that start, plan and stop the timers,
and the job that marks a breach and runs its actions.

Before a record is saved, each milestone of its object that is not yet started (its
``due_field`` is empty), not complete and whose ``start_when`` holds gets its due time:
now plus ``target_minutes`` working minutes of its business hours, stored in the due
field (so lists, reports and people see it). After the save, a run of job
``milestone_breach`` is planned in the outbox at the due time (idempotency key: the
milestone, the record, the due time); completing the milestone, clearing the due field
or deleting the record cancels it, and moving the due time re-plans it. When the run
falls due and the record is still not complete, the breach field is set and the
milestone's actions (field updates, notifications, an assignment to an escalation
queue...) run in one transaction, as the system user.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crm_platform.core import CrmError, NotFound
from crm_platform.expressions import ValueType
from crm_platform.runtime.records.events import EventContext, RecordEvent
from crm_platform.runtime.users import get_user, system_user

from ..jobs import JobContext, JobFailed
from ..running import run_actions
from ..triggers.schedule import cancel, planned_runs
from .calendar import add_minutes
from .compiled import PART, CompiledMilestones, Milestone

if TYPE_CHECKING:
    from crm_platform.runtime import Org

    from ..service import Automation

JOB = "milestone_breach"
E = RecordEvent


def compiled_milestones(model: Any) -> CompiledMilestones:
    """The milestones of a compiled model (none when automation is absent)."""
    return model.extensions.get(PART) or CompiledMilestones()


def as_instant(value: Any) -> datetime | None:
    """A stored datetime value as an aware instant (strings from a payload included)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _holds(services: Any, obj: Any, source: str | None, values, what: str) -> bool:
    if source is None:
        return True
    return services.evaluate_on(obj, source, values, what, ValueType.BOOLEAN) is True


def timer_starter(automation: Automation):
    """The before-save handler giving each milestone that starts now its due time (now is
    the org's clock, which tests move)."""

    def start_timers(ctx: EventContext) -> None:
        milestones = compiled_milestones(ctx.model).of(ctx.object.api_name)
        for change in ctx.changes if milestones else ():
            values = ctx.values(change)
            for milestone in milestones:
                if values.get(milestone.due_field) is not None:
                    continue  # started already (or the due time was given)
                due = _due_time(ctx, milestone, values, automation.now())
                if due is not None:
                    ctx.set_field(change.record_id, milestone.due_field, due)

    return start_timers


def _due_time(ctx: EventContext, milestone: Milestone, values: Mapping[str, Any], now):
    services, obj = ctx.services, ctx.object
    if not _holds(services, obj, milestone.start_when, values, f"{milestone.source}.start_when"):
        return None
    if _holds(services, obj, milestone.complete_when, values, f"{milestone.source}.complete_when"):
        return None
    what = f"{milestone.source}.target_minutes"
    minutes = services.evaluate_on(obj, milestone.target_minutes, values, what, ValueType.NUMBER)
    if not isinstance(minutes, int | float | Decimal) or minutes < 0:
        return None  # no target for this record (no entitlement, an unknown priority)
    hours = compiled_milestones(ctx.model).hours.get(milestone.business_hours or "")
    # stored to the second: the run's payload and the stored value then compare equal
    return add_minutes(now, float(minutes), hours).replace(microsecond=0)


class Planner:
    """After save and delete: plan, move or cancel each record's breach runs."""

    def __init__(self, automation: Automation) -> None:
        self.automation = automation

    def on_save(self, ctx: EventContext) -> None:
        milestones = compiled_milestones(ctx.model).of(ctx.object.api_name)
        if not milestones:
            return
        ids = [change.record_id for change in ctx.changes]
        planned = planned_runs(
            ctx.connection, ctx.object.api_name, [m.source for m in milestones], ids, job=JOB
        )
        for change in ctx.changes:
            values = change.after or {}
            for milestone in milestones:
                pending = planned.get((milestone.source, change.record_id), [])
                due = self._wanted(ctx, milestone, values)
                wanted = None if due is None else due.astimezone(UTC).isoformat()
                stale = [run.id for run in pending if run.payload.get("due") != wanted]
                cancel(ctx.connection, stale)
                if due is None or len(stale) < len(pending):
                    continue
                self.automation.enqueue(
                    ctx.connection,
                    job=JOB,
                    source=milestone.source,
                    payload={"milestone": milestone.name, "due": wanted},
                    user_id=ctx.user.id,
                    due_at=max(due, self.automation.now()),
                    object_name=milestone.object,
                    record_id=change.record_id,
                    key=f"{milestone.source}:{change.record_id}@{wanted}",
                )

    @staticmethod
    def _wanted(ctx: EventContext, milestone: Milestone, values: Mapping[str, Any]):
        """The due time a run should be planned at; None when the timer is not running."""
        due = as_instant(values.get(milestone.due_field))
        if due is None or (milestone.breached_field and values.get(milestone.breached_field)):
            return None
        what = f"{milestone.source}.complete_when"
        if _holds(ctx.services, ctx.object, milestone.complete_when, values, what):
            return None
        return due

    def on_delete(self, ctx: EventContext) -> None:
        milestones = compiled_milestones(ctx.model).of(ctx.object.api_name)
        if not milestones:
            return
        ids = [change.record_id for change in ctx.changes]
        planned = planned_runs(
            ctx.connection, ctx.object.api_name, [m.source for m in milestones], ids, job=JOB
        )
        cancel(ctx.connection, [run.id for runs in planned.values() for run in runs])


class MilestoneBreachJob:
    """Job ``milestone_breach``: mark the breach and run the milestone's actions."""

    name = JOB

    def __init__(self, org: Org) -> None:
        self.org = org

    def run(self, job: JobContext) -> None:
        org, run = job.org, job.run
        with org.db.read() as conn:
            user = get_user(conn, run.user_id)
            if user is None or not user.active:
                user = system_user(conn)
        try:
            with org.records.session(user) as session:
                milestone = compiled_milestones(session.model).named(job.payload["milestone"])
                if milestone is None or run.record_id is None:
                    return  # the milestone is gone or inactive
                system = session.as_user(system_user(session.conn))
                try:
                    values = system.get(milestone.object, run.record_id)
                except NotFound:
                    return
                if not _still_due(session, milestone, values, job.payload.get("due")):
                    return
                if milestone.breached_field:
                    values = system.update(
                        milestone.object, run.record_id, {milestone.breached_field: True}
                    )
                if milestone.actions:
                    run_actions(
                        org,
                        session,
                        milestone.object,
                        run.record_id,
                        milestone.actions,
                        source=milestone.source,
                    )
        except CrmError as exc:
            raise JobFailed(f"{exc.status} {exc.detail}", step="actions") from exc


def _still_due(session: Any, milestone: Milestone, values: Mapping[str, Any], due: Any) -> bool:
    """Not complete, not breached already, and the stored due time is this run's."""
    obj = session.model.objects[milestone.object]
    what = f"{milestone.source}.complete_when"
    if _holds(session, obj, milestone.complete_when, values, what):
        return False
    if milestone.breached_field and values.get(milestone.breached_field):
        return False
    stored = as_instant(values.get(milestone.due_field))
    return stored is not None and due is not None and stored == as_instant(due)


def attach_milestones(org: Org, automation: Automation) -> None:
    """Start timers before save, plan after save, cancel on delete; run the job type."""
    planner = Planner(automation)
    org.records.events.on(
        (E.BEFORE_CREATE, E.BEFORE_UPDATE), timer_starter(automation), name="milestones.start"
    )
    org.records.events.on((E.AFTER_CREATE, E.AFTER_UPDATE), planner.on_save, name="milestones.plan")
    org.records.events.on(E.AFTER_DELETE, planner.on_delete, name="milestones.cancel")
    automation.add_job(MilestoneBreachJob(org))
