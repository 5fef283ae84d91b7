"""The workflow extension: joins automation to an org (see ``runtime.extensions``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crm_platform.metadata import KindRegistry
from crm_platform.runtime.model import ModelCompiler

from .service import SERVICE_NAME, Automation, OutboxWork

if TYPE_CHECKING:
    from crm_platform.runtime import Org


@dataclass(frozen=True)
class WorkflowExtension:
    """Automation's kinds, its compiled model part, its event handlers and its outbox."""

    name: str = "workflow"

    def register(self, registry: KindRegistry, compiler: ModelCompiler) -> None:
        """Automation's kinds and their checks (added as each kind lands)."""

    def attach(self, org: Org) -> None:
        automation = Automation(org)
        org.services[SERVICE_NAME] = automation
        org.work.add(OutboxWork(automation))
