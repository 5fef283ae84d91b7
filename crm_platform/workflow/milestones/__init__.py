"""Service-level milestones: the ``business_hours`` and ``milestone`` kinds (ADR 0036).

```yaml
# business_hours/standard.yaml
api_name: standard
time_zone: Europe/London          # the org's when not given
week: {mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"],
       thu: ["09:00-17:00"], fri: ["09:00-17:00"]}
holidays: ["2026-12-25", "2026-12-28"]

# milestones/case.first_response.yaml
api_name: first_response
object: case
start_when: "status != 'Closed'"
target_minutes: "CASE(priority, 'Urgent', 60, 'High', 240, 480)"
business_hours: standard
due_field: first_response_due      # a datetime field: the breach time, stored
breached_field: first_response_breached
complete_when: "NOT(ISBLANK(first_responded_at))"
actions: [{type: notify, ...}]     # what a breach does (the actions triggers take)
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crm_platform.metadata import Kind, KindRegistry
from crm_platform.runtime.model import ModelCompiler

from . import checks
from .compiled import HOURS, MILESTONE, PART, compile_milestones
from .engine import JOB, attach_milestones
from .schema import BUSINESS_HOURS_SCHEMA, milestone_schema

if TYPE_CHECKING:
    from crm_platform.runtime import Org

    from ..checks import WorkflowChecks
    from ..service import Automation

__all__ = ["JOB", "MilestoneKind"]


@dataclass(frozen=True)
class MilestoneKind:
    """Both kinds, as :func:`~..extension.workflow_kinds` lists them."""

    name: str = MILESTONE

    def register(
        self, registry: KindRegistry, compiler: ModelCompiler, workflow: WorkflowChecks
    ) -> None:
        registry.register_kind(Kind(HOURS, "business_hours", BUSINESS_HOURS_SCHEMA))
        registry.add_validator(HOURS, checks.hours_problems)
        registry.register_kind(Kind(MILESTONE, "milestones", milestone_schema(), per_object=True))
        registry.add_validator(MILESTONE, checks.MilestoneChecks(workflow))
        registry.add_references(MILESTONE, checks.references)
        registry.add_paths(MILESTONE, checks.paths)
        compiler.add_extension(PART, compile_milestones)

    def attach(self, org: Org, automation: Automation) -> None:
        attach_milestones(org, automation)
