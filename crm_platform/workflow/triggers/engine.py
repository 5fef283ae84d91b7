"""The trigger engine: record-event handlers that run triggers as records change.

Before save, a trigger's field updates join the pending values (``EventContext.set_field``)
and validation checks the result. After save, its actions run through
:func:`~..running.run_actions` in the change's transaction, as the system user. An event
delivers a whole batch (a composite request, an import): the criteria are evaluated for
every record of it, and each record that meets them fires the trigger on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crm_platform.expressions import ValueType
from crm_platform.runtime.records.events import EventContext, RecordChange, RecordEvent

from ..record_actions import holder_of
from ..running import run_actions
from .compiled import PART, CompiledTriggers, Trigger
from .schema import AFTER_SAVE, BEFORE_SAVE

if TYPE_CHECKING:
    from crm_platform.runtime import Org

E = RecordEvent
BEFORE_EVENTS = (E.BEFORE_CREATE, E.BEFORE_UPDATE)
AFTER_EVENTS = (E.AFTER_CREATE, E.AFTER_UPDATE, E.AFTER_DELETE)


def compiled_triggers(ctx: EventContext) -> CompiledTriggers:
    """The triggers of the model this change runs on (none when automation is absent)."""
    return ctx.model.extensions.get(PART) or CompiledTriggers()


def meets(
    ctx: EventContext,
    trigger: Trigger,
    values: Mapping[str, Any] | None,
    before: Mapping[str, Any] | None = None,
) -> bool:
    """Whether ``values`` meet the trigger's criteria (a NULL result does not); ``before``
    (an update's prior values) is what ISCHANGED and PRIORVALUE compare with."""
    if trigger.when is None:
        return True
    if values is None:
        return False
    what = f"{trigger.source}.when"
    found = ctx.services.evaluate_on(
        ctx.object, trigger.when, values, what, ValueType.BOOLEAN, before=before
    )
    return found is True


def fires(ctx: EventContext, trigger: Trigger, change: RecordChange) -> bool:
    """Whether the trigger fires for one record's change: it meets the criteria now and,
    with ``only_when_changed_to_meet``, did not meet them before the change."""
    update = ctx.event.operation == "update"
    if not meets(ctx, trigger, ctx.values(change), change.before if update else None):
        return False
    if not update or not trigger.only_when_changed_to_meet:
        return True
    return not meets(ctx, trigger, change.before)


def before_save(ctx: EventContext) -> None:
    """Field updates of before-save triggers, written into the pending values."""
    if ctx.quiet:  # derived data (a prediction's scores) fires no triggers
        return
    triggers = compiled_triggers(ctx).on(ctx.object.api_name, ctx.event.operation, BEFORE_SAVE)
    for change in ctx.changes if triggers else ():
        for trigger in triggers:
            if fires(ctx, trigger, change):
                _set_fields(ctx, trigger, change)


def _set_fields(ctx: EventContext, trigger: Trigger, change: RecordChange) -> None:
    for index, action in enumerate(trigger.actions):
        for name, source in action["values"].items():
            what = f"{trigger.source}.actions[{index}].values.{name}"
            value = ctx.evaluate(change, source, what=what)
            ctx.set_field(change.record_id, name, _field_value(ctx, name, value))


def _field_value(ctx: EventContext, name: str, value: Any) -> Any:
    """A value as the record holds it: a bare id set on a polymorphic lookup names the
    object that holds that record (ids are unique across the org)."""
    fld = ctx.object.fields.get(name)
    if fld is not None and fld.definition.get("type") == "integer" and isinstance(value, Decimal):
        # the language computes in decimals; an integer column takes a whole number
        # (a fraction is left for validation to refuse)
        return int(value) if value == value.to_integral_value() else value
    targets = fld.definition.get("targets") if fld is not None else None
    if not targets or not isinstance(value, str):
        return value
    # none holds it: validation then says the record does not exist
    holder = holder_of(ctx.connection, ctx.model, targets, value) or targets[0]
    return {"object": holder, "id": value}


def after_save_handler(org: Org):
    """The handler running after-save triggers' actions (``org`` is whose automation)."""

    def after_save(ctx: EventContext) -> None:
        if ctx.quiet:  # derived data (a prediction's scores) fires no triggers
            return
        operation = ctx.event.operation
        triggers = compiled_triggers(ctx).on(ctx.object.api_name, operation, AFTER_SAVE)
        for change in ctx.changes if triggers else ():
            for trigger in triggers:
                if fires(ctx, trigger, change):
                    run_actions(
                        org,
                        ctx.services,
                        ctx.object.api_name,
                        change.record_id,
                        trigger.actions,
                        source=trigger.source,
                        values=_known_values(trigger, change, operation),
                        event=operation,
                    )

    return after_save


def _known_values(
    trigger: Trigger, change: RecordChange, operation: str
) -> Mapping[str, Any] | None:
    """The record's values as the change gives them, so actions need not read the record
    back; None (read it) when the trigger uses columns only the stored row has. A deleted
    record is not read back: its values before the delete are what actions see."""
    values = change.before if operation == "delete" else change.after
    if values is None or (trigger.reads_stored_columns and operation != "delete"):
        return None
    return {**values, "id": change.record_id}


def attach_engine(org: Org) -> None:
    """Register the before- and after-save handlers on the org's record events."""
    org.records.events.on(BEFORE_EVENTS, before_save, name="triggers.before_save")
    org.records.events.on(AFTER_EVENTS, after_save_handler(org), name="triggers.after_save")
