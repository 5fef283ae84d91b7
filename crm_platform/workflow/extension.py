"""The workflow extension: joins automation to an org (see ``runtime.extensions``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from crm_platform.core import Settings, load_settings
from crm_platform.metadata import KindRegistry
from crm_platform.runtime.model import ModelCompiler

from .approvals.kind import ApprovalKind
from .assignment.kind import AssignmentRuleKind
from .catalog import action_jobs
from .checks import WorkflowChecks
from .ping import PingJob
from .service import SERVICE_NAME, Automation, OutboxWork

if TYPE_CHECKING:
    from crm_platform.runtime import Org


class WorkflowKind(Protocol):
    """One of automation's kinds (triggers, approval processes...): its module registers
    the kind, its checks and its compiled-model part, then attaches to each org."""

    def register(
        self, registry: KindRegistry, compiler: ModelCompiler, checks: WorkflowChecks
    ) -> None: ...

    def attach(self, org: Org, automation: Automation) -> None: ...


def workflow_kinds() -> Sequence[WorkflowKind]:
    """Automation's kinds, in the order their handlers run."""
    from .conversions import ConversionKind
    from .mail import EmailTemplateKind
    from .milestones import MilestoneKind
    from .triggers import TriggerKind

    # the approval lock refuses a change before triggers update fields of it; milestones
    # start after triggers set the fields their targets read
    return (
        ApprovalKind(),
        TriggerKind(),
        MilestoneKind(),
        AssignmentRuleKind(),
        EmailTemplateKind(),
        ConversionKind(),
    )


@dataclass(frozen=True)
class WorkflowExtension:
    """Automation's kinds, their compiled model parts, event handlers and the outbox.

    ``settings``: the deployment's, for save-time checks that depend on it (the webhook
    allow-list); the environment's when not given."""

    name: str = "workflow"
    settings: Settings | None = None

    def register(self, registry: KindRegistry, compiler: ModelCompiler) -> None:
        checks = WorkflowChecks(compiler, self.settings or load_settings())
        for kind in workflow_kinds():
            kind.register(registry, compiler, checks)

    def attach(self, org: Org) -> None:
        automation = Automation(org)
        org.services[SERVICE_NAME] = automation
        if automation.uses_broker:  # Celery workers run the runs (``crm worker``)
            from .celery_app import CeleryDispatcher

            automation.dispatcher = CeleryDispatcher(org)
        else:  # the embedded default: the org's work runner runs them in-process
            org.work.add(OutboxWork(automation))
        automation.add_job(PingJob())
        for job in action_jobs():
            automation.add_job(job)
        for kind in workflow_kinds():
            kind.attach(org, automation)
