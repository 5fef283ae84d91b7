"""The ``trigger`` kind (DESIGN §7): actions run when records of an object are created,
updated or deleted and meet a condition — before save, after save, or scheduled at an
offset from a date field.

``triggers/<object>.<api_name>.yaml`` in a metadata folder, ``/api/v1/metadata/triggers``
through the API. The kind registers its schema, checks and compiled part here, and
attaches its engine (:mod:`.engine`) and planner (:mod:`.schedule`) to each org.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crm_platform.metadata import KindRegistry
from crm_platform.metadata.kinds import Kind
from crm_platform.runtime.model import ModelCompiler

from ..checks import WorkflowChecks
from . import checks
from .compiled import PART, CompiledTriggers, Trigger, compile_triggers
from .engine import attach_engine
from .renames import rename_trigger
from .schedule import JOB, attach_planner, follow_definition_changes
from .schema import trigger_schema

if TYPE_CHECKING:
    from crm_platform.runtime import Org

    from ..service import Automation

__all__ = ["JOB", "PART", "CompiledTriggers", "Trigger", "TriggerKind"]


@dataclass(frozen=True)
class TriggerKind:
    """The trigger kind, as :func:`~..extension.workflow_kinds` lists it."""

    name: str = checks.KIND

    def register(
        self, registry: KindRegistry, compiler: ModelCompiler, workflow: WorkflowChecks
    ) -> None:
        """The kind, its checks, references, paths and renamer; the compiled part."""
        registry.register_kind(Kind(self.name, "triggers", trigger_schema(), per_object=True))
        registry.add_validator(self.name, checks.TriggerChecks(workflow))
        registry.add_references(self.name, checks.references)
        registry.add_paths(self.name, checks.paths)
        registry.add_renamer(self.name, rename_trigger)
        registry.add_apply_hook(follow_definition_changes)
        compiler.add_extension(PART, compile_triggers)

    def attach(self, org: Org, automation: Automation) -> None:
        """The engine's and the planner's record-event handlers; the scheduled job."""
        attach_engine(org)
        attach_planner(org, automation)
