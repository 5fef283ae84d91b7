"""Running a list of actions on one record, in the transaction of the change that fired
them (triggers' after-save actions, approval outcomes, scheduled runs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from crm_platform.runtime.users import system_user

from .actions import ActionContext
from .catalog import ACTIONS

if TYPE_CHECKING:
    from crm_platform.runtime import Org
    from crm_platform.runtime.records.events import EventServices


def run_actions(
    org: Org,
    services: EventServices,
    object_name: str,
    record_id: str,
    actions: Sequence[Mapping[str, Any]],
    *,
    source: str,
    prefix: str = "actions",
    values: Mapping[str, Any] | None = None,
    event: str | None = None,
) -> None:
    """Run ``actions`` in order on a record (as the system user, in ``services``'
    transaction). ``values``: the record's values when the caller has them whole;
    otherwise they are read as they stand now. ``event``: the record event that fired
    them (create, update, delete), which a webhook reports."""
    obj = services.model.objects[object_name]
    system = services.as_user(system_user(services.conn))
    current = values if values is not None else system.get(object_name, record_id)

    def evaluator(expression: str, expected: Any) -> Any:
        return services.evaluate_on(obj, expression, current, source, expected)

    for index, action in enumerate(actions):
        ctx = ActionContext(
            org=org,
            conn=services.conn,
            model=services.model,
            object=obj,
            record_id=record_id,
            values=current,
            user=services.user,
            system=system,
            source=source,
            path=f"{prefix}[{index}]",
            now=services.now,
            evaluator=evaluator,
            event=event,
        )
        ACTIONS[action["type"]].run(ctx, action)
