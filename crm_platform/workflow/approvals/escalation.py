"""Escalation: a step still waiting after the process's ``escalate_after`` passes each
undecided approval to the approver's manager, or to the process's ``escalate_to`` user.
An outbox run due later (job ``approval_escalation``), planned when the step starts and
cancelled when it ends; it runs once per step."""

from __future__ import annotations

from dataclasses import dataclass

from crm_platform.core.tables import SYSTEM_USER_ID

from ..jobs import JobContext
from . import store
from .approvers import manager_of
from .checks import user_by_email


@dataclass(frozen=True)
class ApprovalEscalation:
    """The job type: escalate one step instance (``payload.step_id``)."""

    name: str = "approval_escalation"

    def run(self, job: JobContext) -> None:
        with job.write() as conn:
            step = store.get_step(conn, job.payload["step_id"])
            if step is None or step.get("status") != store.PENDING or step["escalated"]:
                return  # decided, recalled or escalated meanwhile: nothing is late
            fixed = job.payload.get("escalate_to")
            fixed_id = user_by_email(conn, fixed) if fixed else None
            waiting = [
                r for r in store.approvers_of(conn, step["id"]) if r["status"] == store.PENDING
            ]
            assigned = {r["user_id"] for r in waiting}
            for item in waiting:
                target = fixed_id or manager_of(conn, item["user_id"])
                if target is None or target == item["user_id"]:
                    continue  # nobody above them: the decision stays theirs
                store.set_approver(conn, item["id"], store.ESCALATED, job.now)
                if target not in assigned:
                    store.add_approvers(conn, step["request_id"], step["id"], [target], job.now)
                    assigned.add(target)
                store.add_history(
                    conn,
                    step["request_id"],
                    store.ESCALATED,
                    SYSTEM_USER_ID,
                    job.now,
                    step=step["name"],
                    target_id=target,
                    comment=f"no decision since {step['started_at'].isoformat()}",
                )
            store.mark_escalated(conn, step["id"])
