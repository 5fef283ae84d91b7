"""Automation (DESIGN §7): triggers, actions, approvals and assignment rules, delivered
through an outbox — in-process with no broker, by Celery workers with one.

It attaches to the runtime from above: the :class:`WorkflowExtension` registers its
kinds and record-event handlers when an org opens; the runtime never imports it.
"""

from .extension import WorkflowExtension
from .jobs import JobContext, JobFailed, JobType, RetryLater
from .outbox import Run
from .service import Automation, Dispatcher, automation_of

__all__ = [
    "Automation",
    "Dispatcher",
    "JobContext",
    "JobFailed",
    "JobType",
    "RetryLater",
    "Run",
    "WorkflowExtension",
    "automation_of",
]
