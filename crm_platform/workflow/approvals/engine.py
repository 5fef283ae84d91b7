"""What people do with approvals: submit a record, approve or reject the step waiting on
them, recall a submission, reassign a decision; and what the process does in turn (skip
steps whose criteria are false, assign approvers, schedule escalation, run the outcome's
actions). Everything happens in the transaction of the request that asked for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crm_platform.core import Conflict, Forbidden, NotFound, ValidationFailed
from crm_platform.expressions import ValueType
from crm_platform.runtime.users import system_user

from .. import outbox
from ..running import run_actions
from ..service import automation_of
from . import store
from .approvers import resolve
from .definition import EXTENSION, FIRST_RESPONSE, Process, Step
from .views import request_view

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from crm_platform.runtime import ObjectModel, Org, OrgModel, User
    from crm_platform.runtime.records.context import RecordContext
    from crm_platform.runtime.security import UserAccess

ESCALATION_JOB = "approval_escalation"
DECISIONS = (store.APPROVED, store.REJECTED)


class NotEligible(Conflict):
    """The record meets the entry criteria of no (or not the named) approval process."""


@dataclass
class Approvals:
    """Approval work on one transaction: ``services`` is the record service on it (a
    record session), ``actor`` who acts; ``access`` their rights, or None when automation
    acts for them (a trigger's ``submit_for_approval``: no access checks then)."""

    org: Org
    services: RecordContext
    actor: User
    access: UserAccess | None
    now: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.now = automation_of(self.org).now()

    @property
    def conn(self) -> Connection:
        return self.services.conn

    @property
    def model(self) -> OrgModel:
        return self.services.model

    # --- what people do --------------------------------------------------------------
    def submit(
        self,
        object_name: str,
        record_id: str,
        *,
        process: str | None = None,
        comment: str | None = None,
    ) -> dict[str, Any]:
        """Submit a record (the submitter needs edit access to it); 409 when it is pending
        already or meets no process's entry criteria."""
        obj = self._object(object_name)
        # edit access (404/403 otherwise), and the record's row locked for the rest of the
        # transaction on PostgreSQL: two submissions at once make one request
        self.services.current_for_edit(obj, record_id)
        if found := store.pending_request(self.conn, obj.api_name, record_id, lock=True):
            raise Conflict(
                f"this {obj.api_name} record is pending approval already ({found['process']})"
            )
        values = self._values(obj, record_id)
        chosen = self._choose(obj, values, process)
        request_id = store.add_request(
            self.conn,
            process=chosen.component,
            object_name=obj.api_name,
            record_id=record_id,
            lock_record=chosen.lock_record,
            submitted_by=self.actor.id,
            now=self.now,
        )
        store.add_history(
            self.conn, request_id, store.SUBMITTED, self.actor.id, self.now, comment=comment
        )
        self._run(chosen, record_id, "on_submit")
        self._advance(chosen, request_id, record_id, 0)
        return self.view(obj.api_name, record_id)

    def decide(
        self,
        object_name: str,
        record_id: str,
        decision: str,
        *,
        comment: str | None = None,
        step: str | None = None,
    ) -> dict[str, Any]:
        """Approve or reject the step waiting on the actor: 403 when they are not its
        approver, 409 when the step (or the whole request) was decided already."""
        obj = self._visible(object_name, record_id)
        request = self._pending(obj, record_id)
        current = store.current_step(self.conn, request["id"])
        assert current is not None, "a pending request always has a pending step"
        if step is not None and step != current["name"]:
            self._not_current(request["id"], step, current["name"])
        mine = self._own_item(request["id"], current, obj)
        if not store.set_approver(self.conn, mine["id"], decision, self.now, comment):
            raise Conflict(f"step '{current['name']}' was decided meanwhile")
        store.add_history(
            self.conn,
            request["id"],
            decision,
            self.actor.id,
            self.now,
            step=current["name"],
            comment=comment,
        )
        process = self._process(request, required=True)
        assert process is not None
        if decision == store.REJECTED:
            self._end_step(process, current, store.REJECTED, record_id)
            store.finish_request(self.conn, request["id"], store.REJECTED, self.now)
            self._run(process, record_id, "on_reject")
        elif current["mode"] == FIRST_RESPONSE or not self._waiting(current["id"]):
            self._end_step(process, current, store.APPROVED, record_id)
            self._advance(process, request["id"], record_id, current["step_index"] + 1)
        return self.view(obj.api_name, record_id)

    def recall(
        self, object_name: str, record_id: str, *, comment: str | None = None
    ) -> dict[str, Any]:
        """Take a submission back (the submitter, or whoever holds modify_all on the
        object): the record is unlocked and the process's recall actions run."""
        obj = self._visible(object_name, record_id)
        request = self._pending(obj, record_id)
        if request["submitted_by"] != self.actor.id and not self._admin(obj):
            raise Forbidden(
                "only the submitter or an administrator (modify_all) may recall this approval"
            )
        process = self._process(request, required=False)
        if current := store.current_step(self.conn, request["id"]):
            self._end_step(process, current, store.RECALLED, record_id)
        store.finish_request(self.conn, request["id"], store.RECALLED, self.now)
        store.add_history(
            self.conn, request["id"], store.RECALLED, self.actor.id, self.now, comment=comment
        )
        if process is not None:
            self._run(process, record_id, "on_recall")
        return self.view(obj.api_name, record_id)

    def reassign(
        self,
        object_name: str,
        record_id: str,
        to: Any,
        *,
        from_user: Any = None,
        comment: str | None = None,
    ) -> dict[str, Any]:
        """Hand a pending decision to someone else: an approver hands on their own, an
        administrator (modify_all) anyone's (``from_user`` names whose)."""
        obj = self._visible(object_name, record_id)
        request = self._pending(obj, record_id)
        current = store.current_step(self.conn, request["id"])
        assert current is not None
        target = self._target(to)
        waiting = [
            r for r in store.approvers_of(self.conn, current["id"]) if r["status"] == "pending"
        ]
        item = self._item_to_reassign(obj, current["name"], waiting, from_user)
        if any(r["user_id"] == target for r in waiting):
            raise ValidationFailed({"to": "already an approver of this step"})
        if not store.set_approver(self.conn, item["id"], store.REASSIGNED, self.now, comment):
            raise Conflict(f"step '{current['name']}' was decided meanwhile")
        store.add_approvers(self.conn, request["id"], current["id"], [target], self.now)
        store.add_history(
            self.conn,
            request["id"],
            store.REASSIGNED,
            self.actor.id,
            self.now,
            step=current["name"],
            target_id=target,
            comment=comment,
        )
        return self.view(obj.api_name, record_id)

    def history(self, object_name: str, record_id: str) -> dict[str, Any]:
        """Every approval of a record the actor may see (404 otherwise)."""
        obj = self._visible(object_name, record_id)
        return self.view(obj.api_name, record_id)

    def view(self, object_name: str, record_id: str) -> dict[str, Any]:
        requests = [
            request_view(self.conn, r) for r in store.requests_of(self.conn, object_name, record_id)
        ]
        pending = requests[0]["status"] if requests and requests[0]["status"] == "pending" else None
        return {
            "object": object_name,
            "record_id": record_id,
            "pending": pending is not None,
            "requests": requests,
        }

    # --- access -------------------------------------------------------------------------
    def _object(self, object_name: str) -> ObjectModel:
        obj = self.model.object(object_name)
        if obj is None:
            raise NotFound(f"no object '{object_name}'")
        return obj

    def _visible(self, object_name: str, record_id: str) -> ObjectModel:
        """The object, once the actor is known to see the record (404 otherwise)."""
        obj = self._object(object_name)
        if self.access is not None:
            self.services.get(obj.api_name, record_id, ["id"])
        return obj

    def _admin(self, obj: ObjectModel) -> bool:
        return self.access is None or self.access.edits_all(obj.api_name)

    def _pending(self, obj: ObjectModel, record_id: str) -> Mapping[str, Any]:
        found = store.pending_request(self.conn, obj.api_name, record_id, lock=True)
        if found is None:
            raise Conflict(f"no approval is pending on this {obj.api_name} record")
        return found

    def _own_item(
        self, request_id: str, current: Mapping[str, Any], obj: ObjectModel
    ) -> Mapping[str, Any]:
        """The actor's pending decision in the current step; else 409 when their part
        was decided already, 403 when they have none."""
        rows = store.approvers_of(self.conn, current["id"])
        mine = [r for r in rows if r["user_id"] == self.actor.id]
        pending = next((r for r in mine if r["status"] == store.PENDING), None)
        if pending is not None:
            return pending
        decided = next((r for r in mine if r["status"] in DECISIONS), None)
        if decided is not None:
            raise Conflict(f"you {decided['status']} step '{current['name']}' already")
        earlier = store.decided_steps_of(self.conn, request_id, self.actor.id)
        if earlier:
            raise Conflict(f"step '{earlier[-1]}' was decided already")
        raise Forbidden(
            f"you are not an approver of step '{current['name']}' of this {obj.api_name} record"
        )

    def _not_current(self, request_id: str, step: str, current: str) -> None:
        named = [s for s in store.steps_of(self.conn, request_id) if s["name"] == step]
        if named:
            raise Conflict(f"step '{step}' was decided already ({named[-1]['status']})")
        raise ValidationFailed({"step": f"the step waiting for a decision is '{current}'"})

    def _item_to_reassign(
        self, obj: ObjectModel, step: str, waiting: list[Mapping[str, Any]], from_user: Any
    ) -> Mapping[str, Any]:
        admin = self._admin(obj)
        if from_user is not None:
            if not isinstance(from_user, str):
                raise ValidationFailed({"from": "a user id"})
            item = next((r for r in waiting if r["user_id"] == from_user), None)
            if from_user != self.actor.id and not admin:
                raise Forbidden("reassigning someone else's decision needs modify_all")
            if item is None:
                raise ValidationFailed({"from": f"not waiting to decide step '{step}'"})
            return item
        mine = next((r for r in waiting if r["user_id"] == self.actor.id), None)
        if mine is not None:
            return mine
        if not admin:
            raise Forbidden(
                f"you are not an approver of step '{step}' of this {obj.api_name} record"
            )
        if len(waiting) != 1:
            raise ValidationFailed({"from": "name the approver whose decision moves"})
        return waiting[0]

    def _target(self, to: Any) -> str:
        if not isinstance(to, str) or not to.strip():
            raise ValidationFailed({"to": "required: a user id or email"})
        found = store.active_user(self.conn, to.strip())
        if found is None:
            raise ValidationFailed({"to": f"no active user '{to}'"})
        return found

    # --- what the process does ----------------------------------------------------------
    def _values(self, obj: ObjectModel, record_id: str) -> dict[str, Any]:
        """The record as it stands, every field (criteria are the process's, not the
        actor's: read as the system user)."""
        system = self.services.as_user(system_user(self.conn))
        return system.get(obj.api_name, record_id)

    def _true(self, obj: ObjectModel, source: str, values: Mapping[str, Any], what: str) -> bool:
        return self.services.evaluate_on(obj, source, values, what, ValueType.BOOLEAN) is True

    def _choose(self, obj: ObjectModel, values: Mapping[str, Any], name: str | None) -> Process:
        processes = self.model.extension(EXTENSION).of(obj.api_name)
        if name is not None:
            chosen = processes.get(name)
            if chosen is None:
                raise ValidationFailed(
                    {"process": f"no active approval process '{name}' on {obj.api_name}"}
                )
            candidates = [chosen]
        else:
            candidates = list(processes.values())
            if not candidates:
                raise NotEligible(f"{obj.api_name} has no active approval process")
        for process in candidates:
            if process.entry is None or self._true(obj, process.entry, values, "entry"):
                return process
        names = ", ".join(p.name for p in candidates)
        raise NotEligible(
            f"this {obj.api_name} record does not meet the entry criteria of the approval "
            f"process ({names})"
        )

    def _process(self, request: Mapping[str, Any], *, required: bool) -> Process | None:
        object_name, _, name = request["process"].partition(".")
        found = self.model.extension(EXTENSION).of(object_name).get(name)
        if found is None and required:
            raise Conflict(
                f"the approval process '{request['process']}' is no longer active: "
                "recall the approval"
            )
        return found

    def _advance(self, process: Process, request_id: str, record_id: str, start: int) -> None:
        """Start the next step whose criteria hold (skipping the others); when none is
        left, the request is approved and the approval actions run."""
        obj = self._object(process.object)
        values = self._values(obj, record_id)
        for step in process.steps[start:]:
            if step.when and not self._true(obj, step.when, values, f"steps.{step.name}.when"):
                store.add_step(
                    self.conn,
                    request_id,
                    index=step.index,
                    name=step.name,
                    mode=step.mode,
                    status=store.SKIPPED,
                    now=self.now,
                )
                store.add_history(
                    self.conn,
                    request_id,
                    store.SKIPPED,
                    system_user(self.conn).id,
                    self.now,
                    step=step.name,
                )
                continue
            self._start(process, request_id, record_id, step, obj, values)
            return
        store.finish_request(self.conn, request_id, store.APPROVED, self.now)
        self._run(process, record_id, "on_approve")

    def _start(
        self,
        process: Process,
        request_id: str,
        record_id: str,
        step: Step,
        obj: ObjectModel,
        values: Mapping[str, Any],
    ) -> None:
        """Start a step: find its approvers (409 when there are none), plan escalation."""
        submitter = store.submitter_of(self.conn, request_id)

        def field_value(path: str) -> Any:
            if path == "owner_id":
                return values.get("owner_id")
            return self.services.evaluate_on(obj, path, values, "approver", None)

        found = resolve(self.conn, step.approver, submitter_id=submitter, field_value=field_value)
        if not found.user_ids:
            raise Conflict(
                f"step '{step.name}' of the approval process '{process.name}' has no "
                f"approver: {found.why_none}",
                extra={"step": step.name},
            )
        step_id = store.add_step(
            self.conn,
            request_id,
            index=step.index,
            name=step.name,
            mode=step.mode,
            status=store.PENDING,
            now=self.now,
        )
        store.add_approvers(self.conn, request_id, step_id, found.user_ids, self.now)
        if process.escalate_after is not None:
            automation_of(self.org).enqueue(
                self.conn,
                job=ESCALATION_JOB,
                source=process.source,
                payload={"step_id": step_id, "escalate_to": process.escalate_to},
                user_id=self.actor.id,
                due_at=self.now + process.escalate_after,
                object_name=process.object,
                record_id=record_id,
                key=f"approval-escalation:{step_id}",
            )

    def _waiting(self, step_id: str) -> bool:
        return any(r["status"] == store.PENDING for r in store.approvers_of(self.conn, step_id))

    def _end_step(
        self, process: Process | None, step: Mapping[str, Any], status: str, record_id: str
    ) -> None:
        store.finish_step(self.conn, step["id"], status, self.now)
        if process is not None:  # its escalation has nothing left to do
            outbox.cancel_pending(
                self.conn, source=process.source, record_id=record_id, job=ESCALATION_JOB
            )

    def _run(self, process: Process, record_id: str, key: str) -> None:
        actions = process.actions[key]
        if actions:
            run_actions(
                self.org,
                self.services,
                process.object,
                record_id,
                actions,
                source=process.source,
                prefix=key,
            )
