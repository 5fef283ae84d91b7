"""How approval processes join automation: the kind, its checks and compiled view when
the registry is built; the record lock and the escalation job when an org opens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crm_platform.metadata import KindRegistry
from crm_platform.runtime.model import ModelCompiler
from crm_platform.runtime.records.events import RecordEvent

from ..checks import WorkflowChecks
from .checks import ProcessChecks, check_users
from .definition import EXTENSION, KIND, approval_kind, compile_approvals
from .escalation import ApprovalEscalation
from .lock import refuse_locked_changes
from .renames import move_request_rows, rename_process

if TYPE_CHECKING:
    from crm_platform.runtime import Org

    from ..service import Automation


@dataclass(frozen=True)
class ApprovalKind:
    """The ``approval_process`` kind (``approval_processes/``, per object)."""

    def register(
        self, registry: KindRegistry, compiler: ModelCompiler, checks: WorkflowChecks
    ) -> None:
        registry.register_kind(approval_kind())
        registry.add_validator(KIND, ProcessChecks(checks))
        registry.add_apply_hook(check_users)
        registry.add_renamer(KIND, rename_process)
        registry.add_apply_hook(move_request_rows)
        compiler.add_extension(EXTENSION, compile_approvals)

    def attach(self, org: Org, automation: Automation) -> None:
        # every object: a process deactivated while a request is pending still locks
        # its record until the request is decided or recalled
        org.records.events.on(
            (RecordEvent.BEFORE_UPDATE, RecordEvent.BEFORE_DELETE),
            refuse_locked_changes,
            name="approval_lock",
        )
        automation.add_job(ApprovalEscalation())
