"""The ``submit_for_approval`` action: a trigger submits its record to an approval
process (``process`` names one; without it, the first whose entry criteria hold).

A record already pending, or meeting no process's entry criteria, is left as it is:
the action runs on every change that fires the trigger, and refusing the change that
fired it would punish the person for the process's state."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crm_platform.metadata import ACTIVE, CandidateModel, Problem

from ..actions import ActionChecks, ActionContext

KIND = "approval_process"  # definition.KIND (not imported: the catalog imports this early)


@dataclass(frozen=True)
class SubmitForApproval:
    name: str = "submit_for_approval"
    before_save: bool = False
    schema: Mapping[str, Any] = field(
        default_factory=lambda: {
            "type": "object",
            "properties": {
                "type": {"const": "submit_for_approval"},
                "process": {"type": "string", "minLength": 1},
                "comment": {"type": "string", "maxLength": 2000},
            },
            "required": ["type"],
            "additionalProperties": False,
        }
    )

    def check(
        self,
        model: CandidateModel,
        object_name: str,
        action: Mapping[str, Any],
        path: str,
        checks: ActionChecks,
    ) -> Iterable[Problem]:
        del checks
        if name := action.get("process"):
            found = model.get(KIND, f"{object_name}.{name}")
            if found is None or found.status != ACTIVE:
                yield (f"{path}.process", f"{object_name} has no approval process '{name}'")
        elif not any(c.definition["object"] == object_name for c in model.of_kind(KIND)):
            yield (f"{path}.type", f"{object_name} has no approval process")

    def run(self, ctx: ActionContext, action: Mapping[str, Any]) -> None:
        # imported here: the engine runs action lists, whose catalog lists this action
        from .engine import Approvals, NotEligible
        from .store import pending_request

        if pending_request(ctx.conn, ctx.object.api_name, ctx.record_id) is not None:
            return
        # ctx.system is a record session (as the system user) on the change's transaction;
        # the submitter is the person whose change fired the action
        approvals = Approvals(ctx.org, ctx.system, ctx.user, None)  # type: ignore[arg-type]
        try:
            approvals.submit(
                ctx.object.api_name,
                ctx.record_id,
                process=action.get("process"),
                comment=action.get("comment"),
            )
        except NotEligible:
            return
